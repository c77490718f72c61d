"""What every `rolecall` command shares: exit codes, the one user-error class, option types.

Command modules import this module, never the package root (`rolecall.cli`), which imports
them to build the command group.
"""
from __future__ import annotations

import os

import click

from rolecall.events import CellFinished, CellStarted, ExampleCounted, Note, TargetLost

#: exit codes (as Schemathesis): 0 all good, 1 a divergence or failed expectation, 2 rolecall
#: could not do its job (bad input, no target reachable, nothing tested), 130 interrupted
EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

STRICTNESS = click.Choice(["decision", "code", "result", "message"])


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
