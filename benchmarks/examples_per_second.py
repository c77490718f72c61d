"""Examples per second per target and property, with Hypothesis's share separated from the targets'.

    .venv/bin/python benchmarks/examples_per_second.py [--examples 20] [--repeats 3] [--target moto ...]
    .venv/bin/python benchmarks/examples_per_second.py --target moto --target ministack+auth --target localemu ...

For each property of the catalogue the same seeded examples (Hypothesis's generate phase,
no database) are timed four ways, in one run:
  draw     the @given loop with a body that does nothing: strategy draws + Hypothesis's engine
  oracle   reference.run over the drawn scenarios
  target   target.run over the drawn scenarios
  full     the @given loop whose body is the engine's `compare_once` (oracle, target, compare),
           i.e. what `rolecall run` does per example before any shrinking
`hyp` = full - oracle - target: what the search costs beyond running the scenarios (noisy:
a difference of medians); `draw %` = draw / full, the same share measured directly.
Medians over `--repeats` (the slow servers, LocalStack 4.x and LocalEmu, whose budget share is
a tenth: `--localstack-repeats`, fewer examples). The last table is each target's own cost per
example (`target` / examples) side by side with moto's, when moto is among the targets.
"""
from __future__ import annotations

import argparse
import sys
import time

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hseed, settings

from _common import SEED, draw, header, median
from rolecall.conformance import CATALOGUE
from rolecall.engine import compare_once
from rolecall.targets import load_target

TARGETS = ("moto", "moto+auth", "localstack", "localstack@2026.3.0", "ministack", "ministack+auth", "localemu")


def _loop(prop, n: int, seed: int, body) -> float:
    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @given(prop.strategy())
    def test(scenario) -> None:
        body(scenario)

    t0 = time.perf_counter()
    test()
    return time.perf_counter() - t0


def _runs(target, scenarios) -> float:
    t0 = time.perf_counter()
    for s in scenarios:
        target.run(s)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--localstack-examples", type=int, default=8)
    ap.add_argument("--localstack-repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--target", action="append", choices=TARGETS, help="default: moto, moto+auth, localstack")
    ap.add_argument("--property", action="append", metavar="NAME", help="default: every property")
    args = ap.parse_args(argv)
    if min(args.examples, args.repeats, args.localstack_examples, args.localstack_repeats) < 1:
        ap.error("--examples and --repeats must be at least 1")
    props = [p for p in CATALOGUE if not args.property or p.name in args.property]
    if not props:
        ap.error(f"no property named {args.property} (known: {', '.join(p.name for p in CATALOGUE)})")
    specs = args.target or list(TARGETS[:3])
    header("examples per second: Hypothesis draws vs oracle vs target")
    print(f"# seed {args.seed}; medians over repeats; times in ms for the whole batch of examples")
    oracle = load_target("reference")
    oracle.open()
    targets = {}
    for spec in specs:
        targets[spec] = load_target(spec)
        targets[spec].open()
    print(f"{'property':<36}{'target':<11}{'ex.':>4}{'draw':>8}{'oracle':>8}{'target':>8}{'full':>9}{'hyp':>7}"
          f"{'ex/s':>7}{'draw %':>7}{'target %':>9}")
    totals: dict[str, dict[str, float]] = {}
    for prop in props:
        for spec, target in targets.items():
            slow = target.budget_scale <= 0.1
            n = args.localstack_examples if slow else args.examples
            reps = args.localstack_repeats if slow else args.repeats
            scenarios = draw(prop, n, args.seed)
            # warm-up, untimed: the oracle over every scenario (its compiled-pattern caches and
            # botocore's service models), the target on one (first-use imports, clients)
            _runs(oracle, scenarios)
            target.run(scenarios[0])
            rows = {"draw": [], "oracle": [], "target": [], "full": []}
            for _ in range(reps):
                rows["draw"].append(_loop(prop, n, args.seed, lambda s: None))
                rows["oracle"].append(_runs(oracle, scenarios))
                rows["target"].append(_runs(target, scenarios))
                rows["full"].append(_loop(prop, n, args.seed,
                                          lambda s: compare_once(prop, s, target, oracle, "code")))
            m = {k: median(v) * 1e3 for k, v in rows.items()}
            hyp = m["full"] - m["oracle"] - m["target"]
            t = totals.setdefault(spec, {"n": 0, "draw": 0.0, "oracle": 0.0, "target": 0.0, "full": 0.0})
            t["n"] += len(scenarios)
            for k in ("draw", "oracle", "target", "full"):
                t[k] += m[k]
            print(f"{prop.name[:35]:<36}{spec:<11}{len(scenarios):>4}{m['draw']:>8.0f}{m['oracle']:>8.0f}"
                  f"{m['target']:>8.0f}{m['full']:>9.0f}{hyp:>7.0f}{len(scenarios) / m['full'] * 1e3:>7.1f}"
                  f"{m['draw'] / m['full']:>7.0%}{m['target'] / m['full']:>9.0%}", flush=True)
    print("# all properties")
    for spec, t in totals.items():
        hyp = t["full"] - t["oracle"] - t["target"]
        print(f"{'(all)':<36}{spec:<11}{t['n']:>4.0f}{t['draw']:>8.0f}{t['oracle']:>8.0f}{t['target']:>8.0f}"
              f"{t['full']:>9.0f}{hyp:>7.0f}{t['n'] / t['full'] * 1e3:>7.1f}{t['draw'] / t['full']:>7.0%}"
              f"{t['target'] / t['full']:>9.0%}")
    print("# each target's own cost per example (target ms / examples), side by side")
    moto_ms = totals["moto"]["target"] / totals["moto"]["n"] if "moto" in totals else None
    print(f"{'target':<22}{'ms/example':>11}{'x moto':>8}{'budget share':>14}")
    for spec, t in totals.items():
        ms = t["target"] / t["n"]
        ratio = f"{ms / moto_ms:>8.1f}" if moto_ms else f"{'':>8}"
        print(f"{spec:<22}{ms:>11.1f}{ratio}{targets[spec].budget_scale:>14.2f}")
    for target in targets.values():
        target.close()
    oracle.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
