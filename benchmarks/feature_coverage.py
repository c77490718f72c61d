"""Feature coverage of a profile's budget: how many of the scenarios the search runs exercise
each feature of `rolecall.features.FEATURES` (beyond the oracle's reason labels).

    .venv/bin/python benchmarks/feature_coverage.py [--profile ci] [--property NAME ...] [--markdown]
    .venv/bin/python benchmarks/feature_coverage.py --steering [--max-examples 10] [--seeds 5]

Runs `engine.explore` with the profile (the same seed, budget and rounds as a run) on every
property, with the reference model as both target and oracle (nothing diverges, so the
budget is spent as on an emulator that agrees everywhere), and records the features of each
scenario the oracle accepts. Prints, per feature, the scenarios that reach it and their
share; then the features no scenario reaches. With --steering: the features reached with the
search steered to rare features (the default, `Profile.steer`) and without, at a smaller
budget (--max-examples per property and round) over seeds 0..N-1, and the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace

from _common import header
from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.features import FEATURES, features
from rolecall.targets.reference import ReferenceTarget


class _Recording(ReferenceTarget):
    """The reference model, counting the features of every scenario whose world it accepts."""

    def __init__(self, counts: Counter, totals: Counter):
        super().__init__()
        self.counts, self.totals = counts, totals

    def run(self, scenario):
        result = super().run(scenario)
        if result.setup_error is None:
            self.totals["scenarios"] += 1
            self.counts.update(features(scenario))
        return result


def coverage(profile, properties, *, seed=None, max_examples=None) -> tuple[Counter, int]:
    counts: Counter = Counter()
    totals: Counter = Counter()
    for prop in properties:
        oracle = _Recording(counts, totals)
        cell = explore(prop, ReferenceTarget(), oracle, profile=profile, seed=seed, max_examples=max_examples)
        if cell.error:
            raise SystemExit(f"{prop.name}: {cell.error}")
    return counts, totals["scenarios"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="ci", choices=sorted(PROFILES))
    ap.add_argument("--property", action="append", help="only these properties (repeatable)")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    ap.add_argument("--steering", action="store_true", help="features reached with steering and without")
    ap.add_argument("--max-examples", type=int, default=10, help="with --steering: examples per property and round")
    ap.add_argument("--seeds", type=int, default=5, help="with --steering: seeds 0..N-1")
    args = ap.parse_args(argv)
    props = [p for p in CATALOGUE if not args.property or p.name in args.property]
    if args.steering:
        return steering(PROFILES[args.profile], props, args.max_examples, args.seeds)
    header(f"feature coverage, profile {args.profile}, {len(props)} properties")
    started = time.perf_counter()
    counts, n = coverage(PROFILES[args.profile], props)
    print(f"# {n} scenarios run in {time.perf_counter() - started:.0f} s")
    if args.markdown:
        print("| feature | scenarios | share |\n|---|---:|---:|")
    for f in FEATURES:
        c = counts.get(f, 0)
        print(f"| `{f}` | {c} | {c / max(n, 1):.1%} |" if args.markdown else f"{f:48} {c:6} {c / max(n, 1):7.1%}")
    missing = [f for f in FEATURES if not counts.get(f)]
    print(f"reached {len(FEATURES) - len(missing)}/{len(FEATURES)} features; not reached: "
          f"{', '.join(missing) or 'none'}")
    return 0


def steering(profile, props, max_examples: int, seeds: int) -> int:
    header(f"features reached, steered or not, profile {profile.name} at {max_examples} examples per property "
           f"and round, seeds 0..{seeds - 1}, {len(props)} properties")
    reached: dict[bool, list[int]] = {False: [], True: []}
    for seed in range(seeds):
        for steer in (False, True):
            started = time.perf_counter()
            counts, n = coverage(replace(profile, steer=steer), props, seed=seed, max_examples=max_examples)
            got = sum(1 for f in FEATURES if counts.get(f))
            reached[steer].append(got)
            print(f"seed {seed} {'steered' if steer else 'plain  '}: {got}/{len(FEATURES)} features, {n} scenarios, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    plain, steered = statistics.mean(reached[False]), statistics.mean(reached[True])
    print(f"mean features reached: plain {plain:.1f}, steered {steered:.1f} of {len(FEATURES)}; "
          f"unreached: plain {len(FEATURES) - plain:.1f}, steered {len(FEATURES) - steered:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
