"""`rolecall explore`: search for hours, across targets, and keep the report current.

It cycles through properties x targets with the `explore` profile (random seeds, the
example database as memory), merges what each pass finds, and rewrites the report each
time a new divergence is confirmed. Stopping it (Ctrl-C, SIGTERM, the time limit) at any
moment leaves the last complete report in place.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.cli.common import EXIT_ERROR, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, STRICTNESS, UserError


def merge(into, cell) -> None:
    """Add one pass's cell to the running total for its property and target."""
    into.examples += cell.examples
    into.agreeing += cell.agreeing
    into.setup_errors += cell.setup_errors
    into.unsupported_steps += cell.unsupported_steps
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
@click.option("--strictness", type=STRICTNESS, default="code")
@click.option("--report-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--localstack-endpoint", metavar="URL")
def explore(hours, targets, oracle, features, examples_per_pass, strictness, report_dir, localstack_endpoint):
    """Search for a long time; the report is rewritten as divergences are confirmed."""
    from rolecall.conformance import select
    from rolecall.engine import PROFILES, Cell, explore as explore_cell
    from rolecall.reports import write_report
    from rolecall.session import RunResult, make_target, new_run_id
    from rolecall.targets import LOCAL_DEFAULT, TargetUnavailable, UnknownTarget

    props = select(None, list(features) or None)
    if not props:
        raise UserError("no property matches the given --feature")
    specs = list(targets) or list(LOCAL_DEFAULT)
    options = {"endpoint": localstack_endpoint}
    try:
        oracle_t = make_target(oracle, options)
        oracle_t.open()
        opened = {}
        for spec in specs:
            t = make_target(spec, options)
            t.open()
            opened[spec] = t
    except (UnknownTarget, TargetUnavailable) as exc:
        raise UserError(str(exc)) from None

    import datetime as dt

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

    try:
        while time.monotonic() < deadline:
            passes += 1
            for prop in props:
                for spec, target in opened.items():
                    if time.monotonic() >= deadline:
                        break
                    interrupts.check()
                    cell = explore_cell(prop, target, oracle_t, profile=PROFILES["explore"], strictness=strictness,
                                        max_examples=examples_per_pass)
                    key = (prop.name, target.name)
                    known = set(totals[key].divergences) if key in totals else set()
                    if key not in totals:
                        totals[key] = Cell(prop.name, prop.behaviour, target.name)
                    merge(totals[key], cell)
                    new = set(cell.divergences) - known
                    click.echo(f"pass {passes} {prop.name} on {target.name}: {cell.examples} examples, "
                               f"{len(new)} new, {len(totals[key].divergences)} known "
                               f"({(deadline - time.monotonic()) / 60:.0f} min left)", err=True)
                    if new:
                        checkpoint()
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        for t in opened.values():
            t.close()
        oracle_t.close()
    checkpoint()
    click.echo(f"report: {written}", err=True)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if not any(c.examples for c in result.cells):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FAIL if any(c.divergences for c in result.cells) else EXIT_OK)
