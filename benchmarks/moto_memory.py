"""Peak memory of a moto run over N examples: is moto's state growth bounded?

    .venv/bin/python benchmarks/moto_memory.py [--examples 100 400] [--repeats 1]

targets/moto.py keeps moto's state for the life of the mock and resets it every RESET_EVERY
runs. Each measurement is a fresh child process (peak RSS is per process) that runs N
scenarios (seeded draws cycling over the catalogue) through the moto target as the engine
does (oracle, then target), and reports its peak RSS (`resource.getrusage`, ru_maxrss), its RSS
before the first run, every 50 runs, and the time per run. For comparison the same is measured
with the reset disabled in that child only (RESET_EVERY set above N): the growth the reset bounds;
and with the reset disabled and harness_overhead.py's shared-client mixin (`mixin` rows; the
target as shipped, `shipped` rows, has shared one client per service since that fast path landed,
so the two now differ only in the mixin's own bookkeeping).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _common import SEED, header, median


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="utf-8") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def child(n: int, reset: bool, shared: bool, seed: int) -> None:
    from _common import draw
    from harness_overhead import make
    from rolecall.conformance import CATALOGUE
    from rolecall.targets import load_target
    from rolecall.targets import moto as moto_module

    if not reset:
        moto_module.RESET_EVERY = 10**9
    per = -(-n // len(CATALOGUE))
    pools = [draw(p, per, seed) for p in CATALOGUE]
    scenarios = [s for batch in zip(*[pool + pool[:1] * (per - len(pool)) for pool in pools]) for s in batch][:n]
    oracle, target = load_target("reference"), make("moto", shared)
    target.open()
    target.run(scenarios[0])  # imports and the mock's first request, before the baseline
    base = _rss_mib()
    samples = []
    t0 = time.perf_counter()
    lap = t0
    laps = []
    for i, s in enumerate(scenarios, 1):
        oracle.run(s)
        target.run(s)
        if i % 50 == 0:
            samples.append(round(_rss_mib()))
            now = time.perf_counter()
            laps.append(round((now - lap) / 50 * 1e3, 1))
            lap = now
    total = time.perf_counter() - t0
    target.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"n": len(scenarios), "reset": reset, "shared": shared, "base_mib": round(base), "peak_mib": round(peak),
                      "rss_every_50": samples, "ms_per_run_every_50": laps, "ms_per_run": total / len(scenarios) * 1e3}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--no-compare", action="store_true", help="skip the runs with the reset disabled")
    ap.add_argument("--child", nargs=3, metavar=("N", "RESET", "SHARED"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1] == "1", args.child[2] == "1", args.seed)
        return 0
    if min(args.examples) < 1 or args.repeats < 1:
        ap.error("--examples and --repeats must be at least 1")
    from rolecall.targets.moto import RESET_EVERY

    header(f"moto: peak RSS over N examples (RESET_EVERY = {RESET_EVERY})")
    print(f"{'examples':>8}  {'reset':<6}{'clients':<8}{'base MiB':>9}{'peak MiB':>9}{'growth':>8}{'ms/run':>8}  RSS MiB every 50 runs"
          f" | ms per run every 50 runs")
    variants = [(True, False)] if args.no_compare else [(True, False), (False, False), (False, True)]
    for n in args.examples:
        for reset, shared in variants:
            results = []
            for _ in range(args.repeats):
                done = subprocess.run([sys.executable, __file__, "--child", str(n), "1" if reset else "0", "1" if shared else "0",
                                       "--seed", str(args.seed)], capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"moto_memory: child failed: {done.stderr.strip()[-400:]}")
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            peak = median([r["peak_mib"] for r in results])
            base = median([r["base_mib"] for r in results])
            r = results[0]
            print(f"{n:>8}  {'on' if reset else 'off':<6}{'mixin' if shared else 'shipped':<8}{base:>9.0f}{peak:>9.0f}{peak - base:>8.0f}"
                  f"{median([x['ms_per_run'] for x in results]):>8.0f}  {r['rss_every_50']} | {r['ms_per_run_every_50']}",
                  flush=True)
    print("# growth = peak - RSS after the first run; 'reset off' sets RESET_EVERY above N in that child only;"
          " 'mixin' = harness_overhead.py's shared-client mixin; 'shipped' = the moto target as it is")
    return 0


if __name__ == "__main__":
    sys.exit(main())
