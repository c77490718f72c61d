"""World sugar -> the administrator's API calls that create it.

Every target creates a world the same way: by running these calls as each account's
administrator, in this order. Principals named by trust and bucket policies must exist
when those policies are saved (IAM rejects unknown principals), so users come first, then
roles in dependency order, then buckets. Groups come before the users who are their members.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from rolecall.scenario import REFERENCE, REFERENCE_BODY, Scenario, slr_fields


@dataclass(frozen=True)
class SetupCall:
    account: str
    call: str
    params: Mapping[str, Any]
    what: str  # "user/alice", "role/reader", ... : which declared thing this call creates
    keep: bool = False  # the runner keeps the raw result (access keys)


def _doc(doc: Any) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))


def _managed_arn(account: str, ref: str) -> str:
    return ref if ref.startswith("arn:") else f"{{{{{account}:policy/{ref}}}}}"


def _trust_role_refs(trust: Any) -> set[tuple[str, str]]:
    text = _doc(trust)
    out = set()
    for m in REFERENCE.finditer(text):
        rm = REFERENCE_BODY.fullmatch(m.group(1))
        if rm and rm["kind"] == "role":
            out.add((rm["account"], rm["name"]))
    return out


def setup_calls(scenario: Scenario) -> list[SetupCall]:
    calls: list[SetupCall] = []
    accounts = scenario.accounts
    for acct, world in accounts.items():
        for name, doc in world.get("managed_policies", {}).items():
            calls.append(SetupCall(acct, "iam:CreatePolicy", {"PolicyName": name, "PolicyDocument": _doc(doc)},
                                   f"policy/{name}"))
    for acct, world in accounts.items():
        for name, group in world.get("groups", {}).items():
            params = {"GroupName": name}
            if "path" in group:
                params["Path"] = group["path"]
            calls.append(SetupCall(acct, "iam:CreateGroup", params, f"group/{name}"))
            for pname, doc in group.get("policies", {}).items():
                calls.append(SetupCall(acct, "iam:PutGroupPolicy",
                                       {"GroupName": name, "PolicyName": pname, "PolicyDocument": _doc(doc)},
                                       f"group/{name}"))
            for ref in group.get("managed", []):
                calls.append(SetupCall(acct, "iam:AttachGroupPolicy",
                                       {"GroupName": name, "PolicyArn": _managed_arn(acct, ref)}, f"group/{name}"))
    for acct, world in accounts.items():
        for name, user in world.get("users", {}).items():
            params: dict[str, Any] = {"UserName": name}
            if "path" in user:
                params["Path"] = user["path"]
            if "boundary" in user:
                params["PermissionsBoundary"] = _managed_arn(acct, user["boundary"])
            if "tags" in user:
                params["Tags"] = [{"Key": k, "Value": v} for k, v in user["tags"].items()]
            calls.append(SetupCall(acct, "iam:CreateUser", params, f"user/{name}"))
            calls.append(SetupCall(acct, "iam:CreateAccessKey", {"UserName": name}, f"user/{name}", keep=True))
            for pname, doc in user.get("policies", {}).items():
                calls.append(SetupCall(acct, "iam:PutUserPolicy",
                                       {"UserName": name, "PolicyName": pname, "PolicyDocument": _doc(doc)},
                                       f"user/{name}"))
            for ref in user.get("managed", []):
                calls.append(SetupCall(acct, "iam:AttachUserPolicy",
                                       {"UserName": name, "PolicyArn": _managed_arn(acct, ref)}, f"user/{name}"))
            for group in user.get("groups", []):
                calls.append(SetupCall(acct, "iam:AddUserToGroup", {"GroupName": group, "UserName": name},
                                       f"user/{name}"))
    for acct, world in accounts.items():
        # before the roles whose trust policies name them as the Federated principal
        for name, provider in world.get("oidc_providers", {}).items():
            params = {"Url": f"https://{name}", "ClientIDList": list(provider.get("client_ids", []))}
            if "thumbprints" in provider:
                params["ThumbprintList"] = list(provider["thumbprints"])
            calls.append(SetupCall(acct, "iam:CreateOpenIDConnectProvider", params, f"oidc-provider/{name}"))
    for acct, world in accounts.items():
        for entry in world.get("service_linked_roles", []):
            service, suffix = slr_fields(entry)
            params = {"AWSServiceName": service}
            if suffix:
                params["CustomSuffix"] = suffix
            if isinstance(entry, dict) and entry.get("description"):
                params["Description"] = entry["description"]
            calls.append(SetupCall(acct, "iam:CreateServiceLinkedRole", params, f"service-linked-role/{service}"))
    calls.extend(_role_calls(scenario))
    for acct, world in accounts.items():
        for name, ip in world.get("instance_profiles", {}).items():
            params = {"InstanceProfileName": name}
            if "path" in ip:
                params["Path"] = ip["path"]
            calls.append(SetupCall(acct, "iam:CreateInstanceProfile", params, f"instance-profile/{name}"))
            if "role" in ip:
                calls.append(SetupCall(acct, "iam:AddRoleToInstanceProfile",
                                       {"InstanceProfileName": name, "RoleName": ip["role"]},
                                       f"instance-profile/{name}"))
    for acct, world in accounts.items():
        for name, bucket in world.get("buckets", {}).items():
            ref = f"{{{{{acct}:bucket/{name}}}}}"
            calls.append(SetupCall(acct, "s3:CreateBucket", {"Bucket": ref}, f"bucket/{name}"))
            if "policy" in bucket:
                calls.append(SetupCall(acct, "s3:PutBucketPolicy", {"Bucket": ref, "Policy": _doc(bucket["policy"])},
                                       f"bucket/{name}"))
            for key, body in bucket.get("objects", {}).items():
                calls.append(SetupCall(acct, "s3:PutObject", {"Bucket": ref, "Key": key, "Body": body},
                                       f"bucket/{name}"))
    return calls


def _role_calls(scenario: Scenario) -> list[SetupCall]:
    """Roles in an order where every role a trust policy names exists first; a cycle is
    broken by creating the role trusting its own account, then updating its trust."""
    roles = {(acct, name): role for acct, world in scenario.accounts.items()
             for name, role in world.get("roles", {}).items()}
    order: list[tuple[str, str]] = []
    deferred: set[tuple[str, str]] = set()
    state: dict[tuple[str, str], int] = {}

    def visit(key: tuple[str, str]) -> None:
        state[key] = 1
        for dep in sorted(_trust_role_refs(roles[key]["trust"])):
            if dep == key or dep not in roles:
                continue
            if state.get(dep) == 1:
                deferred.add(key)
            elif dep not in state:
                visit(dep)
        state[key] = 2
        order.append(key)

    for key in roles:
        if key not in state:
            visit(key)
    # a role naming itself in its trust must exist before its trust can name it
    deferred |= {k for k in roles if k in _trust_role_refs(roles[k]["trust"])}

    calls: list[SetupCall] = []
    for acct, name in order:
        role = roles[(acct, name)]
        trust = role["trust"]
        if (acct, name) in deferred:
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{{{{{acct}}}}}:root"},
                 "Action": "sts:AssumeRole"}]}
        params: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": _doc(trust)}
        if "path" in role:
            params["Path"] = role["path"]
        if "max_session_duration" in role:
            params["MaxSessionDuration"] = role["max_session_duration"]
        if "description" in role:
            params["Description"] = role["description"]
        if "boundary" in role:
            params["PermissionsBoundary"] = _managed_arn(acct, role["boundary"])
        if "tags" in role:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in role["tags"].items()]
        calls.append(SetupCall(acct, "iam:CreateRole", params, f"role/{name}"))
        for pname, doc in role.get("policies", {}).items():
            calls.append(SetupCall(acct, "iam:PutRolePolicy",
                                   {"RoleName": name, "PolicyName": pname, "PolicyDocument": _doc(doc)}, f"role/{name}"))
        for ref in role.get("managed", []):
            calls.append(SetupCall(acct, "iam:AttachRolePolicy",
                                   {"RoleName": name, "PolicyArn": _managed_arn(acct, ref)}, f"role/{name}"))
    for acct, name in order:
        if (acct, name) in deferred:
            calls.append(SetupCall(acct, "iam:UpdateAssumeRolePolicy",
                                   {"RoleName": name, "PolicyDocument": _doc(roles[(acct, name)]["trust"])},
                                   f"role/{name}"))
    return calls
