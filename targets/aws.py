"""The `aws` target: real AWS, only on explicit opt-in (ROLECALL_AWS_OPT_IN=1 and a config file).

Each logical account (A, B, ...) is a named AWS profile whose account id must be on the
config's allowlist, checked with sts:GetCallerIdentity before anything is written. Every
resource is named `rc-<run id>-<scenario>-<name>` and tagged `rolecall:run-id`; names map
back to the scenario's own before outcomes are normalised. Cleanup runs after each scenario,
at exit and on SIGINT/SIGTERM; `rolecall aws sweep` removes what a killed run left behind.
docs/aws.md tells the whole contract. This module is the target itself (sessions, the call
and its retries, cleanup after each scenario); its config file is read by aws_config.py, its
names are made and mapped back by aws_names.py, and aws_cleanup.py deletes and sweeps.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import threading
import time
import weakref
from collections import Counter
from typing import Any, Mapping

import boto3
import botocore.exceptions
import botocore.session

from rolecall import interrupts
from rolecall.outcome import ERROR, Outcome, Run
from rolecall.scenario import Scenario
from rolecall.targets.aws_cleanup import (DELETERS, FIRST_DELAY, SWEEP_ORDER, SweepResult, _backoff, _code,
                                          delete_bucket, delete_instance_profile, delete_policy, delete_role,
                                          delete_user, sweep)
from rolecall.targets.aws_config import (CONFIG_ENV, CONFIG_KEYS, OPT_IN_ENV, RETRY_BUDGET, STAND_IN_ENV, AwsConfig,
                                         AwsConfigError, _check_endpoint, _check_opt_in, config_path, load_config)
from rolecall.targets.aws_names import (BUCKET_LIMIT, NAME_LIMITS, RUN_PREFIX, TAG_KEY, _NAME_PARAMS, _b36, _fit,
                                        _Resource, _Scenario)
from rolecall.targets.base import CallFailed, CallResult, Credentials, TargetUnavailable, Unsupported
from rolecall.targets.boto import Boto3Target

# The target's public names, wherever they live: its config (aws_config.py), its names
# (aws_names.py) and its cleanup and sweep (aws_cleanup.py) are imported from here.
__all__ = ["AwsConfig", "AwsConfigError", "AwsTarget", "BUCKET_LIMIT", "CONFIG_ENV", "CONFIG_KEYS", "DELETERS",
           "FIRST_DELAY", "NAME_LIMITS", "OPT_IN_ENV", "PROPAGATION_WINDOW", "RETRY_BUDGET", "RUN_PREFIX",
           "STAND_IN_ENV", "SWEEP_ORDER", "SweepResult", "TAG_KEY", "aws", "config_path", "delete_bucket",
           "delete_instance_profile", "delete_policy", "delete_role", "delete_user", "load_config", "sweep"]

# IAM is eventually consistent: "changes that you make are not always immediately visible"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
# A call is retried only for a symptom of that, caused by something this run wrote this
# recently (see `_propagation_symptom`), and for at most the retry budget.
PROPAGATION_WINDOW = 10.0

_PROFILE = "profile:"  # marks administrator credentials: the profile's own session signs the call

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
_CREATES = {("iam", "CreateRole"): "role", ("iam", "CreateUser"): "user", ("iam", "CreatePolicy"): "policy",
            ("iam", "CreateInstanceProfile"): "instance-profile", ("s3", "CreateBucket"): "bucket"}
_TAGGERS = {"role": ("tag_role", "RoleName"), "user": ("tag_user", "UserName"),
            "instance-profile": ("tag_instance_profile", "InstanceProfileName"), "policy": ("tag_policy", "PolicyArn")}
_DELETES = {"DeleteRole": "role", "DeleteUser": "user", "DeletePolicy": "policy",
            "DeleteInstanceProfile": "instance-profile", "DeleteBucket": "bucket"}


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
