"""`rolecall explore`: search for hours, across targets, and keep the report current.

It cycles through properties x targets with the `explore` profile (random seeds, the
example database as memory), merges what each pass finds, and rewrites the report each
time a new divergence is confirmed. Stopping it (Ctrl-C, SIGTERM, the time limit) at any
moment leaves the last complete report in place.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import click

from rolecall.cli.common import (DEFAULT_STRICTNESS, EXIT_ERROR, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, STRICTNESS,
                                 TARGET_OPTION_HELP, UserError, target_options)
from rolecall.conformance import select
from rolecall.engine import PROFILES, Cell
from rolecall.events import TargetLost
from rolecall.outcome import TargetUnavailable
from rolecall.paths import unwritable
from rolecall.pool import TargetPool
from rolecall.reports import write_report
from rolecall.session import RunResult, new_run_id
from rolecall.spine import run_cells
from rolecall.targets import LOCAL_DEFAULT, UnknownTarget


def merge(into, cell) -> None:
    """Add one pass's cell to the running total for its property and target."""
    into.examples += cell.examples
    into.agreeing += cell.agreeing
    into.setup_errors += cell.setup_errors
    into.unsupported_steps += cell.unsupported_steps
    into.steps += cell.steps
    into.seconds += cell.seconds
    into.coverage.update(cell.coverage)
    into.decisions.update(cell.decisions)
    into.error = cell.error or into.error
    for div_id, record in cell.divergences.items():
        into.divergences.setdefault(div_id, record)
        into.flaky.pop(div_id, None)
    for div_id, div in cell.flaky.items():
        if div_id not in into.divergences:
            into.flaky.setdefault(div_id, div)


@click.command("explore")
@click.option("--hours", type=click.FloatRange(min=0.0, min_open=True), default=1.0, show_default=True,
              help="How long to search.")
@click.option("--target", "targets", multiple=True, metavar="NAME", help="Targets (default: the local ones).")
@click.option("--oracle", default="reference", show_default=True)
@click.option("-m", "--feature", "features", multiple=True, metavar="FEATURE")
@click.option("--examples-per-pass", type=click.IntRange(10, 100000), default=300, show_default=True)
@click.option("--strictness", type=STRICTNESS, default=DEFAULT_STRICTNESS)
@click.option("--report-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--localstack-endpoint", metavar="URL")
@click.option("--target-option", "target_option_pairs", multiple=True, metavar="KEY=VALUE", help=TARGET_OPTION_HELP)
def explore(hours, targets, oracle, features, examples_per_pass, strictness, report_dir, localstack_endpoint,
            target_option_pairs):
    """Search for a long time; the report is rewritten as divergences are confirmed."""
    props = select(None, list(features) or None)
    if not props:
        raise UserError("no property matches the given --feature")
    problem = unwritable(report_dir)
    if problem:
        raise UserError(problem)
    specs = list(targets) or list(LOCAL_DEFAULT)
    pool = TargetPool(target_options(target_option_pairs, [*specs, oracle], localstack_endpoint))
    try:
        for spec in [oracle, *specs]:  # all of them before the first hour of search
            pool.get(spec)
    except (UnknownTarget, TargetUnavailable) as exc:
        pool.close()
        raise UserError(str(exc)) from None

    base = new_run_id()
    result = RunResult(run_id=f"{base}-explore", started=dt.datetime.now(dt.timezone.utc).isoformat(),
                       profile="explore", strictness=strictness, oracle=oracle, targets=specs, seed=None)
    totals: dict[tuple[str, str], Cell] = {}
    deadline = time.monotonic() + hours * 3600
    written: Path | None = None
    passes = 0
    checkpoints = 0

    def checkpoint():
        nonlocal written, checkpoints
        checkpoints += 1
        result.cells = list(totals.values())
        result.finished = dt.datetime.now(dt.timezone.utc).isoformat()
        result.run_id = f"{base}-explore-{checkpoints:04d}"
        path = write_report(result, report_dir)
        if written is not None and written != path:
            shutil.rmtree(written, ignore_errors=True)  # the newer checkpoint is complete and linked
        written = path

    def listen(event) -> None:
        if isinstance(event, TargetLost):
            result.target_errors.setdefault(event.target, event.message)
            click.echo(event.line, err=True)

    try:
        while time.monotonic() < deadline:
            passes += 1
            cells = ((spec, prop) for prop in props for spec in specs if time.monotonic() < deadline)
            for cell in run_cells(cells, pool, oracle_spec=oracle, profile=PROFILES["explore"],
                                  strictness=strictness, max_examples=examples_per_pass, emit=listen):
                key = (cell.property, cell.target)
                known = set(totals[key].divergences) if key in totals else set()
                if key not in totals:
                    totals[key] = Cell(cell.property, cell.behaviour, cell.target)
                merge(totals[key], cell)
                new = set(cell.divergences) - known
                click.echo(f"pass {passes} {cell.property} on {cell.target}: {cell.examples} examples, "
                           f"{len(new)} new, {len(totals[key].divergences)} known "
                           f"({(deadline - time.monotonic()) / 60:.0f} min left)", err=True)
                if new:
                    checkpoint()
            if all(pool.failed(spec) for spec in specs):
                break
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        pool.close()
    checkpoint()
    click.echo(f"report: {written}", err=True)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if not any(c.examples for c in result.cells):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FAIL if any(c.divergences for c in result.cells) else EXIT_OK)
