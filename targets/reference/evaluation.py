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
from typing import Iterable

from rolecall.targets.reference.policy import Policy, Principal, Request, matching_statements

EVAL_DENYALLOW = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html"
EVAL_CROSS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
EVAL_BASICS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html"
TRUST_PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
BOUNDARIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
SESSION_POLICIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session"

# Every reason label the model can decide with, and the page behind it. The strategies'
# coverage tests require that generated scenarios reach each one.
REASONS: dict[str, str] = {
    "allow-administrator": EVAL_DENYALLOW,
    "allow-identity": EVAL_DENYALLOW,
    "allow-resource-names-principal": EVAL_BASICS,
    "allow-resource-and-identity": EVAL_DENYALLOW,
    "allow-cross-account": EVAL_CROSS,
    "allow-trust-names-principal": TRUST_PRINCIPAL,
    "allow-trust-account-and-identity": TRUST_PRINCIPAL,
    "allow-trust-service": TRUST_PRINCIPAL,
    "deny-explicit-identity": EVAL_DENYALLOW,
    "deny-explicit-resource": EVAL_DENYALLOW,
    "deny-explicit-boundary": EVAL_DENYALLOW,
    "deny-explicit-session": EVAL_DENYALLOW,
    "deny-no-identity-allow": EVAL_DENYALLOW,
    "deny-trust-no-match": TRUST_PRINCIPAL,
    "deny-trust-condition": TRUST_PRINCIPAL,
    "deny-trust-account-without-identity": TRUST_PRINCIPAL,
    "deny-cross-account-no-resource-allow": EVAL_CROSS,
    "deny-cross-account-no-identity-allow": EVAL_CROSS,
    "deny-boundary": BOUNDARIES,
    "deny-session-policy": SESSION_POLICIES,
}


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


def _scan(pset: PolicySet, request: Request, trace: list[dict]) -> tuple[bool, bool, bool]:
    """(any Allow matched, any Deny matched, some statement matched all but its Condition)"""
    allow = deny = near = False
    for label, policy in pset.policies:
        for st in matching_statements(policy, request):
            trace.append({"policy": label, "kind": pset.kind, "statement": st.sid or st.index, "effect": st.effect})
            if st.effect == "Deny":
                deny = True
            else:
                allow = True
        if not allow and pset.kind == "resource" and policy.statements:
            near = near or _matches_without_condition(policy, request)
    return allow, deny, near


def _matches_without_condition(policy: Policy, request: Request) -> bool:
    # Used only to tell "trust does not name you" from "trust names you but its condition
    # fails" in the reason label; the decision itself is the same.
    stripped = getattr(policy, "without_conditions", None)
    if stripped is None:
        return False
    return any(st.effect == "Allow" for st in matching_statements(stripped(), request))


def _names_principal_directly(policy_sets: Iterable[tuple[str, Policy]], request: Request) -> bool | None:
    """For matching Allow statements of a resource policy: True when one names the principal
    itself (user, role, session ARN, service or '*'), False when only its account does."""
    direct = False
    account_only = False
    for _, policy in policy_sets:
        for st in matching_statements(policy, request):
            if st.effect != "Allow":
                continue
            if _statement_names_account_only(st, request.principal):
                account_only = True
            else:
                direct = True
    if direct:
        return True
    return False if account_only else None


def _statement_names_account_only(statement, principal: Principal | None) -> bool:
    values = getattr(statement, "principal_values", None)
    if values is None or principal is None or principal.account is None:
        return False
    acct = principal.account
    for kind, v in values:
        if kind != "AWS":
            return False
        if v == "*":
            return False
        if v not in (acct, f"arn:aws:iam::{acct}:root"):
            return False
    return True


def authorize(request: Request, *, principal_account: str | None, resource_account: str | None,
              identity: PolicySet, boundary: PolicySet, session: PolicySet, resource: PolicySet,
              is_trust: bool = False, principal_kind: str = "user") -> Decision:
    """AWS's decision for one request. principal_kind: user | session | service."""
    trace: list[dict] = []
    id_allow, id_deny, _ = _scan(identity, request, trace)
    b_allow, b_deny, _ = _scan(boundary, request, trace)
    s_allow, s_deny, _ = _scan(session, request, trace)
    r_allow, r_deny, r_near = _scan(resource, request, trace)

    # 1. an explicit deny in any applicable policy is final
    for denied, where in ((r_deny, "resource"), (id_deny, "identity"), (b_deny, "boundary"), (s_deny, "session")):
        if denied:
            return Decision(False, f"deny-explicit-{where}", True, trace)

    boundary_ok = (not boundary.present) or b_allow
    session_ok = (not session.present) or s_allow

    if principal_kind == "service":
        # A service principal has no identity policies: only the resource policy can allow.
        if r_allow:
            return Decision(True, "allow-trust-service" if is_trust else "allow-resource-names-principal",
                            trace=trace)
        return Decision(False, "deny-trust-condition" if r_near else "deny-trust-no-match", trace=trace)

    same_account = principal_account is not None and principal_account == resource_account
    direct = _names_principal_directly(resource.policies, request) if r_allow else None

    if is_trust:
        # Trust policies must always allow, in the same account too.
        if not r_allow:
            return Decision(False, "deny-trust-condition" if r_near else "deny-trust-no-match", trace=trace)
        if same_account and direct:
            # Naming the user or role ARN suffices without an identity policy; the
            # boundary and session policies still limit it.
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
        if resource.present is False or not r_allow:
            return Decision(False, "deny-cross-account-no-resource-allow", trace=trace)
        if not id_allow:
            return Decision(False, "deny-cross-account-no-identity-allow", trace=trace)
        if not boundary_ok:
            return Decision(False, "deny-boundary", trace=trace)
        if not session_ok:
            return Decision(False, "deny-session-policy", trace=trace)
        return Decision(True, "allow-cross-account", trace=trace)

    if r_allow and direct:
        # Same account, resource policy names the principal: enough on its own. A user ARN
        # is not limited by a boundary; a role session is (when the role ARN is named),
        # see the table in the evaluation-basics page. The model names role ARNs only.
        if principal_kind == "session":
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
