"""`rolecall matrix`'s spine: a grid of targets run one after another, each named by the
product-version it runs (asked of the running product), each run's summary kept in a history
folder, and every change between two versions of one product confirmed by replaying.

A change (a finding that appears, or disappears, between consecutive tested versions of one
product line) is confirmed when the finding's smallest scenario, replayed on both versions,
diverges with that finding's cause on the version that has it and not on the other. The
history folder and the table are reports.matrix's; this module runs targets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rolecall import interrupts
from rolecall.compare import Divergence, first_difference
from rolecall.engine import PROFILES, Profile, enforcement_of
from rolecall.events import Listener, Note, ignore
from rolecall.findings import explain
from rolecall.outcome import TargetUnavailable
from rolecall.pool import TargetPool
from rolecall.property import Property
from rolecall.reports import matrix as history_
from rolecall.reports.records import build
from rolecall.scenario import ScenarioError, from_dict
from rolecall.session import RunResult
from rolecall.session import run as run_suite

REPLAY_PROPERTY = "matrix replay"
# what a replay of a finding's scenario on one product-version shows
REPRODUCED = "reproduced"  # it diverges, and the divergence's cause is the finding
AGREES = "agrees"  # the product-version answers as AWS does
OTHER = "diverges otherwise"  # it diverges with another cause
NO_WORLD = "cannot create the world"
STALE = "stale"  # the oracle no longer accepts the scenario
UNAVAILABLE = "not replayed"


@dataclass
class ProductRun:
    """One target spec's run: the product-version it ran, its summary (None when it could not run)."""

    spec: str
    product: str | None
    summary: dict | None
    result: RunResult | None
    error: str | None = None


def product_of(target) -> tuple[str, str, str]:
    """(product, version, mode) of an open target; a target without versions is its name."""
    found = target.product_version()
    return tuple(found) if found else (target.name, "", "")


def run_product(spec: str, properties: list[Property], *, oracle: str = "reference",
                profile: Profile = PROFILES["ci"], strictness: str = "code", seed: int | None = None,
                max_examples: int | None = None, options: dict[str, Any] | None = None,
                listener: Listener = ignore) -> ProductRun:
    """Run every property on one target spec (one process, one server) and summarise it. A run that
    lost its target, or was interrupted, has no summary: a partial run would call findings absent."""
    seen: dict[str, tuple] = {}

    def name_it(pool: TargetPool, emit) -> None:
        try:
            seen["product"] = product_of(pool.get(spec))
        except TargetUnavailable:
            pass  # the cells report it as the target's error

    result = run_suite(properties, [spec], oracle_spec=oracle, profile=profile, strictness=strictness, seed=seed,
                       max_examples=max_examples, target_options=options, listener=listener, workers=1,
                       before_cells=name_it)
    if interrupts.requested():
        result.interrupted = True
    product = seen.get("product")
    error = (result.target_errors.get(spec) or next(iter(result.target_errors.values()), None)
             or next((c.error for c in result.cells if c.error), None))
    if result.interrupted:
        error = "interrupted"
    if product is None or error or not any(c.examples for c in result.cells):
        return ProductRun(spec, history_.product_string(*product) if product else None, None, result,
                          error or "nothing was tested")
    data = build(result)
    run = {"run_id": result.run_id, "started": result.started, "finished": result.finished,
           "profile": result.profile, "seed": result.seed, "strictness": strictness, "oracle": oracle,
           "max_examples": max_examples, "properties": [p.name for p in properties]}
    summary = history_.summary_of(product, spec, data, run)
    return ProductRun(spec, summary["product"], summary, result)


# ----------------------------------------------------------------------------- replays

def replay(scenario: dict, finding_id: str, target, oracle, strictness: str = "code") -> dict:
    """Replay a finding's scenario on an open target: REPRODUCED, AGREES, OTHER, NO_WORLD or STALE,
    with the cause seen (a count-bounded explanation, as in a run)."""
    try:
        sc = from_dict(scenario, origin=f"<{finding_id}>")
    except ScenarioError as exc:
        return {"result": STALE, "detail": f"the scenario no longer loads: {exc}"}
    expected, observed = oracle.run(sc), target.run(sc)
    if expected.setup_error is not None:
        return {"result": STALE, "detail": f"{oracle.name} refuses the world: {expected.setup_error.message}"}
    if observed.setup_error is not None:
        return {"result": NO_WORLD, "detail": observed.setup_error.message or observed.setup_error.code}
    diff = first_difference(sc, expected, observed, strictness)
    if diff is None:
        return {"result": AGREES}
    div = Divergence.of(REPLAY_PROPERTY, target.name, sc, diff, oracle=oracle.name)
    cause = explain(div, target, oracle, enforcement=enforcement_of(target, oracle), strictness=strictness,
                    budget=target.explain_replays)
    if cause.id == finding_id:
        return {"result": REPRODUCED, "finding": cause.id, "step": diff.step_id}
    return {"result": OTHER, "finding": cause.id, "step": diff.step_id, "detail": f"{cause.id} {cause.title}"}


def confirmed(change: dict) -> bool | None:
    """The version that has the finding reproduces it; the other does not (it agrees, or diverges
    for another cause). None when a side could not be replayed."""
    rp = change.get("replay") or {}
    have, lack = (rp.get("to"), rp.get("from")) if change["change"] == history_.APPEARS else \
        (rp.get("from"), rp.get("to"))
    if not have or not lack or {have["result"], lack["result"]} & {UNAVAILABLE, STALE, NO_WORLD}:
        return None
    return have["result"] == REPRODUCED and lack["result"] in (AGREES, OTHER)


def settle(history: dict[str, dict], *, oracle: str = "reference", strictness: str = "code",
           options: dict[str, Any] | None = None, previous: dict | None = None,
           emit: Callable = ignore, between: Callable[[], None] = lambda: None) -> dict:
    """The table of the history, each change replayed on both sides. A replay that reproduces a
    finding the search did not meet makes it present there (the search's absence is not proof), and
    the changes are worked out again, until every change has its two replays: a change then stands
    between a version that reproduces the finding and one that does not. Replays run product-version
    by product-version, each target opened once a round; `between` runs after each (stopping its
    server). Replays an earlier matrix made of the same runs are reused."""
    replays = history_.previous_replays(previous, history)
    while True:
        tab = history_.table(history, replays)
        rows = {r["id"]: r for r in tab["findings"]}
        need: dict[str, dict[str, tuple[str, dict]]] = {}
        for change in tab["changes"]:
            for side in ("from", "to"):
                product = change[side]
                origin, scenario = history_.replay_scenario(rows[change["finding"]], product, history)
                old = replays.get((change["finding"], product))
                if old is None or old.get("scenario_from") != origin:
                    need.setdefault(product, {})[change["finding"]] = (origin, scenario)
        if not need:
            break
        for product, jobs in need.items():
            interrupts.check()
            spec = history[product]["target"]
            emit(Note(f"{product}: replaying {len(jobs)} finding scenario(s) on {spec}"))
            results = _replay_on(product, spec, jobs, oracle=oracle, strictness=strictness, options=options)
            between()
            for fid, result in results.items():
                origin = jobs[fid][0]
                replays[(fid, product)] = result | {"run_id": history[product]["run"]["run_id"],
                                                    "scenario_from": origin,
                                                    "scenario_run": history[origin]["run"]["run_id"]}
    for change in tab["changes"]:
        change["confirmed"] = confirmed(change)
    tab["replays"] = replays
    return tab


def _replay_on(product: str, spec: str, jobs: dict[str, tuple[str, dict]], *, oracle: str, strictness: str,
               options: dict[str, Any] | None) -> dict[str, dict]:
    """Replay each finding's scenario on one product-version (its target opened once)."""
    with TargetPool(options) as pool:
        try:
            target, ref = pool.get(spec), pool.get(oracle)
            now = history_.product_string(*product_of(target))
            if now != product:
                raise TargetUnavailable(f"{spec} runs {now} now, not {product}")
        except TargetUnavailable as exc:
            return {fid: {"result": UNAVAILABLE, "detail": str(exc)} for fid in jobs}
        out = {}
        for fid, (_, scenario) in sorted(jobs.items()):
            interrupts.check()
            try:
                out[fid] = replay(scenario, fid, target, ref, strictness)
            except TargetUnavailable as exc:
                out[fid] = {"result": UNAVAILABLE, "detail": str(exc)}
        return out
