"""Temporary credentials: a role session lasts DurationSeconds (within the role's maximum,
one hour when chained) and is refused once it has expired.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html
"""
from rolecall.property import Property
from rolecall.strategies.temporary_credentials import temporary_credentials_scenarios

PROPERTIES = [
    Property(
        name="session_duration_and_expiry",
        cost=6,
        behaviour="temporary credentials",
        feature="temporary_credentials",
        strategy=temporary_credentials_scenarios,
        description="DurationSeconds is checked against 900..43200, the role's MaxSessionDuration and the "
                    "one-hour limit of role chaining; a session works until it expires, then ExpiredToken",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html",
    ),
]
