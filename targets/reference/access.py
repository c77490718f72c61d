"""From a caller to an authorization decision: which policies apply, and the request context.

Context keys and what each principal type carries:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
(aws:PrincipalArn of a role session is the role's ARN with its path; aws:username only
for IAM users; aws:userid of a session is ROLE-ID:session-name).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolecall.targets.reference import organizations
from rolecall.targets.reference.evaluation import Decision, PolicySet, authorize, organization_denial
from rolecall.targets.reference.managed_policies import aws_managed_policy
from rolecall.targets.reference.model import AwsError, Caller, Model
from rolecall.targets.reference.policy import Principal, Request


def principal_of(caller: Caller) -> Principal | None:
    if caller.kind == "anonymous":
        return None
    if caller.kind == "user":
        u = caller.user
        return Principal(arn=u.arn, account=u.account, unique_id=u.id)
    if caller.kind == "session":
        s = caller.session
        return Principal(arn=s.arn, account=s.role_account, unique_id=s.role_id, role_arn=s.role_arn)
    if caller.kind == "service":
        return Principal(arn=caller.service, account=None, unique_id=None, service=caller.service)
    if caller.kind == "federated":
        return Principal(arn=caller.arn, account=caller.account, unique_id=f"{caller.account}:{caller.federation.name}")
    return Principal(arn=f"arn:aws:iam::{caller.account}:root", account=caller.account, unique_id=caller.account)


def context_of(model: Model, caller: Caller) -> dict[str, list[str]]:
    ctx: dict[str, list[str]] = {**model.time_context(), "aws:securetransport": ["true"]}
    if caller.kind == "user":
        u = caller.user
        ctx.update({"aws:principalarn": [u.arn], "aws:principalaccount": [u.account], "aws:principaltype": ["User"],
                    "aws:userid": [u.id], "aws:username": [u.name]})
        for k, v in u.tags.items():
            ctx[f"aws:principaltag/{k.lower()}"] = [v]
    elif caller.kind == "session":
        s = caller.session
        role = model.account(s.role_account).roles.get(s.role_name.lower())
        ctx.update({"aws:principalarn": [s.role_arn], "aws:principalaccount": [s.role_account],
                    "aws:principaltype": ["AssumedRole"], "aws:userid": [s.user_id]})
        # session tags override the role's own tags of the same key (case-insensitively)
        tags = {k.lower(): v for k, v in (role.tags if role else {}).items()}
        tags.update({k.lower(): v for k, v in s.tags.items()})
        for k, v in tags.items():
            ctx[f"aws:principaltag/{k}"] = [v]
        if s.source_identity:
            ctx["aws:sourceidentity"] = [s.source_identity]
    elif caller.kind == "service":
        ctx["aws:principalservicename"] = [caller.service]
    elif caller.kind == "federated":
        # a federated user session (GetFederationToken): reference_policies_condition-keys.html
        ctx.update({"aws:principalarn": [caller.arn], "aws:principalaccount": [caller.account],
                    "aws:principaltype": ["FederatedUser"],
                    "aws:userid": [f"{caller.account}:{caller.federation.name}"]})
    elif caller.kind == "anonymous":
        pass  # no principal keys for an unsigned request
    else:
        ctx.update({"aws:principalarn": [f"arn:aws:iam::{caller.account}:root"],
                    "aws:principalaccount": [caller.account], "aws:principaltype": ["Account"],
                    "aws:userid": [caller.account]})
    return ctx


def _managed(model: Model, arns: list[str]) -> list:
    out = []
    for arn in arns:
        acct = arn.split(":")[4]
        if acct == "aws":
            known = aws_managed_policy(arn)
            if known is not None:
                out.append(known)
            continue
        mp = model.account(acct).policies.get(arn)
        if mp is not None:
            out.append((f"managed policy {mp.name}", mp.policy))
    return out


def policy_sets(model: Model, caller: Caller) -> tuple[PolicySet, PolicySet, PolicySet]:
    identity, boundary, session = PolicySet("identity"), PolicySet("boundary"), PolicySet("session")
    owner = None
    if caller.kind == "user":
        owner = caller.user
    elif caller.kind == "federated":
        # the user's policies, intersected with the session policies passed to GetFederationToken
        # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html)
        if caller.user is None:
            from rolecall.targets.reference.policy import NotModelled

            raise NotModelled("the permissions of a federated user of the root user")
        owner = caller.user
        session.policies.extend(caller.federation.session_policies)
    elif caller.kind == "session":
        owner = model.account(caller.session.role_account).roles.get(caller.session.role_name.lower())
        session.policies.extend(caller.session.session_policies)
    if owner is not None:
        kind = "role" if caller.kind == "session" else "user"
        identity.policies.extend((f"{kind} {owner.name} inline {n}", p) for n, (_, p) in owner.inline.items())
        identity.policies.extend(_managed(model, owner.managed))
        if kind == "user":
            # A user's identity policies include those of its groups
            # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html).
            groups = model.account(owner.account).groups
            for gname in owner.groups:
                group = groups.get(gname.lower())
                if group is not None:
                    identity.policies.extend((f"group {group.name} inline {n}", p)
                                             for n, (_, p) in group.inline.items())
                    identity.policies.extend(_managed(model, group.managed))
        if owner.boundary:
            boundary.policies.extend((f"boundary {label}", p) for label, p in _managed(model, [owner.boundary]))
    return identity, boundary, session


def decide(model: Model, caller: Caller, action: str, resource: str, *, resource_account: str | None,
           resource_policy: tuple[str, Any] | None = None, extra: dict[str, list[str]] | None = None,
           is_trust: bool = False) -> Decision:
    scp = organizations.scp_levels(model, caller)
    rcp = organizations.rcp_levels(model, caller, action, resource, resource_account)
    if caller.kind in ("admin", "root") and not (scp or rcp):
        return Decision(True, "allow-administrator")
    ctx = context_of(model, caller)
    ctx.update(organizations.context_keys(model, caller, resource, resource_account))
    if extra:
        ctx.update(extra)
    request = Request(action=action, resource=resource, principal=principal_of(caller), context=ctx)
    if caller.kind in ("admin", "root"):
        # SCPs limit a member account's root user and administrators too; RCPs everyone.
        return organization_denial(request, scp, rcp, []) or Decision(True, "allow-administrator")
    identity, boundary, session = policy_sets(model, caller)
    principal = principal_of(caller)
    if principal is not None and boundary.present:
        principal = replace(principal, bounded=True)
    request = Request(action=action, resource=resource, principal=principal, context=ctx)
    resource_set = PolicySet("resource", [resource_policy] if resource_policy and resource_policy[1] else [])
    kind = caller.kind if caller.kind in ("user", "session", "service", "anonymous") else "user"
    principal_account = caller.account if caller.kind != "session" else caller.session.role_account
    return authorize(request, principal_account=principal_account, resource_account=resource_account,
                     identity=identity, boundary=boundary, session=session, resource=resource_set,
                     is_trust=is_trust, principal_kind=kind, scp=scp, rcp=rcp)


def require(model: Model, caller: Caller, action: str, resource: str, *, resource_account: str | None,
            resource_policy=None, extra=None, is_trust: bool = False, message: str | None = None) -> Decision:
    decision = decide(model, caller, action, resource, resource_account=resource_account,
                      resource_policy=resource_policy, extra=extra, is_trust=is_trust)
    if not decision.allowed:
        raise AwsError("AccessDenied", 403,
                       message or f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}",
                       decision=decision)
    return decision
