"""Accounts reused between scenarios, each emptied first to be as a fresh one.

Some servers pay for an account on its first call (LocalStack 4.x and LocalEmu build every
AWS managed policy in it: about 0.3 s), and rolecall gives every scenario fresh accounts. A
target that reuses accounts keeps a `Journal` of the calls a scenario made, then `undo`
deletes what they made (what the world's set-up and the steps created, in the order IAM
requires: keys, inline and attached policies, memberships, then the entities, then objects
and buckets) as each account's administrator, and the account goes back to the `AccountPool`.
An account is reused only when every call made in it is one whose effect `undo` removes and
every deletion succeeded (or found the thing already gone); otherwise it is retired, never
used again. Service-linked roles are found by their path (the server names them and attaches
their policies) and deleted as any role; `DeleteServiceLinkedRole` retires the account
(LocalStack drops the role's policies without detaching them: their attachment counts stay raised). tests/test_account_reuse.py runs the same scenarios on fresh and reused accounts
and compares every answer.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

#: calls that change nothing a later scenario could see (sts keeps sessions, but their
#: credentials are known only to the scenario that made them)
READ_ONLY_PREFIXES = {"iam": ("Get", "List", "Simulate"), "s3": ("Get", "List", "Head"), "sts": ("",)}
#: calls whose effect `undo` removes, or that only remove or change what `undo` deletes anyway
UNDONE = {
    "iam": {"CreateUser", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "PutUserPolicy",
            "DeleteUserPolicy", "AttachUserPolicy", "DetachUserPolicy", "PutUserPermissionsBoundary",
            "DeleteUserPermissionsBoundary", "DeleteUser", "CreateGroup", "PutGroupPolicy", "DeleteGroupPolicy",
            "AttachGroupPolicy", "DetachGroupPolicy", "AddUserToGroup", "RemoveUserFromGroup", "DeleteGroup",
            "CreateRole", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
            "UpdateAssumeRolePolicy", "UpdateRole", "UpdateRoleDescription", "PutRolePermissionsBoundary",
            "DeleteRolePermissionsBoundary", "DeleteRole", "CreateServiceLinkedRole", "CreatePolicy", "DeletePolicy",
            "CreateInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile",
            "DeleteInstanceProfile"},
    "s3": {"CreateBucket", "PutObject", "DeleteObject", "DeleteObjects", "PutBucketPolicy", "DeleteBucketPolicy",
           "DeleteBucket"},
}
#: errors that say a deletion found the thing already gone
GONE = {"NoSuchEntity", "NoSuchBucket", "NoSuchKey"}
_SESSION_CALLS = {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


@dataclass
class Entry:
    """One call of a scenario: who made it, what, and what came back (None: it failed)."""
    access_key_id: str
    account: str | None  # the caller's account when the credentials say it (an administrator)
    service: str
    action: str
    params: Mapping[str, Any]
    result: Any = None


@dataclass
class Journal:
    entries: list[Entry] = field(default_factory=list)

    def record(self, access_key_id: str, account: str | None, service: str, action: str,
               params: Mapping[str, Any], result: Any = None) -> None:
        self.entries.append(Entry(access_key_id, account, service, action, dict(params), result))


class AccountPool:
    """Emptied accounts of one target, taken first-in first-out (so a seeded run takes the same)."""

    def __init__(self) -> None:
        self._free: list[str] = []
        self._lock = threading.Lock()
        self.reused = 0  # accounts given out again
        self.retired = 0  # accounts not given back (a call undo cannot take back, a deletion refused)
        self.undo_calls = 0  # deletions made to empty accounts

    def take(self) -> str | None:
        with self._lock:
            if not self._free:
                return None
            self.reused += 1
            return self._free.pop(0)

    def give_back(self, accounts) -> None:
        with self._lock:
            self._free.extend(accounts)

    def clear(self) -> None:
        with self._lock:
            self._free.clear()


def _mutates(service: str, action: str) -> bool:
    return not action.startswith(READ_ONLY_PREFIXES.get(service, ("\0",)))


@dataclass
class _Made:
    """What a scenario's calls may have made in one account, to delete."""
    users: dict[str, dict[str, set]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    groups: dict[str, dict[str, set]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    roles: dict[str, dict[str, set]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    #: a service-linked role may have been made: the server names it and attaches its policies
    find_service_linked: bool = False
    profiles: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    policies: set = field(default_factory=set)
    buckets: dict[str, set] = field(default_factory=lambda: defaultdict(set))


def plan(journal: Journal, accounts: set[str]) -> tuple[dict[str, _Made], set[str]]:
    """What to delete in each of `accounts`, and the accounts to retire (a call made there
    that `undo` cannot take back, or whose account cannot be told)."""
    key_account: dict[str, str] = {a: a for a in accounts}  # on these emulators an account id is its root key
    key_user: dict[str, str] = {}
    made: dict[str, _Made] = {a: _Made() for a in accounts}
    retire: set[str] = set()
    bucket_owner: dict[str, str] = {}
    for e in journal.entries:
        acct = e.account or key_account.get(e.access_key_id)
        p, res = e.params, e.result if isinstance(e.result, dict) else {}
        if e.service == "sts":
            new_key = (res.get("Credentials") or {}).get("AccessKeyId")
            if new_key and e.action in _SESSION_CALLS:
                arn = (res.get("AssumedRoleUser") or {}).get("Arn", "")
                key_account[new_key] = arn.split(":")[4] if arn.count(":") >= 5 else ""
            elif new_key and acct:
                key_account[new_key] = acct
            continue
        if not _mutates(e.service, e.action):
            continue
        if e.service == "s3":
            bucket = p.get("Bucket")
            if e.action == "CreateBucket":
                if acct not in made:  # a bucket in an account rolecall cannot tell
                    retire |= accounts
                    continue
                bucket_owner.setdefault(bucket, acct)
            if e.action not in UNDONE["s3"] or not bucket:
                retire |= accounts  # a change to a bucket rolecall will not delete, or to no bucket
            elif e.action == "PutObject":
                made_for = bucket_owner.get(bucket)
                if made_for in made:
                    made[made_for].buckets[bucket].add(p.get("Key"))
            continue
        if acct not in made or e.action not in UNDONE.get(e.service, ()):
            retire |= {acct} & accounts if acct in made else accounts
            continue
        m, a = made[acct], e.action
        user = p.get("UserName")
        if a == "CreateAccessKey":
            key = (res.get("AccessKey") or {}).get("AccessKeyId")
            user = user or key_user.get(e.access_key_id)
            if user is None:
                retire.add(acct)
                continue
            if key:
                key_account[key], key_user[key] = acct, user
                m.users[user]["keys"].add(key)
        elif a == "CreateUser":
            m.users[user]
        elif a in ("PutUserPolicy", "AttachUserPolicy"):
            m.users[user]["inline" if a.startswith("Put") else "attached"].add(p.get("PolicyName") or p.get("PolicyArn"))
        elif a == "AddUserToGroup":
            m.groups[p.get("GroupName")]["members"].add(user)
        elif a == "CreateGroup":
            m.groups[p.get("GroupName")]
        elif a in ("PutGroupPolicy", "AttachGroupPolicy"):
            m.groups[p.get("GroupName")]["inline" if a.startswith("Put") else "attached"].add(
                p.get("PolicyName") or p.get("PolicyArn"))
        elif a == "CreateRole":
            m.roles[p.get("RoleName")]
        elif a == "CreateServiceLinkedRole":
            m.find_service_linked = True  # its name is the server's: listed by path when emptying
        elif a in ("PutRolePolicy", "AttachRolePolicy"):
            m.roles[p.get("RoleName")]["inline" if a.startswith("Put") else "attached"].add(
                p.get("PolicyName") or p.get("PolicyArn"))
        elif a == "CreatePolicy":
            arn = (res.get("Policy") or {}).get("Arn") or \
                f"arn:aws:iam::{acct}:policy{p.get('Path') or '/'}{p.get('PolicyName')}"
            m.policies.add(arn)
        elif a == "CreateInstanceProfile":
            m.profiles[p.get("InstanceProfileName")]
        elif a == "AddRoleToInstanceProfile":
            m.profiles[p.get("InstanceProfileName")].add(p.get("RoleName"))
    for bucket, owner in bucket_owner.items():
        if owner in made:
            made[owner].buckets[bucket]
    return made, retire


def _named(names) -> list:
    """The names to delete, in order; a call that named nothing (a parameter left out, so AWS
    refused it) made nothing to delete."""
    return sorted((n for n in names if n is not None), key=str)


def _entities(by_name: Mapping) -> list:
    return [(name, what) for name, what in by_name.items() if name is not None]


def undo(call: Callable[..., str | None], made: Mapping[str, _Made]) -> set[str]:
    """Delete what `plan` found, as each account's administrator; `call(account, service, action,
    params, results=None)` returns None or the error code (and appends the call's result to
    `results` when given). The accounts left as fresh ones."""
    clean = set()
    for acct, m in made.items():
        if m.find_service_linked and not _find_service_linked(call, acct, m):
            continue
        calls: list[tuple[str, str, dict]] = []
        for user, d in _entities(m.users):
            calls += [("iam", "DeleteAccessKey", {"UserName": user, "AccessKeyId": k}) for k in _named(d["keys"])]
            calls += [("iam", "DeleteUserPolicy", {"UserName": user, "PolicyName": n}) for n in _named(d["inline"])]
            calls += [("iam", "DetachUserPolicy", {"UserName": user, "PolicyArn": n}) for n in _named(d["attached"])]
        for group, d in _entities(m.groups):
            calls += [("iam", "RemoveUserFromGroup", {"GroupName": group, "UserName": u}) for u in _named(d["members"])]
            calls += [("iam", "DeleteGroupPolicy", {"GroupName": group, "PolicyName": n}) for n in _named(d["inline"])]
            calls += [("iam", "DetachGroupPolicy", {"GroupName": group, "PolicyArn": n}) for n in _named(d["attached"])]
        calls += [("iam", "DeleteUser", {"UserName": u}) for u in _named(m.users)]
        calls += [("iam", "DeleteGroup", {"GroupName": g}) for g in _named(m.groups)]
        for profile, roles in _entities(m.profiles):
            calls += [("iam", "RemoveRoleFromInstanceProfile", {"InstanceProfileName": profile, "RoleName": r})
                      for r in _named(roles)]
            calls.append(("iam", "DeleteInstanceProfile", {"InstanceProfileName": profile}))
        for role, d in _entities(m.roles):
            calls += [("iam", "DeleteRolePolicy", {"RoleName": role, "PolicyName": n}) for n in _named(d["inline"])]
            calls += [("iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": n}) for n in _named(d["attached"])]
            calls.append(("iam", "DeleteRole", {"RoleName": role}))
        calls += [("iam", "DeletePolicy", {"PolicyArn": arn}) for arn in _named(m.policies)]
        for bucket, keys in _entities(m.buckets):
            calls += [("s3", "DeleteObject", {"Bucket": bucket, "Key": k}) for k in sorted(k for k in keys if k)]
            calls.append(("s3", "DeleteBucket", {"Bucket": bucket}))
        if all(call(acct, service, action, params) in (None, *GONE) for service, action, params in calls):
            clean.add(acct)
    return clean


def _find_service_linked(call: Callable[..., str | None], acct: str, m: _Made) -> bool:
    """Add the account's service-linked roles, and the policies attached to them, to what `undo`
    deletes; False when they cannot be listed."""
    roles: list = []
    if call(acct, "iam", "ListRoles", {"PathPrefix": "/aws-service-role/"}, results=roles) is not None:
        return False
    for role in (roles[0] if roles else {}).get("Roles", []):
        name = role.get("RoleName")
        attached: list = []
        if call(acct, "iam", "ListAttachedRolePolicies", {"RoleName": name}, results=attached) not in (None, *GONE):
            return False
        m.roles[name]["attached"].update(p.get("PolicyArn") for p in (attached[0] if attached else {}).get(
            "AttachedPolicies", []))
    return True
