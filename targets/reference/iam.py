"""IAM operations of the reference model: users, access keys, roles, policies, instance
profiles, service-linked roles. Each function is one API action; results have boto3's shape.

Names are unique without regard to case:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names
Unique-id prefixes: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from rolecall import aws
from rolecall.targets.reference import access
from rolecall.targets.reference import managed_policies
from rolecall.targets.reference.model import (AwsError, Caller, Group, InstanceProfile, ManagedPolicy, Model, Role,
                                              User, operation)
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


def _protected(role: Role) -> None:
    # Service-linked roles are modifiable only by AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
    if role.service_linked:
        raise AwsError("UnmodifiableEntity", 400,
                       f"Cannot perform the operation on the protected role '{role.name}' - "
                       f"this role is only modifiable by AWS")


def _trust_policy(model: Model, document: Any):
    """Parse a trust policy; IAM stores named users and roles by unique id, so each must exist.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles"""
    policy = _parse(document, "trust")
    if _size(document) > TRUST_POLICY_MAX:
        raise AwsError("LimitExceeded", 409, f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
    mapping = {}
    for kind, value in policy.principals():
        if kind != "AWS" or not value.startswith("arn:aws:iam::"):
            continue
        parts = aws.parse_arn(value)
        resource = parts["resource"] if parts else ""
        if resource.startswith(("user/", "role/")):
            entity_kind, _, rest = resource.partition("/")
            name = rest.rsplit("/", 1)[-1]
            acct = model.accounts.get(parts["account"])
            table = (acct.users if entity_kind == "user" else acct.roles) if acct else {}
            entity = table.get(name.lower())
            if entity is None or entity.arn != value:
                raise AwsError("MalformedPolicyDocument", 400, f'Invalid principal in policy: "AWS":"{value}"')
            mapping[value] = entity.id
    return policy.with_principals_replaced(mapping) if mapping else policy


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


# ----------------------------------------------------------------------------- policies

@operation
def CreatePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = f"arn:aws:iam::{acct}:policy{path}{p['PolicyName']}"
    _authorize(model, caller, "CreatePolicy", arn)
    policy = _parse(p["PolicyDocument"], "identity", managed=True)
    if _size(p["PolicyDocument"]) > MANAGED_POLICY_MAX:
        raise AwsError("LimitExceeded", 409, f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")
    if any(mp.name.lower() == p["PolicyName"].lower() for mp in model.account(acct).policies.values()):
        raise AwsError("EntityAlreadyExists", 409, f"A policy called {p['PolicyName']} already exists. Duplicate names are not allowed.")
    mp = ManagedPolicy(p["PolicyName"], arn, model.new_id("ANPA"), path, p["PolicyDocument"], policy, create_date=model.now)
    model.account(acct).policies[arn] = mp
    return {"Policy": {"PolicyName": mp.name, "PolicyId": mp.id, "Arn": arn, "Path": path, "DefaultVersionId": "v1",
                       "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                       "CreateDate": mp.create_date, "UpdateDate": mp.create_date}}, None


def _attach(model: Model, acct: str, arn: Any, attached: list[str]) -> None:
    """Attach a customer managed policy of the account, or an AWS managed policy. A value that is
    not an ARN: ValidationError "ARN x is not valid." (recorded 2026-02-19, RECORDED:
    test_iam_roles.py::TestRoleManagedPolicies::test_role_managed_policy_errors; AWS answered
    "Invalid ARN:  Could not be parsed!" in 2025: the newest recording wins)."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise AwsError("ValidationError", 400, f"ARN {arn} is not valid.")
    owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if owner == "aws":
        known = managed_policies.lookup(arn)
        if known is None:
            raise NotModelled(f"AWS managed policy {arn} (not in the model's table)")
        if known.path == "/aws-service-role/":
            raise NotModelled(f"attaching the service-linked role policy {arn}")
        if arn not in attached:
            attached.append(arn)
        return
    mp = model.accounts.get(owner).policies.get(arn) if owner in model.accounts else None
    if mp is None or owner != acct:
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")
    if arn not in attached:
        attached.append(arn)
        mp.attachments += 1


def _detach(model: Model, arn: Any, attached: list[str]) -> None:
    if arn not in attached:
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} was not found.")
    attached.remove(arn)
    owner = arn.split(":")[4]
    mp = model.accounts[owner].policies.get(arn) if owner in model.accounts else None
    if mp is not None:
        mp.attachments -= 1


def _policy_name(model: Model, arn: str) -> str:
    owner = arn.split(":")[4]
    if owner == "aws":
        return managed_policies.lookup(arn).name
    return model.account(owner).policies[arn].name


def _attached_list(model: Model, arns: list[str]) -> dict:
    return {"AttachedPolicies": [{"PolicyName": _policy_name(model, a), "PolicyArn": a} for a in arns],
            "IsTruncated": False}


# ----------------------------------------------------------------------------- users

@operation
def CreateUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = aws.user_arn(acct, p["UserName"], path)
    _authorize(model, caller, "CreateUser", arn)
    if p["UserName"].lower() in model.account(acct).users:
        raise AwsError("EntityAlreadyExists", 409, f"User with name {p['UserName']} already exists.")
    boundary = _boundary_arn(model, p["PermissionsBoundary"]) if "PermissionsBoundary" in p else None
    tags = _tags(p)
    user = User(acct, p["UserName"], path, model.new_id("AIDA"), arn, boundary=boundary, tags=tags,
                create_date=model.now)
    model.account(acct).users[user.name.lower()] = user
    out = {"Path": path, "UserName": user.name, "UserId": user.id, "Arn": arn, "CreateDate": user.create_date}
    if boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    if user.tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in user.tags.items()]
    return {"User": out}, None


@operation
def CreateAccessKey(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p.get("UserName") or (caller.user.name if caller.user else ""))
    _authorize(model, caller, "CreateAccessKey", user.arn)
    if len(user.access_keys) >= ACCESS_KEYS_PER_USER:
        # recorded: test_iam_users.py::TestUserAccessKeys::test_access_key_limit (RECORDED)
        raise AwsError("LimitExceeded", 409, f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
    key_id, secret = model.new_id("AKIA", 20), model.new_secret()
    user.access_keys.append(key_id)
    model.register_key(key_id, secret, Caller("user", acct, user=user))
    return {"AccessKey": {"UserName": user.name, "AccessKeyId": key_id, "Status": "Active",
                          "SecretAccessKey": secret, "CreateDate": model.now}}, None


@operation
def PutUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "PutUserPolicy", user.arn)
    policy = _parse(p["PolicyDocument"], "identity")
    sizes = sum(_size(doc) for n, (doc, _) in user.inline.items() if n != p["PolicyName"])
    if sizes + _size(p["PolicyDocument"]) > USER_INLINE_AGGREGATE_MAX:
        raise AwsError("LimitExceeded", 409,
                       f"Maximum policy size of {USER_INLINE_AGGREGATE_MAX} bytes exceeded for user {user.name}")
    user.inline[p["PolicyName"]] = (p["PolicyDocument"], policy)
    return {}, None


@operation
def AttachUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "AttachUserPolicy", user.arn)
    _attach(model, acct, p.get("PolicyArn"), user.managed)
    return {}, None


# ----------------------------------------------------------------------------- roles

@operation
def CreateRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = aws.role_arn(acct, p["RoleName"], path)
    _authorize(model, caller, "CreateRole", arn)
    if p["RoleName"].lower() in model.account(acct).roles:
        raise AwsError("EntityAlreadyExists", 409, f"Role with name {p['RoleName']} already exists.")
    trust = _trust_policy(model, p["AssumeRolePolicyDocument"])
    boundary = _boundary_arn(model, p["PermissionsBoundary"]) if "PermissionsBoundary" in p else None
    tags = _tags(p)
    role = Role(acct, p["RoleName"], path, model.new_id("AROA"), arn, p["AssumeRolePolicyDocument"], trust,
                max_session_duration=int(p.get("MaxSessionDuration") or 3600), description=p.get("Description"),
                boundary=boundary, tags=tags, create_date=model.now)
    model.account(acct).roles[role.name.lower()] = role
    return {"Role": _role_dict(role, "create")}, None


@operation
def GetRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "GetRole", role.arn)
    return {"Role": _role_dict(role)}, None


@operation
def UpdateRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "UpdateRole", role.arn)
    # The description of a service-linked role stays editable (UpdateRole or
    # UpdateRoleDescription, "Editing a service-linked role" in SLR_DOCS); anything else is not.
    if "MaxSessionDuration" in p:
        _protected(role)
        role.max_session_duration = int(p["MaxSessionDuration"])
    if "Description" in p:
        role.description = p["Description"]
    return {}, None


@operation
def UpdateRoleDescription(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "UpdateRoleDescription", role.arn)
    role.description = p["Description"]
    return {"Role": _role_dict(role, "update-description")}, None


@operation
def UpdateAssumeRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "UpdateAssumeRolePolicy", role.arn)
    _protected(role)
    role.trust = _trust_policy(model, p["PolicyDocument"])
    role.trust_document = p["PolicyDocument"]
    return {}, None


@operation
def PutRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "PutRolePolicy", role.arn)
    _protected(role)
    policy = _parse(p["PolicyDocument"], "identity")
    sizes = sum(_size(doc) for n, (doc, _) in role.inline.items() if n != p["PolicyName"])
    if sizes + _size(p["PolicyDocument"]) > ROLE_INLINE_AGGREGATE_MAX:
        raise AwsError("LimitExceeded", 409,
                       f"Maximum policy size of {ROLE_INLINE_AGGREGATE_MAX} bytes exceeded for role {role.name}")
    role.inline[p["PolicyName"]] = (p["PolicyDocument"], policy)
    return {}, None


@operation
def DeleteRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "DeleteRolePolicy", role.arn)
    _protected(role)
    if p["PolicyName"] not in role.inline:
        raise AwsError("NoSuchEntity", 404, f"The role policy with name {p['PolicyName']} cannot be found.")
    del role.inline[p["PolicyName"]]
    return {}, None


@operation
def AttachRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "AttachRolePolicy", role.arn)
    _protected(role)
    _attach(model, acct, p.get("PolicyArn"), role.managed)
    return {}, None


@operation
def DetachRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "DetachRolePolicy", role.arn)
    _protected(role)
    _detach(model, p.get("PolicyArn"), role.managed)
    return {}, None


@operation
def PutRolePermissionsBoundary(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "PutRolePermissionsBoundary", role.arn)
    _protected(role)
    role.boundary = _boundary_arn(model, p.get("PermissionsBoundary"))
    return {}, None


@operation
def DeleteRolePermissionsBoundary(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "DeleteRolePermissionsBoundary", role.arn)
    _protected(role)
    role.boundary = None
    return {}, None


@operation
def DeleteRole(model: Model, caller: Caller, p: dict):
    """DeleteConflict while policies or instance profiles hold the role:
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html"""
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "DeleteRole", role.arn)
    _protected(role)
    if role.managed:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    if role.inline:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    if role.instance_profiles:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    del model.account(acct).roles[role.name.lower()]
    return {}, None


# ----------------------------------------------------------------------------- instance profiles

@operation
def CreateInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = f"arn:aws:iam::{acct}:instance-profile{path}{p['InstanceProfileName']}"
    _authorize(model, caller, "CreateInstanceProfile", arn)
    profiles = model.account(acct).instance_profiles
    if p["InstanceProfileName"].lower() in profiles:
        raise AwsError("EntityAlreadyExists", 409,
                       f"Instance Profile {p['InstanceProfileName']} already exists.")
    tags = _tags(p)
    ip = InstanceProfile(acct, p["InstanceProfileName"], path, model.new_id("AIPA"), arn, create_date=model.now,
                         tags=tags)
    profiles[ip.name.lower()] = ip
    out = {"Path": path, "InstanceProfileName": ip.name, "InstanceProfileId": ip.id, "Arn": arn,
           "CreateDate": ip.create_date, "Roles": []}
    if tags:
        out["Tags"] = _tag_list(tags)
    return {"InstanceProfile": out}, None


def _profile(model: Model, acct: str, name: str) -> InstanceProfile:
    ip = model.account(acct).instance_profiles.get(str(name).lower())
    if ip is None:
        raise AwsError("NoSuchEntity", 404, f"Instance Profile {name} cannot be found.")
    return ip


@operation
def GetInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "GetInstanceProfile", ip.arn)
    return {"InstanceProfile": _profile_dict(model, ip, tags=True)}, None


def _profile_dict(model: Model, ip: InstanceProfile, *, tags: bool) -> dict:
    """GetInstanceProfile answers Tags (also []); its roles have CreateRole's shape (recorded,
    RECORDED: test_iam_instance_profiles.py::TestInstanceProfileRoles::test_add_remove_role_from_instance_profile)."""
    roles = [_role_dict(model.account(ip.account).roles[name.lower()], "create") for name in ip.roles]
    out = {"Path": ip.path, "InstanceProfileName": ip.name, "InstanceProfileId": ip.id, "Arn": ip.arn,
           "CreateDate": ip.create_date, "Roles": roles}
    if tags:
        out["Tags"] = _tag_list(ip.tags)
    return out


@operation
def AddRoleToInstanceProfile(model: Model, caller: Caller, p: dict):
    """An instance profile holds one role:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html"""
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "AddRoleToInstanceProfile", ip.arn)
    if ip.roles:
        raise AwsError("LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    ip.roles.append(role.name)
    role.instance_profiles.append(ip.name)
    return {}, None


@operation
def RemoveRoleFromInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "RemoveRoleFromInstanceProfile", ip.arn)
    if role.name not in ip.roles:
        # recorded: TestInstanceProfileRoles::test_role_instance_profile_operations_errors (RECORDED)
        raise AwsError("NoSuchEntity", 404, f"Role {role.name} in Instance Profile {ip.name} cannot be found.")
    ip.roles.remove(role.name)
    role.instance_profiles.remove(ip.name)
    return {}, None


@operation
def DeleteInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "DeleteInstanceProfile", ip.arn)
    if ip.roles:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    del model.account(acct).instance_profiles[ip.name.lower()]
    return {}, None


# ----------------------------------------------------------------------------- service-linked roles

@operation
def CreateServiceLinkedRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    service = p["AWSServiceName"]
    if service not in aws.SERVICE_LINKED_ROLES:
        raise NotModelled(f"service-linked role for {service} is not in the model's table")
    suffix = p.get("CustomSuffix")
    if suffix and not aws.SERVICE_LINKED_ROLES[service][1]:
        raise AwsError("InvalidInput", 400, f"Custom suffix is not allowed for {service}")
    name = aws.service_linked_role_name(service, suffix)
    path = aws.service_linked_role_path(service)
    arn = aws.role_arn(acct, name, path)
    _authorize(model, caller, "CreateServiceLinkedRole", arn)
    if name.lower() in model.account(acct).roles:
        raise AwsError("InvalidInput", 400,
                       f"Service role name {name} has been taken in this account, please try a different suffix.")
    # The trust policy names the service and the action as plain strings, and AWS attaches its
    # managed policy for the service (recorded, RECORDED: test_iam.py::TestIAMServiceRoles::
    # test_service_role_lifecycle, every service).
    trust_doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}}]})
    role = Role(acct, name, path, model.new_id("AROA"), arn, trust_doc, parse_policy(trust_doc, "trust"),
                description=p.get("Description"), service_linked=service, create_date=model.now)
    policy_name = aws.SERVICE_LINKED_ROLE_POLICIES.get(service)
    if policy_name:
        role.managed.append(f"arn:aws:iam::aws:policy/aws-service-role/{policy_name}")
    model.account(acct).roles[name.lower()] = role
    return {"Role": _role_dict(role, "create")}, None


@operation
def DeleteServiceLinkedRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "DeleteServiceLinkedRole", role.arn)
    if not role.service_linked:
        raise NotModelled("DeleteServiceLinkedRole on a role that is not service-linked")
    task = f"task/aws-service-role/{role.service_linked}/{role.name}/{uuid.UUID(int=len(model.account(acct).deletion_tasks) + 1)}"
    model.account(acct).deletion_tasks[task] = "SUCCEEDED"
    del model.account(acct).roles[role.name.lower()]
    return {"DeletionTaskId": task}, None


@operation
def GetServiceLinkedRoleDeletionStatus(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "GetServiceLinkedRoleDeletionStatus", "*")
    status = model.account(acct).deletion_tasks.get(p.get("DeletionTaskId"))
    if status is None:
        raise NotModelled("status of an unknown deletion task")
    return {"Status": status}, None


# ----------------------------------------------------------------------------- listing and reading
# Shapes and messages below are AWS's recorded answers (RECORDED: test_iam_roles.py,
# test_iam_users.py, test_iam_groups.py, test_iam_managed_policies.py); the scenarios in
# scenarios/aws-recorded/ replay them.

def _path_prefix(p: dict) -> str:
    return p.get("PathPrefix") or "/"


@operation
def ListRoles(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListRoles", "*")
    prefix = _path_prefix(p)
    roles = [_role_dict(r, "list") for r in model.account(acct).roles.values() if r.path.startswith(prefix)]
    return _page("Roles", roles, p), None


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


@operation
def ListRolePolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "ListRolePolicies", role.arn)
    return {"PolicyNames": sorted(role.inline), "IsTruncated": False}, None


@operation
def GetRolePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "GetRolePolicy", role.arn)
    if p["PolicyName"] not in role.inline:
        raise AwsError("NoSuchEntity", 404, f"The role policy with name {p['PolicyName']} cannot be found.")
    return {"RoleName": role.name, "PolicyName": p["PolicyName"],
            "PolicyDocument": json.loads(role.inline[p["PolicyName"]][0])}, None


@operation
def ListAttachedRolePolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "ListAttachedRolePolicies", role.arn)
    return _attached_list(model, role.managed), None


@operation
def TagRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "TagRole", role.arn)
    role.tags = _merge_tags(role.tags, _tags(p))
    return {}, None


@operation
def UntagRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "UntagRole", role.arn)
    gone = {k.lower() for k in p.get("TagKeys") or []}
    role.tags = {k: v for k, v in role.tags.items() if k.lower() not in gone}
    return {}, None


@operation
def ListRoleTags(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "ListRoleTags", role.arn)
    return {"Tags": _tag_list(role.tags), "IsTruncated": False}, None


@operation
def ListInstanceProfilesForRole(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    role = _role(model, acct, p["RoleName"])
    _authorize(model, caller, "ListInstanceProfilesForRole", role.arn)
    profiles = model.account(acct).instance_profiles
    return {"InstanceProfiles": [_profile_dict(model, profiles[n.lower()], tags=False) for n in role.instance_profiles],
            "IsTruncated": False}, None


def _policy(model: Model, arn: Any) -> ManagedPolicy:
    parts = aws.parse_arn(arn) if isinstance(arn, str) else None
    mp = model.account(parts["account"]).policies.get(arn) if parts and parts["account"] != "aws" else None
    if mp is None:
        if parts and parts["account"] == "aws":
            raise NotModelled("reading an AWS managed policy")
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} was not found.")
    return mp


def _policy_dict(mp: ManagedPolicy) -> dict:
    return {"PolicyName": mp.name, "PolicyId": mp.id, "Arn": mp.arn, "Path": mp.path, "DefaultVersionId": "v1",
            "AttachmentCount": mp.attachments, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "CreateDate": mp.create_date, "UpdateDate": mp.create_date}


@operation
def GetPolicy(model: Model, caller: Caller, p: dict):
    mp = _policy(model, p.get("PolicyArn"))
    _authorize(model, caller, "GetPolicy", mp.arn)
    # GetPolicy answers Tags, also [] (recorded: test_iam_policies.py::TestPolicies::test_policy_lifecycle)
    return {"Policy": {**_policy_dict(mp), "Tags": []}}, None


@operation
def ListPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListPolicies", "*")
    if p.get("Scope") != "Local":
        raise NotModelled("ListPolicies with AWS managed policies (Scope All or AWS): the model does not hold AWS's list")
    prefix = _path_prefix(p)
    policies = [_policy_dict(mp) for mp in model.account(acct).policies.values() if mp.path.startswith(prefix)]
    if p.get("OnlyAttached"):
        policies = [d for d in policies if d["AttachmentCount"]]
    return _page("Policies", policies, p), None


@operation
def DeletePolicy(model: Model, caller: Caller, p: dict):
    """DeleteConflict while attached (recorded: TestRoleManagedPolicies::test_role_managed_policy_errors);
    NoSuchEntity "Policy ARN was not found." (recorded: test_iam.py::TestIAMIntegrations::
    test_delete_non_existent_policy_returns_no_such_entity)."""
    mp = _policy(model, p.get("PolicyArn"))
    _authorize(model, caller, "DeletePolicy", mp.arn)
    if mp.attachments:
        raise AwsError("DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    del model.account(mp.arn.split(":")[4]).policies[mp.arn]
    return {}, None


# ----------------------------------------------------------------------------- users

def _user_dict(user: User, *, tags: bool = True) -> dict:
    out = {"Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn,
           "CreateDate": user.create_date}
    if user.boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": user.boundary}
    if tags and user.tags:
        out["Tags"] = _tag_list(user.tags)
    return out


def _named_or_caller(p: dict, caller: Caller) -> str:
    """Calls whose UserName defaults to the calling user; other callers must name one."""
    name = p.get("UserName")
    if name:
        return name
    if caller.kind == "user":
        return caller.user.name
    raise AwsError("ValidationError", 400, "Must specify userName when calling with non-User credentials")


@operation
def GetUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    if not p.get("UserName") and caller.kind in ("admin", "root"):
        raise NotModelled("GetUser without UserName as the root user")
    user = _user(model, acct, _named_or_caller(p, caller))
    _authorize(model, caller, "GetUser", user.arn)
    return {"User": _user_dict(user)}, None


@operation
def ListAttachedUserPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListAttachedUserPolicies", user.arn)
    return _attached_list(model, user.managed), None


@operation
def DetachUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "DetachUserPolicy", user.arn)
    _detach(model, p.get("PolicyArn"), user.managed)
    return {}, None


@operation
def ListUserPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListUserPolicies", user.arn)
    return {"PolicyNames": sorted(user.inline), "IsTruncated": False}, None


@operation
def GetUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "GetUserPolicy", user.arn)
    if p["PolicyName"] not in user.inline:
        raise AwsError("NoSuchEntity", 404, f"The user policy with name {p['PolicyName']} cannot be found.")
    return {"UserName": user.name, "PolicyName": p["PolicyName"],
            "PolicyDocument": json.loads(user.inline[p["PolicyName"]][0])}, None


@operation
def DeleteUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "DeleteUserPolicy", user.arn)
    if p["PolicyName"] not in user.inline:
        raise AwsError("NoSuchEntity", 404, f"The user policy with name {p['PolicyName']} cannot be found.")
    del user.inline[p["PolicyName"]]
    return {}, None


@operation
def ListAccessKeys(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, _named_or_caller(p, caller))
    _authorize(model, caller, "ListAccessKeys", user.arn)
    return {"AccessKeyMetadata": [{"UserName": user.name, "AccessKeyId": k,
                                   "Status": model.key_status.get(k, "Active"), "CreateDate": user.create_date}
                                  for k in user.access_keys],
            "IsTruncated": False}, None


@operation
def UpdateAccessKey(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, _named_or_caller(p, caller))
    _authorize(model, caller, "UpdateAccessKey", user.arn)
    key = p["AccessKeyId"]
    if key not in user.access_keys:
        raise AwsError("NoSuchEntity", 404, f"The Access Key with id {key} cannot be found.")
    model.key_status[key] = p["Status"]
    return {}, None


@operation
def ListUsers(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListUsers", "*")
    prefix = _path_prefix(p)
    users = [_user_dict(u, tags=False) for u in model.account(acct).users.values() if u.path.startswith(prefix)]
    return _page("Users", users, p), None


@operation
def DeleteAccessKey(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, _named_or_caller(p, caller))
    _authorize(model, caller, "DeleteAccessKey", user.arn)
    key = p["AccessKeyId"]
    if key not in user.access_keys:
        raise AwsError("NoSuchEntity", 404, f"The Access Key with id {key} cannot be found.")
    user.access_keys.remove(key)
    model.keys.pop(key, None)
    return {}, None


@operation
def DeleteUser(model: Model, caller: Caller, p: dict):
    """DeleteConflict while policies, keys or groups hold the user (recorded: TestUserLifecycle::
    test_delete_user_with_attached_policy, test_delete_user_with_inline_policy)."""
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "DeleteUser", user.arn)
    if user.managed:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    if user.inline:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    if user.access_keys:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
    if user.groups:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    del model.account(acct).users[user.name.lower()]
    return {}, None


@operation
def TagUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "TagUser", user.arn)
    user.tags = _merge_tags(user.tags, _tags(p))
    return {}, None


@operation
def UntagUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "UntagUser", user.arn)
    gone = {k.lower() for k in p.get("TagKeys") or []}
    user.tags = {k: v for k, v in user.tags.items() if k.lower() not in gone}
    return {}, None


@operation
def ListUserTags(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListUserTags", user.arn)
    return {"Tags": _tag_list(user.tags), "IsTruncated": False}, None


# ----------------------------------------------------------------------------- groups
# A user's identity policies include its groups' (rolecall.targets.reference.access.policy_sets;
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html).

def _group(model: Model, acct: str, name: Any) -> Group:
    group = model.account(acct).groups.get(str(name).lower())
    if group is None:
        raise AwsError("NoSuchEntity", 404, f"The group with name {name} cannot be found.")
    return group


def _group_dict(group: Group) -> dict:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.id, "Arn": group.arn,
            "CreateDate": group.create_date}


@operation
def CreateGroup(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = f"arn:aws:iam::{acct}:group{path}{p['GroupName']}"
    _authorize(model, caller, "CreateGroup", arn)
    if p["GroupName"].lower() in model.account(acct).groups:
        raise AwsError("EntityAlreadyExists", 409, f"Group with name {p['GroupName']} already exists.")
    group = Group(acct, p["GroupName"], path, model.new_id("AGPA"), arn, create_date=model.now)
    model.account(acct).groups[group.name.lower()] = group
    return {"Group": _group_dict(group)}, None


@operation
def GetGroup(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "GetGroup", group.arn)
    users = model.account(acct).users
    return {"Group": _group_dict(group), "Users": [_user_dict(users[n.lower()], tags=False) for n in group.members],
            "IsTruncated": False}, None


@operation
def ListGroups(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListGroups", "*")
    prefix = _path_prefix(p)
    return {"Groups": [_group_dict(g) for g in model.account(acct).groups.values() if g.path.startswith(prefix)],
            "IsTruncated": False}, None


@operation
def DeleteGroup(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "DeleteGroup", group.arn)
    if group.members:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    if group.managed:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    if group.inline:
        raise AwsError("DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    del model.account(acct).groups[group.name.lower()]
    return {}, None


@operation
def AddUserToGroup(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])  # the user is looked up first (recorded: test_remove_user_from_unknown_group)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "AddUserToGroup", group.arn)
    if user.name not in group.members:  # idempotent (recorded: test_add_user_to_group_idempotent)
        group.members.append(user.name)
        user.groups.append(group.name)
    return {}, None


@operation
def RemoveUserFromGroup(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "RemoveUserFromGroup", group.arn)
    if user.name in group.members:  # a non-member: success, nothing to do (recorded:
        group.members.remove(user.name)  # remove-nonmember-user-from-group, test_user_group_membership)
        user.groups.remove(group.name)
    return {}, None


@operation
def ListGroupsForUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListGroupsForUser", user.arn)
    groups = model.account(acct).groups
    return {"Groups": [_group_dict(groups[n.lower()]) for n in user.groups], "IsTruncated": False}, None


@operation
def PutGroupPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "PutGroupPolicy", group.arn)
    policy = _parse(p["PolicyDocument"], "identity")
    group.inline[p["PolicyName"]] = (p["PolicyDocument"], policy)
    return {}, None


@operation
def GetGroupPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "GetGroupPolicy", group.arn)
    if p["PolicyName"] not in group.inline:
        raise AwsError("NoSuchEntity", 404, f"The group policy with name {p['PolicyName']} cannot be found.")
    return {"GroupName": group.name, "PolicyName": p["PolicyName"],
            "PolicyDocument": json.loads(group.inline[p["PolicyName"]][0])}, None


@operation
def DeleteGroupPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "DeleteGroupPolicy", group.arn)
    if p["PolicyName"] not in group.inline:
        raise AwsError("NoSuchEntity", 404, f"The group policy with name {p['PolicyName']} cannot be found.")
    del group.inline[p["PolicyName"]]
    return {}, None


@operation
def ListGroupPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "ListGroupPolicies", group.arn)
    return {"PolicyNames": sorted(group.inline), "IsTruncated": False}, None


@operation
def AttachGroupPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "AttachGroupPolicy", group.arn)
    _attach(model, acct, p.get("PolicyArn"), group.managed)
    return {}, None


@operation
def DetachGroupPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "DetachGroupPolicy", group.arn)
    _detach(model, p.get("PolicyArn"), group.managed)
    return {}, None


@operation
def ListAttachedGroupPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "ListAttachedGroupPolicies", group.arn)
    return _attached_list(model, group.managed), None


# ----------------------------------------------------------------------------- instance profiles: listing and tags
# (recorded: LocalStack test_iam_instance_profiles.py, RECORDED)

@operation
def ListInstanceProfiles(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListInstanceProfiles", "*")
    prefix = _path_prefix(p)
    profiles = [_profile_dict(model, ip, tags=False) for ip in model.account(acct).instance_profiles.values()
                if ip.path.startswith(prefix)]
    return _page("InstanceProfiles", profiles, p), None


@operation
def TagInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "TagInstanceProfile", ip.arn)
    ip.tags = _merge_tags(ip.tags, _tags(p))
    return {}, None


@operation
def UntagInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "UntagInstanceProfile", ip.arn)
    gone = {k.lower() for k in p.get("TagKeys") or []}
    ip.tags = {k: v for k, v in ip.tags.items() if k.lower() not in gone}
    return {}, None


@operation
def ListInstanceProfileTags(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "ListInstanceProfileTags", ip.arn)
    return {"Tags": _tag_list(ip.tags), "IsTruncated": False}, None


@operation
def UpdateUser(model: Model, caller: Caller, p: dict):
    """Rename a user or move it to another path; its groups follow it."""
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "UpdateUser", user.arn)
    new_name, new_path = p.get("NewUserName") or user.name, p.get("NewPath") or user.path
    users = model.account(acct).users
    if new_name.lower() != user.name.lower() and new_name.lower() in users:
        raise AwsError("EntityAlreadyExists", 409, f"User with name {new_name} already exists.")
    groups = model.account(acct).groups
    for gname in user.groups:
        members = groups[gname.lower()].members
        members[members.index(user.name)] = new_name
    del users[user.name.lower()]
    user.name, user.path, user.arn = new_name, new_path, aws.user_arn(acct, new_name, new_path)
    users[new_name.lower()] = user
    return {}, None



@operation
def UpdateGroup(model: Model, caller: Caller, p: dict):
    """Rename a group or move it; its members follow (recorded: test_iam_groups.py::TestIAMGroupsCRUD)."""
    acct = _account(model, caller)
    group = _group(model, acct, p["GroupName"])
    _authorize(model, caller, "UpdateGroup", group.arn)
    new_name, new_path = p.get("NewGroupName") or group.name, p.get("NewPath") or group.path
    groups = model.account(acct).groups
    if new_name.lower() != group.name.lower() and new_name.lower() in groups:
        raise AwsError("EntityAlreadyExists", 409, f"Group with name {new_name} already exists.")
    users = model.account(acct).users
    for uname in group.members:
        member_of = users[uname.lower()].groups
        member_of[member_of.index(group.name)] = new_name
    del groups[group.name.lower()]
    group.name, group.path = new_name, new_path
    group.arn = f"arn:aws:iam::{acct}:group{new_path}{new_name}"
    groups[new_name.lower()] = group
    return {}, None


# The policy simulator's two calls (a module of their own; model.call finds operations here).
from rolecall.targets.reference.simulator import SimulateCustomPolicy, SimulatePrincipalPolicy  # noqa: E402,F401
