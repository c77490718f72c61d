"""Federated access in the reference model: AssumeRoleWithWebIdentity (an OIDC ID token for a
role session) and GetFederationToken (a federated user session of an IAM user).

A web identity token is checked as STS checks it: its issuer must be an IAM OIDC provider of
the role's account, its audience one of the provider's client ids, its signature from one of
the issuer's keys (the model is given them: `Model.issuers`), and it must not have expired;
then the role's trust policy must allow the provider (`Federated`) with the token's claims as
condition keys (`<provider>:sub`, `:aud`, `:amr`).

https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
"""
from __future__ import annotations

import datetime as dt
import json

from rolecall.targets.reference import access
from rolecall.targets.reference.evaluation import Decision, PolicySet, _scan, _trust_denial
from rolecall.targets.reference.model import AwsError, Caller, Federation, Model, Session, operation
from rolecall.targets.reference.policy import NotModelled, Policy, Principal, Request

WEB_IDENTITY = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html"
FEDERATION_TOKEN = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html"
TEMP_CREDENTIALS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison"

# The errors of AssumeRoleWithWebIdentity (the API reference's Errors section, WEB_IDENTITY):
# InvalidIdentityToken (400) "could not be validated", ExpiredTokenException (400) "is expired",
# IDPRejectedClaim (403: the IdP itself reported a failed authentication: rolecall's issuers never
# do, so the model never answers it), AccessDenied (403) when the trust policy does not allow.
# The messages of the first two cases are AWS's as users report them:
# "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com"
# (https://github.com/aws-actions/configure-aws-credentials/issues/280) and "Incorrect token
# audience" (https://github.com/awslabs/amazon-eks-irsa-cfn/pull/18); the others are the API
# reference's descriptions of the errors.
INVALID_TOKEN_MESSAGE = ("The web identity token that was passed could not be validated by AWS. Get a new "
                         "identity token from the identity provider and then retry the request.")
EXPIRED_TOKEN_MESSAGE = ("The web identity token that was passed is expired or is not valid. Get a new "
                         "identity token from the identity provider and then retry the request.")
DEFAULT_DURATION = 3600

# GetFederationToken: 900..129600 seconds, default 43200; the root user's sessions at most one
# hour ("If the specified duration is longer than one hour, the session obtained by using root
# user credentials defaults to one hour"), FEDERATION_TOKEN.
FEDERATION_DEFAULT = 43200
ROOT_FEDERATION_MAX = 3600


# ----------------------------------------------------------------------------- web identity

def _b64json(part: str) -> dict:
    from rolecall.tokens import b64url_decode

    value = json.loads(b64url_decode(part))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _signature_ok(model: Model, iss: str, header: dict, signing_input: str, signature: str) -> bool:
    """RS256 over the token's first two parts, with the issuer's key the header names."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from rolecall.tokens import b64url_decode

    if header.get("alg") != "RS256":
        return False
    keys = model.issuers.get(iss)
    if keys is None:
        raise NotModelled(f"the signing keys of {iss} (STS would fetch them from the issuer; the scenario "
                          f"does not declare it)")
    jwk = next((k for k in keys.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if jwk is None:
        return False
    public = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(jwk["e"]), "big"),
                                  int.from_bytes(b64url_decode(jwk["n"]), "big")).public_key()
    try:
        public.verify(b64url_decode(signature), signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _token(model: Model, role_account: str, token: str):
    """The provider and claims of a token STS would accept, or its error. A token with more than
    one defect is not modelled: the order of STS's checks is not documented."""
    parts = token.split(".") if isinstance(token, str) else []
    try:
        header, claims = _b64json(parts[0]), _b64json(parts[1])
    except (IndexError, ValueError, UnicodeDecodeError):
        raise AwsError("InvalidIdentityToken", 400, INVALID_TOKEN_MESSAGE, reason="deny-web-identity-invalid") from None
    if len(parts) != 3:
        raise AwsError("InvalidIdentityToken", 400, INVALID_TOKEN_MESSAGE, reason="deny-web-identity-invalid")
    iss = claims.get("iss")
    url = iss[len("https://"):] if isinstance(iss, str) and iss.startswith("https://") else None
    arn = f"arn:aws:iam::{role_account}:oidc-provider/{url}"
    provider = model.account(role_account).oidc_providers.get(arn) if url else None
    defects = []
    audience = None
    if provider is None:
        defects.append(AwsError("InvalidIdentityToken", 400, f"No OpenIDConnect provider found in your account for {iss}",
                                reason="deny-web-identity-no-provider"))
    else:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if len(audiences) != 1:
            raise NotModelled("a token with several audiences (STS then reads azp)")
        audience = audiences[0]
        if audience not in provider.client_ids:
            defects.append(AwsError("InvalidIdentityToken", 400, "Incorrect token audience",
                                    reason="deny-web-identity-audience"))
    if not isinstance(iss, str) or not _signature_ok(model, iss, header, f"{parts[0]}.{parts[1]}", parts[2]):
        defects.append(AwsError("InvalidIdentityToken", 400, INVALID_TOKEN_MESSAGE, reason="deny-web-identity-signature"))
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int) or (nbf is not None and (not isinstance(nbf, int) or model.now.timestamp() < nbf)):
        raise NotModelled("a token without a numeric exp, or not valid yet (nbf): STS's answer is not sourced")
    if model.now.timestamp() >= exp:
        defects.append(AwsError("ExpiredTokenException", 400, EXPIRED_TOKEN_MESSAGE, reason="deny-web-identity-expired"))
    if len(defects) > 1:
        raise NotModelled("which error STS answers for a token with more than one defect")
    if defects:
        raise defects[0]
    return provider, claims, audience


def _claim_context(provider_url: str, claims: dict, provider_arn: str) -> dict[str, list[str]]:
    """The condition keys STS adds for an IAM OIDC provider: `<url>:aud`, `:sub`, `:amr`, and
    aws:FederatedProvider (reference_policies_iam-condition-keys.html#condition-keys-wif)."""
    ctx: dict[str, list[str]] = {"aws:federatedprovider": [provider_arn]}
    for claim in ("aud", "sub", "amr", "azp"):
        value = claims.get(claim)
        if value is None:
            continue
        ctx[f"{provider_url.lower()}:{claim}"] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return ctx


@operation
def AssumeRoleWithWebIdentity(model: Model, caller: Caller, p: dict):
    from rolecall.targets.reference.sts import _new_credentials, _role_from_arn, parse_session_policies

    if p.get("ProviderId"):
        raise NotModelled("OAuth 2.0 providers (ProviderId): only OIDC ID tokens are modelled")
    role_arn = p.get("RoleArn")
    role_account, role = _role_from_arn(model, role_arn)
    if role is None:
        raise NotModelled("AssumeRoleWithWebIdentity on a role that does not exist (AWS's answer is not sourced)")
    provider, claims, audience = _token(model, role_account, p.get("WebIdentityToken"))
    principal = Principal(arn=provider.arn, account=None, unique_id=None, federated=provider.arn)
    request = Request(action="sts:AssumeRoleWithWebIdentity", resource=role_arn, principal=principal,
                      context={**model.time_context(), "aws:securetransport": ["true"],
                               "sts:rolesessionname": [p["RoleSessionName"]],
                               **_claim_context(provider.url, claims, provider.arn)})
    trust = PolicySet("resource", [(f"trust policy of role {role.name}", role.trust)])
    trace: list[dict] = []
    allow, deny = _scan(trust, request, trace)
    if deny or not allow:
        decision = Decision(False, "deny-explicit-resource" if deny else _trust_denial(trust, request), deny, trace)
        # the message as AWS answers it (and as for SAML: "Not authorized to perform
        # sts:AssumeRoleWithSAML", https://github.com/aws/aws-sdk-net/issues/744)
        raise AwsError("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                       decision=decision)
    decision = Decision(True, "allow-trust-web-identity", trace=trace)
    duration = int(p.get("DurationSeconds") or DEFAULT_DURATION)
    if duration > role.max_session_duration:
        raise AwsError("ValidationError", 400,
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                       reason="deny-duration-exceeds-max")
    expires = model.now + dt.timedelta(seconds=duration)
    session = Session(role_account=role_account, role_name=role.name, role_id=role.id, role_arn=role.arn,
                      session_name=p["RoleSessionName"], expires=expires, chained=False,
                      session_policies=parse_session_policies(model, role_account, p), web_identity=provider.arn)
    credentials = _new_credentials(model, Caller("session", role_account, session=session), expires)
    result = {"Credentials": credentials, "SubjectFromWebIdentityToken": str(claims.get("sub", "")),
              "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
              # "For OpenID Connect ID tokens, this contains the value of the iss field" (WEB_IDENTITY)
              "Provider": claims["iss"], "Audience": audience}
    return result, decision


# ----------------------------------------------------------------------------- federation tokens

# A session policy that allows nothing: GetFederationToken without a policy gives a session with
# no permissions ("If you do not pass a policy to this operation, the resulting federated user
# session has no permissions", FEDERATION_TOKEN), except what a resource policy grants it by name.
NO_SESSION_POLICY = Policy(version="2012-10-17", statements=(), kind="session", document={})


@operation
def GetFederationToken(model: Model, caller: Caller, p: dict):
    """Temporary credentials of a federated user, for an IAM user (or the root user). Role sessions
    and other temporary credentials may not call it: AccessDenied "Cannot call GetFederationToken
    with session credentials" (TEMP_CREDENTIALS; AWS's message in https://github.com/hashicorp/vault/pull/4108)."""
    if caller.kind in ("session", "federated") or caller.session_token:
        raise AwsError("AccessDenied", 403, "Cannot call GetFederationToken with session credentials",
                       reason="deny-session-credentials")
    if caller.kind not in ("user", "root", "admin"):
        raise NotModelled(f"GetFederationToken as {caller.kind}")
    account = caller.account
    name = p["Name"]
    arn = f"arn:aws:sts::{account}:federated-user/{name}"
    # the caller needs sts:GetFederationToken on the federated user's ARN (AWS's message:
    # https://github.com/ryanto/next-s3-upload/issues/182)
    decision = access.require(model, caller, "sts:GetFederationToken", arn, resource_account=account)
    duration = int(p.get("DurationSeconds") or FEDERATION_DEFAULT)
    if caller.kind != "user":
        duration = min(duration, ROOT_FEDERATION_MAX)
    from rolecall.targets.reference.sts import parse_session_policies

    policies = parse_session_policies(model, account, p) or [("no session policy passed", NO_SESSION_POLICY)]
    expires = model.now + dt.timedelta(seconds=duration)
    holder = Caller("federated", account, user=caller.user, expires=expires,
                    federation=Federation(name=name, session_policies=policies))
    result = {"Credentials": _credentials(model, holder, expires),
              "FederatedUser": {"FederatedUserId": f"{account}:{name}", "Arn": arn}}
    return result, decision


def _credentials(model: Model, holder: Caller, expires: dt.datetime) -> dict:
    from rolecall.targets.reference.sts import _new_credentials

    return _new_credentials(model, holder, expires)


def federated_user_may_call(service: str, action: str) -> None:
    """A federated user's credentials "cannot call IAM API operations" and "cannot call AWS STS API
    operations except GetCallerIdentity" (TEMP_CREDENTIALS). AWS's code is sourced for the two
    token calls only ("Cannot call ... with session credentials"); for the rest the model says not
    modelled rather than guess a code."""
    if service == "iam":
        raise NotModelled("the error IAM answers a federated user (its code is not sourced)")
    if service == "sts" and action not in ("GetCallerIdentity", "GetFederationToken", "GetSessionToken"):
        raise NotModelled(f"the error STS answers a federated user calling {action} (its code is not sourced)")
