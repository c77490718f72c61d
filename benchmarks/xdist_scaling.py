"""pytest-xdist scaling of the conformance suite on moto: `-n 2` vs `-n 0`, in one run.

    .venv/bin/python benchmarks/xdist_scaling.py [--repeats 1] [--target moto]

Runs `pytest --pyargs rolecall.conformance --rolecall-target moto -p no:cacheprovider
--rolecall-report-dir <tmp>` with `-n 0` and with `-n 2` (alternating, `--repeats` times
each), prints both wall times, the speed-up (goal >= 1.8x on 2 cores) and whether both
found the same divergence ids (from each report's divergences.json). Each run takes
minutes, so one of each by default; the load average before each run is printed with it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import header, load, median

GOAL = 1.8


def run(workers: int, target: str) -> dict:
    report_dir = Path(tempfile.mkdtemp(prefix=f"rolecall-bench-xdist-n{workers}-"))
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "rolecall.conformance", "--rolecall-target", target,
           "-p", "no:cacheprovider", "-n", str(workers), "-q", "--rolecall-report-dir", str(report_dir)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_AUTO_NUM_WORKERS")}
    before = load()
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    wall = time.monotonic() - t0
    ids: set[str] | None = None
    cells: list[float] = []
    try:
        latest = (report_dir / "latest").resolve()
        ids = {d["id"] for d in json.loads((latest / "divergences.json").read_text(encoding="utf-8"))}
        cells = [json.loads(line)["seconds"] for line in
                 (latest / "results.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        print(f"-n {workers}: no report written (exit {done.returncode}): {' | '.join(tail)}")
    finally:
        shutil.rmtree(report_dir, ignore_errors=True)
    summary = next((line for line in reversed(done.stdout.splitlines())
                    if " in " in line and ("passed" in line or "failed" in line)), "")
    return {"workers": workers, "wall": wall, "ids": ids, "exit": done.returncode, "summary": summary.strip("= "),
            "load": before, "cells": cells}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--target", default="moto")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    header(f"pytest-xdist scaling on {args.target}: -n 2 vs -n 0")
    runs: dict[int, list[dict]] = {0: [], 2: []}
    for _ in range(args.repeats):
        for workers in (0, 2):
            res = run(workers, args.target)
            runs[workers].append(res)
            print(f"-n {workers}: {res['wall']:.0f} s, exit {res['exit']}, "
                  f"{len(res['ids']) if res['ids'] is not None else '?'} divergence ids ({res['summary']}; "
                  f"before it: {res['load']})", flush=True)
    for r in runs[0][:1]:
        if r["cells"]:
            # the best any 2-worker schedule of these tests can do: the longest test, or half the sum
            longest, total = max(r["cells"]), sum(r["cells"])
            print(f"-n 0 cells: {len(r['cells'])} tests, {total:.0f} s in all, longest {longest:.0f} s: "
                  f"a 2-worker schedule needs at least {max(longest, total / 2):.0f} s "
                  f"(at best {total / max(longest, total / 2):.2f}x)")
    serial = median([r["wall"] for r in runs[0]])
    parallel = median([r["wall"] for r in runs[2]])
    speedup = serial / parallel
    print(f"-n 0: {serial:.0f} s, -n 2: {parallel:.0f} s (medians of {args.repeats}); speed-up {speedup:.2f}x; "
          f"goal >= {GOAL}x: {'met' if speedup >= GOAL else 'NOT met'}")
    sets = [r["ids"] for rs in runs.values() for r in rs]
    if any(s is None for s in sets):
        print("divergence ids: a run wrote no report, cannot compare")
        return 1
    union = set().union(*sets)
    common = set.intersection(*sets)
    print(f"divergence ids: {len(common)} found by every run, {len(union)} by any; "
          f"{'the same in every run' if common == union else 'they differ'}")
    for workers, rs in runs.items():
        for i, r in enumerate(rs):
            only = sorted(r["ids"] - common)
            if only:
                print(f"  only in -n {workers} run {i + 1}: {', '.join(only)}")
    missing = {w: sorted(union - r["ids"]) for w, rs in runs.items() for r in rs if union - r["ids"]}
    for w, ids in missing.items():
        print(f"  missing from an -n {w} run: {', '.join(ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
