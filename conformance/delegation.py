"""Delegating access with roles: a user, or a session of another role, assumes a role in its
own account or another.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios.html
"""
from rolecall.property import Property
from rolecall.strategies.assume_role import assume_role_scenarios
from rolecall.strategies.delegation import delegation_scenarios

PROPERTIES = [
    Property(
        name="assume_role_trust_and_identity",
        cost=8,
        behaviour="delegate access",
        feature="delegation",
        strategy=assume_role_scenarios,
        description="AssumeRole is allowed exactly when the trust policy and, where needed, the caller's "
                    "identity policy allow it, same account and cross account",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html",
    ),
    Property(
        name="same_account_assume_role",
        cost=31,
        behaviour="delegate access",
        feature="delegation",
        strategy=delegation_scenarios,
        description="Within one account, a trust policy naming the user or role is enough, one naming the "
                    "account needs an identity allow; explicit denies, boundaries, session policies, missing "
                    "roles and the root user decide as AWS does",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    ),
]
