"""Users and their access keys in the reference model: create, read, rename, delete, inline and
attached policies, tags. Shapes and messages are AWS's recorded answers (iam_common.RECORDED:
test_iam_users.py).
"""
from __future__ import annotations

import json

from rolecall import aws
from rolecall.targets.reference.iam_common import (ACCESS_KEYS_PER_USER, USER_INLINE_AGGREGATE_MAX, _account,
                                                   _authorize, _boundary_arn, _deletable, _merge_tags, _page, _parse,
                                                   _path, _path_prefix, _size, _tag_list, _tags, _user, _user_dict)
from rolecall.targets.reference.iam_policies import _attach, _attached_list, _detach
from rolecall.targets.reference.model import AwsError, Caller, Model, User, operation
from rolecall.targets.reference.policy import NotModelled


def _named_or_caller(p: dict, caller: Caller) -> str:
    """Calls whose UserName defaults to the calling user; other callers must name one."""
    name = p.get("UserName")
    if name:
        return name
    if caller.kind == "user":
        return caller.user.name
    raise AwsError("ValidationError", 400, "Must specify userName when calling with non-User credentials")


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
def GetUser(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    if not p.get("UserName") and caller.kind in ("admin", "root"):
        raise NotModelled("GetUser without UserName as the root user")
    user = _user(model, acct, _named_or_caller(p, caller))
    _authorize(model, caller, "GetUser", user.arn)
    return {"User": _user_dict(user)}, None


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
def ListUsers(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    _authorize(model, caller, "ListUsers", "*")
    prefix = _path_prefix(p)
    users = [_user_dict(u, tags=False) for u in model.account(acct).users.values() if u.path.startswith(prefix)]
    return _page("Users", users, p), None


@operation
def DeleteUser(model: Model, caller: Caller, p: dict):
    """DeleteConflict while policies, keys or groups hold the user (recorded: TestUserLifecycle::
    test_delete_user_with_attached_policy, test_delete_user_with_inline_policy)."""
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "DeleteUser", user.arn)
    _deletable("user", user)
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
def ListUserPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListUserPolicies", user.arn)
    return {"PolicyNames": sorted(user.inline), "IsTruncated": False}, None


@operation
def AttachUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "AttachUserPolicy", user.arn)
    _attach(model, acct, p.get("PolicyArn"), user.managed)
    return {}, None


@operation
def DetachUserPolicy(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "DetachUserPolicy", user.arn)
    _detach(model, p.get("PolicyArn"), user.managed)
    return {}, None


@operation
def ListAttachedUserPolicies(model: Model, caller: Caller, p: dict):
    acct = _account(model, caller)
    user = _user(model, acct, p["UserName"])
    _authorize(model, caller, "ListAttachedUserPolicies", user.arn)
    return _attached_list(model, user.managed), None


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
