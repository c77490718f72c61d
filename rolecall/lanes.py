"""Targets side by side: one worker process per lane of targets (planned in rolecall.session).

Each lane is planned a share of the targets; the parent hands a lane its cells (target x
property) one at a time as it asks for work (each runs through the spine's one cell loop,
rolecall.spine.run_cell, with the lane's own target pool), and a lane whose own cells are done takes the
costliest cell left of a movable target planned for another lane (an in-process emulator, or
a server target: the lane then starts a server of its own; a target holding real resources
stays where it is). Lanes send the run's events
(rolecall.events) over one queue, finished cells as `Cell.to_dict` (the form pytest-xdist
workers use), and a last message; the parent passes them on to the run's listener. Every
cell is seeded on its own, so which lane runs it changes nothing; the parent merges the
cells in the sequential order, so the report does not depend on which lane finished first.

Interrupts: lanes ignore SIGINT and run in process groups of their own, so a terminal's Ctrl-C
reaches only the parent; the parent's interrupt flag (rolecall.interrupts) is shared with the
lanes, which stop at their next safe point as a sequential run does (their cells so far, marked
interrupted). A lane dies with the parent (SIGTERM on parent death), and so does a LocalStack
server it started, so no worker or server outlives the run.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queuelib
import signal
import time
from typing import Any, Callable

from rolecall import interrupts
from rolecall.conformance import CATALOGUE
from rolecall.engine import Cell, Profile
from rolecall.events import CellFinished, Listener, TargetLost
from rolecall.pool import TargetPool, make_target
from rolecall.processes import die_with_parent as _die_with_parent
from rolecall.property import Property
from rolecall.spine import AfterCell, run_cell

#: how long lanes get to report after an interrupt before they are terminated
INTERRUPT_GRACE_S = 60.0


def next_cell(lane: int, pending: list[list[tuple[str, str]]], movable: set[str],
              cost: Callable[[tuple[str, str]], float]) -> tuple[str, str] | None:
    """The cell (target, property) a lane that is ready runs next: the first of its own; with
    none left, the costliest cell of another lane whose target may move between processes
    (`Target.movable`: an in-process emulator, or a server that lane then starts for itself)."""
    if pending[lane]:
        return pending[lane].pop(0)
    stealable = [(other, i) for other, cells in enumerate(pending) if other != lane
                 for i, cell in enumerate(cells) if cell[0] in movable]
    if not stealable:
        return None
    # the costliest; among equals, the first in the sequential order
    other, i = min(stealable, key=lambda oi: (-cost(pending[oi[0]][oi[1]]), oi))
    return pending[other].pop(i)


def run_lanes(lanes: list[list[str]], properties: list[Property], target_specs: list[str], *, oracle_spec: str,
              profile: Profile, strictness: str, seed: int | None, max_examples: int | None,
              options: dict[str, Any], emit: Listener, after_cell: AfterCell | None = None) -> tuple[list[Cell], bool]:
    """Run the cells in lanes; returns the cells in the sequential order and whether the run was
    interrupted. Target errors are emitted as TargetLost. `after_cell` runs in the lanes: a
    module-level function (it is pickled)."""
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    names = [p.name for p in properties]
    costs = {p.name: p.cost for p in properties}
    corpora = [p for p in properties if p.corpus is not None]  # not in the catalogue: sent along
    movable = set()
    for spec in target_specs:
        with contextlib.suppress(Exception):  # a target that does not load fails in its lane, and is reported
            if make_target(spec, options).movable:
                movable.add(spec)
    # each lane's own cells, in the sequential order; lanes that run out take movable ones
    pending = [[(spec, name) for spec in lane for name in names] for lane in lanes]
    running: dict[int, tuple[str, str] | None] = {}
    inboxes = [ctx.Queue() for _ in lanes]
    stop = ctx.Event()
    procs = [ctx.Process(target=_lane, name=f"rolecall-lane-{i}", daemon=True,
                         args=(i, oracle_spec, profile, strictness, seed, max_examples, options, events, inboxes[i],
                               stop, after_cell, corpora))
             for i in range(len(lanes))]
    with interrupts.ignored():  # inherited: a lane never sees a Ctrl-C, even while it starts
        for p in procs:
            p.start()
    cells: list[Cell] = []
    done: dict[int, dict] = {}
    lost: set[str] = set()
    grace_until: float | None = None
    interrupted = False

    def drop(spec: str) -> None:
        for cells_of_lane in pending:
            cells_of_lane[:] = [c for c in cells_of_lane if c[0] != spec]

    def target_lost(spec: str, message: str) -> None:
        if spec not in lost:
            lost.add(spec)
            emit(TargetLost(spec, message))
        drop(spec)

    def handle(msg) -> None:
        if isinstance(msg, TargetLost):
            target_lost(msg.target, msg.message)
            return
        if not isinstance(msg, tuple):  # CellStarted, ExampleCounted, Note
            emit(msg)
            return
        kind = msg[0]
        if kind == "ready":
            lane = msg[1]
            task = None if grace_until is not None else next_cell(lane, pending, movable,
                                                                   lambda c: costs.get(c[1], 1.0))
            running[lane] = task
            inboxes[lane].put(task)
        elif kind == "cell":
            cell = Cell.from_dict(msg[1])
            cells.append(cell)
            emit(CellFinished(cell))
        elif kind == "done":
            done[msg[1]] = msg[2]

    while len(done) < len(procs):
        if grace_until is None and interrupts.requested():
            interrupted = True
            grace_until = time.monotonic() + INTERRUPT_GRACE_S
            stop.set()  # each lane stops at its next safe point
        try:
            handle(events.get(timeout=0.2))
        except queuelib.Empty:
            pass
        for i, p in enumerate(procs):
            if i not in done and not p.is_alive():
                with contextlib.suppress(queuelib.Empty):  # what it sent before it exited
                    while i not in done:
                        handle(events.get(timeout=1.0))
                if i not in done:
                    done[i] = {"failed": f"worker process exited with code {p.exitcode} before it reported"}
        if grace_until is not None and time.monotonic() > grace_until:
            for i, p in enumerate(procs):
                if i not in done:
                    p.terminate()
                    done[i] = {"failed": "worker process did not stop after the interrupt", "interrupted": True}
    for p in procs:
        p.join(timeout=10)
    for i, report in sorted(done.items()):
        interrupted = interrupted or report.get("interrupted", False)
        if report.get("failed"):
            # what the lane was running, and what only it could run, is lost with it
            gone = {spec for spec, _ in pending[i] if spec not in movable}
            if running.get(i):
                gone.add(running[i][0])
            for spec in sorted(gone):
                target_lost(spec, f"{spec}: {report['failed']}")
    order = {(t, p): (target_specs.index(t), names.index(p)) for t in target_specs for p in names}
    cells.sort(key=lambda c: order.get((c.target, c.property), (len(target_specs), 0)))
    return cells, interrupted


def _lane(index: int, oracle_spec: str, profile: Profile, strictness: str, seed: int | None,
          max_examples: int | None, options: dict[str, Any], events, inbox, stop,
          after_cell: AfterCell | None, corpora: list[Property] = ()) -> None:
    """A worker process: asks the parent for a cell, runs it, sends it back, until told to stop.
    Its pool opens targets on first use and keeps them for the lane's later cells."""
    os.setpgrp()  # a terminal's Ctrl-C reaches the parent only
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    interrupts.share(stop)  # the parent's flag: set on an interrupt, checked at every safe point
    _die_with_parent()  # SIGTERM when the run dies, as for a LocalStack server it starts
    by_name = {p.name: p for p in [*CATALOGUE, *corpora]}

    def emit(event) -> None:
        if isinstance(event, CellFinished):
            events.put(("cell", event.cell.to_dict()))
        else:
            events.put(event)

    report: dict[str, Any] = {}
    pool = TargetPool(options)
    try:
        while True:
            events.put(("ready", index))
            task = inbox.get()
            if task is None or interrupts.requested():
                break
            spec, name = task
            run_cell(by_name[name], spec, pool, oracle_spec=oracle_spec, profile=profile, strictness=strictness,
                     seed=seed, max_examples=max_examples, emit=emit, after_cell=after_cell)
        report = {"interrupted": interrupts.requested()}
    except KeyboardInterrupt:
        report = {"interrupted": True}
    except BaseException as exc:  # noqa: BLE001 - the parent reports it as the lane's targets' error
        report = {"failed": f"worker process failed: {type(exc).__name__}: {exc}"}
    finally:
        pool.close()
    events.put(("done", index, report))
    events.close()
    events.join_thread()
