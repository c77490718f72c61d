"""Federation tokens: GetFederationToken is for IAM users, needs sts:GetFederationToken, and
gives a federated user whose permissions are the user's intersected with the session policy
passed (none passed: no permissions), for 900..129600 seconds.

https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
"""
from rolecall.property import Property
from rolecall.strategies.federation_tokens import federation_token_scenarios

PROPERTIES = [
    Property(
        name="federation_token_sessions",
        cost=16,
        behaviour="federated access",
        feature="federation_tokens",
        strategy=federation_token_scenarios,
        description="GetFederationToken is refused to role sessions and to users without permission, keeps its "
                    "duration range, names the federated user arn:aws:sts::ACCOUNT:federated-user/NAME, and its "
                    "session is limited by the session policy passed (no policy: no permissions)",
        source="https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html",
    ),
]
