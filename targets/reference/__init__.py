"""The `reference` target: rolecall's own model of AWS IAM, STS and S3 semantics, the oracle.

The model (model, iam, sts, s3, access, evaluation, policy, params) knows nothing about
scenarios or boto3; this adapter translates. Every outcome carries the model's reason
label and decision trace, with the AWS page behind the rule that decided.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from rolecall.targets.base import (ACT_AS_SERVICE, ENFORCED, KEYS_GIVEN, ROOT_CREDENTIALS, VIRTUAL_CLOCK,
                                   CallFailed, CallResult, Credentials, Target, Unsupported)
from rolecall.targets.reference.evaluation import REASONS, Decision
from rolecall.targets.reference.model import AwsError, Caller, Model
from rolecall.targets.reference.policy import NotModelled

# Fixed, readable account ids: each scenario gets a fresh model, so nothing collides.
ACCOUNT_IDS = [f"{d}" * 12 for d in "123456789"]


def _trace(decision: Decision | None) -> tuple:
    if decision is None:
        return ()
    steps = [dict(t) for t in decision.trace]
    steps.append({"rule": decision.reason, "allowed": decision.allowed, "source": REASONS.get(decision.reason, "")})
    return tuple(steps)


class ReferenceTarget(Target):
    name = "reference"
    movable = True
    authorization = ENFORCED
    capabilities = frozenset({ACT_AS_SERVICE, VIRTUAL_CLOCK, ROOT_CREDENTIALS})
    web_identity_keys = KEYS_GIVEN  # the model verifies tokens with the keys rolecall gives it

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self._next = 0

    def begin(self, names) -> None:
        self.model = Model()

    def allocate_account(self, logical: str, pinned: str | None) -> str:
        if pinned:
            return pinned
        index = (ord(logical[0]) - ord("A")) % len(ACCOUNT_IDS)
        return ACCOUNT_IDS[index] if len(logical) == 1 else f"{index + 1:03d}{abs(hash(logical)) % 10**9:09d}"

    def bucket_name(self, logical_account: str, name: str, example: int) -> str:
        return f"{logical_account.lower()}-{name}"[:63]

    def _key(self, kind: str, account: str | None, service: str | None = None) -> Credentials:
        key = f"{kind.upper()}:{account or service}"
        if key not in self.model.keys:
            self.model.register_key(key, "-", Caller(kind, account, service=service))
        return Credentials(key, "-", account=account if kind == "admin" else None, label=key)

    def admin(self, account_id: str) -> Credentials:
        return self._key("admin", account_id)

    def root(self, account_id: str) -> Credentials:
        return self._key("root", account_id)

    def service(self, account_id: str, service: str) -> Credentials:
        return self._key("service", None, service)

    def anonymous(self) -> Credentials:
        key = "ANONYMOUS"
        if key not in self.model.keys:
            self.model.register_key(key, "-", Caller("anonymous", None))
        return Credentials(key, "-", label="anonymous", anonymous=True)

    def set_clock(self, seconds: float) -> None:
        self.model.set_clock(seconds)

    def trust_issuer(self, url: str, jwks) -> None:
        self.model.issuers[url] = dict(jwks)

    def now(self) -> dt.datetime:
        return self.model.now

    def call(self, credentials: Credentials, service: str, action: str, params: Mapping[str, Any]) -> CallResult:
        from rolecall.targets.reference import params as param_rules

        try:
            if service in ("iam", "sts"):
                param_rules.validate(service, action, dict(params))
            result, decision = self.model.call(credentials.access_key_id, service, action, dict(params))
        except AwsError as exc:
            decision = exc.decision
            reason = exc.reason or (decision.reason if decision else None)
            raise CallFailed(exc.code, exc.http_status, exc.message, trace=_trace(decision), reason=reason) from None
        except param_rules.ParamValidationError as exc:
            raise CallFailed(exc.code, exc.http_status, exc.message, reason="invalid-parameter") from None
        except NotModelled as exc:
            raise Unsupported(f"reference model: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            # A parameter of the wrong shape that AWS's model would reject in ways we have not sourced.
            raise Unsupported(f"reference model: cannot interpret the parameters ({type(exc).__name__}: {exc})") from None
        return CallResult(result, trace=_trace(decision), reason=decision.reason if decision else None,
                          unsure=_unsure(f"{service}:{action}", params))


#: calls whose answer carries PackedPolicySize when the request passes session policies or tags
_PACKED = {"sts:AssumeRole", "sts:GetFederationToken"}


def _unsure(call: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """The returned facts the model cannot vouch for: PackedPolicySize, "the packed size of the
    session policies and session tags combined passed in the request"
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), whose packing AWS
    does not publish (docs/decisions.md, 12). Without policies or tags AWS answers none, and the
    model is sure of that."""
    if call in _PACKED and any(params.get(k) for k in ("Policy", "PolicyArns", "Tags")):
        return ("PackedPolicySize",)
    return ()


def reference() -> ReferenceTarget:
    return ReferenceTarget()
