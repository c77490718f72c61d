"""Cross-account delegation: a principal of account B assumes a role of account A; A's trust
policy and B's identity policies must both allow.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
"""
from rolecall.property import Property
from rolecall.strategies.delegation import cross_account_scenarios

PROPERTIES = [
    Property(
        name="cross_account_assume_role",
        cost=48,
        behaviour="delegate access",
        feature="cross_account",
        strategy=cross_account_scenarios,
        description="AssumeRole across accounts needs the trust policy to name the caller or its account and "
                    "the caller's own policies (identity, boundary, session) to allow it",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html",
    ),
]
