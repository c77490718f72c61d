"""The condition keys the reference model knows how to populate, in one place.

A policy may name any condition key and IAM accepts it, but the model can only decide a
condition whose key it knows to be present or absent in AWS's request context. A key not
listed here makes `parse_policy` raise `NotModelled`, so the caller reports "unsupported"
instead of guessing. Keys are case-insensitive
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
so everything here is lower case.

Sources: global keys https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html;
IAM and STS keys https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html;
S3 keys https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html.
"""

from __future__ import annotations

import re

__all__ = ["KNOWN_KEYS", "KNOWN_PREFIXES", "is_known_condition_key"]

KNOWN_KEYS: frozenset[str] = frozenset(k.lower() for k in (
    # aws:* global keys: principal properties
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalType", "aws:userid", "aws:username", "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:SourceIdentity",
    "aws:FederatedProvider", "aws:TokenIssueTime", "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge", "aws:AssumedRoot",
    # request properties
    "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport", "aws:SourceIp", "aws:UserAgent",
    "aws:Referer", "aws:RequestedRegion", "aws:TagKeys", "aws:CalledVia", "aws:CalledViaFirst",
    "aws:CalledViaLast", "aws:ViaAWSService", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp",
    # resource properties and cross-service (confused deputy) keys
    "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
    # sts:* keys (reference_policies_iam-condition-keys.html#condition-keys-sts)
    "sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity", "sts:TransitiveTagKeys",
    "sts:AWSServiceName", "sts:DurationSeconds",
    # web identity keys STS adds for the well-known providers
    "accounts.google.com:aud", "accounts.google.com:oaud", "accounts.google.com:sub",
    "cognito-identity.amazonaws.com:aud", "cognito-identity.amazonaws.com:amr",
    "cognito-identity.amazonaws.com:sub", "graph.facebook.com:app_id", "graph.facebook.com:id",
    "www.amazon.com:app_id", "www.amazon.com:user_id",
    # SAML keys STS adds for AssumeRoleWithSAML
    "saml:aud", "saml:iss", "saml:sub", "saml:sub_type", "saml:namequalifier", "saml:doc",
    "saml:edupersonaffiliation", "saml:edupersonprincipalname", "saml:commonname", "saml:mail",
    # iam:* keys
    "iam:PassedToService", "iam:PermissionsBoundary", "iam:AWSServiceName", "iam:AssociatedResourceArn",
    "iam:PolicyARN", "iam:OrganizationsPolicyId", "iam:FIDO-certification", "iam:RegisterSecurityKey",
    # s3:* keys commonly used in bucket and identity policies
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl", "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source", "s3:x-amz-metadata-directive", "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class", "s3:x-amz-grant-full-control", "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write", "s3:x-amz-grant-write-acp",
    "s3:x-amz-website-redirect-location", "s3:VersionId", "s3:RequestObjectTagKeys",
    "s3:LocationConstraint", "s3:authType", "s3:signatureversion", "s3:signatureAge",
    "s3:TlsVersion", "s3:ResourceAccount", "s3:object-lock-mode", "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date", "s3:object-lock-legal-hold", "s3:DataAccessPointAccount",
    "s3:DataAccessPointArn", "s3:AccessPointNetworkOrigin", "s3:x-amz-object-ownership",
))

# Keys that end in a caller-chosen name (a tag key). The part after the slash must be non-empty.
KNOWN_PREFIXES: tuple[str, ...] = tuple(p.lower() for p in (
    "aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/", "iam:ResourceTag/",
    "s3:ExistingObjectTag/", "s3:RequestObjectTag/",
))

# IAM OIDC providers: "<provider url>:aud|sub|amr|oaud|azp", e.g.
# token.actions.githubusercontent.com:sub or oidc.eks.us-east-1.amazonaws.com/id/ABC:aud
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
_OIDC_KEY = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^:\s]*)?:(?:aud|sub|amr|oaud|azp)", re.ASCII)


def is_known_condition_key(key: str) -> bool:
    """True when the model knows whether `key` is in the request context (case-insensitive)."""
    k = key.lower()
    if k in KNOWN_KEYS:
        return True
    for prefix in KNOWN_PREFIXES:
        if k.startswith(prefix) and len(k) > len(prefix):
            return True
    return _OIDC_KEY.fullmatch(k) is not None
