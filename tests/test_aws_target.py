"""The `aws` target against a local stand-in (a moto_server process): opt-in and allowlist
before any request, run-id names and tags, cleanup after a run, after SIGINT/SIGTERM, and
`rolecall aws sweep` after SIGKILL. No AWS is reached from here: docs/aws.md says what
that leaves unexercised."""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from conftest import ROOT
from rolecall.scenario import from_dict
from rolecall.targets import TargetUnavailable, load_target

DEFAULT_ACCOUNT = "123456789012"  # moto_server's account for keys it did not issue
SESSION_TOKEN_PREFIX = "FQoGZXIvYXdzEBYaD"  # how every moto session token starts (moto/sts/utils.py)
STARTUP = 60  # seconds a process may take to come up on a busy 2-core machine

# ----------------------------------------------------------------------------- no request may leave

_NET: list[str] = []
_WATCH = [False]


def _audit(event: str, args) -> None:
    if _WATCH[0] and event in ("socket.connect", "socket.getaddrinfo"):
        _NET.append(f"{event} {args[1] if event == 'socket.connect' else args[0]}")


sys.addaudithook(_audit)

# The same observer in a subprocess: sitecustomize runs before rolecall is imported.
SITECUSTOMIZE = """
import os, sys
def _hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        with open(os.environ["RC_NET_LOG"], "a") as fh:
            fh.write(f"{event} {args[1] if event == 'socket.connect' else args[0]}\\n")
sys.addaudithook(_hook)
"""


class Listener:
    """A local socket that counts the connections made to it (and never answers)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1


# ----------------------------------------------------------------------------- the stand-in

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandIn:
    """`python -m moto.server` on a free port: the AWS endpoint the tests point the target at."""

    def __init__(self, env: dict | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**_clean_env(), **(env or {})})
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def client(self, service: str, key: str, secret: str, token: str | None = None):
        return boto3.session.Session().client(service, endpoint_url=self.url, region_name="us-east-1",
                                              aws_access_key_id=key, aws_secret_access_key=secret,
                                              aws_session_token=token)

    def names(self, key: str, secret: str) -> dict[str, list[str]]:
        """Every user, role, customer managed policy, instance profile and bucket of the key's account."""
        iam, s3 = self.client("iam", key, secret), self.client("s3", key, secret)
        return {"roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
                "users": [u["UserName"] for u in iam.list_users()["Users"]],
                "policies": [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]],
                "instance_profiles": [i["InstanceProfileName"]
                                      for i in iam.list_instance_profiles()["InstanceProfiles"]],
                "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]]}


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_AWS_", "MOTO_"))}


@pytest.fixture(scope="module")
def stand_in():
    server = StandIn()
    yield server
    server.stop()


class AwsSetup:
    """Profiles, the rolecall config and the environment of one test."""

    def __init__(self, tmp: Path, stand_in: StandIn):
        self.tmp, self.stand_in = tmp, stand_in
        self.key_a = "AKIARCSTANDIN" + secrets.token_hex(4).upper()[:7]
        self.secret_a = "rcSecretA-" + secrets.token_hex(12)
        self.profiles = {"rc-a": (self.key_a, self.secret_a)}
        self.secrets = [self.secret_a]
        (tmp / "aws-config").write_text("")
        self.config = tmp / "rolecall-aws.toml"
        self.write_config()

    def add_account(self, profile: str, account: str) -> tuple[str, str]:
        """An administrator key in another stand-in account: assume a role ARN there (moto switches
        accounts by the ARN), then create a user with a long-term key in it."""
        sts = self.stand_in.client("sts", self.key_a, self.secret_a)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bootstrap",
                            RoleSessionName="bootstrap")["Credentials"]
        iam = self.stand_in.client("iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        iam.create_user(UserName="stand-in-admin")
        key = iam.create_access_key(UserName="stand-in-admin")["AccessKey"]
        self.profiles[profile] = (key["AccessKeyId"], key["SecretAccessKey"])
        self.secrets += [key["SecretAccessKey"], c["SecretAccessKey"], c["SessionToken"]]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def write_config(self, accounts: dict | None = None, allowed: list | None = None, **extra) -> Path:
        creds = "".join(f"[{p}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n"
                        for p, (k, s) in self.profiles.items())
        (self.tmp / "credentials").write_text(creds)
        doc = {"allowed_accounts": [DEFAULT_ACCOUNT] if allowed is None else allowed,
               "endpoint_url": self.stand_in.url, **extra, "accounts": accounts or {"A": "rc-a"}}
        self.config.write_text(json.dumps(doc) if self.config.suffix == ".json" else _toml(doc))
        return self.config

    def env(self, opt_in: bool = True) -> dict:
        env = {"AWS_SHARED_CREDENTIALS_FILE": str(self.tmp / "credentials"),
               "AWS_CONFIG_FILE": str(self.tmp / "aws-config"), "ROLECALL_AWS_CONFIG": str(self.config),
               "ROLECALL_AWS_STAND_IN": "1"}
        if opt_in:
            env["ROLECALL_AWS_OPT_IN"] = "1"
        return env

    def names(self, profile: str = "rc-a") -> dict[str, list[str]]:
        return self.stand_in.names(*self.profiles[profile])

    def rolecall(self, *args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rolecall.cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, env={**_clean_env(), **self.env(), **(env or {})}, **kw)


def _toml(doc: dict) -> str:
    lines = [f"{k} = {json.dumps(v)}" for k, v in doc.items() if k != "accounts"]
    lines.append("[accounts]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in doc["accounts"].items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def setup(stand_in, tmp_path, monkeypatch):
    stand_in.reset()
    s = AwsSetup(tmp_path, stand_in)
    for k in list(os.environ):
        if k.startswith(("AWS_", "ROLECALL_AWS_")):
            monkeypatch.delenv(k)
    for k, v in s.env().items():
        monkeypatch.setenv(k, v)
    return s


def _ours(names: dict[str, list[str]]) -> list[str]:
    return [n for kind in names.values() for n in kind if n.startswith("rc-")]


def _policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# A world with one of everything the target creates, and steps that read it back.
WORLD = {
    "format": "rolecall/scenario@1",
    "accounts": {"A": {
        "managed_policies": {"readall": _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})},
        "users": {"alice": {"policies": {"assume": _policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                           "Resource": "{{A:role/reader}}"})},
                            "managed": ["readall"], "tags": {"team": "blue"}}},
        "roles": {"reader": {"trust": _policy({"Effect": "Allow", "Principal": {"AWS": "{{A:user/alice}}"},
                                               "Action": "sts:AssumeRole"}),
                             "policies": {"inline": _policy({"Effect": "Allow", "Action": "s3:GetObject",
                                                             "Resource": "arn:aws:s3:::{{A:bucket/data}}/*"})},
                             "managed": ["readall"], "tags": {"env": "test"}}},
        "instance_profiles": {"web": {"role": "reader"}},
        "buckets": {"data": {"objects": {"report.csv": "a,b\n"},
                             "policy": _policy({"Effect": "Allow", "Principal": {"AWS": "{{A:role/reader}}"},
                                                "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::{{A:bucket/data}}/*"})}}}},
    "steps": [
        {"id": "who", "as": "A:user/alice", "call": "sts:GetCallerIdentity"},
        {"id": "assume", "as": "A:user/alice", "call": "sts:AssumeRole",
         "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "s1"}},
        {"id": "read", "as": "assume", "call": "s3:GetObject", "params": {"Bucket": "{{A:bucket/data}}",
                                                                         "Key": "report.csv"}},
        {"id": "role", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "reader"}},
        {"id": "roles", "as": "A:admin", "call": "iam:ListRoles"},
        {"id": "made", "as": "A:admin", "call": "iam:CreateRole",
         "params": {"RoleName": "made-by-a-step", "AssumeRolePolicyDocument": json.dumps(_policy())}},
        {"id": "bucket", "as": "A:admin", "call": "s3:CreateBucket", "params": {"Bucket": "named-in-a-step"}},
    ],
}
SLR_STEP = {"id": "slr", "as": "A:admin", "call": "iam:CreateServiceLinkedRole",
            "params": {"AWSServiceName": "autoscaling.amazonaws.com"}}


def _write(tmp: Path, doc: dict, name: str = "scenario.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(doc))
    return path


# ----------------------------------------------------------------------------- opt-in and allowlist

def test_without_opt_in_the_target_refuses_and_sends_nothing(setup, monkeypatch):
    listener = Listener()
    setup.write_config(endpoint_url=listener.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", listener.url)
    monkeypatch.delenv("ROLECALL_AWS_OPT_IN")
    from rolecall.session import make_target
    from rolecall.targets.aws import AwsTarget, load_config

    _NET.clear()
    _WATCH[0] = True
    try:
        for make in (lambda: load_target("aws"), lambda: make_target("aws", {"endpoint": None}),
                     lambda: AwsTarget(load_config(setup.config))):
            with pytest.raises(TargetUnavailable) as err:
                make()
            assert "ROLECALL_AWS_OPT_IN=1" in str(err.value) and "\n" not in str(err.value)
    finally:
        _WATCH[0] = False
    assert _NET == [] and listener.connections() == 0

    # the observer does see a target that is opted in (so the silence above means something)
    monkeypatch.setenv("ROLECALL_AWS_OPT_IN", "1")
    setup.write_config()
    _WATCH[0] = True
    try:
        target = load_target("aws")
        target.open()
        target.close()
    finally:
        _WATCH[0] = False
    assert any(str(setup.stand_in.port) in e for e in _NET)


@pytest.mark.parametrize("args", [["replay", "{scenario}", "--target", "aws"], ["aws", "sweep", "--older-than", "0h"],
                                  ["aws", "check"]])
def test_cli_without_opt_in_exits_2_with_one_line_and_sends_nothing(setup, tmp_path, args):
    listener = Listener()
    setup.write_config(endpoint_url=listener.url)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "net.log"
    env = {**setup.env(opt_in=False), "PYTHONPATH": str(tmp_path / "site"), "RC_NET_LOG": str(log),
           "AWS_ENDPOINT_URL": listener.url}
    args = [a.format(scenario=_write(tmp_path, WORLD)) for a in args]
    p = subprocess.run([sys.executable, "-m", "rolecall.cli", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env={**_clean_env(), **env})
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and "ROLECALL_AWS_OPT_IN=1" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert not log.exists() or log.read_text() == "", log.read_text()
    assert listener.connections() == 0

    # positive control: opted in (against the stand-in), the same observer logs the traffic
    if args[0] == "aws" and args[1] == "check":
        setup.write_config()
        p = subprocess.run([sys.executable, "-m", "rolecall.cli", *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, env={**_clean_env(), **env, "ROLECALL_AWS_OPT_IN": "1"})
        assert p.returncode == 0, p.stderr
        assert f"127.0.0.1', {setup.stand_in.port}" in log.read_text()


def test_a_profile_outside_the_allowlist_is_refused_before_any_write(setup, tmp_path):
    setup.write_config(allowed=["111111111111"])
    p = setup.rolecall("replay", str(_write(tmp_path, WORLD)), "--target", "aws")
    assert p.returncode == 2, p.stderr
    (line,) = p.stderr.strip().splitlines()
    assert f"profile 'rc-a' (account A) is AWS account {DEFAULT_ACCOUNT}, which is not in allowed_accounts" in line
    assert _ours(setup.names()) == [] and setup.names() == {k: [] for k in setup.names()}


@pytest.mark.parametrize("config, fragment", [
    ('[accounts]\nA = "rc-a"\n', "allowed_accounts: required"),
    ('allowed_accounts = [123456789012]\n[accounts]\nA = "rc-a"\n', "as strings"),
    ('allowed_accounts = ["123456789012"]\n', "accounts: required"),
    ('allowed_account = ["123456789012"]\n[accounts]\nA = "rc-a"\n', "unknown key 'allowed_account'"),
    ('allowed_accounts = ["123456789012"\n', "invalid TOML"),
])
def test_a_bad_config_is_one_line_exit_2(setup, config, fragment):
    setup.config.write_text(config)
    p = setup.rolecall("aws", "check")
    assert p.returncode == 2
    (line,) = p.stderr.strip().splitlines()
    assert str(setup.config) in line and fragment in line, line


def test_endpoint_url_needs_the_stand_in_flag_and_a_local_address(setup, monkeypatch):
    monkeypatch.delenv("ROLECALL_AWS_STAND_IN")
    with pytest.raises(TargetUnavailable, match="only for tests against a local stand-in"):
        load_target("aws")
    monkeypatch.setenv("ROLECALL_AWS_STAND_IN", "1")
    setup.write_config(endpoint_url="https://iam.example.com")
    with pytest.raises(TargetUnavailable, match="must be a local stand-in"):
        load_target("aws")


def test_check_names_each_account(setup):
    p = setup.rolecall("aws", "check")
    assert p.returncode == 0, p.stderr
    assert f"A: profile 'rc-a' is account {DEFAULT_ACCOUNT} (allowlisted)" in p.stdout
    assert f"local stand-in {setup.stand_in.url}" in p.stdout


# ----------------------------------------------------------------------------- a normal run

def test_names_and_tags_do_not_show_in_outcomes_and_nothing_is_left(setup):
    """The same scenario on in-process moto and on the aws target (moto_server behind it) gives
    equal outcomes: the run-id prefix and tag are invisible after normalisation."""
    scenario = from_dict({**WORLD, "steps": [*WORLD["steps"], SLR_STEP]})
    with load_target("moto") as moto:
        expected = moto.run(scenario)
    target = load_target("aws")
    with target:
        observed = target.run(scenario)
    assert observed.setup_error is None, observed.setup_error
    for e, o in zip(expected.outcomes, observed.outcomes):
        if o.id == "slr":  # service-linked roles have AWS's names: the target cannot own them
            assert o.outcome == "unsupported"
            continue
        assert o.to_dict() == e.to_dict()
    role = observed.outcome("role").result["Role"]
    assert role["RoleName"] == "reader" and role["Arn"] == "arn:aws:iam::{{A}}:role/reader"
    assert role["Tags"] == [{"Key": "env", "Value": "test"}]
    assert [r["RoleName"] for r in observed.outcome("roles").result["Roles"]] == ["reader"]
    assert setup.names() == {k: [] for k in setup.names()}
    assert target.created == target.deleted == 7 and target.leftovers == []
    assert target.retried_calls == 0 and not target.retries


def test_two_accounts_each_named_and_cleaned(setup):
    key_b, secret_b = setup.add_account("rc-b", "222222222222")
    setup.write_config(accounts={"A": "rc-a", "B": "rc-b"}, allowed=[DEFAULT_ACCOUNT])
    with pytest.raises(TargetUnavailable, match="account B.* is AWS account 222222222222, which is not in allowed"):
        load_target("aws").open()
    setup.write_config(accounts={"A": "rc-a", "B": "rc-b"}, allowed=[DEFAULT_ACCOUNT, "222222222222"])
    scenario = from_dict({
        "format": "rolecall/scenario@1",
        "accounts": {"A": {"roles": {"shared": {"trust": _policy({"Effect": "Allow",
                                                                  "Principal": {"AWS": "{{B:user/bob}}"},
                                                                  "Action": "sts:AssumeRole"})}}},
                     "B": {"users": {"bob": {}}, "buckets": {"logs": {}}}},
        "steps": [{"id": "bob", "as": "B:user/bob", "call": "sts:GetCallerIdentity"},
                  {"id": "assume", "as": "B:user/bob", "call": "sts:AssumeRole",
                   "params": {"RoleArn": "{{A:role/shared}}", "RoleSessionName": "x-acct"}},
                  {"id": "who", "as": "assume", "call": "sts:GetCallerIdentity"}]})
    with load_target("aws") as target:
        run = target.run(scenario)
        assert run.setup_error is None, run.setup_error
        assert run.outcome("bob").result["Arn"] == "arn:aws:iam::{{B}}:user/bob"
        assert run.outcome("who").result["Account"] == "{{A}}"
        assert run.outcome("who").result["Arn"] == "arn:aws:sts::{{A}}:assumed-role/shared/x-acct"
        # an account the config does not map: the scenario is unsupported, nothing is created
        other = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {}, "C": {"users": {"carol": {}}}},
                           "steps": [{"id": "x", "as": "C:user/carol", "call": "sts:GetCallerIdentity"}]})
        assert target.run(other).setup_error.code == "Unsupported"
    assert _ours(setup.names()) == [] and _ours(setup.stand_in.names(key_b, secret_b)) == []
    assert setup.stand_in.names(key_b, secret_b)["users"] == ["stand-in-admin"]
    assert target.created == target.deleted == 3


# ----------------------------------------------------------------------------- interrupted runs

def _hold(setup: AwsSetup, tmp: Path) -> tuple[subprocess.Popen, Path, Path]:
    """`rolecall replay` of WORLD, held after the world exists (settle_seconds keeps the first
    step by a user waiting); returns once every resource of the world is on the stand-in."""
    setup.write_config(settle_seconds=600)
    before = setup.names()
    out, err = tmp / "stdout", tmp / "stderr"
    proc = subprocess.Popen([sys.executable, "-m", "rolecall.cli", "replay", str(_write(tmp, WORLD)),
                             "--target", "aws", "--json"], cwd=ROOT, stdout=out.open("w"), stderr=err.open("w"),
                            env={**_clean_env(), **setup.env()})
    s3 = setup.stand_in.client("s3", setup.key_a, setup.secret_a)
    deadline = time.monotonic() + STARTUP
    while True:
        names = {k: [n for n in v if n not in before[k]] for k, v in setup.names().items()}
        if all(len(v) == 1 for v in names.values()):
            try:
                if s3.list_objects_v2(Bucket=names["buckets"][0]).get("KeyCount") == 1:
                    return proc, out, err
            except s3.exceptions.NoSuchBucket:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the world did not appear: {err.read_text()[-2000:]}")
        time.sleep(0.2)


def _assert_no_secrets(setup: AwsSetup, *texts: str) -> None:
    for text in texts:
        for secret in setup.secrets:
            assert secret not in text
        assert SESSION_TOKEN_PREFIX not in text


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_deletes_what_it_created(setup, tmp_path, sig):
    proc, out, err = _hold(setup, tmp_path)
    run_id = re.search(r"aws: run ([0-9a-f]{6}) on", err.read_text()).group(1)
    names = setup.names()
    for kind, found in names.items():
        (name,) = found
        assert name.startswith(f"rc-{run_id}-"), (kind, name)
    iam = setup.stand_in.client("iam", setup.key_a, setup.secret_a)
    s3 = setup.stand_in.client("s3", setup.key_a, setup.secret_a)
    tag = {"Key": "rolecall:run-id", "Value": run_id}
    assert tag in iam.get_role(RoleName=names["roles"][0])["Role"]["Tags"]
    assert tag in iam.get_user(UserName=names["users"][0])["User"]["Tags"]
    policy_arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:policy/{names['policies'][0]}"
    assert tag in iam.get_policy(PolicyArn=policy_arn)["Policy"]["Tags"]
    assert tag in iam.get_instance_profile(InstanceProfileName=names["instance_profiles"][0])["InstanceProfile"]["Tags"]
    assert tag in s3.get_bucket_tagging(Bucket=names["buckets"][0])["TagSet"]

    proc.send_signal(sig)
    assert proc.wait(STARTUP) == 130
    assert setup.names() == {k: [] for k in names}
    stderr = err.read_text()
    assert "7 resources created" not in stderr and "5 resources created, 5 deleted, 0 left over" in stderr, stderr
    swept = setup.rolecall("aws", "sweep", "--older-than", "0h")
    assert swept.returncode == 0 and "sweep: deleted 0" in swept.stdout, swept.stdout + swept.stderr
    _assert_no_secrets(setup, out.read_text(), stderr, swept.stdout, swept.stderr)


@pytest.mark.slow
def test_killed_run_is_swept_by_prefix_and_tag(setup, tmp_path):
    iam = setup.stand_in.client("iam", setup.key_a, setup.secret_a)
    trust = json.dumps(_policy())
    iam.create_role(RoleName="keep-me", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="rc-abcdef-1-no-tag", AssumeRolePolicyDocument=trust)  # the prefix alone is not enough
    proc, out, err = _hold(setup, tmp_path)
    proc.kill()
    proc.wait(STARTUP)
    left = _ours(setup.names())
    assert len(left) == 6  # the untagged one and the five of the killed run

    young = setup.rolecall("aws", "sweep")  # default --older-than 1h keeps a running suite's resources
    assert young.returncode == 0 and "5 younger than --older-than kept" in young.stdout, young.stdout
    dry = setup.rolecall("aws", "sweep", "--older-than", "0h", "--dry-run")
    listed = [line for line in dry.stdout.splitlines() if line.startswith("would delete ")]
    assert dry.returncode == 0 and len(listed) == 5 and len(_ours(setup.names())) == 6, dry.stdout
    swept = setup.rolecall("aws", "sweep", "--older-than", "0h")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "deleted 5" in swept.stdout and "1 with the rc- prefix but not the matching tag kept" in swept.stdout
    assert {k: sorted(v) for k, v in setup.names().items()} == {
        "roles": ["keep-me", "rc-abcdef-1-no-tag"], "users": [], "policies": [], "instance_profiles": [], "buckets": []}
    _assert_no_secrets(setup, out.read_text(), err.read_text(), young.stdout, dry.stdout, swept.stdout, swept.stderr)


def test_normal_cli_run_prints_no_secret_and_leaves_nothing(setup, tmp_path):
    setup.add_account("rc-b", "222222222222")  # its key and the bootstrap session token must not appear either
    setup.write_config(accounts={"A": "rc-a", "B": "rc-b"}, allowed=[DEFAULT_ACCOUNT, "222222222222"])
    p = setup.rolecall("replay", str(_write(tmp_path, WORLD)), "--target", "aws", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    creds = doc["scenarios"][0]["outcomes"][1]["result"]["Credentials"]
    assert creds["SecretAccessKey"] == "<secret>" and creds["SessionToken"] == "<session-token>"
    assert "7 resources created, 7 deleted, 0 left over" in p.stderr
    _assert_no_secrets(setup, p.stdout, p.stderr)
    assert _ours(setup.names()) == []


# ----------------------------------------------------------------------------- IAM propagation retries

@pytest.fixture(scope="module")
def enforcing_stand_in():
    """moto_server enforcing IAM after its first three requests, which create its administrator."""
    server = StandIn({"INITIAL_NO_AUTH_ACTION_COUNT": "3"})
    iam = server.client("iam", "AKIABOOTSTRAP0000000", "bootstrap")
    iam.create_user(UserName="stand-in-admin")
    iam.put_user_policy(UserName="stand-in-admin", PolicyName="all",
                        PolicyDocument=json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})))
    key = iam.create_access_key(UserName="stand-in-admin")["AccessKey"]
    server.admin = (key["AccessKeyId"], key["SecretAccessKey"])
    yield server
    server.stop()


def test_a_real_denial_is_retried_within_the_budget_counted_and_returned(enforcing_stand_in, tmp_path, monkeypatch):
    """Right after the world is written, AccessDenied may be IAM propagating
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
    retried within the budget and counted, the denial is still what the step answers. An
    administrator's NoSuchEntity for a name the run never created is not retried."""
    s = AwsSetup(tmp_path, enforcing_stand_in)
    s.profiles = {"rc-a": enforcing_stand_in.admin}
    s.key_a, s.secret_a = enforcing_stand_in.admin
    s.write_config(retry_budget_seconds=1)
    for k in list(os.environ):
        if k.startswith(("AWS_", "ROLECALL_AWS_")):
            monkeypatch.delenv(k)
    for k, v in s.env().items():
        monkeypatch.setenv(k, v)
    scenario = from_dict({**json.loads((ROOT / "scenarios/delegation/trust-does-not-name-caller.json").read_text()),
                          "steps": [{"id": "assume", "as": "A:user/bob", "call": "sts:AssumeRole",
                                     "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "bob-session"}},
                                    {"id": "ghost", "as": "A:admin", "call": "iam:GetRole",
                                     "params": {"RoleName": "ghost"}}]})
    with load_target("aws") as target:
        run = target.run(scenario)
    assert run.outcome("assume").code == "AccessDenied"
    assert run.outcome("ghost").code == "NoSuchEntity"
    assert target.retries == {"AccessDenied": 2}  # budget 1 s: waits of 0.5 s and 0.5 s
    assert target.retry_log == [{"scenario": 1, "call": "sts:AssumeRole", "symptom": "recent-iam-write",
                                 "retries": 2, "outcome": "AccessDenied"}]
    assert _ours(enforcing_stand_in.names(*s.profiles["rc-a"])) == []
