"""Customer managed policies in the reference model: create, read, list and delete them, and attach
and detach them (and AWS managed policies) for roles, users and groups. Shapes and messages are
AWS's recorded answers (iam_common.RECORDED: test_iam_managed_policies.py, test_iam_policies.py).
"""
from __future__ import annotations

from typing import Any

from rolecall import aws
from rolecall.targets.reference import managed_policies
from rolecall.targets.reference.iam_common import (MANAGED_POLICY_MAX, _account, _authorize, _page, _parse, _path,
                                                   _path_prefix, _size)
from rolecall.targets.reference.model import AwsError, Caller, ManagedPolicy, Model, operation
from rolecall.targets.reference.policy import NotModelled


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
