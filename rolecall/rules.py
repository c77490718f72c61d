"""The rule registry: every reason label the reference model decides with, the AWS page behind
it, and what it says AWS does in one line. The oracle labels its decisions with these; reports,
baseline entries and findings quote them. A new AWS rule is one entry here, the model code that
decides with it (targets/reference/) and its cited test.
"""
from __future__ import annotations

EVAL_DENYALLOW = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html"
EVAL_CROSS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
EVAL_BASICS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html"
TRUST_PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
BOUNDARIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
SESSION_POLICIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session"
WEB_IDENTITY = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html"
SCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
RCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html"
SIMULATOR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html"

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
    "allow-trust-web-identity": WEB_IDENTITY,
    "deny-web-identity-invalid": WEB_IDENTITY,
    "deny-web-identity-no-provider": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html",
    "deny-web-identity-audience": WEB_IDENTITY,
    "deny-web-identity-signature": WEB_IDENTITY,
    "deny-web-identity-expired": WEB_IDENTITY,
    "deny-explicit-scp": SCPS,
    "deny-scp-no-allow": SCPS,
    "deny-explicit-rcp": RCPS,
    "simulated-allowed": SIMULATOR,
    "simulated-explicit-deny": SIMULATOR,
    "simulated-implicit-deny": SIMULATOR,
}

# What each reason label says AWS does, in one line (a baseline entry's reason quotes it).
RULES: dict[str, str] = {
    "allow-administrator": "an administrator's identity policy allows the call",
    "allow-identity": "an identity policy allows the call and nothing denies it",
    "allow-resource-names-principal": "a resource policy naming the principal suffices in the same account",
    "allow-resource-and-identity": "the resource policy and the identity policy both allow the call",
    "allow-cross-account": "across accounts, both the resource policy and the caller's identity policy allow",
    "allow-trust-names-principal": "a trust policy naming the caller lets it assume the role",
    "allow-trust-account-and-identity": "a trust policy naming the account, plus the caller's identity policy, allows",
    "allow-trust-service": "a trust policy naming the service lets the service assume the role",
    "deny-explicit-identity": "an explicit Deny in an identity policy overrides every Allow",
    "deny-explicit-resource": "an explicit Deny in a trust or resource policy overrides every Allow",
    "deny-explicit-boundary": "an explicit Deny in a permissions boundary overrides every Allow",
    "deny-explicit-session": "an explicit Deny in a session policy overrides every Allow",
    "deny-no-identity-allow": "without an Allow in an identity or resource policy the call is implicitly denied",
    "deny-trust-no-match": "AssumeRole is denied unless the role's trust policy allows the caller",
    "deny-trust-condition": "a trust policy's Condition must hold for AssumeRole to be allowed",
    "deny-trust-account-without-identity": "a trust policy naming only the account also needs the caller's identity policy",
    "deny-cross-account-no-resource-allow": "across accounts, the resource's policy must allow the caller",
    "deny-cross-account-no-identity-allow": "across accounts, the caller's own identity policy must allow the call",
    "deny-boundary": "a permissions boundary caps what identity policies allow",
    "deny-session-policy": "a session policy caps what the role's policies allow in that session",
    "invalid-parameter": "parameters outside the API's documented constraints are refused",
    "deny-session-token-calls-iam": "credentials from GetSessionToken cannot call IAM without MFA",
    "deny-session-credentials": "GetSessionToken cannot be called with temporary credentials",
    "deny-root-cannot-assume": "the root user cannot assume a role",
    "deny-role-not-found": "AssumeRole on a missing role is AccessDenied, not NoSuchEntity",
    "deny-expired-token": "expired temporary credentials are refused",
    "deny-duration-exceeds-max": "DurationSeconds cannot exceed the role's MaxSessionDuration",
    "deny-chained-duration": "role chaining limits a session to one hour",
    # web identity federation and federation tokens (targets/reference/federation.py)
    "allow-trust-web-identity": "a trust policy naming the OIDC provider, its conditions met by the token, allows",
    "deny-web-identity-invalid": "a web identity token that is not a JWT is refused (InvalidIdentityToken)",
    "deny-web-identity-no-provider": "a token's issuer must be an OIDC provider of the role's account",
    "deny-web-identity-audience": "a token's audience must be one of the OIDC provider's client ids",
    "deny-web-identity-signature": "a token must be signed by one of its issuer's published keys",
    "deny-web-identity-expired": "an expired web identity token is refused (ExpiredTokenException)",
    "deny-explicit-scp": "an explicit Deny in an SCP on the account's path overrides every Allow",
    "deny-scp-no-allow": "every level from the root to a member account needs an SCP that allows",
    "deny-explicit-rcp": "an explicit Deny in an RCP on the resource account's path overrides every Allow",
    "simulated-allowed": "the policy simulator answers allowed where the simulated policies allow (trust policies aside)",
    "simulated-explicit-deny": "the policy simulator answers explicitDeny where a simulated policy denies",
    "simulated-implicit-deny": "the policy simulator answers implicitDeny where no simulated policy allows",
}
