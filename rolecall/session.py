"""One rolecall run: properties x targets through the engine, targets opened and closed once.

The CLI and the pytest plugin both build a `RunResult` here; reports and the baseline
gate read it.

With `workers` > 1 and several targets, targets run side by side in worker processes
(lanes, rolecall.lanes): the slowest targets (lowest `budget_scale`, e.g. LocalStack, whose
work happens in its own server process) get lanes of their own, and a lane that is done takes
cells of in-process targets (moto) from the others. The wall time becomes about the work
divided by the lanes; what each cell finds does not change (every cell is seeded on its own).
Results come back as the cells pytest-xdist workers send (`Cell.to_dict`) and are merged in
the sequential order.
"""
from __future__ import annotations

import datetime as dt
import inspect
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from rolecall import interrupts
from rolecall.engine import PROFILES, Cell, Profile, Property, explore
from rolecall.targets import Target, TargetUnavailable, load_target


@dataclass
class RunResult:
    run_id: str
    started: str
    profile: str
    strictness: str
    oracle: str
    targets: list[str]
    seed: int | None
    cells: list[Cell] = field(default_factory=list)
    target_errors: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    finished: str | None = None

    @property
    def complete(self) -> bool:
        return not self.interrupted and not self.target_errors and not any(c.error for c in self.cells)


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def target_lost(cell: Cell) -> bool:
    """The cell's target stopped answering: its remaining cells are not tried."""
    return bool(cell.error) and "cannot reach" in cell.error


def target_note(spec: str, message: str) -> str:
    """A target's error as one line that names the target once."""
    return message if message.startswith(f"{spec}:") else f"{spec}: {message}"


def make_target(spec: str, options: dict[str, Any]) -> Target:
    """Load a target, passing only the options its factory accepts."""
    from rolecall.targets import _factory

    factory = _factory(spec)
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepted = {}
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    return load_target(spec, **kwargs)


def run(properties: list[Property], target_specs: list[str], *, oracle_spec: str = "reference",
        profile: Profile = PROFILES["ci"], strictness: str = "code", seed: int | None = None,
        max_examples: int | None = None, target_options: dict[str, Any] | None = None,
        progress: Callable[[str, Cell | None], None] | None = None,
        on_example: Callable[[Cell], None] | None = None, workers: int = 1) -> RunResult:
    options = target_options or {}
    lanes = plan_lanes(target_specs, workers, options)
    if len(lanes) > 1 and _catalogued(properties):
        from rolecall.lanes import run_lanes

        return run_lanes(lanes, properties, target_specs, oracle_spec=oracle_spec, profile=profile,
                         strictness=strictness, seed=seed, max_examples=max_examples, options=options,
                         progress=progress, on_example=on_example)
    result = RunResult(run_id=new_run_id(), started=dt.datetime.now(dt.timezone.utc).isoformat(),
                       profile=profile.name, strictness=strictness, oracle=oracle_spec, targets=list(target_specs),
                       seed=profile.seed if seed is None else seed)
    oracle = make_target(oracle_spec, options)
    oracle.open()
    try:
        for spec in target_specs:
            try:
                target = make_target(spec, options)
                target.open()
            except TargetUnavailable as exc:
                result.target_errors[spec] = str(exc)
                if progress:
                    progress("!" + target_note(spec, str(exc)), None)
                continue
            try:
                for prop in properties:
                    interrupts.check()
                    if progress:
                        progress(f"{prop.name} on {target.name}", None)
                    cell = explore(prop, target, oracle, profile=profile, strictness=strictness, seed=seed,
                                   max_examples=max_examples, on_example=on_example)
                    result.cells.append(cell)
                    if progress:
                        progress(f"{prop.name} on {target.name}", cell)
                    if target_lost(cell):
                        result.target_errors[spec] = cell.error
                        break
            finally:
                target.close()
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        oracle.close()
        result.finished = dt.datetime.now(dt.timezone.utc).isoformat()
    return result


def plan_lanes(target_specs: list[str], workers: int, options: dict[str, Any]) -> list[list[str]]:
    """Targets into at most `workers` lanes, slowest first, each to the least loaded lane
    (a target's expected cost: 1 / budget_scale)."""
    if workers <= 1 or len(target_specs) <= 1:
        return [list(target_specs)]

    def cost(spec: str) -> float:
        try:
            return 1.0 / max(make_target(spec, options).budget_scale, 0.01)
        except Exception:  # noqa: BLE001 - it fails again, and is reported, when the lane opens it
            return 1.0

    costs = {spec: cost(spec) for spec in target_specs}
    lanes: list[list[str]] = [[] for _ in range(min(workers, len(target_specs)))]
    load = [0.0] * len(lanes)
    for spec in sorted(target_specs, key=lambda t: -costs[t]):
        i = load.index(min(load))
        lanes[i].append(spec)
        load[i] += costs[spec]
    return [sorted(lane, key=target_specs.index) for lane in lanes if lane]


def _catalogued(properties: list[Property]) -> bool:
    """Worker processes find properties by name in the catalogue (strategies do not pickle)."""
    from rolecall.conformance import CATALOGUE

    known = {p.name: p for p in CATALOGUE}
    return all(known.get(p.name) is p for p in properties)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
