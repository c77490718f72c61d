"""Input validation: parameters that break the API model, policy documents IAM or S3 must
refuse, names already taken.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""
from rolecall.property import Property
from rolecall.strategies.input_validation import input_validation_scenarios

PROPERTIES = [
    Property(
        name="input_validation",
        cost=9,
        behaviour="input validation",
        feature="input_validation",
        strategy=input_validation_scenarios,
        description="An invalid parameter, a malformed policy or a taken name is refused with AWS's error code "
                    "(ValidationError, MalformedPolicyDocument, MalformedPolicy, EntityAlreadyExists); the valid "
                    "counterpart succeeds",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html",
    ),
]
