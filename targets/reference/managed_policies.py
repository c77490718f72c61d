"""AWS managed policies the reference model knows: their ARN, and their document where a
scenario needs it for evaluation. Each document is the default version as published in the
AWS Managed Policy Reference (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/).

A policy attached by a service-linked role is known by ARN (AWS attaches it; its name per
service is in rolecall.aws.SERVICE_LINKED_ROLE_POLICIES, from AWS's recorded answers): it
can be listed, but a decision that would need its document is not modelled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from rolecall import aws
from rolecall.targets.reference.policy import NotModelled, Policy, parse_policy

REFERENCE = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"

# name (with its path after policy/) -> (document, create date as published)
DOCUMENTS: dict[str, tuple[dict, str]] = {
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaExecute.html (v1)
    "AWSLambdaExecute": ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:*"], "Resource": "arn:aws:logs:*:*:*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::*"}]},
        "2015-02-06T18:40:46Z"),
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
    "service-role/AWSLambdaBasicExecutionRole": ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}]}, "2015-04-09T15:03:43Z"),
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/IAMUserChangePassword.html
    "IAMUserChangePassword": ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
        {"Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy"], "Resource": "*"}]},
        "2016-11-15T00:25:16Z"),
}


# AWS managed policies known to exist because AWS's recorded answers attach them (LocalStack's
# AWS-validated snapshots, tests/aws/services/iam/test_iam_roles.py, test_iam_users.py,
# test_iam_groups.py at 708a15e6): attachable and listed, their documents not modelled.
ATTACHED_IN_RECORDINGS = (
    "service-role/AmazonElasticMapReduceRole",
    "service-role/AWSControlTowerServiceRolePolicy",
    "service-role/AmazonElasticMapReduceforEC2Role",
    "job-function/SystemAdministrator",
)


@dataclass(frozen=True)
class AwsManagedPolicy:
    name: str
    arn: str
    path: str
    document: str | None


def _known() -> dict[str, AwsManagedPolicy]:
    out = {}
    for full, (doc, _) in DOCUMENTS.items():
        path, _, name = full.rpartition("/")
        path = f"/{path}/" if path else "/"
        arn = f"arn:aws:iam::aws:policy{path}{name}"
        out[arn] = AwsManagedPolicy(name, arn, path, json.dumps(doc))
    for full in ATTACHED_IN_RECORDINGS:
        path, _, name = full.rpartition("/")
        arn = f"arn:aws:iam::aws:policy/{full}"
        out[arn] = AwsManagedPolicy(name, arn, f"/{path}/", None)
    for name in aws.SERVICE_LINKED_ROLE_POLICIES.values():
        arn = f"arn:aws:iam::aws:policy/aws-service-role/{name}"
        out.setdefault(arn, AwsManagedPolicy(name, arn, "/aws-service-role/", None))
    return out


KNOWN = _known()
_PARSED: dict[str, Policy] = {}


def lookup(arn: str) -> AwsManagedPolicy | None:
    """The AWS managed policy with this ARN, if the model knows it."""
    return KNOWN.get(arn)


def aws_managed_policy(arn: str) -> tuple[str, Policy] | None:
    """(label, parsed document) for evaluation; NotModelled when the model lacks the document."""
    mp = KNOWN.get(arn)
    if mp is None:
        return None
    if mp.document is None:
        raise NotModelled(f"the document of the AWS managed policy {mp.name}")
    if arn not in _PARSED:
        _PARSED[arn] = parse_policy(mp.document, "identity")
    return (f"AWS managed policy {mp.name}", _PARSED[arn])
