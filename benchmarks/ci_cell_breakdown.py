"""Where a CI-profile cell's time goes: search, Hypothesis's shrinking, rolecall's reduction and
confirmation; and what the cell costs and finds with other shrinking limits.

    .venv/bin/python benchmarks/ci_cell_breakdown.py [--target moto] [--property NAME ...] [--repeats 1]

Runs `engine.explore` (the CI profile: seed 0, 40 examples x 2 rounds, shrinking limited to
the profile's `max_shrinks` a round) on each property, timing in the same run: Hypothesis's
shrinking (ConjectureRunner.shrink_interesting_test_cases), `engine.reduce` (rolecall's
minimiser) and `engine.confirm` (3 replays), the rest being the search. Then, unless
--no-what-if, the same cell with Hypothesis's own shrinking limits (`uncapped`: 500 shrinks or five minutes)
and with the shrink phase left out of the Hypothesis settings (`no shrink`; rolecall's own
minimiser still reduces each finding): time, and which divergence ids each finds. With --repeats 2 or more it
also says whether repeats of the same seeded cell (one target, as in one session) find the same ids.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import hypothesis
from hypothesis import Phase
from hypothesis.internal.conjecture import engine as conjecture

from _common import header, median
from rolecall import engine
from rolecall.conformance import CATALOGUE
from rolecall.targets import load_target

SPENT = {"shrink": 0.0, "reduce": 0.0, "confirm": 0.0}


def _timed(owner, name: str, key: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[key] += time.perf_counter() - t0

    setattr(owner, name, wrapper)


def _no_shrink(on: bool) -> None:
    """Make rolecall.engine's `settings(...)` drop Phase.shrink (or restore it)."""
    if not on:
        engine.settings = hypothesis.settings
        return

    def settings(*args, phases=None, **kwargs):
        if phases is not None:
            phases = tuple(p for p in phases if p is not Phase.shrink)
        return hypothesis.settings(*args, phases=phases, **kwargs)

    engine.settings = settings


VARIANTS = {"ci": engine.PROFILES["ci"], "uncapped": replace(engine.PROFILES["ci"], max_shrinks=None),
            "no shrink": engine.PROFILES["ci"]}


def cell(prop, target, oracle, variant: str) -> dict:
    for k in SPENT:
        SPENT[k] = 0.0
    _no_shrink(variant == "no shrink")
    t0 = time.perf_counter()
    c = engine.explore(prop, target, oracle, profile=VARIANTS[variant])
    total = time.perf_counter() - t0
    return {"total": total, **SPENT, "examples": c.examples, "ids": set(c.divergences), "flaky": len(c.flaky),
            "error": c.error}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="moto")
    ap.add_argument("--property", action="append", metavar="NAME", help="default: every property")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--max-shrinks", type=int, help="the ci row's limit (default: the ci profile's)")
    ap.add_argument("--no-what-if", action="store_true", help="only the ci profile as it is")
    args = ap.parse_args(argv)
    if args.max_shrinks:
        VARIANTS["ci"] = replace(VARIANTS["ci"], max_shrinks=args.max_shrinks)
    props = [p for p in CATALOGUE if not args.property or p.name in args.property]
    if not props or args.repeats < 1:
        ap.error(f"no such property (known: {', '.join(p.name for p in CATALOGUE)})" if not props
                 else "--repeats must be at least 1")
    _timed(conjecture.ConjectureRunner, "shrink_interesting_test_cases", "shrink")
    _timed(engine, "reduce", "reduce")
    _timed(engine, "confirm", "confirm")
    header(f"CI-profile cells on {args.target}: search vs shrinking vs reduction vs confirmation")
    oracle, target = load_target("reference"), load_target(args.target)
    oracle.open()
    target.open()
    print(f"{'property':<36}{'variant':<11}{'total s':>8}{'search':>8}{'shrink':>8}{'reduce':>8}{'confirm':>8}"
          f"{'ex.':>6}{'ids':>5}  ids vs the ci profile")
    sums: dict[str, float] = {}
    variants = tuple(VARIANTS) if not args.no_what_if else ("ci",)
    try:
        for prop in props:
            found: dict[str, list[dict]] = {}
            for _ in range(args.repeats):
                for variant in variants:
                    found.setdefault(variant, []).append(cell(prop, target, oracle, variant))
            _no_shrink(False)
            base_ids = found["ci"][0]["ids"]
            if args.repeats > 1:
                same = all(r["ids"] == base_ids for r in found["ci"])
                print(f"{prop.name[:35]:<36}repeats of the seeded cell found {'the same' if same else 'DIFFERENT'} "
                      f"ids: {[len(r['ids']) for r in found['ci']]} "
                      f"({len(set.intersection(*[r['ids'] for r in found['ci']]))} in all)")
            for variant, runs in found.items():
                m = {k: median([r[k] for r in runs]) for k in ("total", "shrink", "reduce", "confirm", "examples")}
                search = m["total"] - m["shrink"] - m["reduce"] - m["confirm"]
                ids = runs[0]["ids"]
                sums[variant] = sums.get(variant, 0.0) + m["total"]
                cmp = "" if variant == "ci" else (
                    f"same {len(ids & base_ids)}, only here {len(ids - base_ids)}, missing {len(base_ids - ids)}")
                print(f"{prop.name[:35]:<36}{variant:<11}{m['total']:>8.1f}{search:>8.1f}{m['shrink']:>8.1f}"
                      f"{m['reduce']:>8.1f}{m['confirm']:>8.1f}{m['examples']:>6.0f}{len(ids):>5}  {cmp}", flush=True)
    finally:
        target.close()
        oracle.close()
    print("  ".join(f"{v}: {s:.0f} s in all" for v, s in sums.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
