"""Deliberately broken targets: the reference model with one planted bug each.

Each bug is patched in only while the broken target makes a call, so the oracle (the
unbroken model, in the same process) is unaffected. The quality tests require that the
`ci` profile detects every one and shrinks it to a short scenario.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

from rolecall.targets.reference import ReferenceTarget, access, iam_roles, params, sts
from rolecall.targets.reference.model import AwsError, Model


@dataclass(frozen=True)
class Bug:
    name: str
    patch: Callable[[], contextlib.AbstractContextManager]
    what: str


@contextlib.contextmanager
def _setattr(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def _allow_when(predicate: Callable[[dict, object], bool]):
    """Flip the model's denials that `predicate(kwargs, decision)` selects into allows."""
    original = access.decide

    def decide(model, caller, action, resource, **kw):
        decision = original(model, caller, action, resource, **kw)
        if not decision.allowed and predicate(kw, decision):
            decision.allowed = True
            decision.reason = "planted-" + decision.reason
        return decision

    return _setattr(access, "decide", decide)


def _reasons(*reasons: str, trust: bool | None = None):
    return lambda: _allow_when(lambda kw, d: d.reason in reasons and (trust is None or bool(kw.get("is_trust")) == trust))


def _wrap_assume(wrapper):
    original = sts.AssumeRole

    def AssumeRole(model, caller, p):  # noqa: N802 - AWS's action name
        return wrapper(original, model, caller, p)

    AssumeRole.is_operation = True
    return _setattr(sts, "AssumeRole", AssumeRole)


def _max_duration_ignored():
    def wrapper(original, model, caller, p):
        roles = [r for a in model.accounts.values() for r in a.roles.values()]
        saved = [(r, r.max_session_duration) for r in roles]
        for r in roles:
            r.max_session_duration = 43200
        try:
            return original(model, caller, p)
        finally:
            for r, v in saved:
                r.max_session_duration = v
    return _wrap_assume(wrapper)


def _role_not_found_leaks():
    def wrapper(original, model, caller, p):
        try:
            return original(model, caller, p)
        except AwsError as exc:
            if exc.reason == "deny-role-not-found":
                raise AwsError("NoSuchEntity", 404, "The role cannot be found.") from None
            raise
    return _wrap_assume(wrapper)


def _expired_accepted():
    original = Model.caller

    def caller(self, access_key, service="sts"):
        entry = self.keys.get(access_key)
        if entry is not None:
            return entry[1]
        return original(self, access_key, service)

    return _setattr(Model, "caller", caller)


BUGS = [
    Bug("cross-account-trust-unchecked", _reasons("deny-trust-no-match", "deny-trust-condition", trust=True),
        "a role's trust policy is not evaluated"),
    Bug("external-id-ignored-when-missing", lambda: _allow_when(
        lambda kw, d: d.reason == "deny-trust-condition" and "sts:externalid" not in (kw.get("extra") or {})),
        "a trust condition on sts:ExternalId passes when no ExternalId is sent"),
    Bug("chaining-limit-not-enforced", lambda: _setattr(sts, "CHAINED_SESSION_MAX", 43200),
        "role chaining is not limited to one hour"),
    Bug("session-policy-ignored", _reasons("deny-session-policy", "deny-explicit-session"),
        "session policies passed to AssumeRole do not limit the session"),
    Bug("service-linked-role-deletable", lambda: _setattr(iam_roles, "_protected", lambda role: None),
        "service-linked roles can be modified and deleted like any role"),
    Bug("identity-deny-ignored", _reasons("deny-explicit-identity"), "an explicit Deny in an identity policy is ignored"),
    Bug("boundary-ignored", _reasons("deny-boundary", "deny-explicit-boundary"), "permissions boundaries are ignored"),
    Bug("account-trust-needs-no-identity", _reasons("deny-trust-account-without-identity"),
        "a trust policy naming the account suffices without an identity policy"),
    Bug("cross-account-assume-needs-no-identity", _reasons("deny-cross-account-no-identity-allow", trust=True),
        "cross-account AssumeRole needs no identity policy in the caller's account"),
    Bug("cross-account-s3-needs-no-identity", _reasons("deny-cross-account-no-identity-allow", trust=False),
        "a bucket policy alone grants another account's principals"),
    Bug("resource-deny-ignored", _reasons("deny-explicit-resource"),
        "an explicit Deny in a trust or bucket policy is ignored"),
    Bug("expired-credentials-accepted", _expired_accepted, "expired session credentials keep working"),
    Bug("max-session-duration-ignored", _max_duration_ignored, "DurationSeconds above MaxSessionDuration is accepted"),
    Bug("role-not-found-leaks", _role_not_found_leaks, "AssumeRole on a missing role says NoSuchEntity"),
    Bug("sts-parameters-unvalidated", lambda: _setattr(params, "validate", lambda service, op, p: None),
        "parameter constraints from the service model are not checked"),
]


class PlantedTarget(ReferenceTarget):
    def __init__(self, bug: Bug):
        super().__init__()
        self.bug = bug
        self.name = f"planted:{bug.name}"

    def call(self, credentials, service, action, p):
        with self.bug.patch():
            return super().call(credentials, service, action, p)
