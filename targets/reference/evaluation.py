"""Policy evaluation: whether a principal's request is allowed, why, and which AWS page says so.

One function, `authorize`, combines the policy types in AWS's order. Every decision
carries a reason label (the strategies measure coverage over them) and a trace.

Sources:
- single account: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
- cross account: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
- resource policy naming the principal (same account), per principal type:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
- role trust policies must always allow:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rolecall.targets.reference.policy import Policy, Principal, Request, matching_statements

# The rule registry (labels, one-line descriptions, AWS pages) is core: reports, baselines and
# findings read it without the model.
from rolecall.rules import (BOUNDARIES, EVAL_BASICS, EVAL_CROSS, EVAL_DENYALLOW, REASONS, RULES,  # noqa: E402,F401
                            SESSION_POLICIES, TRUST_PRINCIPAL)


@dataclass
class PolicySet:
    """The policies of one kind that apply to a request, each with a label for the trace."""

    kind: str  # identity | boundary | session | resource
    policies: list[tuple[str, Policy]] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.policies)


@dataclass
class Decision:
    allowed: bool
    reason: str
    explicit: bool = False
    trace: list[dict] = field(default_factory=list)

    @property
    def source(self) -> str:
        return REASONS.get(self.reason, EVAL_DENYALLOW)


def _scan(pset: PolicySet, request: Request, trace: list[dict]) -> tuple[bool, bool]:
    """(any Allow matched, any Deny matched)"""
    allow = deny = False
    for label, policy in pset.policies:
        for st in matching_statements(policy, request):
            trace.append({"policy": label, "kind": pset.kind, "statement": st.sid or st.index, "effect": st.effect})
            if st.effect == "Deny":
                deny = True
            else:
                allow = True
    return allow, deny


def _trust_denial(resource: PolicySet, request: Request) -> str:
    """Which trust denial this is, for the reason label only (the decision is the same)."""
    near = any(policy.statements and _matches_without_condition(policy, request) for _, policy in resource.policies)
    return "deny-trust-condition" if near else "deny-trust-no-match"


def _matches_without_condition(policy: Policy, request: Request) -> bool:
    # Used only to tell "trust does not name you" from "trust names you but its condition
    # fails" in the reason label; the decision itself is the same.
    stripped = getattr(policy, "without_conditions", None)
    if stripped is None:
        return False
    return any(st.effect == "Allow" for st in matching_statements(stripped(), request))


# How a resource policy's matching Allow names the caller decides which implicit denies can
# still limit its grant (same account; the table "Resource-based policies and implicit denies
# in other policy types" in
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
# and the session-policy section of https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html):
#   "principal": the caller itself (user ARN or id, the role *session* ARN, a service, "*"):
#                not limited by the identity policy, the boundary or a session policy;
#   "role":      the role (ARN or unique id) behind a session: not limited by the identity
#                policy, limited by the role's boundary and by session policies;
#   "account":   the account (ID or root ARN): delegates, the identity side must allow.
GRANT_STRENGTH = {"principal": 3, "role": 2, "account": 1}


def _statement_grant(statement, principal: Principal | None) -> str | None:
    if principal is None:
        return "principal"
    if statement.not_principal or not statement.principal_values:
        return "principal"
    best = None
    for kind, v in statement.principal_values:
        grant = None
        if kind != "AWS" or v == "*":
            grant = "principal"  # a service, federated or canonical principal that matched, or "*"
        elif v == principal.arn:
            grant = "principal"
        elif principal.role_arn is not None and v in (principal.role_arn, principal.unique_id):
            grant = "role"
        elif v == principal.unique_id:
            grant = "principal"  # a user's unique id (IAM stores named users that way)
        elif principal.account is not None and v in (principal.account, f"arn:aws:iam::{principal.account}:root"):
            grant = "account"
        if grant and (best is None or GRANT_STRENGTH[grant] > GRANT_STRENGTH[best]):
            best = grant
    return best


def resource_grant(policies: Iterable[tuple[str, Policy]], request: Request) -> str | None:
    """The strongest way any matching Allow statement of a resource policy names the caller."""
    best = None
    for _, policy in policies:
        for st in matching_statements(policy, request):
            if st.effect != "Allow":
                continue
            grant = _statement_grant(st, request.principal)
            if grant and (best is None or GRANT_STRENGTH[grant] > GRANT_STRENGTH[best]):
                best = grant
    return best


def organization_denial(request: Request, scp: Sequence[PolicySet], rcp: Sequence[PolicySet],
                        trace: list[dict]) -> Decision | None:
    """What SCPs and RCPs decide before any other policy: an explicit Deny in one is final, and
    every level from the root to the account must have an SCP that allows (AWS reports both as
    an explicit deny in a service control policy). None: they let the request through. RCPs
    only ever deny (RCPFullAWSAccess, attached everywhere, allows).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"""
    scp_allows = []
    scp_deny = rcp_deny = False
    for level in scp:
        allow, deny = _scan(level, request, trace)
        scp_allows.append(allow)
        scp_deny |= deny
    for level in rcp:
        rcp_deny |= _scan(level, request, trace)[1]
    if scp_deny:
        return Decision(False, "deny-explicit-scp", True, trace)
    if rcp_deny:
        return Decision(False, "deny-explicit-rcp", True, trace)
    if not all(scp_allows):
        return Decision(False, "deny-scp-no-allow", True, trace)
    return None


def authorize(request: Request, *, principal_account: str | None, resource_account: str | None,
              identity: PolicySet, boundary: PolicySet, session: PolicySet, resource: PolicySet,
              is_trust: bool = False, principal_kind: str = "user",
              scp: Sequence[PolicySet] = (), rcp: Sequence[PolicySet] = ()) -> Decision:
    """AWS's decision for one request. principal_kind: user | session | service | anonymous.
    scp, rcp: the SCPs and RCPs that apply, one PolicySet per level from the root down."""
    trace: list[dict] = []
    denied = organization_denial(request, scp, rcp, trace)
    if denied is not None:
        return denied
    id_allow, id_deny = _scan(identity, request, trace)
    b_allow, b_deny = _scan(boundary, request, trace)
    s_allow, s_deny = _scan(session, request, trace)
    r_allow, r_deny = _scan(resource, request, trace)

    # 1. an explicit deny in any applicable policy is final
    for denied, where in ((r_deny, "resource"), (id_deny, "identity"), (b_deny, "boundary"), (s_deny, "session")):
        if denied:
            return Decision(False, f"deny-explicit-{where}", True, trace)

    boundary_ok = (not boundary.present) or b_allow
    session_ok = (not session.present) or s_allow

    if principal_kind == "anonymous":
        # An unsigned request has no identity: only a resource policy granting "*" (or
        # {"AWS": "*"}) allows it ("Granting permission to everyone, or anonymous access",
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous).
        if r_allow:
            return Decision(True, "allow-resource-names-principal", trace=trace)
        return Decision(False, "deny-no-identity-allow", trace=trace)

    if principal_kind == "service":
        # A service principal has no identity policies: only the resource policy can allow.
        if r_allow:
            return Decision(True, "allow-trust-service" if is_trust else "allow-resource-names-principal",
                            trace=trace)
        return Decision(False, _trust_denial(resource, request), trace=trace)

    same_account = principal_account is not None and principal_account == resource_account
    grant = resource_grant(resource.policies, request) if r_allow else None
    if grant:
        trace.append({"resource_policy_names": {"principal": "the caller", "role": "the caller's role",
                                                "account": "the caller's account"}[grant]})

    if is_trust:
        # Trust policies must always allow, in the same account too.
        if not r_allow:
            return Decision(False, _trust_denial(resource, request), trace=trace)
        if same_account and grant in ("principal", "role"):
            # Naming the user or role ARN suffices without an identity policy, but the caller's
            # boundary and session policies still limit it: "If a user is listed as the principal
            # in a role's trust policy but cannot assume the role, check the user's permissions
            # boundary" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html).
            if not boundary_ok:
                return Decision(False, "deny-boundary", trace=trace)
            if not session_ok:
                return Decision(False, "deny-session-policy", trace=trace)
            return Decision(True, "allow-trust-names-principal", trace=trace)
        # Naming the account delegates to the account's identity policies (same account),
        # and across accounts the identity side must allow whatever the trust names.
        if not id_allow:
            return Decision(False, "deny-trust-account-without-identity" if same_account
                            else "deny-cross-account-no-identity-allow", trace=trace)
        if not boundary_ok:
            return Decision(False, "deny-boundary", trace=trace)
        if not session_ok:
            return Decision(False, "deny-session-policy", trace=trace)
        return Decision(True, "allow-trust-account-and-identity" if same_account else "allow-cross-account",
                        trace=trace)

    if not same_account and resource_account is not None:
        # Two evaluations, both must allow; no resource-policy shortcut across accounts.
        if resource.present is False or not r_allow:
            return Decision(False, "deny-cross-account-no-resource-allow", trace=trace)
        if not id_allow:
            return Decision(False, "deny-cross-account-no-identity-allow", trace=trace)
        if not boundary_ok:
            return Decision(False, "deny-boundary", trace=trace)
        if not session_ok:
            return Decision(False, "deny-session-policy", trace=trace)
        return Decision(True, "allow-cross-account", trace=trace)

    if grant == "principal":
        # Granted to the user or the session itself: no implicit deny elsewhere limits it.
        return Decision(True, "allow-resource-names-principal", trace=trace)
    if grant == "role":
        # Granted to the role behind the session: its boundary and session policies still limit it.
        if not boundary_ok:
            return Decision(False, "deny-boundary", trace=trace)
        if not session_ok:
            return Decision(False, "deny-session-policy", trace=trace)
        return Decision(True, "allow-resource-names-principal", trace=trace)
    if not id_allow:
        return Decision(False, "deny-no-identity-allow", trace=trace)
    if not boundary_ok:
        return Decision(False, "deny-boundary", trace=trace)
    if not session_ok:
        return Decision(False, "deny-session-policy", trace=trace)
    return Decision(True, "allow-resource-and-identity" if r_allow else "allow-identity", trace=trace)
