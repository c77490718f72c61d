"""Roles in the reference model: create, read, update, delete, their trust policy, inline and
attached policies, permissions boundary and tags; and service-linked roles, which only AWS may
modify. Shapes and messages are AWS's recorded answers (iam_common.RECORDED: test_iam_roles.py,
test_iam.py).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from rolecall import aws
from rolecall.targets.reference.iam_common import (ROLE_INLINE_AGGREGATE_MAX, TRUST_POLICY_MAX, _account, _authorize,
                                                   _boundary_arn, _deletable, _merge_tags, _page, _parse, _path,
                                                   _path_prefix, _profile_dict, _role, _role_dict, _size, _tag_list,
                                                   _tags)
from rolecall.targets.reference.iam_policies import _attach, _attached_list, _detach
from rolecall.targets.reference.model import AwsError, Caller, Model, Role, operation
from rolecall.targets.reference.policy import NotModelled, parse_policy


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
    _deletable("role", role)
    del model.account(acct).roles[role.name.lower()]
    return {}, None


@operation
def ListRoles(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListRoles", "*")
    prefix = _path_prefix(p)
    roles = [_role_dict(r, "list") for r in model.account(acct).roles.values() if r.path.startswith(prefix)]
    return _page("Roles", roles, p), None


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
