"""The `aws` target's opt-in and config file: which AWS profiles stand for the logical accounts
A, B, ..., which account ids rolecall may write to, and the region and waiting times
(docs/aws.md). Nothing here talks to AWS.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from rolecall.scenario import ACCOUNT_NAME
from rolecall.targets.base import TargetUnavailable

OPT_IN_ENV = "ROLECALL_AWS_OPT_IN"
CONFIG_ENV = "ROLECALL_AWS_CONFIG"
STAND_IN_ENV = "ROLECALL_AWS_STAND_IN"  # test-only: allows `endpoint_url` (a local stand-in such as moto_server)
#: how long a call is retried at most for IAM's propagation (`retry_budget_seconds`; aws.py says why)
RETRY_BUDGET = 10.0


class AwsConfigError(ValueError):
    """The config file is missing or wrong; `str()` is one line naming the file."""


CONFIG_KEYS = ("accounts", "allowed_accounts", "region", "settle_seconds", "retry_budget_seconds", "endpoint_url")


@dataclass(frozen=True)
class AwsConfig:
    origin: str
    accounts: Mapping[str, str]  # logical account -> AWS profile name
    allowed_accounts: frozenset[str]
    region: str = "us-east-1"
    settle_seconds: float = 0.0
    retry_budget_seconds: float = RETRY_BUDGET
    endpoint_url: str | None = None


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    value = explicit or os.environ.get(CONFIG_ENV)
    if not value:
        raise AwsConfigError(f"no config: pass --aws-config PATH or set {CONFIG_ENV}=PATH (a TOML or JSON file "
                             f"mapping accounts A, B, ... to AWS profiles; see docs/aws.md)")
    return Path(value)


def load_config(path: str | os.PathLike) -> AwsConfig:
    origin = str(path)

    def fail(problem: str):
        raise AwsConfigError(f"{origin}: {problem}")

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail("no such file")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read: {exc}")
    if origin.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}")
    elif origin.endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # Python 3.10
            fail("TOML needs Python 3.11 or later; write the config as JSON instead")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            fail(f"invalid TOML: {exc}")
    else:
        fail("expected a .toml or .json file")
    if not isinstance(data, dict):
        fail("expected a table/object at the top")
    for key in data:
        if key not in CONFIG_KEYS:
            fail(f"unknown key {key!r} (expected one of: {', '.join(CONFIG_KEYS)})")
    accounts = data.get("accounts")
    if not isinstance(accounts, dict) or not accounts:
        fail("accounts: required: a table mapping logical accounts to AWS profile names, e.g. A = \"rolecall-a\"")
    for logical, profile in accounts.items():
        if not ACCOUNT_NAME.fullmatch(logical):
            fail(f"accounts.{logical}: logical accounts are A, B, C, ... (capital letter, then capitals or digits)")
        if not isinstance(profile, str) or not profile:
            fail(f"accounts.{logical}: expected an AWS profile name (a string), got {profile!r}")
    allowed = data.get("allowed_accounts")
    if not isinstance(allowed, list) or not allowed:
        fail("allowed_accounts: required: the 12-digit ids of the AWS accounts rolecall may write to, as strings")
    for a in allowed:
        if not (isinstance(a, str) and re.fullmatch(r"\d{12}", a)):
            fail(f"allowed_accounts: expected 12-digit account ids as strings, got {a!r}")
    region = data.get("region", "us-east-1")
    if not (isinstance(region, str) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region)):
        fail(f"region: expected an AWS region such as us-east-1, got {region!r}")
    numbers = {}
    for key, default in (("settle_seconds", 0.0), ("retry_budget_seconds", RETRY_BUDGET)):
        v = data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v > 3600:
            fail(f"{key}: expected seconds between 0 and 3600, got {v!r}")
        numbers[key] = float(v)
    endpoint = data.get("endpoint_url")
    if endpoint is not None and not isinstance(endpoint, str):
        fail(f"endpoint_url: expected a URL string, got {endpoint!r}")
    return AwsConfig(origin, dict(accounts), frozenset(allowed), region, endpoint_url=endpoint, **numbers)


def _check_opt_in() -> None:
    if os.environ.get(OPT_IN_ENV) != "1":
        raise TargetUnavailable(f"aws: real AWS is opt-in: set {OPT_IN_ENV}=1 to let rolecall create and delete "
                                f"IAM users, roles, policies and S3 buckets in the allowlisted accounts (docs/aws.md)")


def _check_endpoint(url: str | None) -> None:
    if url is None:
        return
    if os.environ.get(STAND_IN_ENV) != "1":
        raise TargetUnavailable(f"aws: endpoint_url is only for tests against a local stand-in (set {STAND_IN_ENV}=1); "
                                f"the aws target talks to AWS itself")
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        raise TargetUnavailable(f"aws: endpoint_url must be a local stand-in (http://127.0.0.1:PORT), got {url!r}")
