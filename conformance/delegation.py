"""Delegating access with roles: a user assumes a role in its own account or another.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios.html
"""
from rolecall.engine import Property
from rolecall.strategies.assume_role import assume_role_scenarios

PROPERTIES = [
    Property(
        name="assume_role_trust_and_identity",
        behaviour="delegate access",
        feature="delegation",
        strategy=assume_role_scenarios,
        description="AssumeRole is allowed exactly when the trust policy and, where needed, the caller's "
                    "identity policy allow it, same account and cross account",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html",
    ),
]
