"""`rolecall replay`: run scenario files on a target and check their expectations."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.cli.common import EXIT_FAIL, EXIT_OK, UserError, targets_help
from rolecall.outcome import matches_expectation
from rolecall.scenario import load


@click.command("replay")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", "target_spec", default="reference", show_default=True,
              help=f"Target name ({targets_help()}), module:factory, or an entry point name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with every outcome.")
@click.option("--explain", is_flag=True, help="Show the reference model's decision trace for each step.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
def replay(files: tuple[Path, ...], target_spec: str, as_json: bool, explain: bool,
           localstack_endpoint: str | None) -> None:
    """Run scenario files on a target and check their expectations."""
    from rolecall.targets import TargetUnavailable

    scenarios = []
    for f in _expand(files):
        scenarios.append(load(f))
    target = _open_target(target_spec, {"endpoint": localstack_endpoint})
    failed = False
    documents = []
    try:
        for scenario in scenarios:
            interrupts.check()
            try:
                run = target.run(scenario)
            except TargetUnavailable as exc:
                raise UserError(str(exc)) from None
            doc = {"file": scenario.origin, **run.to_dict(trace=explain)}
            checks = []
            if run.setup_error is not None:
                failed = True
            for step in scenario.steps:
                o = run.outcome(step.id)
                if step.expect is not None and o is not None:
                    ok = matches_expectation(dict(step.expect), o.to_dict())
                    checks.append((step.id, ok))
                    failed |= not ok
            doc["expectations"] = {sid: ok for sid, ok in checks}
            documents.append(doc)
            if not as_json:
                _print_run(scenario, run, dict(checks), explain)
    finally:
        target.close()
    if as_json:
        click.echo(json.dumps({"target": target.name, "scenarios": documents}, indent=2, default=str))
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


def _expand(files) -> list[Path]:
    out: list[Path] = []
    for f in files:
        if f.is_dir():
            found = sorted(p for p in f.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
            if not found:
                raise UserError(f"{f}: no scenario files (.json, .yaml) in this folder")
            out.extend(found)
        else:
            out.append(f)
    return out


def _open_target(spec: str, options: dict):
    from rolecall.session import make_target
    from rolecall.targets import TargetUnavailable, UnknownTarget

    try:
        target = make_target(spec, options)
        target.open()
    except (UnknownTarget, TargetUnavailable) as exc:
        raise UserError(str(exc)) from None
    return target


def _print_run(scenario, run, checks: dict, explain: bool) -> None:
    click.echo(click.style(f"{scenario.origin}", bold=True) + f" on {run.target}")
    if run.setup_error is not None:
        click.echo(click.style(f"  setup failed: {run.setup_error.code}: {run.setup_error.message}", fg="red"))
        return
    for step in scenario.steps:
        o = run.outcome(step.id)
        if o.outcome == "ok":
            what = click.style("ok", fg="green")
        elif o.outcome == "error":
            what = click.style(f"error {o.code} ({o.http_status})", fg="yellow")
        else:
            what = click.style(f"unsupported: {o.reason}", fg="cyan")
        mark = ""
        if step.id in checks:
            mark = click.style("  expectation holds", fg="green") if checks[step.id] else \
                click.style(f"  EXPECTED {json.dumps(dict(step.expect))}", fg="red", bold=True)
        click.echo(f"  {step.id:<12} {step.call:<28} {what}{mark}")
        if o.outcome == "error" and o.message:
            click.echo(f"  {'':<12} {o.message}")
        if explain and o.trace:
            for t in o.trace:
                click.echo(f"  {'':<14}- {json.dumps(t)}")
