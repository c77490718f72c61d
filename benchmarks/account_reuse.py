"""Server targets' cost per example with fresh accounts (before) and reused ones (after), side by side.

    .venv/bin/python benchmarks/account_reuse.py [--examples 3] [--target localstack --target localemu ...]

The same seeded scenarios of every property run on moto (in process: the yardstick), then,
one server at a time, on two targets that share that server: one giving every scenario
fresh accounts (how server targets ran before), one reusing accounts emptied after each
scenario (targets/account_pool.py). The two take turns scenario by scenario (which goes first
alternates), so a change in the machine's load falls on both. Prints each target's ms per
example both ways, x moto, the speed-up, and what reuse did (accounts reused and retired,
deletions per example). Every figure is `target.run` time only (no Hypothesis, no oracle).

`--memory ROUNDS` instead runs the scenarios ROUNDS times on a server of its own per way
(fresh, then reused; one server at a time) and prints the server's resident memory growth.
"""
from __future__ import annotations

import argparse
import sys
import time

from _common import SEED, draw, header
from rolecall.conformance import CATALOGUE
from rolecall.targets import load_target
from rolecall.targets.served import resident_mb

SERVERS = ("localstack", "localemu", "localstack@2026.3.0", "ministack", "ministack+auth")


def _timed(target, scenario) -> float:
    t0 = time.perf_counter()
    target.run(scenario)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=3, help="seeded scenarios per property")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--target", action="append", choices=SERVERS, help="default: localstack, localemu")
    ap.add_argument("--memory", type=int, metavar="ROUNDS", help="measure the server's memory growth instead")
    args = ap.parse_args(argv)
    if args.examples < 1:
        ap.error("--examples must be at least 1")
    header("server targets: fresh accounts vs reused accounts, per example")
    scenarios = [s for prop in CATALOGUE for s in draw(prop, args.examples, args.seed)]
    print(f"# seed {args.seed}; {len(scenarios)} scenarios ({args.examples} per property); ms of target.run")
    if args.memory:
        return memory(args.target or ["localstack", "localemu"], scenarios, args.memory)
    moto = load_target("moto")
    moto.open()
    moto.run(scenarios[0])
    moto_ms = sum(_timed(moto, s) for s in scenarios) / len(scenarios) * 1e3
    moto.close()
    print(f"{'target':<22}{'fresh ms':>9}{'x moto':>7}{'reused ms':>10}{'x moto':>7}{'speed-up':>9}"
          f"{'reused':>8}{'retired':>8}{'deletions/ex':>13}")
    print(f"{'moto (in process)':<22}{moto_ms:>9.0f}{1:>7.1f}{'':>10}{'':>7}{'':>9}", flush=True)
    for spec in args.target or ["localstack", "localemu"]:
        fresh, reused = load_target(spec), load_target(spec)
        fresh.reuse_accounts, reused.reuse_accounts = False, True
        fresh.open()
        reused.open()
        fresh.run(scenarios[0])  # warm-up: first-use imports, clients, the server's first requests
        reused.run(scenarios[0])
        pool = reused.spare_accounts
        pool.reused = pool.retired = pool.undo_calls = 0
        times = {"fresh": 0.0, "reused": 0.0}
        for i, s in enumerate(scenarios):
            order = (("fresh", fresh), ("reused", reused)) if i % 2 == 0 else (("reused", reused), ("fresh", fresh))
            for label, target in order:
                times[label] += _timed(target, s)
        f_ms, r_ms = (times[k] / len(scenarios) * 1e3 for k in ("fresh", "reused"))
        print(f"{spec:<22}{f_ms:>9.0f}{f_ms / moto_ms:>7.1f}{r_ms:>10.0f}{r_ms / moto_ms:>7.1f}{f_ms / r_ms:>8.1f}x"
              f"{pool.reused:>8}{pool.retired:>8}{pool.undo_calls / len(scenarios):>13.1f}", flush=True)
        fresh.close()
        reused.close()
        reused.server().stop()  # one server at a time
    return 0


def memory(specs: list[str], scenarios: list, rounds: int) -> int:
    print(f"{'target':<22}{'accounts':>9}{'scenarios':>10}{'RSS before':>11}{'RSS after':>10}{'growth MiB':>11}")
    for spec in specs:
        for reuse in (False, True):
            target = load_target(spec)
            target.reuse_accounts = reuse
            target.open()
            target.run(scenarios[0])
            before = resident_mb(target.server().pid)
            for _ in range(rounds):
                for s in scenarios:
                    target.run(s)
            after = resident_mb(target.server().pid)
            print(f"{spec:<22}{'reused' if reuse else 'fresh':>9}{rounds * len(scenarios):>10}{before:>11.0f}"
                  f"{after:>10.0f}{after - before:>11.0f}", flush=True)
            target.close()
            target.server().stop()  # one server at a time, and the next way starts empty
            target.server().port = None  # a fresh port: the old one may linger in TIME_WAIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
