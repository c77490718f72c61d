"""AWS naming facts shared by the scenario format and the reference model.

Service-linked role names are not derivable by a rule; AWS's own names are recorded in
LocalStack's AWS-validated snapshot (tests/aws/services/iam/test_iam.snapshot.json,
TestIAMServiceRoles, recorded 2025-03-13) and in
https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html.
"""
from __future__ import annotations

# service principal -> (role name, custom suffix allowed)
SERVICE_LINKED_ROLES: dict[str, tuple[str, bool]] = {
    "autoscaling.amazonaws.com": ("AWSServiceRoleForAutoScaling", True),
    "elasticbeanstalk.amazonaws.com": ("AWSServiceRoleForElasticBeanstalk", False),
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", False),
    "rds.amazonaws.com": ("AWSServiceRoleForRDS", False),
    "redshift.amazonaws.com": ("AWSServiceRoleForRedshift", False),
    "elasticloadbalancing.amazonaws.com": ("AWSServiceRoleForElasticLoadBalancing", False),
    "batch.amazonaws.com": ("AWSServiceRoleForBatch", False),
    "acm.amazonaws.com": ("AWSServiceRoleForCertificateManager", False),
    "access-analyzer.amazonaws.com": ("AWSServiceRoleForAccessAnalyzer", False),
    "organizations.amazonaws.com": ("AWSServiceRoleForOrganizations", False),
    "spot.amazonaws.com": ("AWSServiceRoleForEC2Spot", False),
    "trustedadvisor.amazonaws.com": ("AWSServiceRoleForTrustedAdvisor", False),
    "connect.amazonaws.com": ("AWSServiceRoleForAmazonConnect", True),
    "lexv2.amazonaws.com": ("AWSServiceRoleForLexV2Bots", True),
}

SERVICE_LINKED_ROLE_PATH_PREFIX = "/aws-service-role/"


def service_linked_role_name(service: str, suffix: str | None = None) -> str:
    base = SERVICE_LINKED_ROLES.get(service, (None, False))[0]
    if base is None:
        # Unknown to our table: AWS would still answer; we name it the common way and the
        # reference model reports `unsupported` for services it does not know.
        stem = service.split(".")[0]
        base = "AWSServiceRoleFor" + "".join(p.capitalize() for p in stem.split("-"))
    return f"{base}_{suffix}" if suffix else base


def service_linked_role_path(service: str) -> str:
    return f"{SERVICE_LINKED_ROLE_PATH_PREFIX}{service}/"


def role_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def user_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:user{path}{name}"


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def session_arn(account: str, role_name: str, session_name: str) -> str:
    # The role path is not part of the session ARN:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"


def parse_arn(arn: str) -> dict[str, str] | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return {"partition": parts[1], "service": parts[2], "region": parts[3], "account": parts[4], "resource": parts[5]}
