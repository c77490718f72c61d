"""The policy language: explicit deny over allow, NotAction/NotResource, wildcards,
conditions, policy variables, boundaries and session policies, on one S3 call.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
"""
from rolecall.property import Property
from rolecall.strategies.policy_language import policy_language_scenarios

PROPERTIES = [
    Property(
        name="policy_evaluation",
        cost=43,
        behaviour="policy language",
        feature="policy_language",
        strategy=policy_language_scenarios,
        description="A user's or role session's S3 call is allowed exactly when AWS's evaluation logic allows it: "
                    "a matching Deny wins, then identity, bucket, boundary and session policies as documented",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html",
    ),
]
