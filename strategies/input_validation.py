"""Input validation: one call whose parameters are valid except, half the time, one member
that breaks its model constraint (from `strategies.params`) or a policy document that IAM or
S3 must refuse (one corruption of a valid document), or a name that is already taken.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, pick
from rolecall.strategies.params import invalid_value, valid_value
from rolecall.strategies.world import WorldBuilder, doc, root_arn

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"

IDENTITY = doc({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": root_arn("A")}, "Action": "sts:AssumeRole"})
BUCKET = doc({"Effect": "Allow", "Principal": {"AWS": root_arn("A")}, "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::{{A:bucket/data}}/*"})


def _st0(d: dict) -> dict:
    return d["Statement"][0]


def _set(**fields) -> Callable[[dict], None]:
    def f(d: dict) -> None:
        _st0(d).update(fields)
    return f


def _drop(name: str) -> Callable[[dict], None]:
    def f(d: dict) -> None:
        _st0(d).pop(name, None)
    return f


def _top(**fields) -> Callable[[dict], None]:
    def f(d: dict) -> None:
        d.update(fields)
    return f


def _twice(d: dict) -> None:
    d["Statement"].append(dict(_st0(d), Sid="Read"))
    _st0(d)["Sid"] = "Read"


# label -> change to a valid document of that kind (each one thing IAM or S3 refuses)
IDENTITY_CORRUPTIONS: dict[str, Callable[[dict], None]] = {
    "effect-lower-case": _set(Effect="allow"), "no-effect": _drop("Effect"),
    "principal-in-identity-policy": _set(Principal={"AWS": "*"}), "no-action": _drop("Action"),
    "no-resource": _drop("Resource"), "action-without-vendor": _set(Action="GetObject"),
    "action-with-two-colons": _set(Action="s3:Get:Object"), "resource-not-an-arn": _set(Resource="my-bucket"),
    "duplicate-sid": _twice, "sid-not-alphanumeric": _set(Sid="read-all"), "bad-version": _top(Version="2012-10-18"),
    "misspelt-statement": lambda d: d.update(Statment=d.pop("Statement")), "empty-statement": _top(Statement=[]),
    "action-and-notaction": _set(NotAction="s3:PutObject"),
    "unparseable-date": _set(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}),
    "unknown-operator": _set(Condition={"StringEqualz": {"aws:username": "bob"}}),
    "iam-resource-with-region": _set(Resource="arn:aws:iam:us-east-1::role/x"),
}
TRUST_CORRUPTIONS: dict[str, Callable[[dict], None]] = {
    "resource-in-trust": _set(Resource="*"), "no-principal": _drop("Principal"),
    "notprincipal-in-trust": lambda d: _st0(d).update(NotPrincipal=_st0(d).pop("Principal")),
    "non-sts-action": _set(Action="s3:GetObject"), "wildcard-account": _set(Principal={"AWS": "arn:aws:iam::*:root"}),
    "unknown-user": _set(Principal={"AWS": "arn:aws:iam::{{A}}:user/nobody"}),
    # bob lives at /app/: the ARN without the path names no one
    "user-arn-without-path": _set(Principal={"AWS": "arn:aws:iam::{{A}}:user/bob"}),
    "partial-wildcard-role": _set(Principal={"AWS": "arn:aws:iam::{{A}}:role/*"}),
    "effect-lower-case": _set(Effect="allow"),
}
BUCKET_CORRUPTIONS: dict[str, Callable[[dict], None]] = {
    "no-principal": _drop("Principal"), "iam-action": _set(Action="iam:GetRole"),
    "non-s3-resource": _set(Resource="arn:aws:iam::{{A}}:root"), "no-resource": _drop("Resource"),
    "unknown-user": _set(Principal={"AWS": "arn:aws:iam::{{A}}:user/nobody"}), "empty-principal": _set(Principal={}),
}
INVALID_JSON = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"'


def policy_text(draw, base: dict, corruptions: dict[str, Callable[[dict], None]]) -> tuple[str, str]:
    """(document text, label): the valid `base` half the time, else one corruption of it, or
    text that is not JSON at all."""
    if coin(draw):
        return json.dumps(base), "valid"
    label = pick(draw, sorted(corruptions) + ["invalid-json"])
    if label == "invalid-json":
        return INVALID_JSON, label
    d = copy.deepcopy(base)
    corruptions[label](d)
    return json.dumps(d), label


# (call, caller, valid parameters, members drawn from the botocore model). Members whose
# pattern violations have a sourced answer only (targets/reference/params.py).
CALLS: dict[str, tuple[str, str, dict, tuple[str, ...]]] = {
    "assume": ("sts:AssumeRole", "A:user/alice", {"RoleArn": "{{A:role/target}}", "RoleSessionName": "s1"},
               ("RoleSessionName", "DurationSeconds", "ExternalId", "SourceIdentity", "RoleArn")),
    "create-role": ("iam:CreateRole", "A:admin", {"RoleName": "made", "AssumeRolePolicyDocument": json.dumps(TRUST)},
                    ("RoleName", "Path", "MaxSessionDuration", "Description")),
    "create-user": ("iam:CreateUser", "A:admin", {"UserName": "made"}, ("UserName", "Path")),
}

_VALID: dict[tuple, st.SearchStrategy] = {}
_INVALID: dict[tuple, st.SearchStrategy] = {}


def member_value(draw, call: str, member: str) -> tuple[Any, bool]:
    """(value, valid?) for one member: valid half the time, else breaking one constraint."""
    service, action = call.split(":")
    key = (service, action, member)
    if key not in _VALID:
        _VALID[key], _INVALID[key] = valid_value(*key), invalid_value(*key)
    ok = coin(draw)
    return draw((_VALID if ok else _INVALID)[key]), ok


@st.composite
def input_validation_scenarios(draw):
    """One call with one member or document to validate; the world has the role the calls
    need, a user at /app/ for the path near miss, and a bucket."""
    world = WorldBuilder("A")
    world.user("A", "alice")
    world.user("A", "bob", path="/app/")
    world.role("A", "target", doc({"Effect": "Allow", "Principal": {"AWS": "{{A:user/alice}}"},
                                   "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}),
               max_session_duration=43200)
    world.bucket("A", "data", objects={"report.csv": "a,b\n"})
    kind = pick(draw, ("member", "member", "member", "trust", "identity", "session", "bucket", "taken"))
    if kind == "member":
        name, (call, caller, params, members) = pick(draw, sorted(CALLS.items()))
        member = pick(draw, members)
        params = dict(params)
        params[member], ok = member_value(draw, call, member)
        label = f"{member} {'valid' if ok else 'invalid'}"
    elif kind == "trust":
        text, label = policy_text(draw, TRUST, TRUST_CORRUPTIONS)
        call, caller = pick(draw, (("iam:CreateRole", "A:admin"), ("iam:UpdateAssumeRolePolicy", "A:admin")))
        params = ({"RoleName": "made", "AssumeRolePolicyDocument": text} if call == "iam:CreateRole"
                  else {"RoleName": "target", "PolicyDocument": text})
    elif kind == "identity":
        text, label = policy_text(draw, IDENTITY, IDENTITY_CORRUPTIONS)
        call = pick(draw, ("iam:PutRolePolicy", "iam:PutUserPolicy", "iam:CreatePolicy"))
        caller = "A:admin"
        params = {"iam:PutRolePolicy": {"RoleName": "target", "PolicyName": "p", "PolicyDocument": text},
                  "iam:PutUserPolicy": {"UserName": "alice", "PolicyName": "p", "PolicyDocument": text},
                  "iam:CreatePolicy": {"PolicyName": "made", "PolicyDocument": text}}[call]
    elif kind == "session":
        text, label = policy_text(draw, IDENTITY, IDENTITY_CORRUPTIONS)
        call, caller = "sts:AssumeRole", "A:user/alice"
        params = {"RoleArn": "{{A:role/target}}", "RoleSessionName": "s1", "Policy": text}
    elif kind == "bucket":
        text, label = policy_text(draw, BUCKET, BUCKET_CORRUPTIONS)
        call, caller, params = "s3:PutBucketPolicy", "A:admin", {"Bucket": "{{A:bucket/data}}", "Policy": text}
    else:
        # names are unique without regard to case
        taken = pick(draw, ("target", "Target", "TARGET", "targets"))
        call, caller = "iam:CreateRole", "A:admin"
        params = {"RoleName": taken, "AssumeRolePolicyDocument": json.dumps(TRUST)}
        label = f"role name {taken}"
    steps = [{"id": "call", "as": caller, "call": call, "params": params}]
    return world.scenario(steps, f"generated: input validation of {call}, {label}", SOURCE)
