"""Delegating to a service: EC2 assumes the role of an instance profile and the instance's
code calls S3 with the role's session.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
"""
from rolecall.property import Property
from rolecall.strategies.instance_profiles import instance_profile_scenarios

PROPERTIES = [
    Property(
        name="ec2_instance_profile_to_s3",
        cost=4,
        behaviour="delegate access: EC2 to S3",
        feature="instance_profiles",
        strategy=instance_profile_scenarios,
        description="ec2.amazonaws.com may assume a role whose trust policy names it; the session's S3 calls "
                    "are decided by the role's policies, its boundary and the bucket policy",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html",
    ),
]
