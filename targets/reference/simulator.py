"""The IAM policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy.

The simulator evaluates identity-based policies (an entity's, or the ones passed as strings),
with a permissions boundary when one is passed, and answers a decision per action and resource
(`allowed`, `explicitDeny`, `implicitDeny`) without making the request:
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html.

A trust policy passed as the ResourcePolicy of an sts:Assume* action is not evaluated: AWS's
simulator validates it and then decides from the identity policies alone, by design
(https://github.com/aws/aws-cli/issues/10314). What the model cannot vouch for is NotModelled
(unsupported): other resource policies, CallerArn, a group or an entity with a boundary as the
source, several resources in one call, and condition keys the request does not provide in
ContextEntries (the simulator does not fill them in from the principal).
"""
from __future__ import annotations

import json
from typing import Any

from rolecall.targets.reference import iam_common as iam
from rolecall.targets.reference.access import _managed
from rolecall.targets.reference.evaluation import Decision, PolicySet, _scan
from rolecall.targets.reference.model import AwsError, Caller, Model, operation
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, Request, parse_policy

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"
#: actions whose resource policy is a role's trust policy, which the simulator ignores
ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity")


def _documents(texts: Any, label: str) -> list[tuple[str, Any]]:
    """Policies passed as strings (PolicyInputList, PermissionsBoundaryPolicyInputList)."""
    out = []
    for i, text in enumerate(texts or [], start=1):
        if not isinstance(text, str):
            raise NotModelled(f"{label} entry that is not a string")
        try:
            out.append((f"{label}.{i}", parse_policy(text, "identity")))
        except MalformedPolicy as exc:
            raise AwsError(exc.code, 400, exc.message) from None
    return out


def _context(entries: Any) -> dict[str, list[str]]:
    ctx: dict[str, list[str]] = {}
    for entry in entries or []:
        name, values = entry.get("ContextKeyName"), entry.get("ContextKeyValues")
        if not isinstance(name, str) or not isinstance(values, list) or entry.get("ContextKeyType") not in (
                None, "string", "stringList"):
            raise NotModelled("a context entry that is not a string or string list")
        ctx[name.lower()] = [str(v) for v in values]
    return ctx


def decision(identity: PolicySet, boundary: PolicySet, request: Request) -> str:
    """An explicit Deny in any policy wins; then an Allow in the identity policies, within the
    boundary when there is one; else the implicit deny
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html)."""
    trace: list[dict] = []
    allow, deny = _scan(identity, request, trace)
    b_allow, b_deny = _scan(boundary, request, trace) if boundary.present else (True, False)
    if deny or b_deny:
        return EXPLICIT_DENY
    return ALLOWED if allow and b_allow else IMPLICIT_DENY


def _simulate(p: dict, identity: PolicySet, boundary: PolicySet) -> dict:
    actions, resources = p.get("ActionNames") or [], p.get("ResourceArns") or ["*"]
    if len(resources) != 1 or resources == ["*"]:
        raise NotModelled("a simulation of several resources, or of all (*)")
    for name in ("CallerArn", "ResourceOwner", "ResourceHandlingOption", "Marker", "MaxItems"):
        if p.get(name):
            raise NotModelled(f"the simulator's {name}")
    if p.get("ResourcePolicy"):
        try:
            parse_policy(p["ResourcePolicy"], "trust")  # validated, then ignored for sts:Assume*
        except MalformedPolicy as exc:
            raise AwsError(exc.code, 400, exc.message) from None
        if any(str(a).lower() not in ASSUME_ACTIONS for a in actions):
            raise NotModelled("a resource policy in a simulation of actions other than sts:Assume*")
    ctx = _context(p.get("ContextEntries"))
    for _, pol in identity.policies + boundary.policies:
        for st in pol.statements:
            if any(c.key not in ctx for c in st.conditions) or "${" in json.dumps(pol.document):
                raise NotModelled("a condition key or policy variable the simulation's ContextEntries lack")
    results = []
    for action in actions:
        for resource in resources:
            request = Request(action=str(action), resource=str(resource), principal=None, context=ctx)
            results.append({"EvalActionName": action, "EvalResourceName": resource,
                            "EvalDecision": decision(identity, boundary, request)})
    return {"EvaluationResults": results, "IsTruncated": False}


def _labelled(result: dict) -> tuple[dict, Decision]:
    """The answer, labelled with the simulated decision of its last result (reason coverage)."""
    last = result["EvaluationResults"][-1]["EvalDecision"] if result["EvaluationResults"] else None
    if last == ALLOWED:
        return result, Decision(True, reason="simulated-allowed")
    if last == EXPLICIT_DENY:
        return result, Decision(True, reason="simulated-explicit-deny")
    return result, Decision(True, reason="simulated-implicit-deny")


@operation
def SimulatePrincipalPolicy(model: Model, caller: Caller, p: dict):  # noqa: N802 - AWS's action name
    source = str(p.get("PolicySourceArn", ""))
    acct = iam._authorize(model, caller, "SimulatePrincipalPolicy", source)
    kind, _, name = source.partition(f"arn:aws:iam::{acct}:")[2].partition("/")
    name = name.rsplit("/", 1)[-1]
    account = model.account(acct)
    entity = {"user": account.users, "role": account.roles}.get(kind, {}).get(name.lower())
    if entity is None or entity.arn != source:
        raise NotModelled("a simulation whose source is not a user or role of the caller's account")
    if entity.boundary:
        raise NotModelled("a simulation of an entity with a permissions boundary")
    identity = PolicySet("identity", [(f"{kind} {entity.name} inline {n}", pol)
                                      for n, (_, pol) in entity.inline.items()])
    identity.policies.extend(_managed(model, entity.managed))
    if kind == "user":
        for gname in entity.groups:
            group = account.groups.get(gname.lower())
            if group is not None:
                identity.policies.extend((f"group {group.name} inline {n}", pol) for n, (_, pol) in group.inline.items())
                identity.policies.extend(_managed(model, group.managed))
    identity.policies.extend(_documents(p.get("PolicyInputList"), "PolicyInputList"))
    boundary = PolicySet("boundary", _documents(p.get("PermissionsBoundaryPolicyInputList"),
                                                "PermissionsBoundaryPolicyInputList"))
    return _labelled(_simulate(p, identity, boundary))


@operation
def SimulateCustomPolicy(model: Model, caller: Caller, p: dict):  # noqa: N802 - AWS's action name
    iam._authorize(model, caller, "SimulateCustomPolicy", "*")
    identity = PolicySet("identity", _documents(p.get("PolicyInputList"), "PolicyInputList"))
    boundary = PolicySet("boundary", _documents(p.get("PermissionsBoundaryPolicyInputList"),
                                                "PermissionsBoundaryPolicyInputList"))
    return _labelled(_simulate(p, identity, boundary))
