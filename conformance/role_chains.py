"""Role chaining across accounts, as Redshift does it to reach another account's bucket.

https://repost.aws/knowledge-center/s3-access-denied-redshift-unload
"""
from rolecall.property import Property
from rolecall.strategies.role_chains import role_chain_scenarios

PROPERTIES = [
    Property(
        name="redshift_style_role_chain",
        cost=119,
        behaviour="cross-account access: Redshift and S3",
        feature="role_chains",
        strategy=role_chain_scenarios,
        description="Each hop of a chain of 2..4 roles needs the next trust policy (and, by account or across "
                    "accounts, the previous role's identity policy) to allow it, at most an hour when chained; "
                    "the last session's S3 call is decided by its role and the bucket policy",
        source="https://repost.aws/knowledge-center/s3-access-denied-redshift-unload",
    ),
]
