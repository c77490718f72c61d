"""The ci profile's wall time before and after a change, on the same targets, and the ratio.

    .venv/bin/python benchmarks/wall_time_ratio.py [--before REV] [--target moto --target moto+auth]
                                                    [--repeats 1] [--keep-reports DIR]

Exports the `--before` revision (default: where this branch left main, `git merge-base HEAD
main`; `git archive`, nothing in the checkout changes) to a temporary
folder and runs, for each repeat, `python -m rolecall.cli run --target ... --profile ci` there
(before), then in this checkout (after), with the same Python and the same emulator
environments: the two alternate, so both see much the same load. Prints each run's wall
time, CPU time (the run and its worker processes), examples, divergences and findings per
target, then the median wall and CPU times and their ratios (after / before). The machine is
shared: the wall ratio depends on the load each run met (quote the load the script prints);
the CPU ratio does not.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import header, load, median

HERE = Path(__file__).resolve().parent.parent


#: folders the install maps into the one import package (pyproject.toml, package-dir)
MAPPED = ("targets", "strategies", "conformance", "reports")


def export(rev: str, into: Path) -> Path:
    """The revision's files, laid out as installed (targets/ as rolecall/targets, ...), so that
    PYTHONPATH makes `rolecall` that revision's whole package, not this checkout's."""
    archive = subprocess.run(["git", "-C", str(HERE), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for folder in MAPPED:
        (into / folder).rename(into / "rolecall" / folder)
    return into


def run(checkout: Path, targets: list[str], report_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ROLECALL_LOCALSTACK_ENDPOINT", "ROLECALL_STRICTNESS")}
    env["PYTHONPATH"] = str(checkout)
    cmd = [sys.executable, "-m", "rolecall.cli", "run", *[a for t in targets for a in ("--target", t)],
           "--profile", "ci", "--report-dir", str(report_dir)]
    start, used = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)  # the run and its workers
    latest = (report_dir / "latest").resolve()
    per: dict[str, dict] = {t: {"examples": 0, "divergences": 0, "findings": 0} for t in targets}
    try:
        for line in (latest / "results.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                cell = json.loads(line)
                per[cell["target"]]["examples"] += cell["examples"]
                per[cell["target"]]["divergences"] += len(cell["divergences"])
        for finding in json.loads((latest / "findings.json").read_text(encoding="utf-8")):
            per[finding["target"]]["findings"] += 1
    except (OSError, KeyError, ValueError) as exc:
        print(f"  no complete report ({exc}); exit {proc.returncode}: {proc.stderr[-600:]}")
    return {"wall": wall, "cpu": cpu, "exit": proc.returncode, "per": per, "report": latest}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="the revision before the change (default: git merge-base HEAD main)")
    ap.add_argument("--target", action="append", help="default: moto and moto+auth")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--keep-reports", type=Path, metavar="DIR", help="keep the reports in DIR/before, DIR/after")
    args = ap.parse_args(argv)
    targets = args.target or ["moto", "moto+auth"]
    if args.before is None:
        args.before = subprocess.run(["git", "-C", str(HERE), "merge-base", "HEAD", "main"], check=True,
                                     capture_output=True, text=True).stdout.strip()[:12]
    header(f"ci profile wall time, {args.before} (before) against this checkout (after), on {', '.join(targets)}")
    tmp = Path(tempfile.mkdtemp(prefix="rolecall-ratio-"))
    try:
        before = export(args.before, Path(tempfile.mkdtemp(dir=tmp)))
        walls: dict[str, list[float]] = {"before": [], "after": []}
        cpus: dict[str, list[float]] = {"before": [], "after": []}
        for i in range(args.repeats):
            for label, checkout in (("before", before), ("after", HERE)):
                reports = (args.keep_reports / label) if args.keep_reports else tmp / f"{label}-{i}"
                res = run(checkout, targets, reports.resolve())
                walls[label].append(res["wall"])
                cpus[label].append(res["cpu"])
                cells = ", ".join(f"{t}: {p['examples']} examples, {p['divergences']} divergences, "
                                  f"{p['findings']} findings" for t, p in res["per"].items())
                print(f"{label:6} run {i + 1}: {res['wall']:6.0f} s wall, {res['cpu']:6.0f} s CPU, exit {res['exit']}; {cells}; {load()}",
                      flush=True)
        b, a = median(walls["before"]), median(walls["after"])
        print(f"median wall time: before {b:.0f} s, after {a:.0f} s; ratio after/before {a / b:.2f}")
        cb, ca = median(cpus["before"]), median(cpus["after"])
        # CPU seconds do not depend on what else the machine runs; wall seconds do
        print(f"median CPU time: before {cb:.0f} s, after {ca:.0f} s; ratio after/before {ca / cb:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
