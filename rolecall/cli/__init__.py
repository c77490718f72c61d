"""The `rolecall` command: a thin layer over the engine, the reports and the baseline.

Exit codes (as Schemathesis): 0 all good, 1 a divergence or failed expectation, 2 rolecall
could not do its job (bad input, no target reachable, nothing tested), 130 interrupted.
Bad input is one line on stderr, never a traceback.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.outcome import matches_expectation
from rolecall.scenario import ScenarioError, load

EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class Fatal(Exception):
    """A one-line error for the user; exit 2."""


class _Workers(click.ParamType):
    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        if str(value).strip().lower() == "auto":
            import os

            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        try:
            n = int(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'auto'", param, ctx)
        if n < 1:
            self.fail(f"{n} is less than 1", param, ctx)
        return n


WORKERS = _Workers()


def _targets_help() -> str:
    from rolecall.targets import BUILTIN

    return ", ".join(BUILTIN)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rolecall")
def cli() -> None:
    """rolecall: property-based conformance tests for AWS IAM roles and STS.

    \b
    Run the suite on the local emulators and write a report:
        rolecall run
    Replay scenario files on one target:
        rolecall replay scenarios/*.json --target moto
    """


# ----------------------------------------------------------------------------- replay

@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", "target_spec", default="reference", show_default=True,
              help=f"Target name ({_targets_help()}), module:factory, or an entry point name.")
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
                raise Fatal(str(exc)) from None
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
                raise Fatal(f"{f}: no scenario files (.json, .yaml) in this folder")
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
        raise Fatal(str(exc)) from None
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


# ----------------------------------------------------------------------------- run

@cli.command()
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="A target to test (repeat for several). Default: moto, moto+auth and localstack.")
@click.option("--oracle", default="reference", show_default=True, help="The target others are compared with.")
@click.option("--profile", type=click.Choice(["ci", "dev", "explore", "replay"]), default="ci", show_default=True,
              envvar="ROLECALL_PROFILE",
              help="Hypothesis budget: ci (fixed seed), dev, explore (long), replay (the example database only).")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Only these properties.")
@click.option("-m", "--feature", "features", multiple=True, metavar="FEATURE", help="Only properties of this feature.")
@click.option("--strictness", type=click.Choice(["decision", "code", "result", "message"]), default="code",
              show_default=True, help="The finest level at which a difference counts.")
@click.option("--seed", type=int, help="Seed for the search (default: the profile's).")
@click.option("--max-examples", type=click.IntRange(1, 100000), help="Examples per property and round.")
@click.option("--report-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--baseline", type=click.Path(path_type=Path), help="Gate against this baseline folder.")
@click.option("--strict", is_flag=True, help="With --baseline: a pinned divergence that no longer reproduces fails.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
@click.option("--workers", type=WORKERS, default="auto", show_default=True,
              help="Worker processes running targets side by side (auto: one per CPU; 1: one after another).")
def run(targets, oracle, profile, properties, features, strictness, seed, max_examples, report_dir, baseline,
        strict, localstack_endpoint, workers) -> None:
    """Search every property on each target for divergences from the oracle; write a report.

    With --baseline, the baseline's pinned scenarios are replayed first (a fixed emulator
    bug shows deterministically), then the search runs; exit 1 only for new or expired
    divergences."""
    import signal

    from rolecall.conformance import select
    from rolecall.engine import PROFILES
    from rolecall.reports import write_report
    from rolecall.reports.progress import Progress
    from rolecall.session import run as run_suite
    from rolecall.targets import LOCAL_DEFAULT, TargetUnavailable, UnknownTarget, _factory

    target_specs = list(targets) or list(LOCAL_DEFAULT)
    for spec in [*target_specs, oracle]:
        try:
            _factory(spec)
        except UnknownTarget as exc:
            raise Fatal(str(exc)) from None
    try:
        props = select(list(properties) or None, list(features) or None)
    except ValueError as exc:
        raise Fatal(str(exc)) from None
    if not props:
        raise Fatal("no property matches the given --property/--feature")
    gate = None
    if baseline is not None:
        from rolecall.ledger import Baseline, LedgerError

        try:
            gate = Baseline.load(baseline)
        except LedgerError as exc:
            raise Fatal(str(exc)) from None

    options = {"endpoint": localstack_endpoint}
    replays = []
    with Progress(len(props)) as bar:
        if gate is not None:
            from rolecall.ledger import replay_baseline

            for spec in target_specs:
                try:
                    replays += replay_baseline(gate, spec, oracle, strictness, properties=[p.name for p in props],
                                               options=options)
                except TargetUnavailable as exc:
                    bar.note(f"{spec}: baseline replay skipped: {exc}")
                except KeyboardInterrupt:
                    break

        def progress(label, cell):
            if cell is not None:
                bar.finish(cell)
            elif label.startswith("!"):
                bar.note(label[1:])
            else:
                bar.start(label)

        result = run_suite(props, target_specs, oracle_spec=oracle, profile=PROFILES[profile], strictness=strictness,
                           seed=seed, max_examples=max_examples, target_options=options, progress=progress,
                           on_example=bar.advance, workers=workers)
    if interrupts.requested():  # it came after the last safe point: the report still says so
        result.interrupted = True
    verdicts = None
    if gate is not None:
        from rolecall.ledger import add_replays

        add_replays(result, replays)
        verdicts = gate.judge(result, replays, strict=strict)
    path = write_report(result, report_dir, verdicts=verdicts)
    from rolecall.reports.terminal import print_summary

    print_summary(result, verdicts=verdicts, report_path=path)
    sys.exit(exit_code(result, verdicts))


def exit_code(result, verdicts) -> int:
    if result.interrupted:
        return EXIT_INTERRUPTED
    tested = [c for c in result.cells if c.examples > 0]
    if not tested or result.target_errors or any(c.error for c in result.cells):
        return EXIT_ERROR
    if verdicts is not None:
        return EXIT_FAIL if verdicts.failing else EXIT_OK
    return EXIT_FAIL if any(c.divergences for c in result.cells) else EXIT_OK


# ----------------------------------------------------------------------------- entry

from rolecall.cli import aws as _aws  # noqa: E402,F401
from rolecall.cli import reports as _reports  # noqa: E402,F401
from rolecall.cli import explore as _explore  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    # Ctrl-C or a cancelled CI job's SIGTERM: the run stops at its next safe point and still
    # writes its report, marked interrupted (rolecall.interrupts)
    interrupts.reset()
    interrupts.install()
    try:
        cli.main(args=argv, prog_name="rolecall", standalone_mode=False)
        _exit(EXIT_OK)
    except click.exceptions.Exit as exc:
        _exit(exc.exit_code)
    except SystemExit as exc:
        _exit(exc.code)
    except click.UsageError as exc:
        click.echo(f"rolecall: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    except click.Abort:
        click.echo("rolecall: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (Fatal, ScenarioError) as exc:
        click.echo(f"rolecall: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("rolecall: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        click.echo(f"rolecall: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_ERROR)


def _exit(code) -> None:
    """A command's exit, unless an interrupt came after the command's last safe point."""
    if interrupts.requested() and code != EXIT_INTERRUPTED:
        click.echo("rolecall: interrupted", err=True)
        code = EXIT_INTERRUPTED
    sys.exit(code)


if __name__ == "__main__":
    main()
