"""The lockstep property: sequences of role calls, each drawn for the state the reference
model is in, compared step by step.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html
"""
from rolecall.property import Property
from rolecall.strategies.stateful import lockstep_scenarios

PROPERTIES = [
    Property(
        name="lockstep_role_lifecycle",
        cost=21,
        behaviour="role lifecycle",
        feature="stateful",
        strategy=lockstep_scenarios,
        description="4..12 calls creating, changing, assuming, chaining and deleting roles and service-linked "
                    "roles give the same outcome at every step as on the reference model",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html",
    ),
]
