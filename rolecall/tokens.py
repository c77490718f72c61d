"""Web identity tokens that rolecall mints itself: OIDC ID tokens (RS256 JWTs) from test issuers.

A scenario declares its issuers and their key ids (`issuers`) and writes each token as a
`{"$token": {...}}` of claims in a step's params; rolecall mints the JWT when the step runs,
signed with the named key. rolecall holds every private key (generated once per process and
per (issuer, key id): a signature is never compared, only checked), so a target that can be
given an issuer's public keys (`jwks`) can verify the tokens as AWS verifies a real issuer's.

JWT: https://www.rfc-editor.org/rfc/rfc7519; RS256 and JWKS: https://www.rfc-editor.org/rfc/rfc7518#section-3.3,
https://www.rfc-editor.org/rfc/rfc7517; the claims AWS reads (iss, aud, sub, amr, exp, iat):
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from typing import Any, Mapping

# The claims a `$token` may give, and the fields that say how it is signed.
CLAIMS = ("iss", "aud", "sub", "amr", "azp", "exp", "iat", "nbf")
SIGNING = ("key", "kid", "alg")
TOKEN_FIELDS = CLAIMS + SIGNING
# Times in a `$token` are seconds since the scenario started (the target's clock then).
TIME_CLAIMS = ("exp", "iat", "nbf")
DEFAULT_LIFETIME = 3600  # `exp` when the token does not give one


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=None)
def _private_key(issuer: str, kid: str):
    """The private key `kid` of `issuer`: made on first use, the same for the life of the process."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(issuer: str, kid: str) -> dict:
    """One key of an issuer's JWKS: what the issuer would publish at its jwks_uri."""
    numbers = _private_key(issuer, kid).public_key().public_numbers()

    def encode(n: int) -> str:
        return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": encode(numbers.n), "e": encode(numbers.e)}


def jwks(issuer: str, kids: list[str]) -> dict:
    """The issuer's JSON Web Key Set: its public keys."""
    return {"keys": [public_jwk(issuer, kid) for kid in kids]}


def mint(spec: Mapping[str, Any], start: dt.datetime, issuers: Mapping[str, Any]) -> str:
    """The JWT a `$token` stands for. `start` is the target's clock when the scenario started:
    `exp`, `iat` and `nbf` are offsets from it. The token is signed with `key` (default: the
    issuer's first key); its header names `kid` (default: `key`): a token that names the
    issuer's key but is signed with another is a forgery. `alg: none` gives an unsigned token."""
    iss = spec.get("iss")
    declared = issuers.get(iss, {}).get("keys", []) if isinstance(iss, str) else []
    key = spec.get("key") or (declared[0] if declared else "rolecall-key")
    kid = spec.get("kid", key)
    alg = spec.get("alg", "RS256")
    claims: dict[str, Any] = {}
    for name in CLAIMS:
        if name in spec and name not in TIME_CLAIMS:
            claims[name] = spec[name]
    offsets = {"iat": spec.get("iat", 0), "exp": spec.get("exp", DEFAULT_LIFETIME)}
    if "nbf" in spec:
        offsets["nbf"] = spec["nbf"]
    for name, offset in offsets.items():
        claims[name] = int((start + dt.timedelta(seconds=offset)).timestamp())
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = f"{b64url(json.dumps(header, separators=(',', ':')).encode())}." \
                    f"{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    if alg == "none":
        return signing_input + "."
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = _private_key(str(iss), key).sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def resolve_tokens(obj: Any, start: dt.datetime, issuers: Mapping[str, Any]) -> Any:
    """Replace every `{"$token": {...}}` in params with the JWT it stands for."""
    if isinstance(obj, dict):
        if len(obj) == 1 and "$token" in obj:
            return mint(obj["$token"], start, issuers)
        return {k: resolve_tokens(v, start, issuers) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_tokens(v, start, issuers) for v in obj]
    return obj


def has_token(obj: Any) -> bool:
    if isinstance(obj, dict):
        return "$token" in obj or any(has_token(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_token(v) for v in obj)
    return False
