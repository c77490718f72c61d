"""Wall time of the default CI profile on the default targets, their servers' start included.

    .venv/bin/python benchmarks/ci_profile_wall_time.py [--repeats 1] [--no-reference]

Runs, as a user would, `rolecall run --target moto --target moto+auth --target localstack
--profile ci --report-dir <tmp>` with ROLECALL_LOCALSTACK_ENDPOINT unset (so it starts its own
LocalStack), and prints the wall time (goal <= 8 min on 2 cores), the seconds of every cell
from the report's results.jsonl (search, shrinking, reduction and confirmation of what it
found), per-target sums, the slowest target's sum (targets run side by side in lanes by
default) and the time before LocalStack's first cell, read from rolecall's progress lines as
they arrive. `--workers 1` measures the targets one after another; `--keep-report DIR` keeps
the report (e.g. to update the baselines from it). Unless --no-reference, then runs
`rolecall run --target reference --profile ci` too (the oracle against itself): the reference
model's own cost per cell. One run each by default: a CI run takes minutes (say so when quoting).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import header, load, median
from rolecall.targets import LOCAL_DEFAULT

ROLECALL = Path(sys.executable).with_name("rolecall")
GOAL_S = 8 * 60
TARGETS = LOCAL_DEFAULT  # what `rolecall run` and `./dev run` use when no target is named


def run(targets: list[str], workers: str | None = None, keep: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ROLECALL_LOCALSTACK_ENDPOINT"}
    env["COLUMNS"] = "400"  # rich wraps its progress lines at 80 columns when not on a terminal
    report_dir = keep or Path(tempfile.mkdtemp(prefix="rolecall-bench-ci-"))
    cmd = [str(ROLECALL), "run", *[a for t in targets for a in ("--target", t)], "--profile", "ci",
           "--report-dir", str(report_dir), *(["--workers", workers] if workers else [])]
    events: list[tuple[float, str]] = []
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def read_progress() -> None:
        for line in proc.stderr:
            events.append((time.monotonic() - start, line.rstrip("\n")))

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    stdout = proc.stdout.read()
    proc.wait()
    reader.join()
    wall = time.monotonic() - start
    try:
        latest = (report_dir / "latest").resolve()
        cells = [json.loads(line) for line in (latest / "results.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    except OSError:
        print(f"no report written; exit {proc.returncode}; last output:\n{stdout[-800:]}"
              f"\n{chr(10).join(e[1] for e in events[-10:])}")
        cells = []
    finally:
        if keep is None:
            shutil.rmtree(report_dir, ignore_errors=True)
    return {"cmd": cmd, "wall": wall, "exit": proc.returncode, "cells": cells, "events": events}


_FINISHED = re.compile(r"\S+\s+(?P<prop>\S+) on (?P<target>\S+): \d+ examples, \d+ divergences, (?P<s>[\d.]+)s")


def localstack_start(events: list[tuple[float, str]]) -> float | None:
    """The gap before LocalStack's first cell: when it finished, less its own seconds, less when
    the lane's cell before it finished (rolecall prints one line per finished cell when not on
    a terminal). In a lane of its own (the default with 2 CPUs) that is the lane's start-up and
    the server's; one after another (--workers 1) the moto cells come first."""
    previous: dict[str, float] = {}
    for t, line in events:
        m = _FINISHED.match(line)
        if not m:
            continue
        if m["target"] == "localstack":
            others = [v for k, v in previous.items() if k != "localstack"]
            began = t - float(m["s"])
            before = max([v for v in others if v <= began + 0.5], default=0.0)
            return began - before
        previous[m["target"]] = t
    return None


def report(res: dict) -> None:
    print(f"$ {' '.join(Path(res['cmd'][0]).name if i == 0 else a for i, a in enumerate(res['cmd']))}")
    print(f"wall time {res['wall']:.0f} s ({res['wall'] / 60:.1f} min), exit {res['exit']}")
    cells = res["cells"]
    if not cells:
        return
    print(f"{'property':<36}{'target':<11}{'verdict':<9}{'examples':>9}{'diverg.':>8}{'seconds':>9}")
    for c in cells:
        print(f"{c['property'][:35]:<36}{c['target']:<11}{c['verdict']:<9}{c['examples']:>9}"
              f"{len(c['divergences']):>8}{c['seconds']:>9.1f}" + (f"  error: {c['error']}" if c.get("error") else ""))
    by_target: dict[str, list[dict]] = {}
    for c in cells:
        by_target.setdefault(c["target"], []).append(c)
    for target, cs in by_target.items():
        secs = sum(c["seconds"] for c in cs)
        div_secs = sum(c["seconds"] for c in cs if c["divergences"])
        print(f"  {target:<11} {len(cs)} cells, {sum(c['examples'] for c in cs)} examples, "
              f"{sum(len(c['divergences']) for c in cs)} divergences, {secs:.0f} s in cells "
              f"({div_secs:.0f} s of it in cells that found divergences)")
    inside = sum(c["seconds"] for c in cells)
    ls = localstack_start(res["events"])
    slowest = max(sum(c["seconds"] for c in cs) for cs in by_target.values())
    print(f"  cells: {inside:.0f} s in all; the slowest target's {slowest:.0f} s; wall less the cells' sum: "
          f"{res['wall'] - inside:.0f} s (negative: targets ran side by side)"
          + (f"; LocalStack's first cell began ~{ls:.0f} s after its lane's previous work (server start)"
             if ls is not None else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-reference", action="store_true", help="skip the reference-against-itself run")
    ap.add_argument("--target", action="append", help=f"default: {', '.join(TARGETS)}, in one run")
    ap.add_argument("--workers", help="rolecall run --workers (default: rolecall's, auto)")
    ap.add_argument("--keep-report", type=Path, metavar="DIR", help="write the reports here and keep them")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if not ROLECALL.exists():
        sys.exit(f"ci_profile_wall_time: {ROLECALL} not found: run with the project's venv python")
    header(f"default CI profile: wall time on {', '.join(args.target or TARGETS)}")
    walls = []
    for i in range(args.repeats):
        res = run(args.target or list(TARGETS), args.workers, args.keep_report)
        report(res)
        walls.append(res["wall"])
        print(f"# after run {i + 1}: {load()}")
    verdict = "met" if median(walls) <= GOAL_S else "NOT met"
    if args.target and set(args.target) != set(TARGETS):
        verdict += " (for the targets given only)"
    print(f"CI profile wall time, median of {len(walls)}: {median(walls):.0f} s ({median(walls) / 60:.1f} min); "
          f"goal <= {GOAL_S // 60} min: {verdict}")
    if not args.no_reference:
        res = run(["reference"])
        report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
