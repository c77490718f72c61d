"""What `rolecall run`'s corpus replay costs per target: every committed scenario file
(scenarios/**) replayed on the target against the reference, then each divergence confirmed
and explained, as `rolecall run` does before its search (rolecall/corpus.py).

    .venv/bin/python benchmarks/corpus_replay.py [--target moto --target localstack ...]

Prints, per target, the wall time of the replay and how it splits into the first pass over the
files, confirming and explaining; and the divergences and setup skips. Server targets are started
(and stopped) by rolecall; their start is not counted.
"""
from __future__ import annotations

import argparse
import sys
import time

import rolecall.engine as engine
from _common import header
from rolecall.corpus import default_folders, load_corpus, replay_corpus
from rolecall.pool import make_target

TARGETS = ("reference", "moto", "moto+auth", "localstack")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", help="a target (repeatable); default: " + ", ".join(TARGETS))
    args = parser.parse_args(argv)
    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.monotonic()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.monotonic() - t0
        return wrapper

    engine.confirm, engine.explain = timed("confirm", engine.confirm), timed("explain", engine.explain)
    scenarios = load_corpus(default_folders())
    header("rolecall run's corpus replay per target")
    print(f"{len(scenarios)} scenario files\n")
    print("| target | corpus replay | first pass / confirming / explaining | divergences | files skipped |")
    print("|---|---|---|---|---|")
    oracle = make_target("reference", {})
    oracle.open()
    for spec in args.target or TARGETS:
        spent.clear()
        target = make_target(spec, {})
        target.open()
        try:
            started = time.monotonic()
            cell = replay_corpus(scenarios, target, oracle)
            total = time.monotonic() - started
        finally:
            target.close()
        confirm, explain = spent.get("confirm", 0.0), spent.get("explain", 0.0)
        print(f"| {spec} | {total:.0f} s | {total - confirm - explain:.0f} s / {confirm:.0f} s / {explain:.0f} s "
              f"| {len(cell.divergences)} | {cell.setup_errors} |", flush=True)
    oracle.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
