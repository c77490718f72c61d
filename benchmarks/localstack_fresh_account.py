"""What a fresh account costs on LocalStack: the first IAM call in an account vs the next one.

    .venv/bin/python benchmarks/localstack_fresh_account.py [--accounts 10]

LocalStack turns on moto's `load_aws_managed_policies` (localstack/aws/patches.py,
`patch_moto_iam_config`), so each new account's IAM backend parses and builds every AWS
managed policy on its first IAM call. rolecall gives every example fresh accounts, so this is
paid once per account per example. Prints medians over `--accounts` fresh accounts of the
first call in a fresh account and the same call again in that account (each with a new boto3
client, as rolecall makes), for iam:ListRoles and for sts:GetCallerIdentity (LocalStack's STS
looks the caller up in the account's IAM backend, so it pays the same), and the difference.
Uses ROLECALL_LOCALSTACK_ENDPOINT, or starts a server.

`--what-if` also starts two more servers, each with a `sitecustomize` (on PYTHONPATH, this
benchmark's servers only) that changes moto's IAMBackend._init_aws_policies: `parse-once`
parses the managed-policy JSON once per server instead of once per account (same policies,
same behaviour); `no-managed` loads none (what moto does outside LocalStack; no rolecall
strategy names an AWS managed policy). Prints the same figures for each, side by side.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from _common import header, median, spread
from rolecall.targets.localstack import ENDPOINT_ENV, shared_server
from rolecall.targets.localstack_server import LocalStackServer

_PATCH = {
    "parse-once": """
import json
import moto.iam.models as m
_parsed = None
def _init_aws_policies(self):
    global _parsed
    if not m.load_iam_aws_managed_policies():
        return []
    if _parsed is None:
        _parsed = json.loads(m.aws_managed_policies_data)
    return [m.AWSManagedPolicy.from_data(n, self.account_id, self.region_name, d) for n, d in _parsed.items()]
m.IAMBackend._init_aws_policies = _init_aws_policies
""",
    "no-managed": """
import moto.iam.models as m
def _init_aws_policies(self):  # named as the method: LocalStack's patch() looks it up by name
    return []
m.IAMBackend._init_aws_policies = _init_aws_policies
""",
}


@contextlib.contextmanager
def patched_server(name: str):
    """A LocalStack server of its own whose moto IAMBackend is changed by `_PATCH[name]`."""
    folder = Path(tempfile.mkdtemp(prefix=f"rolecall-bench-{name}-"))
    (folder / "sitecustomize.py").write_text(_PATCH[name], encoding="utf-8")
    server = LocalStackServer(extra_env={"PYTHONPATH": str(folder)})
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _client(service: str, endpoint: str, account: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=account,
                        aws_secret_access_key="test",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def measure(title: str, endpoint: str, accounts: int) -> None:
    # warm the server (first request ever, service start-up) in an account of its own
    _client("iam", endpoint, "000000000042").list_roles()
    _client("sts", endpoint, "000000000042").get_caller_identity()
    # Each call uses a new client, so every figure includes the same client first-call cost;
    # the difference between a fresh account and a warm one is the account's own cost.
    rows: dict[str, list[float]] = {k: [] for k in (
        "iam:ListRoles, fresh account", "iam:ListRoles, same account again",
        "sts:GetCallerIdentity, fresh account", "sts:GetCallerIdentity, same account again")}
    for _ in range(accounts):
        for service, call in (("iam", "list_roles"), ("sts", "get_caller_identity")):
            account = f"{100_000_000_000 + secrets.randbelow(800_000_000_000):012d}"
            label = f"{service}:{'ListRoles' if service == 'iam' else 'GetCallerIdentity'}"
            rows[f"{label}, fresh account"].append(_timed(getattr(_client(service, endpoint, account), call)))
            rows[f"{label}, same account again"].append(_timed(getattr(_client(service, endpoint, account), call)))
    print(f"## {title}")
    for label, xs in rows.items():
        print(f"{label:<44}{median(xs):>9.0f} ms  [{spread(xs)}]")
    for label in ("iam:ListRoles", "sts:GetCallerIdentity"):
        extra = [a - b for a, b in zip(rows[f"{label}, fresh account"], rows[f"{label}, same account again"])]
        print(f"{'fresh-account cost via ' + label:<44}{median(extra):>9.0f} ms  [{spread(extra)}]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--what-if", action="store_true", help="also measure two patched servers (see above)")
    args = ap.parse_args(argv)
    if args.accounts < 1:
        ap.error("--accounts must be at least 1")
    header("LocalStack: cost of a fresh account")
    endpoint = os.environ.get(ENDPOINT_ENV) or shared_server().start()
    print(f"# {args.accounts} fresh accounts per call, a new boto3 client for every call; median ms [min-max]")
    measure("LocalStack as rolecall runs it", endpoint, args.accounts)
    if args.what_if:
        for name in _PATCH:
            with patched_server(name) as patched:
                measure(f"what if: {name}", patched, args.accounts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
