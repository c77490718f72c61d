"""Instance profiles in the reference model: create, read, list, delete, the one role a profile
holds, and tags (recorded: LocalStack test_iam_instance_profiles.py, iam_common.RECORDED).
"""
from __future__ import annotations


from rolecall.targets.reference.iam_common import (_account, _authorize, _deletable, _merge_tags, _page, _path,
                                                   _path_prefix, _profile, _profile_dict, _role, _tag_list, _tags)
from rolecall.targets.reference.model import AwsError, Caller, InstanceProfile, Model, operation


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


@operation
def GetInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "GetInstanceProfile", ip.arn)
    return {"InstanceProfile": _profile_dict(model, ip, tags=True)}, None


@operation
def ListInstanceProfiles(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListInstanceProfiles", "*")
    prefix = _path_prefix(p)
    profiles = [_profile_dict(model, ip, tags=False) for ip in model.account(acct).instance_profiles.values()
                if ip.path.startswith(prefix)]
    return _page("InstanceProfiles", profiles, p), None


@operation
def DeleteInstanceProfile(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    ip = _profile(model, acct, p["InstanceProfileName"])
    _authorize(model, caller, "DeleteInstanceProfile", ip.arn)
    _deletable("instance-profile", ip)
    del model.account(acct).instance_profiles[ip.name.lower()]
    return {}, None


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
