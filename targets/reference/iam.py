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
from rolecall.targets.reference.model import (AwsError, Caller, InstanceProfile, ManagedPolicy, Model, Role, User,
                                              operation)
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, parse_policy

QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
# Character limits that botocore's model does not carry (IAM ignores white space when counting).
TRUST_POLICY_MAX = 2048          # role trust policy, default quota
MANAGED_POLICY_MAX = 6144        # managed policy document
ROLE_INLINE_AGGREGATE_MAX = 10240  # all inline policies of a role
USER_INLINE_AGGREGATE_MAX = 2048   # all inline policies of a user
SLR_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html"

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


def _parse(document: Any, kind: str):
    if not isinstance(document, str):
        raise AwsError("MalformedPolicyDocument", 400, "This policy contains invalid Json")
    try:
        return parse_policy(document, kind)
    except MalformedPolicy as exc:
        raise AwsError(exc.code, 400, exc.message) from None


def _path(params: dict) -> str:
    return params.get("Path") or "/"


def _tags(params: dict) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}


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


def _role_dict(role: Role) -> dict:
    d = {"Path": role.path, "RoleName": role.name, "RoleId": role.id, "Arn": role.arn,
         "CreateDate": role.create_date, "AssumeRolePolicyDocument": json.loads(role.trust_document),
         "MaxSessionDuration": role.max_session_duration}
    if role.description:
        d["Description"] = role.description
    if role.boundary:
        d["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": role.boundary}
    if role.tags:
        d["Tags"] = [{"Key": k, "Value": v} for k, v in role.tags.items()]
    return d


def _boundary_arn(model: Model, arn: Any) -> str:
    if not isinstance(arn, str) or not arn.startswith("arn:aws:iam::"):
        raise AwsError("ValidationError", 400, "Invalid ARN:  Could not be parsed!")
    acct = arn.split(":")[4]
    if arn not in model.account(acct).policies:
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")
    return arn


# ----------------------------------------------------------------------------- policies

@operation
def CreatePolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    path = _path(p)
    arn = f"arn:aws:iam::{acct}:policy{path}{p['PolicyName']}"
    _authorize(model, caller, "CreatePolicy", arn)
    policy = _parse(p["PolicyDocument"], "identity")
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
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise AwsError("ValidationError", 400, "Invalid ARN:  Could not be parsed!")
    owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
    mp = model.accounts.get(owner).policies.get(arn) if owner in model.accounts else None
    if mp is None or owner != acct:
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")
    if arn not in attached:
        attached.append(arn)
        mp.attachments += 1


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
    user = User(acct, p["UserName"], path, model.new_id("AIDA"), arn, boundary=boundary, tags=_tags(p),
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
    key_id, secret = model.new_id("AKIA", 20), model.new_secret()
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
    role = Role(acct, p["RoleName"], path, model.new_id("AROA"), arn, p["AssumeRolePolicyDocument"], trust,
                max_session_duration=int(p.get("MaxSessionDuration") or 3600), description=p.get("Description"),
                boundary=boundary, tags=_tags(p), create_date=model.now)
    model.account(acct).roles[role.name.lower()] = role
    return {"Role": _role_dict(role)}, None


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
    return {"Role": _role_dict(role)}, None


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
    arn = p.get("PolicyArn")
    if arn not in role.managed:
        raise AwsError("NoSuchEntity", 404, f"Policy {arn} was not found.")
    role.managed.remove(arn)
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
    ip = InstanceProfile(acct, p["InstanceProfileName"], path, model.new_id("AIPA"), arn, create_date=model.now)
    profiles[ip.name.lower()] = ip
    return {"InstanceProfile": {"Path": path, "InstanceProfileName": ip.name, "InstanceProfileId": ip.id,
                                "Arn": arn, "CreateDate": ip.create_date, "Roles": []}}, None


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
    roles = [_role_dict(model.account(acct).roles[name.lower()]) for name in ip.roles]
    return {"InstanceProfile": {"Path": ip.path, "InstanceProfileName": ip.name, "InstanceProfileId": ip.id,
                                "Arn": ip.arn, "CreateDate": ip.create_date, "Roles": roles}}, None


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
        raise AwsError("NoSuchEntity", 404,
                       f"The role with name {role.name} cannot be found.")
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
    trust_doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}]})
    role = Role(acct, name, path, model.new_id("AROA"), arn, trust_doc, parse_policy(trust_doc, "trust"),
                description=p.get("Description"), service_linked=service, create_date=model.now)
    model.account(acct).roles[name.lower()] = role
    return {"Role": _role_dict(role)}, None


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
