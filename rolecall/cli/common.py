"""What every `rolecall` command shares: exit codes, the one user-error class, option types.

Command modules import this module, never the package root (`rolecall.cli`), which imports
them to build the command group.
"""
from __future__ import annotations

import os

import click

from rolecall.compare import DEFAULT_STRICTNESS, LEVELS  # noqa: F401 - options of run and explore
from rolecall.events import CellFinished, CellStarted, ExampleCounted, Note, TargetLost

#: exit codes (as Schemathesis): 0 all good, 1 a divergence or failed expectation, 2 rolecall
#: could not do its job (bad input, no target reachable, nothing tested), 130 interrupted
EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

STRICTNESS = click.Choice(list(LEVELS))


class UserError(click.ClickException):
    """Bad input or an unusable target, report, baseline or folder: one line, exit 2."""

    exit_code = EXIT_ERROR

    def show(self, file=None) -> None:
        click.echo(f"rolecall: error: {self.format_message()}", err=True)


class _Workers(click.ParamType):
    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        if str(value).strip().lower() == "auto":
            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        try:
            n = int(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'auto'", param, ctx)
        if n < 1:
            self.fail(f"{n} is less than 1", param, ctx)
        return n


WORKERS = _Workers()


TARGET_OPTION_HELP = ("An option of a target, KEY=VALUE (repeat for several): e.g. url=URL for the endpoint "
                      "target (docs/targets.md).")


def target_options(pairs, specs: list[str], localstack_endpoint: str | None) -> dict:
    """The options targets are made with: `--localstack-endpoint` as `endpoint`, and each
    `--target-option KEY=VALUE`. A key no named target takes, or a value a target refuses, is
    one line (exit 2) before any work: every target is built here (nothing is started), and a
    version named in a spec (`ministack@1.5.33`) is installed now if it is missing."""
    import inspect

    from rolecall.outcome import TargetUnavailable
    from rolecall.pool import make_target
    from rolecall.targets import UnknownTarget, _factory

    options: dict = {"endpoint": localstack_endpoint}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UserError(f"--target-option {pair!r}: expected KEY=VALUE (e.g. url=http://127.0.0.1:4566)")
        options[key] = value
    accepted: set[str] = set()
    for spec in specs:
        try:
            accepted |= set(inspect.signature(_factory(spec)).parameters)
        except UnknownTarget as exc:
            raise UserError(str(exc)) from None
        except (TypeError, ValueError):
            pass
    for pair in pairs:
        key = pair.partition("=")[0].strip()
        if key not in accepted:
            raise UserError(f"--target-option {key}: no target of this run takes it "
                            f"(targets: {', '.join(specs)}; see docs/targets.md)")
    for spec in specs:
        try:
            target = make_target(spec, options)
        except TargetUnavailable:
            continue  # reported by the run as that target's error, as before
        except ValueError as exc:  # UnknownTarget, a bad option value
            raise UserError(f"{spec}: {exc}") from None
        if "@" in spec and hasattr(target, "provision"):
            try:  # a version asked for by name: install it now, or say why it cannot be
                target.provision()
            except TargetUnavailable as exc:
                raise UserError(str(exc)) from None
    return options


def targets_help() -> str:
    from rolecall.targets import BUILTIN

    return ", ".join(BUILTIN)


def progress_listener(bar):
    """The run's events drawn on the progress display (rolecall.reports.progress.Progress)."""
    def listen(event) -> None:
        if isinstance(event, CellStarted):
            bar.start(event.label)
        elif isinstance(event, ExampleCounted):
            bar.advance(event)
        elif isinstance(event, CellFinished):
            bar.finish(event.cell)
        elif isinstance(event, TargetLost):
            bar.note(event.line)
        elif isinstance(event, Note):
            bar.note(event.text)

    return listen


def checked_plan(specs: list[str], oracle: str, properties, features) -> list:
    """The properties a run or matrix will search, after checking every target name (and the
    oracle's) and the --property/--feature selection: a bad one is UserError, before any work."""
    from rolecall.conformance import select
    from rolecall.targets import UnknownTarget, _factory

    for spec in [*specs, oracle]:
        try:
            _factory(spec)
        except UnknownTarget as exc:
            raise UserError(str(exc)) from None
    try:
        props = select(list(properties) or None, list(features) or None)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not props:
        raise UserError("no property matches the given --property/--feature")
    return props
