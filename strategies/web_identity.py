"""Web identity federation: an OIDC token (GitHub Actions, EKS service accounts, a generic IdP)
is exchanged for a role session with AssumeRoleWithWebIdentity, an unsigned call.

The world has the issuer as an OIDC provider of the role's account (now and then of another
account only) and a role trusting it with conditions on `<issuer>:sub`, `:aud` or `:amr`: an
exact subject, a branch wildcard, a wildcard that matches too much (`repo:org/app*` admits
`repo:org/app-evil`), a Deny on a pattern, or none. The token's subject is the trusted one or
(a third of the time) a near miss (another branch, repository, organisation, service account); a third
of the tokens carry exactly one defect: another audience, a key the issuer does not publish, a
forged signature under the issuer's key id, no signature, an expired `exp`, an issuer the
account has no provider for, or text that is not a JWT. One defect at a time: which error STS
answers for a token with several is not documented.

https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.world import WorldBuilder, doc

SOURCE = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html"


@dataclass(frozen=True)
class Issuer:
    """An OIDC issuer as the world knows it: its URL, the audience it mints for, the subject a
    role trusts, near misses of that subject, and a branch-style pattern and an over-wide one."""

    url: str
    audience: str
    subject: str
    near_subjects: tuple[str, ...]
    pattern: str  # a StringLike that admits the subject's family and nothing else
    too_wide: str  # a StringLike that also admits a near miss

    @property
    def host(self) -> str:
        return self.url[len("https://"):]


ISSUERS = (
    Issuer("https://token.actions.githubusercontent.com", "sts.amazonaws.com", "repo:org/app:ref:refs/heads/main",
           ("repo:org/app:ref:refs/heads/feature", "repo:org/app-evil:ref:refs/heads/main",
            "repo:org2/app:ref:refs/heads/main", "repo:org/app:pull_request", "repo:org/app:environment:prod"),
           "repo:org/app:ref:refs/heads/*", "repo:org/app*"),
    Issuer("https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "sts.amazonaws.com",
           "system:serviceaccount:default:app",
           ("system:serviceaccount:default:app2", "system:serviceaccount:kube-system:app",
            "system:serviceaccount:default:ap"),
           "system:serviceaccount:default:app", "system:serviceaccount:*:app*"),
    Issuer("https://accounts.example.com", "client-1", "user-1", ("user-12", "user-2", "User-1"), "user-1",
           "user-1*"),
)
KEY = "k1"
DEFECTS = ("audience", "other-key", "forged", "unsigned", "expired", "unknown-issuer", "not-a-jwt")


def _trust(draw, issuer: Issuer, provider_ref: str) -> dict:
    """A trust policy naming the provider, with one of the condition shapes CI systems use."""
    aud, sub, amr = f"{issuer.host}:aud", f"{issuer.host}:sub", f"{issuer.host}:amr"
    allow = {"Effect": "Allow", "Principal": {"Federated": provider_ref}, "Action": "sts:AssumeRoleWithWebIdentity"}
    shape = pick(draw, ("exact", "pattern", "too-wide", "none", "deny", "amr"))
    if shape == "exact":
        allow["Condition"] = {"StringEquals": {aud: issuer.audience, sub: issuer.subject}}
    elif shape == "pattern":
        allow["Condition"] = {"StringEquals": {aud: issuer.audience}, "StringLike": {sub: issuer.pattern}}
    elif shape == "too-wide":
        allow["Condition"] = {"StringLike": {sub: issuer.too_wide}}
    elif shape == "amr":
        allow["Condition"] = {"ForAnyValue:StringLike": {amr: "authenticated"}}
    statements = [allow]
    if shape == "deny":
        statements.append({"Effect": "Deny", "Principal": {"Federated": provider_ref},
                           "Action": "sts:AssumeRoleWithWebIdentity",
                           "Condition": {"StringNotEquals": {sub: issuer.subject}}})
    return doc(*statements)


def token(draw, issuer: Issuer, defect: str | None) -> object:
    """The `$token` for the step (or, for "not-a-jwt", plain text): the trusted subject or a near
    miss, with at most one defect."""
    spec: dict = {"iss": issuer.url, "aud": issuer.audience,
                  "sub": issuer.subject if not one_in(draw, 3) else pick(draw, issuer.near_subjects)}
    if one_in(draw, 3):
        spec["amr"] = pick(draw, (["authenticated"], ["unauthenticated"], ["authenticated", "mfa"]))
    if defect == "audience":
        spec["aud"] = pick(draw, ("sigstore", issuer.audience + "x", "sts.amazon.com"))
    elif defect == "other-key":
        spec["key"] = "attacker"
    elif defect == "forged":
        spec.update({"key": "attacker", "kid": KEY})
    elif defect == "unsigned":
        spec["alg"] = "none"
    elif defect == "expired":
        spec.update({"exp": pick(draw, (-1, -60, 0)), "iat": -3600})
    elif defect == "unknown-issuer":
        other = next(i for i in ISSUERS if i.url != issuer.url)
        spec.update({"iss": other.url, "key": KEY})
    elif defect == "not-a-jwt":
        return pick(draw, ("not-a-token", "eyJhbGciOiJSUzI1NiJ9.e30"))
    return {"$token": spec}


@st.composite
def web_identity_scenarios(draw):
    """A role trusting an OIDC provider, and an unsigned AssumeRoleWithWebIdentity with a token
    that is valid or has one defect; then, now and then, the session says who it is."""
    issuer = pick(draw, ISSUERS)
    world = WorldBuilder("A")
    elsewhere = one_in(draw, 10)  # the provider exists in another account only
    holder = "B" if elsewhere else "A"
    client_ids = [issuer.audience] if coin(draw) else [issuer.audience, "other-client"]
    world.accounts.setdefault(holder, {})["oidc_providers"] = {issuer.host: {"client_ids": client_ids}}
    provider_ref = f"{{{{{holder}:oidc-provider/{issuer.host}}}}}"
    msd = pick(draw, (None, 7200))
    role = world.role("A", "deployer", _trust(draw, issuer, provider_ref), max_session_duration=msd)
    # one defect at a time (a provider elsewhere is one already)
    defect = None if elsewhere or not one_in(draw, 3) else pick(draw, DEFECTS)
    params: dict = {"RoleArn": role.ref, "RoleSessionName": pick(draw, ("ci", "app-session")),
                    "WebIdentityToken": token(draw, issuer, defect)}
    if one_in(draw, 5):
        params["DurationSeconds"] = pick(draw, (7200, 900, 3600))
    steps = [{"id": "assume", "as": "anonymous", "call": "sts:AssumeRoleWithWebIdentity", "params": params}]
    if one_in(draw, 3):
        steps.append({"id": "who", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}})
    return world.scenario(steps, "generated: AssumeRoleWithWebIdentity with a token and a trust policy", SOURCE,
                          issuers={i.url: {"keys": [KEY]} for i in ISSUERS})
