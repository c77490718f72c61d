#!/usr/bin/env python3
"""What telling causes costs: ci-profile cells with findings explained (the default) and without
(no twins replayed), side by side, and how many findings each gives.

    python benchmarks/findings_cost.py [--target moto+auth] [--property NAME ...]

Without explanation every divergence is its own symptom-level cause; with it, twins of each
minimal scenario are replayed (Target.explain_replays at most) and the canary runs once.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402

from rolecall.conformance import CATALOGUE  # noqa: E402
from rolecall.engine import PROFILES, explore  # noqa: E402
from rolecall.pool import make_target  # noqa: E402


def run(target_name: str, props: list, replays: int | None) -> tuple[float, int, int]:
    target, oracle = make_target(target_name, {}), make_target("reference", {})
    target.open()
    oracle.open()
    if replays is not None:
        target.explain_replays = replays
    started = time.perf_counter()
    causes, divergences = set(), 0
    for prop in props:
        cell = explore(prop, target, oracle, profile=PROFILES["ci"])
        divergences += len(cell.divergences)
        causes |= {r.cause.id for r in cell.divergences.values() if r.cause is not None}
    seconds = time.perf_counter() - started
    target.close()
    oracle.close()
    return seconds, divergences, len(causes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="moto+auth")
    ap.add_argument("--property", action="append", default=None)
    args = ap.parse_args()
    props = [p for p in CATALOGUE if args.property is None or p.name in args.property]
    print(machine())
    base = run(args.target, props, 0)
    full = run(args.target, props, None)
    print(f"{'':<22} {'seconds':>8} {'divergences':>12} {'findings':>9}")
    print(f"{'without twins':<22} {base[0]:>8.1f} {base[1]:>12} {base[2]:>9}")
    print(f"{'with twins (default)':<22} {full[0]:>8.1f} {full[1]:>12} {full[2]:>9}")
    print(f"ratio: {full[0] / base[0]:.2f}x the time")


if __name__ == "__main__":
    main()
