"""Web identity federation: AssumeRoleWithWebIdentity accepts a token exactly when AWS does:
issuer an OIDC provider of the role's account, audience one of its client ids, signature from
the issuer's key, not expired, and the trust policy's conditions on the token's claims met.

https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
"""
from rolecall.property import Property
from rolecall.strategies.web_identity import web_identity_scenarios

PROPERTIES = [
    Property(
        name="web_identity_tokens_and_trust",
        cost=12,
        behaviour="federated access",
        feature="web_identity",
        strategy=web_identity_scenarios,
        description="AssumeRoleWithWebIdentity refuses a token for another audience, signed with another key, "
                    "forged, unsigned, expired or from an issuer the account has no provider for, and allows a "
                    "valid one exactly when the trust policy's conditions on :sub, :aud and :amr hold",
        source="https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html",
    ),
]
