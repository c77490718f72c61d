"""One rolecall run: properties x targets through the run spine; the `RunResult` that reports
and the baseline gate read. `rolecall run` and the tests drive it.

The run reads as its phases: with one target pool (each target opened once, closed once),
`before_cells` (the gate's pinned replays), then the cells through the spine's one cell
loop (rolecall.spine), with `after_cell` after each. With `workers` > 1 and several targets,
the cells run side by side in worker processes (lanes, rolecall.lanes), each with a pool of
its own: the slowest targets (lowest `budget_scale`, e.g. LocalStack, whose work happens in
its own server process) get lanes of their own, and a lane that is done takes cells of movable
targets (moto in process; a server target, whose server it then starts) from the others. What each cell finds does not change (every cell
is seeded on its own); cells are merged in the sequential order.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, Cell, Profile
from rolecall.events import Event, Listener, TargetLost, ignore
from rolecall.lanes import run_lanes
from rolecall.pool import TargetPool, make_target  # noqa: F401 - make_target: loading one target by name
from rolecall.property import Property
from rolecall.spine import AfterCell, run_cells


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


def run(properties: list[Property], target_specs: list[str], *, oracle_spec: str = "reference",
        profile: Profile = PROFILES["ci"], strictness: str = "facts", seed: int | None = None,
        max_examples: int | None = None, target_options: dict[str, Any] | None = None,
        listener: Listener = ignore, workers: int = 1, after_cell: AfterCell | None = None,
        before_cells: Callable[[TargetPool, Listener], None] | None = None) -> RunResult:
    """Explore every property on every target. `listener` receives the run's events;
    `before_cells(pool, emit)` runs first with the run's pool (in this process); `after_cell`
    runs after each cell with its open target and oracle (in the lane that ran it)."""
    options = target_options or {}
    result = RunResult(run_id=new_run_id(), started=dt.datetime.now(dt.timezone.utc).isoformat(),
                       profile=profile.name, strictness=strictness, oracle=oracle_spec, targets=list(target_specs),
                       seed=profile.seed if seed is None else seed)

    def emit(event: Event) -> None:
        if isinstance(event, TargetLost):
            result.target_errors.setdefault(event.target, event.message)
        listener(event)

    lanes = plan_lanes(target_specs, workers, options)
    common = dict(oracle_spec=oracle_spec, profile=profile, strictness=strictness, seed=seed,
                  max_examples=max_examples, after_cell=after_cell)
    pool = TargetPool(options)
    try:
        if before_cells is not None:
            before_cells(pool, emit)
        if len(lanes) > 1 and _catalogued(properties):
            pool.close()  # each lane opens its own
            result.cells, result.interrupted = run_lanes(lanes, properties, target_specs, options=options,
                                                         emit=emit, **common)
        else:
            cells = [(spec, prop) for spec in target_specs for prop in properties]
            for cell in run_cells(cells, pool, emit=emit, **common):
                result.cells.append(cell)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        pool.close()
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
    """Worker processes find properties by name in the catalogue (strategies do not pickle); a
    corpus property (its scenarios, and no strategy) is sent along."""
    known = {p.name: p for p in CATALOGUE}
    return all(known.get(p.name) is p or p.corpus is not None for p in properties)
