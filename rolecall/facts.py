"""Returned facts: the fields of a successful answer that AWS defines exactly, compared at the
default strictness (`facts`, rolecall.compare).

A fact is a path in a call's result (`AssumedRoleUser.Arn`). Values AWS randomises never count:
outcomes are normalised first (rolecall.outcome: keys and unique ids become their entity or
their 4-letter prefix, secrets and tokens a shape, Expiration its offset from the request
time). A fact the oracle marks unsure on a step (`Outcome.unsure`) is not compared there.
"""
from __future__ import annotations

from typing import Any

_STS = "https://docs.aws.amazon.com/STS/latest/APIReference/"
_IAM = "https://docs.aws.amazon.com/IAM/latest/APIReference/"
#: ARN formats, account ids and unique-id prefixes (AROA, AIDA, ANPA, AIPA, AKIA, ASIA)
IDENTIFIERS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html"

_CREDENTIALS = ("Credentials.AccessKeyId", "Credentials.Expiration")
_ROLE = ("Role.Arn", "Role.RoleId", "Role.RoleName", "Role.Path")
_USER = ("User.Arn", "User.UserId", "User.UserName", "User.Path")
_POLICY = ("Policy.Arn", "Policy.PolicyId", "Policy.PolicyName", "Policy.Path", "Policy.DefaultVersionId")
_PROFILE = ("InstanceProfile.Arn", "InstanceProfile.InstanceProfileId", "InstanceProfile.InstanceProfileName",
            "InstanceProfile.Path")
_SIMULATION = ("EvaluationResults[].EvalActionName", "EvaluationResults[].EvalResourceName",
               "EvaluationResults[].EvalDecision")

#: call -> (its facts, the AWS page that defines them). A call not listed has no facts: its
#: answer is compared at `result`, not by default.
FACTS: dict[str, tuple[tuple[str, ...], str]] = {
    "sts:GetCallerIdentity": (("UserId", "Account", "Arn"), _STS + "API_GetCallerIdentity.html"),
    "sts:AssumeRole": (("AssumedRoleUser.Arn", "AssumedRoleUser.AssumedRoleId", *_CREDENTIALS, "PackedPolicySize",
                        "SourceIdentity"), _STS + "API_AssumeRole.html"),
    "sts:GetSessionToken": (_CREDENTIALS, _STS + "API_GetSessionToken.html"),
    "sts:GetFederationToken": (("FederatedUser.Arn", "FederatedUser.FederatedUserId", *_CREDENTIALS,
                                "PackedPolicySize"), _STS + "API_GetFederationToken.html"),
    "sts:GetAccessKeyInfo": (("Account",), _STS + "API_GetAccessKeyInfo.html"),
    "iam:CreateRole": (_ROLE, _IAM + "API_CreateRole.html"),
    "iam:GetRole": ((*_ROLE, "Role.MaxSessionDuration"), _IAM + "API_GetRole.html"),
    "iam:CreateServiceLinkedRole": (_ROLE, _IAM + "API_CreateServiceLinkedRole.html"),
    "iam:CreateUser": (_USER, _IAM + "API_CreateUser.html"),
    "iam:GetUser": (_USER, _IAM + "API_GetUser.html"),
    "iam:CreatePolicy": (_POLICY, _IAM + "API_CreatePolicy.html"),
    "iam:GetPolicy": (_POLICY, _IAM + "API_GetPolicy.html"),
    "iam:CreateAccessKey": (("AccessKey.AccessKeyId", "AccessKey.UserName", "AccessKey.Status"),
                            _IAM + "API_CreateAccessKey.html"),
    "iam:CreateInstanceProfile": (_PROFILE, _IAM + "API_CreateInstanceProfile.html"),
    "iam:GetInstanceProfile": (_PROFILE, _IAM + "API_GetInstanceProfile.html"),
    "iam:SimulatePrincipalPolicy": (_SIMULATION, _IAM + "API_SimulatePrincipalPolicy.html"),
    "iam:SimulateCustomPolicy": (_SIMULATION, _IAM + "API_SimulateCustomPolicy.html"),
}

_MISSING = object()


def _at(result: Any, path: str) -> Any:
    """The value at a dotted path; `Name[].rest` projects `rest` over the list at Name."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        listed = part.endswith("[]")
        part = part[:-2] if listed else part
        if not isinstance(result, dict) or part not in result:
            return _MISSING
        result = result[part]
        if listed:
            if not isinstance(result, list):
                return _MISSING
            rest = ".".join(parts[i + 1:])
            return [_at(item, rest) if rest else item for item in result]
    return result


def compared(call: str, unsure: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The facts of a call compared on a step whose oracle is unsure of `unsure`."""
    paths = FACTS.get(call, ((), ""))[0]
    return tuple(p for p in paths if p not in unsure)


def differing(call: str, expected: Any, observed: Any, unsure: tuple[str, ...] = ()) -> list[str]:
    """The facts two results disagree on (a fact one has and the other lacks differs), in the
    `~path` / `+path` (only the target has it) / `-path` (only the oracle) notation."""
    out = []
    for path in compared(call, unsure):
        e, o = _at(expected, path), _at(observed, path)
        if e is _MISSING and o is not _MISSING:
            out.append(f"+.{path}")
        elif o is _MISSING and e is not _MISSING:
            out.append(f"-.{path}")
        elif e != o:
            out.append(f"~.{path}")
    return out


def of(call: str, result: Any, unsure: tuple[str, ...] = ()) -> dict:
    """The facts of a result as a nested object, what a scenario file expects at `facts`; a
    fact the result lacks is expected absent."""
    out: dict = {}
    listed: dict[str, list[str]] = {}
    for path in compared(call, unsure):
        if "[]" in path:
            head, _, rest = path.partition("[].")
            listed.setdefault(head, []).append(rest)
            continue
        *parents, last = path.split(".")
        here = out
        for part in parents:
            here = here.setdefault(part, {})
        value = _at(result, path)
        here[last] = {"$absent": True} if value is _MISSING else value
    for head, fields in listed.items():  # a list of objects: each item's facts, in any order
        items = _at(result, head + "[]")
        out[head] = {"$absent": True} if items is _MISSING else {"$contains": [
            {f: item[f] for f in fields if isinstance(item, dict) and f in item} for item in items]}
    return _prune(out, result)


def _prune(expect: dict, result: Any) -> dict:
    """A parent object the result lacks altogether is expected absent as a whole."""
    for key, value in list(expect.items()):
        if isinstance(value, dict) and "$absent" not in value:
            if not isinstance(result, dict) or key not in result:
                expect[key] = {"$absent": True}
            else:
                _prune(value, result[key])
    return expect
