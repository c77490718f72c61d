"""AWS naming facts shared by the scenario format and the reference model.

Service-linked role names are not derivable by a rule; AWS's own names are recorded in
LocalStack's AWS-validated snapshot (tests/aws/services/iam/test_iam.snapshot.json,
TestIAMServiceRoles, recorded 2025-03-13) and in
https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html.
"""
from __future__ import annotations

# service principal -> (role name, custom suffix allowed). The 71 recorded services are those of
# LocalStack's parametrized TestIAMServiceRoles (AWS-validated snapshot, 2025-03-13; the table
# LocalStack keeps in sync with it, localstack-core/localstack/services/iam/resources/service_linked_roles.py).
SERVICE_LINKED_ROLES: dict[str, tuple[str, bool]] = {
    "accountdiscovery.ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM_AccountDiscovery", False),
    "acm.amazonaws.com": ("AWSServiceRoleForCertificateManager", False),
    "appmesh.amazonaws.com": ("AWSServiceRoleForAppMesh", False),
    "autoscaling-plans.amazonaws.com": ("AWSServiceRoleForAutoScalingPlans_EC2AutoScaling", False),
    "autoscaling.amazonaws.com": ("AWSServiceRoleForAutoScaling", True),
    "backup.amazonaws.com": ("AWSServiceRoleForBackup", False),
    "batch.amazonaws.com": ("AWSServiceRoleForBatch", False),
    "cassandra.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_CassandraTable", False),
    "cks.kms.amazonaws.com": ("AWSServiceRoleForKeyManagementServiceCustomKeyStores", False),
    "cloudtrail.amazonaws.com": ("AWSServiceRoleForCloudTrail", False),
    "codestar-notifications.amazonaws.com": ("AWSServiceRoleForCodeStarNotifications", False),
    "config.amazonaws.com": ("AWSServiceRoleForConfig", False),
    "connect.amazonaws.com": ("AWSServiceRoleForAmazonConnect", True),
    "dms-fleet-advisor.amazonaws.com": ("AWSServiceRoleForDMSFleetAdvisor", False),
    "dms.amazonaws.com": ("AWSServiceRoleForDMSServerless", False),
    "docdb-elastic.amazonaws.com": ("AWSServiceRoleForDocDB-Elastic", False),
    "ec2-instance-connect.amazonaws.com": ("AWSServiceRoleForEc2InstanceConnect", False),
    "ec2.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_EC2SpotFleetRequest", False),
    "ecr.amazonaws.com": ("AWSServiceRoleForECRTemplate", False),
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", False),
    "eks-connector.amazonaws.com": ("AWSServiceRoleForAmazonEKSConnector", False),
    "eks-fargate.amazonaws.com": ("AWSServiceRoleForAmazonEKSForFargate", False),
    "eks-nodegroup.amazonaws.com": ("AWSServiceRoleForAmazonEKSNodegroup", False),
    "eks.amazonaws.com": ("AWSServiceRoleForAmazonEKS", False),
    "elasticache.amazonaws.com": ("AWSServiceRoleForElastiCache", False),
    "elasticbeanstalk.amazonaws.com": ("AWSServiceRoleForElasticBeanstalk", False),
    "elasticfilesystem.amazonaws.com": ("AWSServiceRoleForAmazonElasticFileSystem", False),
    "elasticloadbalancing.amazonaws.com": ("AWSServiceRoleForElasticLoadBalancing", False),
    "email.cognito-idp.amazonaws.com": ("AWSServiceRoleForAmazonCognitoIdpEmailService", False),
    "emr-containers.amazonaws.com": ("AWSServiceRoleForAmazonEMRContainers", False),
    "emrwal.amazonaws.com": ("AWSServiceRoleForEMRWAL", False),
    "fis.amazonaws.com": ("AWSServiceRoleForFIS", False),
    "grafana.amazonaws.com": ("AWSServiceRoleForAmazonGrafana", False),
    "imagebuilder.amazonaws.com": ("AWSServiceRoleForImageBuilder", False),
    "iotmanagedintegrations.amazonaws.com": ("AWSServiceRoleForIoTManagedIntegrations", False),
    "kafka.amazonaws.com": ("AWSServiceRoleForKafka", False),
    "kafkaconnect.amazonaws.com": ("AWSServiceRoleForKafkaConnect", False),
    "lakeformation.amazonaws.com": ("AWSServiceRoleForLakeFormationDataAccess", False),
    "lex.amazonaws.com": ("AWSServiceRoleForLexBots", False),
    "lexv2.amazonaws.com": ("AWSServiceRoleForLexV2Bots", True),
    "lightsail.amazonaws.com": ("AWSServiceRoleForLightsail", False),
    "m2.amazonaws.com": ("AWSServiceRoleForAWSM2", False),
    "memorydb.amazonaws.com": ("AWSServiceRoleForMemoryDB", False),
    "mq.amazonaws.com": ("AWSServiceRoleForAmazonMQ", False),
    "mrk.kms.amazonaws.com": ("AWSServiceRoleForKeyManagementServiceMultiRegionKeys", False),
    "notifications.amazonaws.com": ("AWSServiceRoleForAwsUserNotifications", False),
    "observability.aoss.amazonaws.com": ("AWSServiceRoleForAmazonOpenSearchServerless", False),
    "opensearchservice.amazonaws.com": ("AWSServiceRoleForAmazonOpenSearchService", False),
    "ops.apigateway.amazonaws.com": ("AWSServiceRoleForAPIGateway", False),
    "ops.emr-serverless.amazonaws.com": ("AWSServiceRoleForAmazonEMRServerless", False),
    "opsdatasync.ssm.amazonaws.com": ("AWSServiceRoleForSystemsManagerOpsDataSync", False),
    "opsinsights.ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM_OpsInsights", False),
    "pullthroughcache.ecr.amazonaws.com": ("AWSServiceRoleForECRPullThroughCache", False),
    "ram.amazonaws.com": ("AWSServiceRoleForResourceAccessManager", False),
    "rds.amazonaws.com": ("AWSServiceRoleForRDS", False),
    "redshift.amazonaws.com": ("AWSServiceRoleForRedshift", False),
    "replication.cassandra.amazonaws.com": ("AWSServiceRoleForKeyspacesReplication", False),
    "replication.ecr.amazonaws.com": ("AWSServiceRoleForECRReplication", False),
    "repository.sync.codeconnections.amazonaws.com": ("AWSServiceRoleForGitSync", False),
    "resource-explorer-2.amazonaws.com": ("AWSServiceRoleForResourceExplorer", False),
    "rolesanywhere.amazonaws.com": ("AWSServiceRoleForRolesAnywhere", False),
    "s3-outposts.amazonaws.com": ("AWSServiceRoleForS3OnOutposts", False),
    "ses.amazonaws.com": ("AWSServiceRoleForAmazonSES", False),
    "shield.amazonaws.com": ("AWSServiceRoleForAWSShield", False),
    "ssm-incidents.amazonaws.com": ("AWSServiceRoleForIncidentManager", False),
    "ssm-quicksetup.amazonaws.com": ("AWSServiceRoleForSSMQuickSetup", False),
    "ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM", False),
    "sso.amazonaws.com": ("AWSServiceRoleForSSO", False),
    "vpcorigin.cloudfront.amazonaws.com": ("AWSServiceRoleForCloudFrontVPCOrigin", False),
    "waf.amazonaws.com": ("AWSServiceRoleForWAFLogging", False),
    "wafv2.amazonaws.com": ("AWSServiceRoleForWAFV2Logging", False),
    # Not in that recording; names from the services' own SLR pages.
    "access-analyzer.amazonaws.com": ("AWSServiceRoleForAccessAnalyzer", False),
    "organizations.amazonaws.com": ("AWSServiceRoleForOrganizations", False),
    "spot.amazonaws.com": ("AWSServiceRoleForEC2Spot", False),
    "trustedadvisor.amazonaws.com": ("AWSServiceRoleForTrustedAdvisor", False),
}

SERVICE_LINKED_ROLE_PATH_PREFIX = "/aws-service-role/"


# service principal -> the AWS managed policy AWS attaches to its service-linked role (under
# arn:aws:iam::aws:policy/aws-service-role/). From the same recording (ListAttachedRolePolicies
# of each role in TestIAMServiceRoles::test_service_role_lifecycle; every one holds exactly one).
SERVICE_LINKED_ROLE_POLICIES: dict[str, str] = {
    "accountdiscovery.ssm.amazonaws.com": "AWSSystemsManagerAccountDiscoveryServicePolicy",
    "acm.amazonaws.com": "CertificateManagerServiceRolePolicy",
    "appmesh.amazonaws.com": "AWSAppMeshServiceRolePolicy",
    "autoscaling-plans.amazonaws.com": "AWSAutoScalingPlansEC2AutoScalingPolicy",
    "autoscaling.amazonaws.com": "AutoScalingServiceRolePolicy",
    "backup.amazonaws.com": "AWSBackupServiceLinkedRolePolicyForBackup",
    "batch.amazonaws.com": "BatchServiceRolePolicy",
    "cassandra.application-autoscaling.amazonaws.com": "AWSApplicationAutoscalingCassandraTablePolicy",
    "cks.kms.amazonaws.com": "AWSKeyManagementServiceCustomKeyStoresServiceRolePolicy",
    "cloudtrail.amazonaws.com": "CloudTrailServiceRolePolicy",
    "codestar-notifications.amazonaws.com": "AWSCodeStarNotificationsServiceRolePolicy",
    "config.amazonaws.com": "AWSConfigServiceRolePolicy",
    "connect.amazonaws.com": "AmazonConnectServiceLinkedRolePolicy",
    "dms-fleet-advisor.amazonaws.com": "AWSDMSFleetAdvisorServiceRolePolicy",
    "dms.amazonaws.com": "AWSDMSServerlessServiceRolePolicy",
    "docdb-elastic.amazonaws.com": "AmazonDocDB-ElasticServiceRolePolicy",
    "ec2-instance-connect.amazonaws.com": "Ec2InstanceConnectEndpoint",
    "ec2.application-autoscaling.amazonaws.com": "AWSApplicationAutoscalingEC2SpotFleetRequestPolicy",
    "ecr.amazonaws.com": "ECRTemplateServiceRolePolicy",
    "ecs.amazonaws.com": "AmazonECSServiceRolePolicy",
    "eks-connector.amazonaws.com": "AmazonEKSConnectorServiceRolePolicy",
    "eks-fargate.amazonaws.com": "AmazonEKSForFargateServiceRolePolicy",
    "eks-nodegroup.amazonaws.com": "AWSServiceRoleForAmazonEKSNodegroup",
    "eks.amazonaws.com": "AmazonEKSServiceRolePolicy",
    "elasticache.amazonaws.com": "ElastiCacheServiceRolePolicy",
    "elasticbeanstalk.amazonaws.com": "AWSElasticBeanstalkServiceRolePolicy",
    "elasticfilesystem.amazonaws.com": "AmazonElasticFileSystemServiceRolePolicy",
    "elasticloadbalancing.amazonaws.com": "AWSElasticLoadBalancingServiceRolePolicy",
    "email.cognito-idp.amazonaws.com": "AmazonCognitoIdpEmailServiceRolePolicy",
    "emr-containers.amazonaws.com": "AmazonEMRContainersServiceRolePolicy",
    "emrwal.amazonaws.com": "EMRDescribeClusterPolicyForEMRWAL",
    "fis.amazonaws.com": "AmazonFISServiceRolePolicy",
    "grafana.amazonaws.com": "AmazonGrafanaServiceLinkedRolePolicy",
    "imagebuilder.amazonaws.com": "AWSServiceRoleForImageBuilder",
    "iotmanagedintegrations.amazonaws.com": "AWSIoTManagedIntegrationsRolePolicy",
    "kafka.amazonaws.com": "KafkaServiceRolePolicy",
    "kafkaconnect.amazonaws.com": "KafkaConnectServiceRolePolicy",
    "lakeformation.amazonaws.com": "LakeFormationDataAccessServiceRolePolicy",
    "lex.amazonaws.com": "AmazonLexBotPolicy",
    "lexv2.amazonaws.com": "AmazonLexV2BotPolicy",
    "lightsail.amazonaws.com": "LightsailExportAccess",
    "m2.amazonaws.com": "AWSM2ServicePolicy",
    "memorydb.amazonaws.com": "MemoryDBServiceRolePolicy",
    "mq.amazonaws.com": "AmazonMQServiceRolePolicy",
    "mrk.kms.amazonaws.com": "AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy",
    "notifications.amazonaws.com": "AWSUserNotificationsServiceLinkedRolePolicy",
    "observability.aoss.amazonaws.com": "AmazonOpenSearchServerlessServiceRolePolicy",
    "opensearchservice.amazonaws.com": "AmazonOpenSearchServiceRolePolicy",
    "ops.apigateway.amazonaws.com": "APIGatewayServiceRolePolicy",
    "ops.emr-serverless.amazonaws.com": "AmazonEMRServerlessServiceRolePolicy",
    "opsdatasync.ssm.amazonaws.com": "AWSSystemsManagerOpsDataSyncServiceRolePolicy",
    "opsinsights.ssm.amazonaws.com": "AWSSSMOpsInsightsServiceRolePolicy",
    "pullthroughcache.ecr.amazonaws.com": "AWSECRPullThroughCache_ServiceRolePolicy",
    "ram.amazonaws.com": "AWSResourceAccessManagerServiceRolePolicy",
    "rds.amazonaws.com": "AmazonRDSServiceRolePolicy",
    "redshift.amazonaws.com": "AmazonRedshiftServiceLinkedRolePolicy",
    "replication.cassandra.amazonaws.com": "KeyspacesReplicationServiceRolePolicy",
    "replication.ecr.amazonaws.com": "ECRReplicationServiceRolePolicy",
    "repository.sync.codeconnections.amazonaws.com": "AWSGitSyncServiceRolePolicy",
    "resource-explorer-2.amazonaws.com": "AWSResourceExplorerServiceRolePolicy",
    "rolesanywhere.amazonaws.com": "AWSRolesAnywhereServicePolicy",
    "s3-outposts.amazonaws.com": "AWSS3OnOutpostsServiceRolePolicy",
    "ses.amazonaws.com": "AmazonSESServiceRolePolicy",
    "shield.amazonaws.com": "AWSShieldServiceRolePolicy",
    "ssm-incidents.amazonaws.com": "AWSIncidentManagerServiceRolePolicy",
    "ssm-quicksetup.amazonaws.com": "SSMQuickSetupRolePolicy",
    "ssm.amazonaws.com": "AmazonSSMServiceRolePolicy",
    "sso.amazonaws.com": "AWSSSOServiceRolePolicy",
    "vpcorigin.cloudfront.amazonaws.com": "AWSCloudFrontVPCOriginServiceRolePolicy",
    "waf.amazonaws.com": "WAFLoggingServiceRolePolicy",
    "wafv2.amazonaws.com": "WAFV2LoggingServiceRolePolicy",
}


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
