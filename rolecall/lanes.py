"""Targets side by side: one worker process per lane of targets (planned in rolecall.session).

Each lane runs the ordinary sequential run over its targets and sends what happens over one
queue: cells starting, examples counted (for the progress display), finished cells (as
`Cell.to_dict`, the form pytest-xdist workers use) and a last message with the lane's target
errors. The parent merges the cells in the sequential order, so the report does not depend on
which lane finished first.

Interrupts: lanes run in process groups of their own, so a terminal's Ctrl-C reaches only the
parent, which passes one SIGINT to each lane; a lane then stops as a sequential run does (its
cells so far, marked interrupted). A lane also stops when the parent dies (SIGTERM on parent
death), so no worker or LocalStack server outlives the run.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import queue as queuelib
import signal
import time
from types import SimpleNamespace
from typing import Any, Callable

from rolecall.engine import Cell, Profile, Property

#: how long lanes get to report after an interrupt before they are terminated
INTERRUPT_GRACE_S = 60.0
#: at most this often a lane reports a growing example count
EXAMPLE_EVERY_S = 0.2


def run_lanes(lanes: list[list[str]], properties: list[Property], target_specs: list[str], *, oracle_spec: str,
              profile: Profile, strictness: str, seed: int | None, max_examples: int | None,
              options: dict[str, Any], progress: Callable[[str, Cell | None], None] | None,
              on_example: Callable[[Any], None] | None):
    from rolecall.session import RunResult, new_run_id

    result = RunResult(run_id=new_run_id(), started=dt.datetime.now(dt.timezone.utc).isoformat(),
                       profile=profile.name, strictness=strictness, oracle=oracle_spec, targets=list(target_specs),
                       seed=profile.seed if seed is None else seed)
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    names = [p.name for p in properties]
    procs = [ctx.Process(target=_lane, name=f"rolecall-lane-{i}", daemon=True,
                         args=(i, lane, names, oracle_spec, profile, strictness, seed, max_examples, options, events))
             for i, lane in enumerate(lanes)]
    for p in procs:
        p.start()
    cells: list[Cell] = []
    done: dict[int, dict] = {}
    grace_until: float | None = None

    def handle(msg: tuple) -> None:
        kind = msg[0]
        if kind == "start" and progress:
            progress(msg[1], None)
        elif kind == "note" and progress:
            progress("!" + msg[1], None)
        elif kind == "example" and on_example:
            _, prop, target, examples, ids = msg
            on_example(SimpleNamespace(property=prop, target=target, examples=examples, findings=dict.fromkeys(ids)))
        elif kind == "cell":
            cell = Cell.from_dict(msg[1])
            cells.append(cell)
            if progress:
                progress(f"{cell.property} on {cell.target}", cell)
        elif kind == "done":
            done[msg[1]] = msg[2]

    while len(done) < len(procs):
        try:
            try:
                handle(events.get(timeout=0.5))
            except queuelib.Empty:
                pass
            except (EOFError, OSError, ValueError):
                if grace_until is None:  # a message cut by an interrupt is lost; otherwise it is a fault
                    raise
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
        except KeyboardInterrupt:
            if grace_until is None:
                result.interrupted = True
                grace_until = time.monotonic() + INTERRUPT_GRACE_S
                for i, p in enumerate(procs):
                    if i not in done and p.pid is not None:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(p.pid, signal.SIGINT)
    for p in procs:
        p.join(timeout=10)
    for i, report in sorted(done.items()):
        result.interrupted = result.interrupted or report.get("interrupted", False)
        result.target_errors.update(report.get("target_errors", {}))
        if report.get("failed"):
            for spec in lanes[i]:
                result.target_errors.setdefault(spec, f"{spec}: {report['failed']}")
    order = {(t, p): (target_specs.index(t), names.index(p)) for t in target_specs for p in names}
    result.cells = sorted(cells, key=lambda c: order.get((c.target, c.property), (len(target_specs), 0)))
    result.finished = dt.datetime.now(dt.timezone.utc).isoformat()
    return result


def _lane(index: int, specs: list[str], names: list[str], oracle_spec: str, profile: Profile, strictness: str,
          seed: int | None, max_examples: int | None, options: dict[str, Any], events) -> None:
    """A worker process: the sequential run over this lane's targets."""
    os.setpgrp()  # a terminal's Ctrl-C reaches the parent only; it passes one SIGINT on
    from rolecall.engine import request_stop

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    quiet_interrupts()
    from rolecall.targets.localstack_server import _die_with_parent

    _die_with_parent()  # SIGTERM when the run dies, as for a LocalStack server it starts
    report: dict[str, Any] = {}
    try:
        from rolecall.conformance import CATALOGUE
        from rolecall.session import run

        by_name = {p.name: p for p in CATALOGUE}
        last = [0.0]

        def progress(label: str, cell: Cell | None) -> None:
            if cell is not None:
                events.put(("cell", cell.to_dict()))
            elif label.startswith("!"):
                events.put(("note", label[1:]))
            else:
                events.put(("start", label))

        def on_example(cell: Cell) -> None:
            now = time.monotonic()
            if now - last[0] >= EXAMPLE_EVERY_S:
                last[0] = now
                events.put(("example", cell.property, cell.target, cell.examples, list(cell.findings)))

        result = run([by_name[n] for n in names], specs, oracle_spec=oracle_spec, profile=profile,
                     strictness=strictness, seed=seed, max_examples=max_examples, target_options=options,
                     progress=progress, on_example=on_example)
        report = {"target_errors": result.target_errors, "interrupted": result.interrupted}
    except KeyboardInterrupt:
        report = {"interrupted": True}
    except BaseException as exc:  # noqa: BLE001 - the parent reports it as the lane's targets' error
        report = {"failed": f"worker process failed: {type(exc).__name__}: {exc}"}
    events.put(("done", index, report))
    events.close()
    events.join_thread()


def quiet_interrupts() -> None:
    """An interrupt that lands in a garbage-collector callback (Hypothesis has one) is printed
    by Python as an ignored exception with its traceback; an interrupt is no error to show."""
    import sys

    default = sys.unraisablehook

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            default(unraisable)

    sys.unraisablehook = hook
