"""`rolecall aws ...`: check the real-AWS config and sweep what earlier runs left behind.

Both need the same opt-in as the target (ROLECALL_AWS_OPT_IN=1) and verify every profile
against the allowlist before anything else is sent. See docs/aws.md.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from rolecall.cli.common import EXIT_FAIL, EXIT_OK, UserError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(ctx, param, value: str) -> dt.timedelta:
    m = _DURATION.fullmatch(value.strip())
    if not m:
        raise click.BadParameter(f"expected a number and a unit (s, m, h, d) such as 0h or 30m, got {value!r}")
    return dt.timedelta(**{_UNITS[m[2]]: int(m[1])})


_config_option = click.option(
    "--aws-config", "aws_config", type=click.Path(path_type=Path), envvar="ROLECALL_AWS_CONFIG",
    help="The TOML or JSON file mapping accounts A, B, ... to AWS profiles (default: $ROLECALL_AWS_CONFIG).")


def _target(aws_config: Path | None):
    from rolecall.targets import TargetUnavailable
    from rolecall.targets.aws import aws

    try:
        return aws(aws_config)
    except TargetUnavailable as exc:
        raise UserError(str(exc)) from None


@click.group("aws")
def aws_group() -> None:
    """Real AWS (opt-in: ROLECALL_AWS_OPT_IN=1): check the config, sweep leftovers."""


@aws_group.command()
@_config_option
def check(aws_config: Path | None) -> None:
    """Verify the config: each profile's account (sts:GetCallerIdentity) must be allowlisted. Writes nothing."""
    from rolecall.targets import TargetUnavailable

    target = _target(aws_config)
    target.announce = False
    try:
        target.open()
    except TargetUnavailable as exc:
        raise UserError(str(exc)) from None
    try:
        where = f"local stand-in {target.endpoint_url}" if target.endpoint_url else "AWS"
        for logical, account in target._accounts.items():
            click.echo(f"{logical}: profile {target.config.accounts[logical]!r} is account {account} (allowlisted)")
        click.echo(f"ok: {len(target._accounts)} accounts on {where}, region {target.region}")
    finally:
        target.close()


@aws_group.command()
@_config_option
@click.option("--older-than", "older_than", default="1h", show_default=True, callback=_duration, metavar="AGE",
              help="Only what was created at least this long ago (0h: everything; keeps a running suite's own).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
@click.option("--include-untagged", is_flag=True,
              help="Also delete names with the run prefix whose rolecall:run-id tag is missing.")
def sweep(aws_config: Path | None, older_than: dt.timedelta, dry_run: bool, include_untagged: bool) -> None:
    """Delete the users, roles, policies, instance profiles and buckets earlier runs left behind.

    \b
    A resource is rolecall's when its name starts rc-<run id>- and its tag
    rolecall:run-id has the same run id. Exit 1 when some could not be deleted.
    """
    from rolecall.targets import TargetUnavailable
    from rolecall.targets.aws import sweep as do_sweep

    target = _target(aws_config)
    try:
        result = do_sweep(target, older_than, dry_run=dry_run, include_untagged=include_untagged, echo=click.echo)
    except TargetUnavailable as exc:
        raise UserError(str(exc)) from None
    finally:
        target.close()
    verb = "would delete" if dry_run else "deleted"
    parts = [f"{verb} {len(result.deleted)}"]
    if result.failed:
        parts.append(f"{len(result.failed)} could not be deleted")
    if result.young:
        parts.append(f"{len(result.young)} younger than --older-than kept")
    if result.untagged:
        parts.append(f"{len(result.untagged)} with the rc- prefix but not the matching tag kept "
                     f"(--include-untagged deletes those without a tag)")
    click.echo("sweep: " + "; ".join(parts))
    sys.exit(EXIT_FAIL if result.failed else EXIT_OK)
