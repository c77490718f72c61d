"""Groups in the reference model: membership, inline and attached policies. A user's identity
policies include its groups' (rolecall.targets.reference.access.policy_sets;
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html). Shapes and messages are AWS's
recorded answers (iam_common.RECORDED: test_iam_groups.py).
"""
from __future__ import annotations

import json

from rolecall.targets.reference.iam_common import (_account, _authorize, _deletable, _group, _group_dict, _parse, _path,
                                                   _path_prefix, _user, _user_dict)
from rolecall.targets.reference.iam_policies import _attach, _attached_list, _detach
from rolecall.targets.reference.model import AwsError, Caller, Group, Model, operation


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
    _deletable("group", group)
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
