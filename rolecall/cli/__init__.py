"""The `rolecall` command: a thin layer over the run spine, the reports and the baseline.

Each command is a module of this package that imports `rolecall.cli.common`, never this
module; here they are joined into one group. Exit codes: `rolecall.cli.common`. Bad input is
one line on stderr, never a traceback.
"""
from __future__ import annotations

import sys

import click

from rolecall import interrupts, settings
from rolecall.cli import aws, explore, matrix, reports, replay, run
from rolecall.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, UserError
from rolecall.scenario import ScenarioError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rolecall")
def cli() -> None:
    """rolecall: property-based conformance tests for AWS IAM roles and STS.

    \b
    Run the suite on the local emulators and write a report:
        rolecall run
    Replay scenario files on one target:
        rolecall replay scenarios/*.json --target moto
    Findings across versions (history in matrix/):
        rolecall matrix --target moto@5.1.0 --target moto
    """


for _command in (run.run, replay.replay, explore.explore, reports.findings_cmd, reports.compare_cmd, reports.explain_cmd,
                 reports.baseline, matrix.matrix, aws.aws_group):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    # Ctrl-C or a cancelled CI job's SIGTERM: the run stops at its next safe point and still
    # writes its report, marked interrupted (rolecall.interrupts)
    interrupts.reset()
    interrupts.install()
    try:
        try:  # [tool.rolecall] in pyproject.toml and ROLECALL_* variables: the options' defaults
            defaults = settings.default_map(settings.load())
        except settings.SettingsError as exc:
            raise UserError(str(exc)) from None
        cli.main(args=argv, prog_name="rolecall", standalone_mode=False, default_map=defaults)
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
    except ScenarioError as exc:
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

