"""The IAM policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy answer, per
action and resource, what AWS's evaluation of the simulated policies decides; a trust policy
passed for sts:AssumeRole is ignored, as AWS's simulator ignores it by design.

https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
"""
from rolecall.property import Property
from rolecall.strategies.policy_simulator import simulator_scenarios

PROPERTIES = [
    Property(
        name="policy_simulator",
        cost=11,
        behaviour="policy language",
        feature="policy_simulator",
        strategy=simulator_scenarios,
        description="The policy simulator's EvalDecision (allowed, explicitDeny, implicitDeny) for a user's or "
                    "role's policies, or for policies passed as strings with a boundary, is AWS's evaluation "
                    "of those policies; a trust policy passed for sts:AssumeRole is not evaluated",
        source="https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html",
    ),
]
