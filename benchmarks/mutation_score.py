"""The mutation score: does a profile's search find each low-level planted bug
(tests/quality/mutants.py), and how short is the minimal scenario it reports?

    .venv/bin/python benchmarks/mutation_score.py [--profile ci] [--seed N] [--mutant NAME ...] [--catalogue]
    .venv/bin/python benchmarks/mutation_score.py --seeds 10 [--mutant NAME ...]

Each mutant is the reference model with one realistic emulator bug, explored with
`engine.explore` against the unbroken model on the property that should find it (with
--catalogue: on every property, stopping at the first that finds it), at the mutant's
strictness. Prints one line per mutant: found or missed, the property, the divergences,
the steps of the shortest minimal scenario and the seconds it took; then the score.
With --seeds N: at how many of the seeds 0..N-1 each mutant is found (how much a find
depends on the seed).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.quality

from _common import header  # noqa: E402
from rolecall.conformance import CATALOGUE  # noqa: E402
from rolecall.engine import PROFILES, explore  # noqa: E402
from rolecall.targets.reference import reference  # noqa: E402
from tests.quality.mutants import BY_NAME, MUTANTS, MutantTarget  # noqa: E402


def score(mutant, profile, seed, catalogue: bool) -> dict:
    props = {p.name: p for p in CATALOGUE}
    order = [props[mutant.property]] + ([p for p in CATALOGUE if p.name != mutant.property] if catalogue else [])
    started = time.perf_counter()
    for prop in order:
        cell = explore(prop, MutantTarget(mutant), reference(), profile=profile, strictness=mutant.strictness,
                       seed=seed)
        if cell.error:
            return {"found": False, "property": prop.name, "error": cell.error,
                    "seconds": time.perf_counter() - started}
        if cell.divergences:
            steps = sorted(len(c.divergence.scenario.steps) for c in cell.divergences.values())
            return {"found": True, "property": prop.name, "divergences": len(cell.divergences), "steps": steps,
                    "examples": cell.examples, "seconds": time.perf_counter() - started}
    return {"found": False, "property": mutant.property, "seconds": time.perf_counter() - started}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="ci", choices=sorted(PROFILES))
    ap.add_argument("--seed", type=int, default=None, help="the profile's seed unless given")
    ap.add_argument("--mutant", action="append", choices=sorted(BY_NAME), help="only these (repeatable)")
    ap.add_argument("--catalogue", action="store_true", help="search every property, not only the mutant's own")
    ap.add_argument("--seeds", type=int, default=0, help="run seeds 0..N-1 and count the finds")
    args = ap.parse_args(argv)
    profile = PROFILES[args.profile]
    if args.seeds:
        header(f"mutation score over seeds 0..{args.seeds - 1}, profile {profile.name}")
        for m in [BY_NAME[n] for n in args.mutant] if args.mutant else MUTANTS:
            finds = [score(m, profile, seed, args.catalogue)["found"] for seed in range(args.seeds)]
            print(f"{m.name:38} found at {sum(finds)}/{args.seeds} seeds  "
                  f"({''.join('x' if f else '.' for f in finds)})", flush=True)
        return 0
    header(f"mutation score, profile {profile.name}, seed {profile.seed if args.seed is None else args.seed}")
    mutants = [BY_NAME[n] for n in args.mutant] if args.mutant else MUTANTS
    found = 0
    print(f"{'mutant':38} {'found':6} {'property':32} {'strictness':10} {'divs':>4} {'min steps':>9} {'seconds':>8}")
    for m in mutants:
        r = score(m, profile, args.seed, args.catalogue)
        found += r["found"]
        steps = str(r["steps"][0]) if r["found"] else "-"
        print(f"{m.name:38} {'yes' if r['found'] else 'MISSED':6} {r['property']:32} {m.strictness:10} "
              f"{r.get('divergences', 0):>4} {steps:>9} {r['seconds']:>8.1f}" + (f"  error: {r['error']}" if "error" in r else ""),
              flush=True)
    print(f"score: {found}/{len(mutants)} found, {len(mutants) - found} missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
