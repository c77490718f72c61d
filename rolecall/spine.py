"""The run spine: the one cell loop that `rolecall run` (sequential or in lanes), `rolecall
explore` and the pytest plugin use. A cell is one property explored on one target.

For each cell: take the target from the pool (opened once), announce it, explore it (the
engine; a corpus property's fixed scenarios are replayed instead, rolecall.corpus), announce
what it found, then hand the cell, the open target and the open oracle to `after_cell` (the
place for post-processing that needs live targets, e.g. explaining a cell's divergences), and
mark the target lost if it stopped answering. Interrupts are checked between cells (and,
through the engine, between examples).
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator

from rolecall import interrupts
from rolecall.corpus import replay_corpus
from rolecall.engine import PROFILES, Cell, Profile, explore
from rolecall.events import CellFinished, CellStarted, ExampleCounted, Listener, TargetLost, ignore
from rolecall.outcome import TargetUnavailable
from rolecall.pool import TargetPool
from rolecall.property import Property

#: at most this often a cell under way reports its growing example count
EXAMPLE_EVERY_S = 0.2

#: called after each explored cell with the cell, its open target and the open oracle
AfterCell = Callable[[Cell, object, object], None]


def target_lost(cell: Cell) -> bool:
    """The cell's target stopped answering: its remaining cells are not tried."""
    return bool(cell.error) and "cannot reach" in cell.error


def run_cell(prop: Property, spec: str, pool: TargetPool, *, oracle_spec: str = "reference",
             profile: Profile = PROFILES["ci"], strictness: str = "facts", seed: int | None = None,
             max_examples: int | None = None, emit: Listener = ignore,
             after_cell: AfterCell | None = None) -> Cell | None:
    """Explore `prop` on the target `spec`; None when the target (or oracle) cannot be opened,
    which is emitted as TargetLost."""
    try:
        oracle = pool.get(oracle_spec)
    except TargetUnavailable as exc:
        emit(TargetLost(oracle_spec, str(exc)))
        return None
    try:
        target = pool.get(spec)
    except TargetUnavailable as exc:
        emit(TargetLost(spec, str(exc)))
        return None
    emit(CellStarted(prop.name, target.name))
    last = [0.0]

    def on_example(cell: Cell) -> None:
        now = time.monotonic()
        if now - last[0] >= EXAMPLE_EVERY_S:
            last[0] = now
            emit(ExampleCounted(cell.property, cell.target, cell.examples, tuple(cell.divergences)))

    if prop.corpus is not None:
        cell = replay_corpus(list(prop.corpus), target, oracle, strictness=strictness, on_example=on_example)
    else:
        cell = explore(prop, target, oracle, profile=profile, strictness=strictness, seed=seed,
                       max_examples=max_examples, on_example=on_example)
    emit(CellFinished(cell))
    if after_cell is not None:
        after_cell(cell, target, oracle)
    if target_lost(cell):
        pool.lost(spec, cell.error)
        emit(TargetLost(spec, cell.error))
    return cell


def run_cells(cells: Iterable[tuple[str, Property]], pool: TargetPool, **options) -> Iterator[Cell]:
    """The cells (target spec, property) in order, each as it is explored; a target that is
    lost (or cannot be opened) skips its remaining cells. Raises Interrupted (a
    KeyboardInterrupt) at the first safe point after a stop was requested."""
    skipped: set[str] = set()
    for spec, prop in cells:
        interrupts.check()
        if spec in skipped:
            continue
        cell = run_cell(prop, spec, pool, **options)
        if cell is None or target_lost(cell):
            skipped.add(spec)
        if cell is not None:
            yield cell
