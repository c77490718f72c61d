"""`rolecall matrix`'s spine: a grid of targets run one after another, each named by the
product-version it runs (asked of the running product), each run's summary kept in a history
folder, and every change between two versions of one product confirmed by replaying.

A change (a finding that appears, or disappears, between consecutive tested versions of one
product line) is confirmed when the finding's smallest scenario, replayed on both versions,
diverges with that finding's cause on the version that has it and not on the other. The
history folder and the table are reports.matrix's; this module runs targets.
"""
from __future__ import annotations

import re
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
from rolecall.scenario import ScenarioError, from_dict
from rolecall.session import RunResult
from rolecall.session import run as run_suite

PRESENT, ABSENT, NOT_TESTED = "present", "absent", "not tested"
PRESENT_REPLAY = "present (replay)"  # the search did not meet it there, a replay of its scenario did
APPEARS, DISAPPEARS = "appears", "disappears"
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
    """One target spec's run and the product-version it ran: (product, version, mode), None when
    the target could not be opened. `error` says why the run cannot stand for that product-version."""

    spec: str
    product: tuple[str, str, str] | None
    result: RunResult
    error: str | None = None


def product_of(target) -> tuple[str, str, str]:
    """(product, version, mode) of an open target; a target without versions is its name."""
    found = target.product_version()
    return tuple(found) if found else (target.name, "", "")


def run_product(spec: str, properties: list[Property], *, oracle: str = "reference",
                profile: Profile = PROFILES["ci"], strictness: str = "code", seed: int | None = None,
                max_examples: int | None = None, options: dict[str, Any] | None = None,
                listener: Listener = ignore) -> ProductRun:
    """Run every property on one target spec (one process, one server), naming the product-version
    from the open target before the first cell. A run that lost its target, tested nothing, or was
    interrupted has an `error`: a partial run would call findings absent."""
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
    error = next(iter(result.target_errors.values()), None)
    if result.interrupted:
        error = "interrupted"
    elif error is None and not any(c.examples for c in result.cells):
        error = "nothing was tested"
    return ProductRun(spec, seen.get("product"), result, error)


# ----------------------------------------------------------------------------- names and the table

def product_string(product: str, version: str, mode: str = "") -> str:
    """`moto-5.2.5`, `moto-5.2.5-auth`, `localstack-2026.3.0-host`; a product without a version is its name."""
    parts = [p for p in (product, version, mode) if p]
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", "-".join(parts))


def version_key(version: str) -> tuple:
    """Orders versions as releases follow each other: 5.0.28 < 5.1.0 < 5.2.5 < 2026.3.0 (numbers as
    numbers; a pre-release tag such as `rc1` before the release it leads to)."""
    key = []
    for part in re.split(r"[.\-+_]", version):
        for num, text in re.findall(r"(\d+)|([A-Za-z]+)", part):
            key.append((1, int(num), "") if num else (0, 0, text.lower()))
    return tuple(key) + ((2, 0, ""),)  # a release after its pre-releases: 1.0 > 1.0rc1


def line_of(summary: dict) -> str:
    """The product line a product-version belongs to: its versions are compared with each other."""
    return "-".join(p for p in (summary["name"], summary.get("mode", "")) if p)


def ordered(history: dict[str, dict]) -> list[str]:
    """Product strings by line, then by version."""
    return sorted(history, key=lambda p: (line_of(history[p]), version_key(history[p].get("version", ""))))


def status(summary: dict, finding: dict, replayed: dict | None = None) -> str:
    """present / absent / not tested: tested means one of the properties that found it ran there.
    Absent by the search but reproduced by a replay of its scenario: present (replay)."""
    if any(f["id"] == finding["id"] for f in summary["findings"]):
        return PRESENT
    if (replayed or {}).get("result") == REPRODUCED:
        return PRESENT_REPLAY
    return ABSENT if set(finding.get("properties") or ()) & set(summary.get("tested", ())) else NOT_TESTED


def is_present(st: str) -> bool:
    return st in (PRESENT, PRESENT_REPLAY)


def table(history: dict[str, dict], replays: dict[tuple[str, str], dict] | None = None) -> dict:
    """{"products", "lines", "findings": [{id, behaviour, ..., "cells": {product: status}}], "changes"}.
    `replays` (finding, product) -> what a replay of the finding's scenario showed there. A row keeps
    each search's smallest scenario, by product (for replays)."""
    replays = replays or {}
    products = ordered(history)
    rows: dict[str, dict] = {}
    for p in products:
        for f in history[p]["findings"]:
            row = rows.setdefault(f["id"], {k: f.get(k) for k in ("id", "behaviour", "direction", "rule", "source")}
                                  | {"properties": set(), "scenarios": {}})
            row["properties"] |= set(f.get("properties") or ())
            row["scenarios"][p] = f["scenario"]
    for row in rows.values():
        row["properties"] = sorted(row["properties"])
        row["cells"] = {p: status(history[p], row, replays.get((row["id"], p))) for p in products}
        row["replays"] = {p: replays[(row["id"], p)] for p in products if (row["id"], p) in replays}
    changes = []
    lines: dict[str, list[str]] = {}
    for p in products:
        lines.setdefault(line_of(history[p]), []).append(p)
    for line, versions in lines.items():
        for row in rows.values():
            tested = [p for p in versions if row["cells"][p] != NOT_TESTED]
            for before, after in zip(tested, tested[1:]):
                a, b = is_present(row["cells"][before]), is_present(row["cells"][after])
                if a != b:
                    changes.append({"finding": row["id"], "behaviour": row["behaviour"], "line": line,
                                    "from": before, "to": after, "change": APPEARS if b else DISAPPEARS,
                                    "replay": {side: replays.get((row["id"], p))
                                               for side, p in (("from", before), ("to", after))}})
    ordered_rows = sorted(rows.values(), key=lambda r: (-sum(is_present(v) for v in r["cells"].values()),
                                                        r["behaviour"] or "", r["id"]))
    return {"products": products, "lines": lines, "findings": ordered_rows, "changes": changes}


def replay_scenario(row: dict, product: str, history: dict[str, dict]) -> tuple[str, dict]:
    """The scenario a finding is replayed with on a product-version: the one the search found on the
    earliest version of the same product line that has it (one scenario for both sides of a change),
    else on the first product-version that has it. Returns (where it was found, the scenario)."""
    found = [p for p in ordered(history) if p in row["scenarios"]]
    same = [p for p in found if line_of(history[p]) == line_of(history[product])]
    where = (same or found)[0]
    return where, row["scenarios"][where]


def previous_replays(doc: dict | None, history: dict[str, dict]) -> dict[tuple[str, str], dict]:
    """The replays an earlier matrix made that still hold: the same run on the product-version, the
    same scenario (found by the same run). A replay that could not run is made again."""
    out = {}
    for r in (doc or {}).get("replays", []):
        p, origin = r.get("product"), r.get("scenario_from")
        if p in history and origin in history and r.get("result") != "not replayed" and \
                r.get("run_id") == history[p]["run"]["run_id"] and r.get("scenario_run") == history[origin]["run"]["run_id"]:
            out[(r["finding"], p)] = {k: v for k, v in r.items() if k not in ("finding", "product")}
    return out


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
        return {"result": REPRODUCED, "cause": cause.id, "step": diff.step_id}
    return {"result": OTHER, "cause": cause.id, "step": diff.step_id, "detail": f"{cause.id} {cause.title}"}


def confirmed(change: dict) -> bool | None:
    """The version that has the finding reproduces it; the other does not (it agrees, or diverges
    for another cause). None when a side could not be replayed."""
    rp = change.get("replay") or {}
    have, lack = (rp.get("to"), rp.get("from")) if change["change"] == APPEARS else \
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
    replays = previous_replays(previous, history)
    while True:
        tab = table(history, replays)
        rows = {r["id"]: r for r in tab["findings"]}
        need: dict[str, dict[str, tuple[str, dict]]] = {}
        for change in tab["changes"]:
            for side in ("from", "to"):
                product = change[side]
                origin, scenario = replay_scenario(rows[change["finding"]], product, history)
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
            now = product_string(*product_of(target))
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
