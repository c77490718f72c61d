"""Organizations: SCPs cap what a member account's principals may do (every level from the root
to the account must allow, an explicit Deny anywhere wins), RCPs cap access to a member
account's S3 and STS resources; neither applies to the management account.

https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
"""
from rolecall.property import Property
from rolecall.strategies.organizations import organizations_scenarios

PROPERTIES = [
    Property(
        name="organization_policies_cap_access",
        cost=29,
        behaviour="organizations: SCPs and RCPs",
        feature="organizations",
        strategy=organizations_scenarios,
        description="A call that identity and resource policies allow is denied when an SCP on the caller's "
                    "account's path denies it or a level of that path has no SCP allowing it, or an RCP on the "
                    "resource account's path denies it; the management account is exempt from both",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
    ),
]
