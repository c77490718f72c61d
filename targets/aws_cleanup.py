"""Deleting what the `aws` target created: one function per kind of resource (detaching and
emptying it first), and `sweep`, which finds what killed runs left behind by name prefix and
tag (`rolecall aws sweep`).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import botocore.exceptions

from rolecall.targets.aws_names import RUN_PREFIX, TAG_KEY, _Resource

if TYPE_CHECKING:
    from rolecall.targets.aws import AwsTarget

FIRST_DELAY = 0.5  # seconds before the first retry; each next one waits twice as long
# deletion order when sweeping: what holds a reference goes first
SWEEP_ORDER = ("instance-profile", "role", "user", "policy", "bucket")
_GONE = {"NoSuchEntity", "NoSuchBucket", "404", "NotFound"}


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _backoff(budget: float) -> list[float]:
    """The waits of a doubling backoff within `budget` seconds: for DeleteConflict here, and for
    IAM's propagation in the target's calls."""
    delays, total, d = [], 0.0, FIRST_DELAY
    while total + d <= budget:
        delays.append(d)
        total += d
        d *= 2
    if budget - total >= 0.25:
        delays.append(budget - total)
    return delays



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
