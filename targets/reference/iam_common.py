"""Shared by the IAM operations of the reference model (iam.py lists the modules): IAM's quotas,
the caller's account and authorization, policy documents, paths, tags, pages of a list, and each
entity as IAM looks it up and answers it.

Names are unique without regard to case:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names
Unique-id prefixes: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
"""
from __future__ import annotations

import json
import re
from typing import Any

from rolecall import aws
from rolecall.targets.reference import access
from rolecall.targets.reference import managed_policies
from rolecall.targets.reference.model import AwsError, Caller, Group, InstanceProfile, Model, Role, User
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, UnevaluablePolicy, parse_policy

QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
# Character limits that botocore's model does not carry (IAM ignores white space when counting).
TRUST_POLICY_MAX = 2048          # role trust policy, default quota
MANAGED_POLICY_MAX = 6144        # managed policy document
ROLE_INLINE_AGGREGATE_MAX = 10240  # all inline policies of a role
USER_INLINE_AGGREGATE_MAX = 2048   # all inline policies of a user
SLR_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html"
ACCESS_KEYS_PER_USER = 2         # "Access keys assigned to an IAM user", QUOTAS
# AWS's recorded answers (LocalStack's AWS-validated snapshots, tests/aws/services/iam/, commit
# 708a15e6aa0ecfc5dc8e91c2290d7b0abca73b41, recorded February 2026); the scenarios that replay
# them are in scenarios/aws-recorded/, each naming its test and snapshot key.
RECORDED = "https://github.com/localstack/localstack/tree/708a15e6aa0ecfc5dc8e91c2290d7b0abca73b41/tests/aws/services/iam"

_WS = re.compile(r"\s+")


def _size(document: str) -> int:
    return len(_WS.sub("", document))


def _account(model: Model, caller: Caller) -> str:
    if caller.kind == "session":
        return caller.session.role_account
    if caller.account is None:
        raise NotModelled("a service calling IAM is not modelled")
    return caller.account


def _authorize(model: Model, caller: Caller, action: str, resource: str) -> str:
    acct = _account(model, caller)
    access.require(model, caller, f"iam:{action}", resource, resource_account=acct)
    return acct



def _named_entity(model: Model, acct: str, action: str, p: dict) -> tuple[str, str, bool] | None:
    """(kind, name, exists) of the entity an IAM action is authorized on, as its parameters
    name it; None when the action names none (List* of the account, CreatePolicy, ...)."""
    if "InstanceProfile" in action and action != "ListInstanceProfilesForRole":
        kind, name, held = "instance-profile", p.get("InstanceProfileName"), model.account(acct).instance_profiles
    elif "Group" in action and action != "ListGroupsForUser":
        kind, name, held = "group", p.get("GroupName"), model.account(acct).groups
    elif "Role" in action:
        kind, name, held = "role", p.get("RoleName"), model.account(acct).roles
    elif "User" in action or "AccessKey" in action:
        kind, name, held = "user", p.get("UserName"), model.account(acct).users
    else:
        return None
    if not isinstance(name, str) or not name:
        return None
    return kind, name, name.lower() in held


def authorize_missing(model: Model, caller: Caller, action: str, p: dict) -> None:
    """A call failed with NoSuchEntity: when it was the entity the action is authorized on that
    is missing, the caller must still have been allowed the action on it (on the ARN its name
    gives, without a path), or AWS answers AccessDenied first."""
    if caller.kind in ("admin", "root"):
        return
    acct = _account(model, caller)
    named = _named_entity(model, acct, action, p)
    if named is None or named[2]:
        return  # the entity exists: the handler authorized on it before it found something else missing
    kind, name, _ = named
    _authorize(model, caller, action, f"arn:aws:iam::{acct}:{kind}/{name}")


def _parse(document: Any, kind: str, *, managed: bool = False):
    if not isinstance(document, str):
        raise AwsError("MalformedPolicyDocument", 400, "This policy contains invalid Json")
    if managed:
        _managed_document_checks(document)
    try:
        return parse_policy(document, kind)
    except MalformedPolicy as exc:
        raise AwsError(exc.code, 400, exc.message) from None
    except NotModelled as exc:
        if kind == "trust":
            raise
        # valid, but names what the model cannot evaluate: stored; a decision that needs it is NotModelled
        return UnevaluablePolicy(document, kind, str(exc))


def _managed_document_checks(document: str) -> None:
    """A managed policy's document: not JSON is "Syntax errors in policy."; the 2008-10-17
    Version (also when Version is missing) is refused before any other check (AWS-recorded:
    test_iam_policies.py::TestPolicyDocumentValidity invalid-0, 1, 2, 60, 65, 66; RECORDED)."""
    try:
        doc = json.loads(document)
    except ValueError:
        raise AwsError("MalformedPolicyDocument", 400, "Syntax errors in policy.") from None
    if isinstance(doc, dict) and doc.get("Version", "2008-10-17") == "2008-10-17":
        # (any other Version string is a syntax error, as for every policy: invalid-3)
        raise AwsError("MalformedPolicyDocument", 400, "Policy document must be version 2012-10-17 or greater.")


def _path(params: dict) -> str:
    return params.get("Path") or "/"


def _path_prefix(p: dict) -> str:
    return p.get("PathPrefix") or "/"


def _page(key: str, items: list, p: dict) -> dict:
    """MaxItems and Marker: IsTruncated with an opaque Marker while more remain
    (https://docs.aws.amazon.com/IAM/latest/APIReference/Pagination.html)."""
    start = 0
    if p.get("Marker"):
        marker = str(p["Marker"])
        if not marker.startswith("rolecall-marker-"):
            raise NotModelled(f"a Marker the model did not issue ({marker!r})")
        start = int(marker.rsplit("-", 1)[1])
    size = int(p.get("MaxItems") or 100)
    page = items[start:start + size]
    out: dict = {key: page, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = f"rolecall-marker-{start + size}"
    return out


def _tags(params: dict, key: str = "Tags") -> dict[str, str]:
    """Tags keep their order; keys are unique without regard to case: a duplicate is InvalidInput
    (recorded: test_iam_roles.py::TestRoleTags::test_role_tag_errors, RECORDED)."""
    out: dict[str, str] = {}
    for t in params.get(key) or []:
        if t["Key"].lower() in (k.lower() for k in out):
            raise AwsError("InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        out[t["Key"]] = t.get("Value", "")
    return out


def _tag_list(tags: dict[str, str]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _merge_tags(current: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """TagRole/TagUser: a key given again (in any case) takes the new spelling and value, in its place
    (recorded: TestRoleTags::test_role_tag_operations, list-role-tags-after-casing-update)."""
    out = dict(current)
    for k, v in new.items():
        old = next((o for o in out if o.lower() == k.lower()), None)
        if old is None:
            out[k] = v
        else:
            out = {(k if o == old else o): (v if o == old else ov) for o, ov in out.items()}
    return out


def _role(model: Model, acct: str, name: str) -> Role:
    role = model.account(acct).roles.get(str(name).lower())
    if role is None:
        raise AwsError("NoSuchEntity", 404, f"The role with name {name} cannot be found.")
    return role


def _user(model: Model, acct: str, name: str) -> User:
    user = model.account(acct).users.get(str(name).lower())
    if user is None:
        raise AwsError("NoSuchEntity", 404, f"The user with name {name} cannot be found.")
    return user


def _profile(model: Model, acct: str, name: str) -> InstanceProfile:
    ip = model.account(acct).instance_profiles.get(str(name).lower())
    if ip is None:
        raise AwsError("NoSuchEntity", 404, f"Instance Profile {name} cannot be found.")
    return ip


def _group(model: Model, acct: str, name: Any) -> Group:
    group = model.account(acct).groups.get(str(name).lower())
    if group is None:
        raise AwsError("NoSuchEntity", 404, f"The group with name {name} cannot be found.")
    return group


def _role_dict(role: Role, view: str = "get") -> dict:
    """A role as each call answers it (recorded, RECORDED: test_iam_roles.py): CreateRole has no
    MaxSessionDuration and no RoleLastUsed; GetRole has both (RoleLastUsed {} until the role is
    used); ListRoles has MaxSessionDuration, but no RoleLastUsed, Tags or PermissionsBoundary."""
    d = {"Path": role.path, "RoleName": role.name, "RoleId": role.id, "Arn": role.arn,
         "CreateDate": role.create_date, "AssumeRolePolicyDocument": json.loads(role.trust_document)}
    if view == "update-description":
        # UpdateRoleDescription: CreateRole's shape with the Description (recorded:
        # update-role-description-response in TestRoleLifecycle::test_update_role)
        view = "create"
        if role.description:
            d["Description"] = role.description
    if view == "create":
        # nor a Description given to CreateRole (recorded: create-role-with-boundary in
        # TestRolePermissionsBoundary::test_role_permissions_boundary_lifecycle, create-role-0 in
        # TestRolePagination::test_list_roles_pagination)
        if role.boundary:
            d["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": role.boundary}
        if role.tags:
            d["Tags"] = _tag_list(role.tags)
        return d
    if role.description:
        d["Description"] = role.description
    d["MaxSessionDuration"] = role.max_session_duration
    if view == "list":
        return d
    if role.boundary:
        d["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": role.boundary}
    if role.tags:
        d["Tags"] = _tag_list(role.tags)
    if view == "get":
        d["RoleLastUsed"] = {}
    return d


def _user_dict(user: User, *, tags: bool = True) -> dict:
    out = {"Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn,
           "CreateDate": user.create_date}
    if user.boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": user.boundary}
    if tags and user.tags:
        out["Tags"] = _tag_list(user.tags)
    return out


def _profile_dict(model: Model, ip: InstanceProfile, *, tags: bool) -> dict:
    """GetInstanceProfile answers Tags (also []); its roles have CreateRole's shape (recorded,
    RECORDED: test_iam_instance_profiles.py::TestInstanceProfileRoles::test_add_remove_role_from_instance_profile)."""
    roles = [_role_dict(model.account(ip.account).roles[name.lower()], "create") for name in ip.roles]
    out = {"Path": ip.path, "InstanceProfileName": ip.name, "InstanceProfileId": ip.id, "Arn": ip.arn,
           "CreateDate": ip.create_date, "Roles": roles}
    if tags:
        out["Tags"] = _tag_list(ip.tags)
    return out


def _group_dict(group: Group) -> dict:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.id, "Arn": group.arn,
            "CreateDate": group.create_date}


# What keeps an entity from being deleted, in the order IAM checks it, with IAM's message
# (DeleteConflict, 409); the sources are at each Delete* operation.
_DETACH_FIRST = "Cannot delete entity, must detach all policies first."
_DELETE_INLINE_FIRST = "Cannot delete entity, must delete policies first."
_REMOVE_USERS_FIRST = "Cannot delete entity, must remove users from group first."
_REMOVE_ROLES_FIRST = "Cannot delete entity, must remove roles from instance profile first."
DELETE_CONFLICTS = {
    "role": (("managed", _DETACH_FIRST), ("inline", _DELETE_INLINE_FIRST), ("instance_profiles", _REMOVE_ROLES_FIRST)),
    "user": (("managed", _DETACH_FIRST), ("inline", _DELETE_INLINE_FIRST),
             ("access_keys", "Cannot delete entity, must delete access keys first."), ("groups", _REMOVE_USERS_FIRST)),
    "group": (("members", _REMOVE_USERS_FIRST), ("managed", _DETACH_FIRST), ("inline", _DELETE_INLINE_FIRST)),
    "instance-profile": (("roles", _REMOVE_ROLES_FIRST),),
}


def _deletable(kind: str, entity: Any) -> None:
    """DeleteConflict for the first thing (in IAM's order, DELETE_CONFLICTS) that still holds `entity`."""
    for attribute, message in DELETE_CONFLICTS[kind]:
        if getattr(entity, attribute):
            raise AwsError("DeleteConflict", 409, message)


def _boundary_arn(model: Model, arn: Any) -> str:
    """A boundary must be a managed policy's ARN (recorded, RECORDED: test_iam_roles.py::
    TestRolePermissionsBoundary::test_role_permissions_boundary_errors)."""
    parts = aws.parse_arn(arn) if isinstance(arn, str) else None
    if not parts or parts["service"] != "iam" or not parts["resource"].startswith("policy/"):
        raise AwsError("InvalidInput", 400, f"ARN {arn} is not valid.")
    if parts["account"] == "aws":
        if managed_policies.lookup(arn) is None:
            raise NotModelled(f"AWS managed policy {arn} as a permissions boundary")
        return arn
    if arn not in model.account(parts["account"]).policies:
        raise AwsError("NoSuchEntity", 404, f"Scope ARN: {arn} does not exist or is not attachable.")
    return arn
