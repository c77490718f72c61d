"""A target written outside rolecall, loaded with `--target external_target:factory`.

It is the reference model with one planted bug (a role's trust policy is never checked
across accounts), so a run against it must find exactly that kind of divergence.
"""
from rolecall.targets.reference import ReferenceTarget
from rolecall.targets.reference import access


class TrustingReference(ReferenceTarget):
    name = "trusting-reference"

    def call(self, credentials, service, action, params):
        original = access.decide

        def decide(model, caller, action_, resource, **kw):
            decision = original(model, caller, action_, resource, **kw)
            if kw.get("is_trust") and not decision.allowed and decision.reason.startswith("deny-cross-account"):
                decision.allowed, decision.reason = True, "planted-bug"
            return decision

        access.decide = decide
        try:
            return super().call(credentials, service, action, params)
        finally:
            access.decide = original


def factory():
    return TrustingReference()
