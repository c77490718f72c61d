"""rolecall's own cost per target: the time `target.run(scenario)` takes beyond the boto3 calls.

    .venv/bin/python benchmarks/harness_overhead.py [--scenarios 40] [--repeats 5] [--target moto ...]

A fixed set of scenarios (seeded draws spread over every property of the catalogue, only
those whose world the reference model creates) runs through each target. Each repeat times
the whole `target.run` and, in the same run, the time inside botocore's
`BaseClient._make_api_call` (the bare boto3 call: serialisation, the emulator's work, parsing)
and the time spent building boto3 clients. Prints medians over the repeats; ratio =
total / boto3 (goal <= 1.15). LocalStack: ROLECALL_LOCALSTACK_ENDPOINT, or a server started here.

Rows marked `[shared clients]` measure the shared-clients fast path as this script first
prototyped it (one boto3 client per service, each call's credentials in botocore's
per-request signing context); the targets now do this themselves (targets/boto.py), so these
rows should match the plain ones (`--no-shared` skips them). The script checks that they give
the same outcomes (decision and code per step) as the target itself.
`--no-managed` adds LocalStack rows on a server that loads no AWS managed policies into new
accounts (see benchmarks/localstack_fresh_account.py), alone and with shared clients, with the
same check. Variants are interleaved: each repeat times every variant once, each on a freshly
opened target (moto: a fresh mock), after one untimed warm-up scenario.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time

import botocore.client
import botocore.credentials

from _common import SEED, accepted, draw, header, median
from rolecall.conformance import CATALOGUE
from rolecall.targets import load_target
from rolecall.targets.base import Credentials
from rolecall.targets.boto import Boto3Target
from rolecall.targets.moto import MotoTarget

TARGETS = ("moto", "moto+auth", "localstack")


class Clock:
    """Time spent in boto3 calls and in client construction, for the current repeat."""

    def __init__(self) -> None:
        self.calls = 0
        self.call_s = 0.0
        self.clients = 0
        self.client_s = 0.0
        self._depth = 0

    def reset(self) -> None:
        self.calls, self.call_s, self.clients, self.client_s = 0, 0.0, 0, 0.0


CLOCK = Clock()


def _instrument() -> None:
    """Wrap the two boto3 entry points the harness uses (in this process only)."""
    make_api_call = botocore.client.BaseClient._make_api_call

    def timed_call(self, operation_name, api_params):
        if CLOCK._depth:  # nested (an emulator calling boto3): counted by the outer call
            return make_api_call(self, operation_name, api_params)
        CLOCK._depth += 1
        t0 = time.perf_counter()
        try:
            return make_api_call(self, operation_name, api_params)
        finally:
            CLOCK.call_s += time.perf_counter() - t0
            CLOCK.calls += 1
            CLOCK._depth -= 1

    botocore.client.BaseClient._make_api_call = timed_call

    client = Boto3Target.client

    def timed_client(self, service, creds):
        known = len(self._clients)
        t0 = time.perf_counter()
        try:
            return client(self, service, creds)
        finally:
            if len(self._clients) != known:
                CLOCK.client_s += time.perf_counter() - t0
                CLOCK.clients += 1

    Boto3Target.client = timed_client


def scenario_set(n: int, seed: int) -> list:
    """`n` scenarios spread over the catalogue: every third draw, so not only Hypothesis's
    first (smallest) examples."""
    oracle = load_target("reference")
    per = math.ceil(n / len(CATALOGUE))
    pools = [accepted(draw(prop, per * 3, seed), oracle)[2::3] for prop in CATALOGUE]
    out: list = []
    i = 0
    while len(out) < n and any(pools):
        pool = pools[i % len(pools)]
        if pool:
            out.append(pool.pop(0))
        i += 1
    return out


class SharedClients:
    """The proposed fast path (see the module docstring), mixed into a target class."""

    _SHARED = Credentials("shared", "shared", label="shared")

    def client(self, service, creds):
        self._call_creds = creds
        client = self._clients.get((service,) + (None,) * 4)
        if client is None:
            client = Boto3Target.client(self, service, self._SHARED)
            self._clients[(service,) + (None,) * 4] = client
            client.meta.events.register("before-parameter-build.*.*", self._sign_as)
            if isinstance(self, MotoTarget):
                client.meta.events.register("before-sign.*.*", self._account_header)
        return client

    def _sign_as(self, context, **_):
        c = self._call_creds
        context.setdefault("signing", {})["request_credentials"] = botocore.credentials.Credentials(
            c.access_key_id, c.secret_access_key, c.session_token)

    def _account_header(self, request, **_):
        if self._call_creds.account:  # as MotoTarget.customise_client does, per call
            request.headers["x-moto-account-id"] = self._call_creds.account


def _signature(run) -> tuple:
    if run.setup_error is not None:
        return ("setup", run.setup_error.code)
    return tuple((o.id, o.outcome, o.code) for o in run.outcomes)


def make(spec: str, shared: bool, endpoint: str | None = None):
    target = load_target(spec, endpoint=endpoint) if endpoint else load_target(spec)
    if shared:
        cls = type(f"Shared{type(target).__name__}", (SharedClients, type(target)), {})
        target = cls()
        target.name = spec
    return target


def measure(spec: str, scenarios: list, repeats: int, variants: dict[str, tuple[bool, str | None]]) -> dict:
    """Time each variant (label -> (shared clients?, endpoint)) `repeats` times, interleaved: each
    repeat opens a fresh target (moto: a fresh mock), warms it on one scenario, times the set."""
    out = {label: {"rows": [], "signatures": []} for label in variants}
    for rep in range(repeats):
        for label, (shared, endpoint) in variants.items():
            res = out[label]
            target = make(spec, shared, endpoint)
            target.open()
            try:
                target.run(scenarios[0])  # warm-up: first-use imports, the mock's first request
                CLOCK.reset()
                start = time.perf_counter()
                for scenario in scenarios:
                    run = target.run(scenario)
                    if rep == 0:
                        res["signatures"].append(_signature(run))
                total = time.perf_counter() - start
            finally:
                target.close()
            res["rows"].append({"total": total, "boto3": CLOCK.call_s, "clients": CLOCK.client_s,
                                "calls": CLOCK.calls, "new_clients": CLOCK.clients})
    return out


def _same(spec: str, a: dict, b: dict) -> str:
    same = sum(x == y for x, y in zip(a["signatures"], b["signatures"]))
    return f"; same outcomes as {spec}: {same}/{len(a['signatures'])} scenarios"


def _row(label: str, res: dict, n: int, repeats: int, note: str = "") -> None:
    rows = res["rows"]
    total = median([r["total"] * 1e3 for r in rows])
    boto = median([r["boto3"] * 1e3 for r in rows])
    clients = median([r["clients"] * 1e3 for r in rows])
    other = median([(r["total"] - r["boto3"] - r["clients"]) * 1e3 for r in rows])
    ratios = [r["total"] / r["boto3"] for r in rows if r["boto3"]]
    calls = median([r["calls"] for r in rows])
    new_clients = median([r["new_clients"] for r in rows])
    print(f"{label:<28}{repeats:>5}{n:>6}{calls:>7.0f}{new_clients:>8.0f}{total:>10.0f}{boto:>10.0f}"
          f"{clients:>10.0f}{other:>10.0f}{median(ratios):>7.3f}{total / n:>8.1f}"
          f"  [ratio {min(ratios):.3f}-{max(ratios):.3f}{note}]")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--localstack-repeats", type=int, default=3, help="LocalStack is slow: fewer repeats")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--target", action="append", choices=TARGETS, help="default: all three")
    ap.add_argument("--no-shared", action="store_true", help="skip the shared-clients fast-path rows")
    ap.add_argument("--no-managed", action="store_true",
                    help="also run LocalStack with no AWS managed policies per account (a server of its own)")
    args = ap.parse_args(argv)
    if args.scenarios < 1 or args.repeats < 1 or args.localstack_repeats < 1:
        ap.error("--scenarios and --repeats must be at least 1")
    header("harness overhead: target.run vs the bare boto3 calls inside it")
    _instrument()
    scenarios = scenario_set(args.scenarios, args.seed)
    steps = sum(len(s.steps) for s in scenarios)
    print(f"# {len(scenarios)} scenarios ({steps} steps) from {len(CATALOGUE)} properties, seed {args.seed}; "
          f"medians over repeats (min-max in brackets)")
    print(f"{'target':<28}{'reps':>5}{'scen.':>6}{'calls':>7}{'clients':>8}{'total ms':>10}{'boto3 ms':>10}"
          f"{'client ms':>10}{'other ms':>10}{'ratio':>7}{'ms/scen':>8}")
    for spec in args.target or TARGETS:
        repeats = args.localstack_repeats if spec == "localstack" else args.repeats
        variants: dict[str, tuple[bool, str | None]] = {spec: (False, None)}
        if not args.no_shared:
            variants[f"{spec} [shared clients]"] = (True, None)
        with contextlib.ExitStack() as stack:
            if spec == "localstack" and args.no_managed:
                from localstack_fresh_account import patched_server

                lean = stack.enter_context(patched_server("no-managed"))
                variants[f"{spec} [no managed pol.]"] = (False, lean)
                if not args.no_shared:
                    variants[f"{spec} [both]"] = (True, lean)
            results = measure(spec, scenarios, repeats, variants)
        for label, res in results.items():
            _row(label, res, len(scenarios), repeats, "" if label == spec else _same(spec, results[spec], res))
    print("# ratio = total / boto3 (goal <= 1.15); 'client ms' = building boto3 clients (one per service "
          "since shared clients landed in the targets); 'other' = the rest of rolecall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
