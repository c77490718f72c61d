"""`rolecall replay`: run scenario files on a target and check their expectations.

With `--explain`, each step shows the reference model's answer and its decision trace beside
the target's answer (on any target: the reference runs the same scenario). Colours follow
the terminal, and are off when NO_COLOR is set (https://no-color.org).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.cli.common import EXIT_FAIL, EXIT_OK, TARGET_OPTION_HELP, UserError, target_options, targets_help
from rolecall.outcome import TargetUnavailable, matches_expectation
from rolecall.pool import TargetPool
from rolecall.scenario import load
from rolecall.targets import UnknownTarget

ORACLE = "reference"


@click.command("replay")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", "target_spec", default="reference", show_default=True,
              help=f"Target name ({targets_help()}), module:factory, or an entry point name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with every outcome.")
@click.option("--explain", is_flag=True,
              help="Show the reference model's answer and decision trace beside each step's answer.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
@click.option("--target-option", "target_option_pairs", multiple=True, metavar="KEY=VALUE", help=TARGET_OPTION_HELP)
def replay(files: tuple[Path, ...], target_spec: str, as_json: bool, explain: bool,
           localstack_endpoint: str | None, target_option_pairs: tuple[str, ...]) -> None:
    """Run scenario files on a target and check their expectations."""
    scenarios = [load(f) for f in _expand(files)]
    failed = False
    documents = []
    options = target_options(target_option_pairs, [target_spec], localstack_endpoint)
    with TargetPool(options) as pool:
        target = _get(pool, target_spec)
        reference = _get(pool, ORACLE) if explain and target_spec != ORACLE else None
        for scenario in scenarios:
            interrupts.check()
            try:
                run = target.run(scenario)
                ref = reference.run(scenario) if reference is not None else None
            except TargetUnavailable as exc:
                raise UserError(str(exc)) from None
            doc = {"file": scenario.origin, **run.to_dict(trace=explain)}
            if ref is not None:
                doc["reference"] = ref.to_dict(trace=True)
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
                _print_run(scenario, run, dict(checks), explain, ref)
    if as_json:
        click.echo(json.dumps({"target": target.name, "scenarios": documents}, indent=2, default=str))
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


def _get(pool: TargetPool, spec: str):
    try:
        return pool.get(spec)
    except (UnknownTarget, TargetUnavailable) as exc:
        raise UserError(str(exc)) from None


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


def _echo(text: str) -> None:
    """A line of output; styles dropped when NO_COLOR is set (click drops them off a terminal)."""
    click.echo(text, color=False if os.environ.get("NO_COLOR") else None)


def _answer(o) -> str:
    if o is None:
        return click.style("not run", fg="cyan")
    if o.outcome == "ok":
        return click.style("ok", fg="green")
    if o.outcome == "error":
        return click.style(f"error {o.code} ({o.http_status})", fg="yellow")
    return click.style(f"unsupported: {o.reason}", fg="cyan")


def _print_run(scenario, run, checks: dict, explain: bool, ref=None) -> None:
    _echo(click.style(f"{scenario.origin}", bold=True) + f" on {run.target}")
    if run.setup_error is not None:
        _echo(click.style(f"  setup failed: {run.setup_error.code}: {run.setup_error.message}", fg="red"))
    if ref is not None and ref.setup_error is not None:
        _echo(f"  {ORACLE} refuses the world: {ref.setup_error.code}: {ref.setup_error.message}")
    if run.setup_error is not None:
        return
    for step in scenario.steps:
        o = run.outcome(step.id)
        mark = ""
        if step.id in checks:
            mark = click.style("  expectation holds", fg="green") if checks[step.id] else \
                click.style(f"  EXPECTED {json.dumps(dict(step.expect))}", fg="red", bold=True)
        _echo(f"  {step.id:<12} {step.call:<28} {_answer(o)}{mark}")
        if o is not None and o.outcome == "error" and o.message:
            _echo(f"  {'':<12} {o.message}")
        if not explain:
            continue
        # the reference's decision and why, beside the target's answer
        said = ref.outcome(step.id) if ref is not None else o
        if ref is not None:
            _echo(f"  {'':<12} {ORACLE + ':':<28} {_answer(said)}")
        for t in (said.trace if said is not None else ()):
            _echo(f"  {'':<14}- {json.dumps(t)}")
