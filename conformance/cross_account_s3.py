"""Cross-account object access: the bucket owner, account A, delegates access to account C's
users through a role (or grants it directly in its bucket policy).

https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example4.html
"""
from rolecall.property import Property
from rolecall.strategies.cross_account_s3 import cross_account_s3_scenarios

PROPERTIES = [
    Property(
        name="bucket_owner_delegates_through_role",
        cost=72,
        behaviour="cross-account access: S3",
        feature="cross_account_s3",
        strategy=cross_account_s3_scenarios,
        description="Account C's user reaches account A's objects through A's role when A's trust policy and C's "
                    "identity policy allow the AssumeRole and the role's policies allow the object call; called "
                    "directly, A's bucket policy and C's identity policy must both allow",
        source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example4.html",
    ),
]
