"""The `aws` target: real AWS, only on explicit opt-in (ROLECALL_AWS_OPT_IN=1 and a config file).

Each logical account (A, B, ...) is a named AWS profile whose account id must be on the
config's allowlist, checked with sts:GetCallerIdentity before anything is written. Every
resource is named `rc-<run id>-<scenario>-<name>` and tagged `rolecall:run-id`; names map
back to the scenario's own before outcomes are normalised. Cleanup runs after each scenario,
at exit and on SIGINT/SIGTERM; `rolecall aws sweep` removes what a killed run left behind.
docs/aws.md tells the whole contract.
"""
from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import signal
import sys
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import botocore.session

from rolecall import interrupts
from rolecall.outcome import ERROR, Outcome, Run
from rolecall.scenario import ACCOUNT_NAME, Scenario
from rolecall.targets.base import CallFailed, CallResult, Credentials, TargetUnavailable, Unsupported
from rolecall.targets.boto import Boto3Target

OPT_IN_ENV = "ROLECALL_AWS_OPT_IN"
CONFIG_ENV = "ROLECALL_AWS_CONFIG"
STAND_IN_ENV = "ROLECALL_AWS_STAND_IN"  # test-only: allows `endpoint_url` (a local stand-in such as moto_server)
TAG_KEY = "rolecall:run-id"
#: every name this target gives starts with this; group 1 is the run id the tag must repeat
RUN_PREFIX = re.compile(r"rc-([0-9a-f]{6})-")

# IAM is eventually consistent: "changes that you make are not always immediately visible"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
# A call is retried only for a symptom of that, caused by something this run wrote this
# recently (see `_propagation_symptom`), and for at most the retry budget.
PROPAGATION_WINDOW = 10.0
RETRY_BUDGET = 10.0
FIRST_DELAY = 0.5

_PROFILE = "profile:"  # marks administrator credentials: the profile's own session signs the call
_IAM_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)  # botocore's roleNameType/userNameType/... pattern
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_STOP = r"[^/\"\s,\]\}]"  # what can follow in an ARN inside a policy document's string
_IAM_ARN = re.compile(rf"(?P<head>arn:aws:iam::(?P<acct>\d{{12}}):(?P<kind>user|role|policy|instance-profile)"
                      rf"/(?:{_STOP}*/)*)(?P<name>{_STOP}*)")
_STS_ARN = re.compile(rf"(?P<head>arn:aws:sts::(?P<acct>\d{{12}}):assumed-role/)(?P<name>{_STOP}+)")
_NAME_PARAMS = {"RoleName": "role", "UserName": "user", "InstanceProfileName": "instance-profile"}

# What the target sends. Everything else (account settings, identity providers, MFA devices,
# service-linked roles, ...) is `unsupported`: it could touch what the run does not own, or
# create what its cleanup cannot delete.
_IAM_CALLS = frozenset("""
CreatePolicy CreatePolicyVersion DeletePolicy DeletePolicyVersion SetDefaultPolicyVersion GetPolicy GetPolicyVersion
ListPolicyVersions ListEntitiesForPolicy ListPolicies
CreateUser GetUser DeleteUser ListUsers TagUser UntagUser ListUserTags
CreateAccessKey DeleteAccessKey UpdateAccessKey ListAccessKeys
PutUserPolicy GetUserPolicy DeleteUserPolicy ListUserPolicies AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies
PutUserPermissionsBoundary DeleteUserPermissionsBoundary
CreateRole GetRole UpdateRole UpdateRoleDescription UpdateAssumeRolePolicy DeleteRole ListRoles TagRole UntagRole
ListRoleTags PutRolePolicy GetRolePolicy DeleteRolePolicy ListRolePolicies AttachRolePolicy DetachRolePolicy
ListAttachedRolePolicies PutRolePermissionsBoundary DeleteRolePermissionsBoundary
CreateInstanceProfile GetInstanceProfile DeleteInstanceProfile AddRoleToInstanceProfile RemoveRoleFromInstanceProfile
ListInstanceProfiles ListInstanceProfilesForRole
""".split())
_S3_CALLS = frozenset("""
CreateBucket DeleteBucket HeadBucket ListBuckets PutBucketPolicy GetBucketPolicy DeleteBucketPolicy
PutObject GetObject HeadObject DeleteObject ListObjects ListObjectsV2
""".split())
# List calls see the whole account: show the scenario only its own things.
_LISTS = {"ListRoles": ("Roles", "RoleName"), "ListUsers": ("Users", "UserName"),
          "ListPolicies": ("Policies", "PolicyName"),
          "ListInstanceProfiles": ("InstanceProfiles", "InstanceProfileName"), "ListBuckets": ("Buckets", "Name")}
_CREATES = {("iam", "CreateRole"): "role", ("iam", "CreateUser"): "user", ("iam", "CreatePolicy"): "policy",
            ("iam", "CreateInstanceProfile"): "instance-profile", ("s3", "CreateBucket"): "bucket"}
_TAGGERS = {"role": ("tag_role", "RoleName"), "user": ("tag_user", "UserName"),
            "instance-profile": ("tag_instance_profile", "InstanceProfileName"), "policy": ("tag_policy", "PolicyArn")}
_DELETES = {"DeleteRole": "role", "DeleteUser": "user", "DeletePolicy": "policy",
            "DeleteInstanceProfile": "instance-profile", "DeleteBucket": "bucket"}
# deletion order when sweeping: what holds a reference goes first
SWEEP_ORDER = ("instance-profile", "role", "user", "policy", "bucket")


def _name_limits() -> dict[str, int]:
    """Name length limits from botocore's IAM model (data over code)."""
    model = botocore.session.get_session().get_service_model("iam")
    shapes = {"role": "roleNameType", "user": "userNameType", "policy": "policyNameType",
              "instance-profile": "instanceProfileNameType"}
    return {kind: model.shape_for(shape).metadata["max"] for kind, shape in shapes.items()}


NAME_LIMITS = _name_limits()
BUCKET_LIMIT = 63  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html


# ----------------------------------------------------------------------------- config

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


# ----------------------------------------------------------------------------- names

def _fit(prefix: str, name: str, limit: int) -> str:
    """prefix+name, or, when that is too long, a shortened name made unique by a hash.

    The hash is of the lower-cased name: IAM names are unique regardless of case, so two
    names that collide on AWS still collide once shortened."""
    if len(prefix) + len(name) <= limit:
        return prefix + name
    digest = hashlib.sha256(name.lower().encode()).hexdigest()[:6]
    return prefix + name[: limit - len(prefix) - 7] + "-" + digest


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@dataclass
class _Resource:
    kind: str  # role, user, policy, instance-profile, bucket
    name: str  # concrete name (for a policy: its ARN once known)
    account: str | None  # None: whoever made it was not known; cleanup tries every account of the scenario
    path: str = "/"


class _Scenario:
    """One scenario's names: logical <-> concrete, and what it created."""

    def __init__(self, number: int, run_id: str, account_ids: Mapping[str, str]):
        self.number = number
        self.prefix = f"rc-{run_id}-{_b36(number)}-"
        self.run_prefix = f"rc-{run_id}-"
        self.accounts = set(account_ids.values())
        self.to_concrete: dict[tuple[str, str], str] = {}
        self.to_logical: dict[str, str] = {}
        self.buckets: set[str] = set()
        self.resources: list[_Resource] = []
        self.created_at: dict[str, float] = {}  # concrete name -> when it was created (monotonic)
        self.new_keys: dict[str, float] = {}  # access key id -> when it was created
        self.last_write: float | None = None
        self._back: re.Pattern | None = None

    def _learn(self, concrete: str, logical: str) -> None:
        if concrete != logical:
            self.to_logical[concrete] = logical
            self._back = None

    def iam_name(self, kind: str, logical: str) -> str:
        key = (kind, logical)
        if key in self.to_concrete:
            return self.to_concrete[key]
        limit = NAME_LIMITS[kind]
        if not (len(logical) <= limit and _IAM_NAME.fullmatch(logical)):
            return logical  # AWS rejects it as it is; prefixing could make an invalid name valid
        concrete = _fit(self.prefix, logical, limit)
        self.to_concrete[key] = concrete
        self._learn(concrete, logical)
        return concrete

    def bucket(self, name: str) -> str:
        if name in self.buckets or name.startswith(self.run_prefix) or not _BUCKET_NAME.fullmatch(name):
            return name
        concrete = _fit(self.prefix, name, BUCKET_LIMIT)
        self.buckets.add(concrete)
        self._learn(concrete, name)
        return concrete

    def arns(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.arns(v) for v in value]
        if isinstance(value, dict):
            return {k: self.arns(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        out = _IAM_ARN.sub(lambda m: self._arn_sub(m, m["kind"]), value)
        out = _STS_ARN.sub(lambda m: self._arn_sub(m, "role"), out)
        if "aws:username" in out.lower():
            out = self._usernames(out)
        return out

    def _arn_sub(self, m: re.Match, kind: str) -> str:
        name = m["name"]
        # `*`, `${aws:username}` and empty names stay: they match what the account holds at evaluation time
        if m["acct"] not in self.accounts or not name or name[0] in "*?" or "${" in name:
            return m.group(0)
        if "*" in name or "?" in name:
            concrete = self.prefix + name  # a pattern: prefixing keeps what it matches among the run's names
            self._learn(concrete, name)
        else:
            concrete = self.iam_name(kind, name)
        return m["head"] + concrete

    def _usernames(self, text: str) -> str:
        """`aws:username` condition values name users: they get the prefix too."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return text
        statements = doc.get("Statement") if isinstance(doc, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        changed = False
        for st in statements if isinstance(statements, list) else []:
            cond = st.get("Condition") if isinstance(st, dict) else None
            for block in cond.values() if isinstance(cond, dict) else []:
                if not isinstance(block, dict):
                    continue
                for key, v in block.items():
                    if key.lower() == "aws:username":
                        block[key] = [self._user_value(x) for x in v] if isinstance(v, list) else self._user_value(v)
                        changed = True
        return json.dumps(doc) if changed else text

    def _user_value(self, v: Any) -> Any:
        if not isinstance(v, str) or not v or v[0] in "*?" or "${" in v:
            return v
        return self.prefix + v if ("*" in v or "?" in v) else self.iam_name("user", v)

    def outgoing(self, service: str, action: str, params: Mapping[str, Any]) -> dict:
        out: dict[str, Any] = {}
        for key, value in params.items():
            if service == "iam" and key in _NAME_PARAMS and isinstance(value, str):
                out[key] = self.iam_name(_NAME_PARAMS[key], value)
            elif service == "iam" and key == "PolicyName" and action == "CreatePolicy" and isinstance(value, str):
                out[key] = self.iam_name("policy", value)  # inline policy names live inside their role or user
            elif service == "s3" and key == "Bucket" and isinstance(value, str):
                out[key] = self.bucket(value)
            elif key.endswith(("Arn", "Arns", "Document")) or key in ("Policy", "PermissionsBoundary"):
                out[key] = self.arns(value)
            elif service == "iam" and action.startswith("Untag") and key == "TagKeys" and isinstance(value, list):
                out[key] = [k for k in value if not (isinstance(k, str) and k.lower() == TAG_KEY)]
            else:
                out[key] = value
        return out

    def back(self, value: Any) -> Any:
        """Concrete names -> the scenario's names, in every string of a result or message."""
        if isinstance(value, str):
            if not self.to_logical or self.run_prefix not in value:
                return value
            if self._back is None:
                keys = sorted(self.to_logical, key=len, reverse=True)
                self._back = re.compile("|".join(re.escape(k) for k in keys))
            return self._back.sub(lambda m: self.to_logical[m.group(0)], value)
        if isinstance(value, dict):
            return {k: self.back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.back(v) for v in value]
        return value

    def mine(self, name: Any) -> bool:
        return isinstance(name, str) and (name in self.to_logical or name in self.buckets)

    def present(self, action: str, result: Any) -> Any:
        """What the scenario sees: its own things only, without the run's tag, under its own names."""
        if action in _LISTS and isinstance(result, dict):
            key, name_key = _LISTS[action]
            items = result.get(key)
            if isinstance(items, list):
                result = {**result, key: [i for i in items if self.mine(i.get(name_key))
                                          or (action == "ListPolicies" and ":aws:policy/" in str(i.get("Arn")))]}
        return self.back(_without_run_tag(result, top=True))


def _without_run_tag(value: Any, *, top: bool = False) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("Tags", "TagSet") and isinstance(v, list):
                v = [t for t in v if not (isinstance(t, dict) and str(t.get("Key", "")).lower() == TAG_KEY)]
                if not v and k == "Tags" and not top:
                    continue  # an entity without tags has no Tags list (List*Tags answers always have one)
            out[k] = _without_run_tag(v)
        return out
    if isinstance(value, list):
        return [_without_run_tag(v) for v in value]
    return value


# ----------------------------------------------------------------------------- interrupts

_LIVE: "weakref.WeakSet[AwsTarget]" = weakref.WeakSet()
_saved_handlers: dict[int, Any] = {}  # what SIGINT/SIGTERM did before the first open target
_cleaning = 0  # >0 while some target deletes resources
_interrupts_while_cleaning = 0


def _on_signal(signum, frame) -> None:
    global _interrupts_while_cleaning
    if _cleaning:
        _interrupts_while_cleaning += 1
        if _interrupts_while_cleaning == 1:
            _say("still deleting this run's AWS resources; interrupt again to stop (then run `rolecall aws sweep`)")
            return
    raise KeyboardInterrupt


@atexit.register
def _cleanup_live_targets() -> None:
    for target in list(_LIVE):
        try:
            target.close()
        except BaseException as exc:  # noqa: BLE001 - at exit, report and go on with the next target
            _say(f"cleanup at exit failed: {type(exc).__name__}: {exc}; run `rolecall aws sweep`")


def _say(text: str) -> None:
    sys.stderr.write(f"aws: {text}\n")
    sys.stderr.flush()


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


_GONE = {"NoSuchEntity", "NoSuchBucket", "404", "NotFound"}


# ----------------------------------------------------------------------------- the target

class AwsTarget(Boto3Target):
    name = "aws"
    # clients are handed around (cleanup, sweep) and administrators' come from profiles with
    # their own credential chain: one client per credentials, as boto3 users do
    share_clients = False
    # each minimising replay creates, waits for and deletes real resources (seconds, and an
    # account's API quotas): two, as on LocalStack, instead of forty
    minimise_replays = 2

    def __init__(self, config: AwsConfig) -> None:
        _check_opt_in()
        _check_endpoint(config.endpoint_url)
        super().__init__()
        self.config = config
        self.region = config.region
        self.endpoint_url = config.endpoint_url
        self.run_id = self._nonce  # 6 hex digits
        #: retries for IAM propagation, by error code: what the report shows per run
        self.retries: Counter = Counter()
        self.retried_calls = 0
        self.retry_log: list[dict] = []
        self.created = 0
        self.deleted = 0
        self.leftovers: list[_Resource] = []
        self._profiles: dict[str, boto3.session.Session] = {}
        self._accounts: dict[str, str] = {}  # logical -> account id
        self._admin_profile: dict[str, str] = {}  # account id -> profile
        self._key_accounts: dict[str, str] = {}  # access key id -> the account whose principal holds it
        self._scn: _Scenario | None = None
        self._scenario_no = 0
        self._opened = False
        self._abandoned = False
        self.announce = True  # the banner at open and the summary at close (sweep turns them off)

    # ---- sessions and clients
    def _new_session(self, profile: str | None = None) -> boto3.session.Session:
        core = botocore.session.Session(profile=profile)
        # "aws" means AWS: an AWS_ENDPOINT_URL left in the environment must not redirect it
        core.set_config_variable("ignore_configured_endpoint_urls", True)
        return boto3.session.Session(botocore_session=core, region_name=self.region)

    def client(self, service: str, creds: Credentials):
        if creds.access_key_id.startswith(_PROFILE):
            key = (service, creds.access_key_id)
            client = self._clients.get(key)
            if client is None:
                profile = creds.access_key_id[len(_PROFILE):]
                client = self._profiles[profile].client(service, region_name=self.region,
                                                         endpoint_url=self.endpoint_url, config=self._config)
                self._clients[key] = client
            return client
        if self._session is None:
            self._session = self._new_session()
        return super().client(service, creds)

    # ---- lifecycle
    def open(self) -> None:
        if self._opened:
            return
        _check_opt_in()
        _check_endpoint(self.endpoint_url)
        seen: dict[str, str] = {}
        for logical, profile in self.config.accounts.items():
            where = f"profile {profile!r} (account {logical})"
            try:
                session = self._profiles.get(profile) or self._new_session(profile)
                sts = session.client("sts", region_name=self.region, endpoint_url=self.endpoint_url,
                                     config=self._config)
                account = sts.get_caller_identity()["Account"]
            except botocore.exceptions.ClientError as exc:
                raise TargetUnavailable(f"aws: {where}: sts:GetCallerIdentity failed: {_code(exc)}") from None
            except botocore.exceptions.BotoCoreError as exc:
                raise TargetUnavailable(f"aws: {where}: {exc}") from None
            if account not in self.config.allowed_accounts:
                raise TargetUnavailable(f"aws: {where} is AWS account {account}, which is not in allowed_accounts of "
                                        f"{self.config.origin}; refusing to write anything")
            if account in seen:
                raise TargetUnavailable(f"aws: accounts {seen[account]} and {logical} are both AWS account {account}; "
                                        f"each logical account needs an AWS account of its own")
            seen[account] = logical
            self._profiles[profile] = session
            self._accounts[logical] = account
            self._admin_profile[account] = profile
        self._session = self._new_session()
        self._install_signal_handlers()
        _LIVE.add(self)
        self._opened = True
        if not self.announce:
            return
        where = f"a local stand-in at {self.endpoint_url} (not AWS)" if self.endpoint_url else "AWS"
        accounts = ", ".join(f"{lg}={acct}" for lg, acct in self._accounts.items())
        _say(f"run {self.run_id} on {where}, accounts {accounts}: names start with rc-{self.run_id}-, "
             f"tag {TAG_KEY}={self.run_id}")

    def close(self) -> None:
        if not self._opened:
            return
        try:
            if self._scn is not None:
                scn, self._scn = self._scn, None
                self._cleanup(scn.resources, scn)
            if self.leftovers and not self._abandoned:
                again, self.leftovers = self.leftovers, []
                self._cleanup(again, None)
        finally:
            self._opened = False
            _LIVE.discard(self)
            self._restore_signal_handlers()
            if self.announce:
                _say(self.summary())

    def summary(self) -> str:
        retried = ", ".join(f"{code} {n}" for code, n in sorted(self.retries.items()))
        text = (f"run {self.run_id}: {self.created} resources created, {self.deleted} deleted, "
                f"{len(self.leftovers)} left over; {self.retried_calls} calls retried for IAM propagation"
                + (f" ({retried})" if retried else ""))
        if self.leftovers:
            text += f"; remove the rest with `rolecall aws sweep --older-than 0h`"
        return text

    def stats(self) -> dict:
        return {"run_id": self.run_id, "created": self.created, "deleted": self.deleted,
                "leftovers": [f"{r.kind}/{r.name}" for r in self.leftovers], "retried_calls": self.retried_calls,
                "retries": dict(self.retries), "retry_log": list(self.retry_log)}

    @staticmethod
    def _install_signal_handlers() -> None:
        """SIGINT and SIGTERM become KeyboardInterrupt, so `finally` blocks (each scenario's end())
        clean up; a signal during cleanup is held back once. Not in a `rolecall` process, whose
        one handler (rolecall.interrupts) stops the run at a safe point, so cleanup runs anyway."""
        if threading.current_thread() is not threading.main_thread() or interrupts.installed():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                if signal.getsignal(sig) is not _on_signal:
                    _saved_handlers[sig] = signal.signal(sig, _on_signal)
            except (ValueError, OSError):
                pass

    @staticmethod
    def _restore_signal_handlers() -> None:
        if _LIVE or threading.current_thread() is not threading.main_thread():
            return
        for sig, old in list(_saved_handlers.items()):
            try:
                if signal.getsignal(sig) is _on_signal:
                    signal.signal(sig, old)
            except (ValueError, OSError):
                pass
            del _saved_handlers[sig]

    # ---- the hooks of Target
    def run(self, scenario: Scenario) -> Run:
        self.open()
        self._scenario_no += 1
        for logical, world in scenario.accounts.items():
            pinned = world.get("id")
            if logical not in self._accounts or (pinned and pinned != self._accounts[logical]):
                why = (f"the config maps no profile to account {logical}" if logical not in self._accounts else
                       f"account {logical} is pinned to {pinned}, the config maps it to another account")
                return Run(self.name, (), Outcome(id=f"setup:{logical}", outcome=ERROR, code="Unsupported",
                                                  message=f"aws: {why}"))
        return super().run(scenario)

    def allocate_account(self, logical: str, pinned: str | None) -> str:
        return self._accounts[logical]

    def bucket_name(self, logical_account: str, name: str, example: int) -> str:
        return _fit(f"rc-{self.run_id}-{_b36(self._scenario_no)}-", f"{logical_account.lower()}-{name}", BUCKET_LIMIT)

    def admin(self, account_id: str) -> Credentials:
        profile = self._admin_profile[account_id]
        return Credentials(_PROFILE + profile, "", account=account_id, label=f"admin:{account_id}")

    def begin(self, names) -> None:
        self._scn = _Scenario(self._scenario_no, self.run_id, names.account_ids)
        self._scn.buckets.update(names.bucket_names.values())

    def end(self, names) -> None:
        scn, self._scn = self._scn, None
        if scn is not None:
            self._cleanup(scn.resources, scn)

    def call(self, credentials: Credentials, service: str, action: str, params: Mapping[str, Any]) -> CallResult:
        self.open()
        if (service == "iam" and action not in _IAM_CALLS) or (service == "s3" and action not in _S3_CALLS) \
                or service not in ("iam", "sts", "s3"):
            raise Unsupported(f"aws: {service}:{action} is not among the calls the aws target sends "
                              f"(it could change what the run does not own, or leave what it cannot delete)")
        scn = self._scn
        if scn is None:  # a call outside a scenario: still prefixed, cleaned up at close
            scn = self._scn = _Scenario(self._scenario_no, self.run_id, {a: a for a in self._accounts.values()})
        admin = credentials.access_key_id.startswith(_PROFILE)
        account = credentials.account or self._key_accounts.get(credentials.access_key_id)
        sent = scn.outgoing(service, action, params)
        if (service, action) == ("s3", "CreateBucket") and self.region != "us-east-1" \
                and "CreateBucketConfiguration" not in sent:
            sent["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        resource = self._plan(service, action, sent, account, scn)
        tagged_inline = False
        if resource is not None and admin and service == "iam":
            tags = sent.get("Tags", [])
            if isinstance(tags, list) and len(tags) < 50:
                sent["Tags"] = [*tags, {"Key": TAG_KEY, "Value": self.run_id}]
                tagged_inline = True
        if not admin:
            self._settle(scn)
        try:
            res = self._send(credentials, service, action, sent, admin, scn)
        except CallFailed as exc:
            raise CallFailed(exc.code, exc.http_status, scn.back(exc.message), trace=exc.trace,
                             reason=exc.reason) from None
        self._after(service, action, sent, res.result, account, scn, resource, tagged_inline)
        return CallResult(scn.present(action, res.result), res.trace, res.reason)

    # ---- around one call
    def _plan(self, service: str, action: str, sent: dict, account: str | None, scn: _Scenario) -> _Resource | None:
        """The resource this call may create, recorded before the request leaves: a run killed while
        waiting for the answer still knows what to delete."""
        kind = _CREATES.get((service, action))
        if kind is None:
            return None
        name = sent.get("Bucket" if kind == "bucket" else
                        {"role": "RoleName", "user": "UserName", "policy": "PolicyName",
                         "instance-profile": "InstanceProfileName"}[kind])
        if not (isinstance(name, str) and name.startswith(scn.run_prefix)):
            return None  # not a name we gave: AWS rejects it
        path = sent.get("Path") if isinstance(sent.get("Path"), str) else "/"
        for r in scn.resources:
            if (r.kind, r.name, r.account) == (kind, name, account):
                return r
        resource = _Resource(kind, name, account, path)
        scn.resources.append(resource)
        return resource

    def _settle(self, scn: _Scenario) -> None:
        if self.config.settle_seconds and scn.last_write is not None:
            wait = scn.last_write + self.config.settle_seconds - time.monotonic()
            if wait > 0:
                interrupts.sleep(wait)  # a safe point: an interrupt ends the wait

    def _send(self, credentials: Credentials, service: str, action: str, params: dict, admin: bool,
              scn: _Scenario) -> CallResult:
        started = time.monotonic()
        delays = _backoff(self.config.retry_budget_seconds)
        attempt = 0
        while True:
            try:
                result = super().call(credentials, service, action, params)
            except CallFailed as exc:
                symptom = self._propagation_symptom(exc, credentials, params, admin, scn, started)
                if symptom is None or attempt >= len(delays):
                    if attempt:
                        self.retry_log[-1]["outcome"] = exc.code
                    raise
                if attempt == 0:
                    self.retried_calls += 1
                    self.retry_log.append({"scenario": scn.number, "call": f"{service}:{action}",
                                           "symptom": symptom, "retries": 0, "outcome": None})
                self.retries[exc.code] += 1
                self.retry_log[-1]["retries"] += 1
                interrupts.sleep(delays[attempt])
                attempt += 1
                continue
            if attempt:
                self.retry_log[-1]["outcome"] = "ok"
            return result

    def _propagation_symptom(self, exc: CallFailed, credentials: Credentials, params: dict, admin: bool,
                             scn: _Scenario, started: float) -> str | None:
        """Why this error may be IAM catching up with this run's own writes, or None (a real answer).

        Retried only: an unknown-key error for a key this run created and has not revoked;
        AccessDenied for a non-administrator while the scenario's last IAM write is recent;
        NoSuchEntity for a name this run created and has not deleted; "invalid principal" for a
        policy naming a principal this run just created. Each within PROPAGATION_WINDOW of that
        write. A retried call that still fails returns AWS's answer unchanged."""
        def recent(t: float | None) -> bool:
            return t is not None and started - t < PROPAGATION_WINDOW

        code = exc.code
        if code in ("InvalidClientTokenId", "InvalidAccessKeyId"):
            return "new-access-key" if recent(scn.new_keys.get(credentials.access_key_id)) else None
        if code in ("AccessDenied", "AccessDeniedException") and not admin:
            return "recent-iam-write" if recent(scn.last_write) else None
        if code == "NoSuchEntity":
            names = [v for k, v in params.items() if k in _NAME_PARAMS and isinstance(v, str)]
            names += [v.rsplit("/", 1)[-1] for k, v in params.items() if k.endswith("Arn") and isinstance(v, str)]
            return "new-entity" if any(recent(scn.created_at.get(n)) for n in names) else None
        if code == "MalformedPolicyDocument" and "principal" in (exc.message or "").lower():
            text = json.dumps(params, default=str)
            return "new-principal" if any(recent(t) and n in text for n, t in scn.created_at.items()) else None
        return None

    def _after(self, service: str, action: str, sent: dict, result: Any, account: str | None, scn: _Scenario,
               resource: _Resource | None, tagged_inline: bool) -> None:
        now = time.monotonic()
        if (service == "iam" and not action.startswith(("Get", "List"))) or \
                (service == "s3" and action in ("PutBucketPolicy", "DeleteBucketPolicy")):
            scn.last_write = now
        if not isinstance(result, dict):
            return
        if resource is not None:
            self.created += 1
            scn.created_at[resource.name] = now
            if resource.kind == "policy":
                arn = result.get("Policy", {}).get("Arn")
                if isinstance(arn, str):
                    resource.name, resource.account = arn, arn.split(":")[4]
                    scn.created_at[arn.rsplit("/", 1)[-1]] = now
            if not tagged_inline:
                self._tag(resource)
        if action == "CreateAccessKey":
            key = result.get("AccessKey", {}).get("AccessKeyId")
            if key:
                scn.new_keys[key] = now
                if account:
                    self._key_accounts[key] = account
        elif service == "sts" and "Credentials" in result:
            key = result["Credentials"].get("AccessKeyId")
            arn = result.get("AssumedRoleUser", {}).get("Arn") or result.get("FederatedUser", {}).get("Arn") or ""
            holder = arn.split(":")[4] if arn.count(":") >= 5 else account
            if key and holder:
                self._key_accounts[key] = holder
        elif action == "DeleteAccessKey" or (action == "UpdateAccessKey" and sent.get("Status") == "Inactive"):
            scn.new_keys.pop(sent.get("AccessKeyId"), None)
        elif action in _DELETES:
            for k in ("RoleName", "UserName", "InstanceProfileName", "Bucket", "PolicyArn"):
                if isinstance(sent.get(k), str):
                    scn.created_at.pop(sent[k], None)
                    scn.created_at.pop(sent[k].rsplit("/", 1)[-1], None)

    def _tag(self, r: _Resource) -> None:
        """Tag what a non-administrator created (or a bucket), as the owning account's administrator."""
        if r.account is None or r.account not in self._admin_profile:
            _say(f"{r.kind} {r.name}: owner account unknown, not tagged (sweep finds it with --include-untagged)")
            return
        tag = {"Key": TAG_KEY, "Value": self.run_id}
        try:
            if r.kind == "bucket":
                self.client("s3", self.admin(r.account)).put_bucket_tagging(Bucket=r.name, Tagging={"TagSet": [tag]})
            else:
                method, key = _TAGGERS[r.kind]
                getattr(self.client("iam", self.admin(r.account)), method)(**{key: r.name, "Tags": [tag]})
        except botocore.exceptions.ClientError as exc:
            _say(f"{r.kind} {r.name}: could not tag it ({_code(exc)}); cleanup still deletes it")

    # ---- cleanup
    def _cleanup(self, resources: list[_Resource], scn: _Scenario | None) -> None:
        """Delete in reverse order of creation; what fails is kept for close() and reported."""
        global _cleaning, _interrupts_while_cleaning
        _cleaning += 1
        todo = list(reversed(resources))
        try:
            while todo:
                r = todo[0]
                accounts = [r.account] if r.account else sorted(scn.accounts if scn else self._admin_profile)
                problem = None
                for account in accounts:
                    try:
                        if self._delete(r, account):
                            self.deleted += 1
                            problem = None
                            break
                    except botocore.exceptions.ClientError as exc:
                        # with the owner unknown, another account's AccessDenied is not the last word
                        problem = f"{_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
                    except (botocore.exceptions.BotoCoreError, TargetUnavailable) as exc:
                        problem = str(exc)
                if problem is not None:
                    _say(f"could not delete {r.kind} {r.name}: {problem}")
                    self.leftovers.append(r)
                todo.pop(0)
        except KeyboardInterrupt:
            # interrupted twice: stop deleting, but say what is left (close() does not try again)
            self.leftovers.extend(todo)
            self._abandoned = True
            raise
        finally:
            _cleaning -= 1
            if not _cleaning:
                _interrupts_while_cleaning = 0

    def _delete(self, r: _Resource, account: str) -> bool:
        creds = self.admin(account)
        if r.kind == "bucket":
            return delete_bucket(self.client("s3", creds), r.name, self._count_retry)
        iam = self.client("iam", creds)
        name = r.name
        if r.kind == "policy" and not name.startswith("arn:"):
            name = f"arn:aws:iam::{account}:policy{r.path}{name}"
        return DELETERS[r.kind](iam, name, self._count_retry)

    def _count_retry(self, code: str) -> None:
        self.retries[f"cleanup:{code}"] += 1


def _backoff(budget: float) -> list[float]:
    delays, total, d = [], 0.0, FIRST_DELAY
    while total + d <= budget:
        delays.append(d)
        total += d
        d *= 2
    if budget - total >= 0.25:
        delays.append(budget - total)
    return delays


# ----------------------------------------------------------------------------- deleting

def _pages(client, method: str, key: str, **kw) -> Iterator[Any]:
    if client.can_paginate(method):
        for page in client.get_paginator(method).paginate(**kw):
            yield from page.get(key, [])
    else:
        yield from getattr(client, method)(**kw).get(key, [])


def _gone(fn: Callable[[], Any]) -> bool:
    """Run fn; False when AWS says the thing is not there (anymore)."""
    try:
        fn()
        return True
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in _GONE:
            return False
        raise


def _conflicts(fn: Callable[[], Any], count: Callable[[str], None], budget: float = 8.0) -> None:
    """Deleting right after detaching can meet DeleteConflict while IAM catches up: retry briefly."""
    for delay in [*_backoff(budget), None]:
        try:
            fn()
            return
        except botocore.exceptions.ClientError as exc:
            if _code(exc) != "DeleteConflict" or delay is None:
                raise
            count("DeleteConflict")
            time.sleep(delay)


def delete_role(iam, name: str, count: Callable[[str], None]) -> bool:
    def inner():
        for ip in _pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name):
            _gone(lambda: iam.remove_role_from_instance_profile(InstanceProfileName=ip["InstanceProfileName"],
                                                                RoleName=name))
        for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
            _gone(lambda: iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"]))
        for p in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
            _gone(lambda: iam.delete_role_policy(RoleName=name, PolicyName=p))
        _conflicts(lambda: iam.delete_role(RoleName=name), count)
    return _gone(inner)


def delete_user(iam, name: str, count: Callable[[str], None]) -> bool:
    def inner():
        for k in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
            _gone(lambda: iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"]))
        for p in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name):
            _gone(lambda: iam.detach_user_policy(UserName=name, PolicyArn=p["PolicyArn"]))
        for p in _pages(iam, "list_user_policies", "PolicyNames", UserName=name):
            _gone(lambda: iam.delete_user_policy(UserName=name, PolicyName=p))
        for g in _pages(iam, "list_groups_for_user", "Groups", UserName=name):
            _gone(lambda: iam.remove_user_from_group(GroupName=g["GroupName"], UserName=name))
        _gone(lambda: iam.delete_login_profile(UserName=name))
        _conflicts(lambda: iam.delete_user(UserName=name), count)
    return _gone(inner)


def delete_policy(iam, arn: str, count: Callable[[str], None]) -> bool:
    def inner():
        for kind, key, detach, param in (("PolicyRoles", "RoleName", iam.detach_role_policy, "RoleName"),
                                         ("PolicyUsers", "UserName", iam.detach_user_policy, "UserName"),
                                         ("PolicyGroups", "GroupName", iam.detach_group_policy, "GroupName")):
            for e in _pages(iam, "list_entities_for_policy", kind, PolicyArn=arn):
                _gone(lambda: detach(**{param: e[key], "PolicyArn": arn}))
        for v in _pages(iam, "list_policy_versions", "Versions", PolicyArn=arn):
            if not v.get("IsDefaultVersion"):
                _gone(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"]))
        _conflicts(lambda: iam.delete_policy(PolicyArn=arn), count)
    return _gone(inner)


def delete_instance_profile(iam, name: str, count: Callable[[str], None]) -> bool:
    def inner():
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        for role in profile.get("Roles", []):
            _gone(lambda: iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"]))
        _conflicts(lambda: iam.delete_instance_profile(InstanceProfileName=name), count)
    return _gone(inner)


def delete_bucket(s3, name: str, count: Callable[[str], None]) -> bool:
    def inner():
        # the bucket policy goes first: a scenario's Deny could otherwise lock its administrator out
        try:
            s3.delete_bucket_policy(Bucket=name)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _GONE:
                raise
        # an unversioned object is listed as version "null"; plain listing is the fallback
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for key in ("Versions", "DeleteMarkers")
                 for v in _pages(s3, "list_object_versions", key, Bucket=name)]
        if not batch:
            batch = [{"Key": v["Key"]} for v in _pages(s3, "list_objects_v2", "Contents", Bucket=name)]
        for i in range(0, len(batch), 1000):
            s3.delete_objects(Bucket=name, Delete={"Objects": batch[i:i + 1000], "Quiet": True})
        s3.delete_bucket(Bucket=name)
    return _gone(inner)


DELETERS = {"role": delete_role, "user": delete_user, "policy": delete_policy,
            "instance-profile": delete_instance_profile}


# ----------------------------------------------------------------------------- sweep

@dataclass
class SweepResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    young: list[str] = field(default_factory=list)  # too recent for --older-than
    untagged: list[str] = field(default_factory=list)  # the prefix without the matching tag: not ours for sure


def _tag_value(tags: Any) -> str | None:
    for t in tags or []:
        if isinstance(t, dict) and str(t.get("Key", "")).lower() == TAG_KEY:
            return t.get("Value")
    return None


def _candidates(target: AwsTarget, account: str) -> Iterator[tuple[str, str, dt.datetime | None, str | None]]:
    """(kind, name or ARN, created, tag value) of everything in the account whose name has the run prefix."""
    creds = target.admin(account)
    iam, s3 = target.client("iam", creds), target.client("s3", creds)

    def tags(get: Callable[[], Any]) -> Any:
        # List* calls do not return tags (ListRoles, ListUsers...): each candidate's Get* does
        try:
            return get()
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _GONE:
                return _GONE  # deleted meanwhile
            if _code(exc) == "NoSuchTagSet":
                return None
            raise

    listings = (
        ("instance-profile", "list_instance_profiles", "InstanceProfiles", "InstanceProfileName",
         lambda n: iam.get_instance_profile(InstanceProfileName=n)["InstanceProfile"].get("Tags")),
        ("role", "list_roles", "Roles", "RoleName", lambda n: iam.get_role(RoleName=n)["Role"].get("Tags")),
        ("user", "list_users", "Users", "UserName", lambda n: iam.get_user(UserName=n)["User"].get("Tags")),
        ("policy", "list_policies", "Policies", "PolicyName", None),
    )
    for kind, method, key, name_key, get in listings:
        extra = {"Scope": "Local"} if kind == "policy" else {}
        for item in _pages(iam, method, key, **extra):
            name = item[name_key]
            if not RUN_PREFIX.match(name):
                continue
            found = tags(lambda: iam.get_policy(PolicyArn=item["Arn"])["Policy"].get("Tags")) if kind == "policy" \
                else tags(lambda: get(name))
            if found is not _GONE:
                yield kind, item["Arn"] if kind == "policy" else name, item.get("CreateDate"), _tag_value(found)
    for b in s3.list_buckets().get("Buckets", []):
        if RUN_PREFIX.match(b["Name"]):
            found = tags(lambda: s3.get_bucket_tagging(Bucket=b["Name"]).get("TagSet"))
            if found is not _GONE:
                yield "bucket", b["Name"], b.get("CreationDate"), _tag_value(found)


def sweep(target: AwsTarget, older_than: dt.timedelta, *, dry_run: bool = False, include_untagged: bool = False,
          echo: Callable[[str], None] = print) -> SweepResult:
    """Delete what earlier runs left: a name starting rc-<run id>- and the tag rolecall:run-id=<run id>,
    created more than `older_than` ago, in every account of the config."""
    target.announce = False
    target.open()
    cutoff = dt.datetime.now(dt.timezone.utc) - older_than
    out = SweepResult()
    for logical, account in target._accounts.items():
        try:
            found = list(_candidates(target, account))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            echo(f"could not list account {logical} ({account}): {exc}")
            out.failed.append(f"account {logical}")
            continue
        found.sort(key=lambda c: SWEEP_ORDER.index(c[0]))
        for kind, name, created, tag in found:
            label = f"{kind} {name} (account {logical} {account})"
            run_id = RUN_PREFIX.match(name.rsplit("/", 1)[-1]).group(1)
            if tag != run_id and not (include_untagged and tag is None):
                out.untagged.append(label)
                continue
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=dt.timezone.utc)
            if created is not None and created > cutoff:
                out.young.append(label)
                continue
            if dry_run:
                echo(f"would delete {label}")
                out.deleted.append(label)
                continue
            try:
                target._delete(_Resource(kind, name, account), account)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                echo(f"could not delete {label}: {exc}")
                out.failed.append(label)
                continue
            echo(f"deleted {label}")
            out.deleted.append(label)
    return out


# ----------------------------------------------------------------------------- factory

def aws(aws_config: str | os.PathLike | None = None, endpoint_url: str | None = None) -> AwsTarget:
    """The aws target. Nothing is sent until opted in (ROLECALL_AWS_OPT_IN=1) and allowlisted."""
    _check_opt_in()
    try:
        config = load_config(config_path(aws_config))
    except AwsConfigError as exc:
        raise TargetUnavailable(f"aws: {exc}") from None
    if endpoint_url is not None:
        config = AwsConfig(config.origin, config.accounts, config.allowed_accounts, config.region,
                           config.settle_seconds, config.retry_budget_seconds, endpoint_url)
    return AwsTarget(config)
