"""The IAM policy language of the reference model: validation, matching, conditions, variables.

Each test names the AWS documentation page of the rule it encodes. Validation messages come
from AWS output recorded in public sources (see the shared data folder: shared/data/iam-sts-error-messages.json).
"""

from __future__ import annotations

import json

import pytest

from rolecall.targets.reference.condition_keys import is_known_condition_key
from rolecall.targets.reference.policy import (
    POLICY_KINDS,
    MalformedPolicy,
    NotModelled,
    Policy,
    Principal,
    Request,
    matching_statements,
    parse_policy,
)

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)


A = "111111111111"
B = "222222222222"
ALICE = Principal(arn=f"arn:aws:iam::{A}:user/alice", account=A, unique_id="AIDAALICE00000000001")
ALICE_PATHED = Principal(arn=f"arn:aws:iam::{A}:user/dev/alice", account=A, unique_id="AIDAALICE00000000002")
BOB_B = Principal(arn=f"arn:aws:iam::{B}:user/bob", account=B, unique_id="AIDABOB0000000000001")
ROOT_A = Principal(arn=f"arn:aws:iam::{A}:root", account=A, unique_id=A)
SESSION = Principal(arn=f"arn:aws:sts::{A}:assumed-role/reader/s1", account=A,
                    unique_id="AROAREADER0000000001", role_arn=f"arn:aws:iam::{A}:role/team/reader")
EC2 = Principal(arn="ec2.amazonaws.com", account=None, unique_id=None, service="ec2.amazonaws.com")
GOOGLE = Principal(arn="accounts.google.com", account=None, unique_id=None, federated="accounts.google.com")
ROLE_ARN = f"arn:aws:iam::{A}:role/team/reader"


def stmt(**kw) -> dict:
    base = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def doc(*statements, version="2012-10-17") -> dict:
    d: dict = {"Statement": list(statements)}
    if version is not None:
        d["Version"] = version
    return d


def trust_stmt(principal, **kw) -> dict:
    base = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def malformed(document, kind="identity") -> MalformedPolicy:
    with pytest.raises(MalformedPolicy) as exc:
        parse_policy(document, kind)
    return exc.value


def req(action="s3:GetObject", resource="arn:aws:s3:::bucket/key", principal=ALICE) -> Request:
    return Request(action=action, resource=resource, principal=principal, context={})


def ctx_req(context: dict, action="s3:GetObject", resource="arn:aws:s3:::bucket/key", principal=ALICE) -> Request:
    return Request(action=action, resource=resource, principal=principal,
                   context={k.lower(): v for k, v in context.items()})


def matches(policy_doc, request, kind="identity") -> bool:
    return bool(matching_statements(parse_policy(policy_doc, kind), request))


def cond_matches(condition: dict, context: dict, version="2012-10-17") -> bool:
    return matches(doc(stmt(Condition=condition), version=version), ctx_req(context))


# ============================================================================ validation

class TestDocumentValidation:
    def test_invalid_json_is_rejected_with_iams_text(self):
        """AWS-recorded: CreateRole with malformed JSON -> 'This policy contains invalid Json'.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        err = malformed('{"Version": "2012-10-17", "Statement": [}', "trust")
        assert (err.code, err.message) == ("MalformedPolicyDocument", "This policy contains invalid Json")

    def test_invalid_json_in_a_bucket_policy_uses_s3s_code_and_text(self):
        """S3 PutBucketPolicy answers MalformedPolicy.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
        """
        err = malformed("not json", "bucket")
        assert err.code == "MalformedPolicy"
        assert err.message == "Policies must be valid JSON and the first byte must be '{'"

    @pytest.mark.parametrize("version", ["2013-10-17", "2012-10-18", 2012, ""])
    def test_version_must_be_one_of_the_two_language_versions(self, version):
        """Version is 2012-10-17 or 2008-10-17.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
        """
        assert malformed(doc(stmt(), version=version)).message == "Syntax errors in policy."

    def test_absent_version_is_accepted_and_recorded_as_none(self):
        """Without Version, IAM uses the 2008-10-17 language.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
        """
        assert parse_policy(doc(stmt(), version=None), "identity").version is None
        assert parse_policy(doc(stmt(), version="2008-10-17"), "identity").version == "2008-10-17"

    def test_statement_may_be_an_object_or_a_list(self):
        """statement_block = "Statement" : [ <statement>, ... ] | <statement>.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        single = parse_policy({"Version": "2012-10-17", "Statement": stmt()}, "identity")
        many = parse_policy(doc(stmt(), stmt(Effect="Deny")), "identity")
        assert len(single.statements) == 1 and [s.effect for s in many.statements] == ["Allow", "Deny"]

    @pytest.mark.parametrize("document", [
        {"Version": "2012-10-17"},
        {"Version": "2012-10-17", "Statement": []},
        {"Version": "2012-10-17", "Statement": ["afd"]},
        {"Version": "2012-10-17", "Statement": "s"},
    ])
    def test_statement_must_be_present_and_hold_objects(self, document):
        """A policy needs at least one statement object.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert malformed(document).message == "Syntax errors in policy."

    def test_unknown_top_level_element_is_a_syntax_error(self):
        """Top level holds only Version, Id, Statement.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert malformed({**doc(stmt()), "Extra": "x"}).message == "Syntax errors in policy."

    def test_unknown_statement_element_is_a_syntax_error(self):
        """A statement holds only the documented elements.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert malformed(doc(stmt(Extra="x"))).message == "Syntax errors in policy."

    def test_id_must_be_a_string(self):
        """policy_id_block = "Id" : <policy_id_string>.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert malformed({**doc(stmt()), "Id": ["x"]}).message == "Syntax errors in policy."
        assert parse_policy({**doc(stmt()), "Id": "my-id"}, "identity").document["Id"] == "my-id"

    def test_effect_must_be_allow_or_deny(self):
        """Effect is Allow or Deny.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
        """
        assert malformed(doc(stmt(Effect="Permit"))).message == "Syntax errors in policy."

    def test_effect_is_case_sensitive(self):
        """'allow' is not 'Allow': IAM's legacy parser rejects it.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
        """
        assert malformed(doc(stmt(Effect="allow"))).message == "The policy failed legacy parsing"

    def test_action_and_notaction_are_exclusive(self):
        """Exactly one of Action or NotAction.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
        """
        assert malformed(doc(stmt(NotAction="s3:*"))).message == "Syntax errors in policy."

    @pytest.mark.parametrize("action", [None, []])
    def test_statement_must_contain_actions(self, action):
        """A statement needs Action or NotAction.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        assert malformed(doc(stmt(Action=action))).message == "Policy statement must contain actions."

    @pytest.mark.parametrize("kind", ["identity", "boundary", "session"])
    def test_identity_grammar_requires_resources(self, kind):
        """Identity policies, boundaries and session policies need Resource or NotResource.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        assert malformed(doc(stmt(Resource=None)), kind).message == "Policy statement must contain resources."

    def test_resource_and_notresource_are_exclusive(self):
        """Exactly one of Resource or NotResource.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
        """
        assert malformed(doc(stmt(NotResource="*"))).message == "Syntax errors in policy."

    @pytest.mark.parametrize("kind", ["identity", "boundary", "session"])
    @pytest.mark.parametrize("element", ["Principal", "NotPrincipal"])
    def test_identity_grammar_forbids_principal(self, kind, element):
        """AWS-recorded 'Policy document should not specify a principal.'
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(stmt(**{element: {"AWS": A}})), kind)
        assert err.message == "Policy document should not specify a principal."

    @pytest.mark.parametrize("sid", ["has space", "dash-ed", "under_score", "dot."])
    def test_iam_sids_are_alphanumeric(self, sid):
        """In IAM the Sid is [A-Za-z0-9]*.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        """
        assert malformed(doc(stmt(Sid=sid))).message.startswith("Statement IDs (SID) must be alpha-numeric.")

    def test_bucket_policy_sids_may_hold_other_characters(self):
        """Only IAM restricts Sid characters.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        """
        p = parse_policy(doc(stmt(Sid="Allow public read", Principal="*", Resource="arn:aws:s3:::b/*")), "bucket")
        assert p.statements[0].sid == "Allow public read"

    def test_sids_must_be_unique(self):
        """In IAM, the Sid value must be unique within a JSON policy.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        """
        err = malformed(doc(stmt(Sid="One"), stmt(Sid="One", Effect="Deny")))
        assert err.message == "Statement IDs (SID) in a single policy must be unique."

    @pytest.mark.parametrize("action, message", [
        ("invalid", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        ("", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        ("s3:List:Bucket", "Actions/Condition can contain only one colon."),
        ("a a:ListBucket", "Vendor a a is not valid"),
    ])
    def test_action_is_vendor_colon_name(self, action, message):
        """Actions are written service-prefix:action-name.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        assert malformed(doc(stmt(Action=action))).message == message

    @pytest.mark.parametrize("resource, message", [
        ("invalid resource", 'Resource invalid resource must be in ARN format or "*".'),
        ("", 'Resource  must be in ARN format or "*".'),
        ("arn:aws", "Resource vendor must be fully qualified and cannot contain regexes."),
        ("arn:error:s3:::example_bucket", 'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".'),
        ("arn:aws:iam:us-east-1::example_bucket",
         "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."),
        ("arn:aws:s3:us-east-1::example_bucket",
         "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
        ("arn:aws:iam:::example_bucket", 'IAM resource path must either be "*", root, or start with user/, federated-user/, '
         'role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, '
         'oidc-provider/, report/, access-report/.'),
    ])
    def test_resource_must_be_an_arn(self, resource, message):
        """Resources are ARNs or "*".
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        assert malformed(doc(stmt(Resource=resource))).message == message

    def test_condition_block_must_be_an_object_of_objects(self):
        """condition_block = "Condition" : { <condition_map> }.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert malformed(doc(stmt(Condition=[]))).message == "Syntax errors in policy."
        assert malformed(doc(stmt(Condition={"StringEquals": "x"}))).message == "Syntax errors in policy."
        assert malformed(doc(stmt(Condition={"StringEquals": {"aws:username": {}}}))).message == \
            "Syntax errors in policy."

    @pytest.mark.parametrize("operator", [
        "StringEqualz", "stringequals", "NullIfExists", "ForAnyValue::StringEquals", "ForSomeValues:StringEquals",
        "IfExists", "ForAnyValue:Null",
    ])
    def test_unknown_condition_operator_is_rejected(self, operator):
        """Only the documented operators exist; unknown is an error, never ignored.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert malformed(doc(stmt(Condition={operator: {"aws:username": "x"}}))).message == "Syntax errors in policy."

    def test_unknown_operator_with_an_empty_block_is_tolerated(self):
        """An empty operator block decides nothing; IAM accepts it (moto's AWS-derived corpus).
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        p = parse_policy(doc(stmt(Condition={"Whatever": {}})), "identity")
        assert matching_statements(p, req())

    @pytest.mark.parametrize("base", [
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
        "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
        "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
        "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    ])
    @pytest.mark.parametrize("form", ["{}", "{}IfExists", "ForAllValues:{}", "ForAnyValue:{}IfExists"])
    def test_every_documented_operator_is_accepted(self, base, form):
        """Every operator takes IfExists and the set qualifiers.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        samples = {"Date": "2020-01-01T00:00:00Z", "Numeric": "1", "Bool": "true", "Binary": "QQ==",
                   "IpAddress": "10.0.0.0/8", "NotIpAddress": "10.0.0.0/8"}
        value = next((v for prefix, v in samples.items() if base.startswith(prefix)), "x")
        parse_policy(doc(stmt(Condition={form.format(base): {"aws:SourceIp": value}})), "identity")

    def test_null_operator_is_accepted(self):
        """Null checks the existence of a key.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        parse_policy(doc(stmt(Condition={"Null": {"aws:TokenIssueTime": "true"}})), "identity")

    def test_unparseable_date_value_fails_legacy_parsing(self):
        """Dates are ISO 8601 or epoch seconds.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        err = malformed(doc(stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "sdfdsf"}})))
        assert err.message == "The policy failed legacy parsing"

    def test_condition_values_may_be_json_booleans_and_numbers(self):
        """Condition values are strings, or JSON scalars IAM reads as strings.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
        """
        p = parse_policy(doc(stmt(Condition={"Bool": {"aws:SecureTransport": False},
                                             "NumericLessThan": {"s3:max-keys": 10}})), "identity")
        assert matching_statements(p, ctx_req({"aws:SecureTransport": ["false"], "s3:max-keys": ["9"]}))


class TestConditionKeys:
    def test_unknown_condition_key_is_not_modelled(self):
        """Service keys the model cannot populate are 'unsupported', never guessed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
        """
        with pytest.raises(NotModelled) as exc:
            parse_policy(doc(stmt(Condition={"StringEquals": {"ec2:InstanceType": "t2.micro"}})), "identity")
        assert exc.value.key == "ec2:InstanceType"

    def test_malformed_wins_over_not_modelled(self):
        """A document IAM rejects is rejected, whatever keys it names.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        err = malformed(doc(stmt(Action="nope", Condition={"StringEquals": {"ec2:InstanceType": "x"}})))
        assert err.message.startswith("Actions/Conditions must be prefaced")

    @pytest.mark.parametrize("key", [
        "aws:PrincipalArn", "AWS:principalarn", "aws:PrincipalTag/team", "aws:RequestTag/Project", "aws:TagKeys",
        "aws:ResourceTag/env", "aws:SourceIdentity", "aws:CurrentTime", "aws:EpochTime", "aws:MultiFactorAuthPresent",
        "aws:SecureTransport", "aws:SourceIp", "aws:PrincipalServiceName", "aws:ResourceAccount",
        "aws:SourceAccount", "aws:SourceArn", "aws:CalledVia", "aws:userid", "aws:username", "aws:PrincipalType",
        "aws:PrincipalAccount", "sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity",
        "sts:TransitiveTagKeys", "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl",
        "s3:ExistingObjectTag/classification", "iam:PassedToService", "iam:PermissionsBoundary",
        "iam:AWSServiceName", "token.actions.githubusercontent.com:sub",
    ])
    def test_documented_keys_are_known_case_insensitively(self, key):
        """Condition key names are case-insensitive.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
        """
        assert is_known_condition_key(key)

    @pytest.mark.parametrize("key", ["aws:PrincipalTag/", "ec2:InstanceType", "aws:NoSuchKey", "sts:TagSession"])
    def test_other_keys_are_unknown(self, key):
        """Only keys the model populates count as known.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
        """
        assert not is_known_condition_key(key)

    def test_policy_key_matches_context_case_insensitively(self):
        """Key names are case-insensitive: aws:CurrentTime = AWS:currenttime.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        assert cond_matches({"StringEquals": {"AWS:UserName": "alice"}}, {"aws:username": ["alice"]})


class TestTrustPolicyValidation:
    def test_trust_policy_must_not_have_resource(self):
        """A trust policy is a resource-based policy on the role; the role is implied.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(trust_stmt({"AWS": A}, Resource="*")), "trust")
        assert err.message == "Has prohibited field Resource"

    def test_trust_policy_must_not_have_notprincipal(self):
        """NotPrincipal is not allowed in role trust policies.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
        """
        err = malformed(doc({"Effect": "Deny", "NotPrincipal": {"AWS": A}, "Action": "sts:AssumeRole"}), "trust")
        assert err.message == "Has prohibited field NotPrincipal"

    @pytest.mark.parametrize("principal", [None, {}, {"AWS": []}])
    def test_trust_policy_needs_a_principal(self, principal):
        """AWS-recorded text for a trust statement without principals.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(trust_stmt(principal)), "trust")
        assert err.message.endswith("The passed in policy has a statement with no principals!")

    @pytest.mark.parametrize("action", ["s3:GetObject", "sts:GetCallerIdentity", "iam:*", "sts:Get*"])
    def test_trust_actions_are_limited_to_assume_role_family(self, action):
        """A trust policy only says who may assume the role (and tag/set source identity).
        https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
        """
        err = malformed(doc(trust_stmt({"AWS": A}, Action=action)), "trust")
        assert err.message == "AssumeRole policy may only specify STS AssumeRole actions."

    @pytest.mark.parametrize("action", [
        "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
        "sts:SetSourceIdentity", "sts:SetContext", "sts:*", "sts:AssumeRole*", "STS:assumerole", "*",
    ])
    def test_trust_actions_accepted(self, action):
        """The AssumeRole family, and wildcards covering it.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
        """
        parse_policy(doc(trust_stmt({"AWS": A}, Action=action)), "trust")

    @pytest.mark.parametrize("value", [
        f"arn:aws:iam::*:root", f"arn:aws:iam::{A}:role/*", f"arn:aws:iam::{A}:user/al*",
        f"arn:aws:sts::{A}:assumed-role/reader/*", "1111111111*", "not-an-arn", f"arn:aws:iam::{A}:group/devs",
    ])
    def test_no_partial_wildcards_or_bad_forms_in_aws_principals(self, value):
        """You cannot use a wildcard to match part of a principal name or ARN.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(trust_stmt({"AWS": value})), "trust")
        assert err.message == f'Invalid principal in policy: "AWS":"{value}"'

    @pytest.mark.parametrize("principal", [
        "*", {"AWS": "*"}, {"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": f"arn:aws:iam::{A}:user/alice"},
        {"AWS": ROLE_ARN}, {"AWS": f"arn:aws:sts::{A}:assumed-role/reader/s1"},
        {"AWS": f"arn:aws:sts::{A}:federated-user/fed"}, {"AWS": "AROAREADER0000000001"},
        {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
        {"Federated": f"arn:aws:iam::{A}:saml-provider/corp"}, {"Federated": "accounts.google.com"},
    ])
    def test_documented_principal_forms_are_accepted(self, principal):
        """Account, root, user, role, sessions, unique ID, service, federated.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        parse_policy(doc(trust_stmt(principal)), "trust")

    def test_invalid_service_principal_names_the_type_in_capitals(self):
        """Invalid principal in policy: "SERVICE":"...".
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(trust_stmt({"Service": "ec2 amazonaws"})), "trust")
        assert err.message == 'Invalid principal in policy: "SERVICE":"ec2 amazonaws"'

    def test_canonical_user_is_only_for_s3(self):
        """CanonicalUser identifies an S3 account.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        cu = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
        assert malformed(doc(trust_stmt({"CanonicalUser": cu})), "trust").message.startswith(
            'Invalid principal in policy: "CANONICALUSER"')
        parse_policy(doc(stmt(Principal={"CanonicalUser": cu}, Resource="arn:aws:s3:::b/*")), "bucket")

    def test_trust_sids_follow_iam_rules(self):
        """IAM Sid rules apply to trust policies too.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        """
        err = malformed(doc(trust_stmt({"AWS": A}, Sid="a b")), "trust")
        assert err.message.startswith("Statement IDs (SID) must be alpha-numeric.")


class TestBucketPolicyValidation:
    def test_bucket_policy_needs_a_principal(self):
        """S3: 'Missing required field Principal' (MalformedPolicy).
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
        """
        err = malformed(doc(stmt(Resource="arn:aws:s3:::b/*")), "bucket")
        assert (err.code, err.message) == ("MalformedPolicy", "Missing required field Principal")

    def test_bucket_policy_principal_cannot_be_empty(self):
        """S3: 'Missing required field Principal cannot be empty!'.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
        """
        err = malformed(doc(stmt(Principal={"AWS": []}, Resource="arn:aws:s3:::b/*")), "bucket")
        assert err.message == "Missing required field Principal cannot be empty!"

    def test_bucket_policy_needs_a_resource(self):
        """A bucket policy statement names its resources.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
        """
        err = malformed(doc(stmt(Principal="*", Resource=None)), "bucket")
        assert err.message == "Missing required field Resource"

    def test_bucket_policy_invalid_principal(self):
        """S3 reports 'Invalid principal in policy' without details.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        err = malformed(doc(stmt(Principal={"AWS": "arn:aws:iam::*:root"}, Resource="arn:aws:s3:::b/*")), "bucket")
        assert err.message == "Invalid principal in policy"

    def test_bucket_policy_actions_are_s3_actions(self):
        """S3: 'Policy has invalid action'.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
        """
        err = malformed(doc(stmt(Principal="*", Action="ec2:RunInstances", Resource="arn:aws:s3:::b/*")), "bucket")
        assert err.message == "Policy has invalid action"

    def test_bucket_policy_accepts_notprincipal_with_deny(self):
        """NotPrincipal with Deny is accepted in resource-based policies.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
        """
        p = parse_policy(doc(stmt(Effect="Deny", NotPrincipal={"AWS": f"arn:aws:iam::{A}:user/alice"},
                                  Resource="arn:aws:s3:::b/*")), "bucket")
        assert p.statements[0].not_principal


# ============================================================================ Action / Resource

class TestActionMatching:
    def test_action_names_are_case_insensitive(self):
        """iam:ListAccessKeys = IAM:listaccesskeys.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        p = doc(stmt(Action="IAM:listaccesskeys"))
        assert matches(p, req(action="iam:ListAccessKeys"))

    def test_star_wildcard_in_action(self):
        """iam:*AccessKey* matches every access-key action.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        p = doc(stmt(Action="iam:*AccessKey*"))
        assert matches(p, req(action="iam:CreateAccessKey"))
        assert matches(p, req(action="iam:ListAccessKeys"))
        assert not matches(p, req(action="iam:ListUsers"))

    def test_question_mark_matches_exactly_one_character(self):
        """? matches one character.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        p = doc(stmt(Action="s3:GetObjec?"))
        assert matches(p, req(action="s3:GetObject"))
        assert not matches(p, req(action="s3:GetObjectAcl"))

    def test_star_alone_matches_every_action(self):
        """"Action": "*" covers all actions of all services.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        assert matches(doc(stmt(Action="*")), req(action="kms:Decrypt"))

    def test_action_list_is_ored(self):
        """A list of actions matches any of them.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
        """
        p = doc(stmt(Action=["s3:PutObject", "sts:AssumeRole"]))
        assert matches(p, req(action="sts:AssumeRole")) and not matches(p, req(action="s3:GetObject"))

    def test_notaction_matches_everything_else(self):
        """NotAction matches every action except those listed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
        """
        p = doc(stmt(Action=None, NotAction="iam:*"))
        assert matches(p, req(action="s3:GetObject"))
        assert not matches(p, req(action="iam:CreateUser"))


class TestResourceMatching:
    def test_resource_arns_are_case_sensitive(self):
        """Resource ARNs are case-sensitive.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        p = doc(stmt(Resource="arn:aws:s3:::bucket/Key"))
        assert matches(p, req(resource="arn:aws:s3:::bucket/Key"))
        assert not matches(p, req(resource="arn:aws:s3:::bucket/key"))

    def test_star_in_resource_crosses_slashes(self):
        """arn:aws:s3:::bucket/* covers every object, nested prefixes included.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        p = doc(stmt(Resource="arn:aws:s3:::bucket/*"))
        assert matches(p, req(resource="arn:aws:s3:::bucket/a/b/c.txt"))
        assert not matches(p, req(resource="arn:aws:s3:::bucket"))

    def test_wildcards_work_within_each_segment(self):
        """Wildcards may appear within any ARN segment; one segment's * does not reach into the next.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        p = doc(stmt(Resource="arn:aws:sqs:*:111122223333:queue?"))
        assert matches(p, req(resource="arn:aws:sqs:us-east-2:111122223333:queue1"))
        assert not matches(p, req(resource="arn:aws:sqs:us-east-2:999999999999:x:111122223333:queue1"))

    def test_star_alone_matches_every_resource(self):
        """"Resource": "*" covers everything.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        assert matches(doc(stmt(Resource="*")), req(resource="arn:aws:iam::111111111111:role/x"))

    def test_resource_list_is_ored(self):
        """A list of resources matches any of them.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
        """
        p = doc(stmt(Resource=["arn:aws:s3:::a/*", "arn:aws:s3:::bucket/*"]))
        assert matches(p, req(resource="arn:aws:s3:::bucket/k"))

    def test_notresource_matches_everything_else(self):
        """NotResource matches all resources except those listed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
        """
        p = doc(stmt(Resource=None, NotResource="arn:aws:s3:::bucket/secret/*"))
        assert matches(p, req(resource="arn:aws:s3:::bucket/public/x"))
        assert not matches(p, req(resource="arn:aws:s3:::bucket/secret/x"))

    def test_trust_statement_implies_the_role_as_resource(self):
        """A trust policy has no Resource: it is attached to the role.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        p = doc(trust_stmt({"AWS": A}))
        assert matches(p, req(action="sts:AssumeRole", resource=ROLE_ARN), "trust")


# ============================================================================ Principal

def trust_matches(principal_element, who, kind="trust") -> bool:
    return matches(doc(trust_stmt(principal_element)), req(action="sts:AssumeRole", resource=ROLE_ARN,
                                                           principal=who), kind)


class TestPrincipalMatching:
    @pytest.mark.parametrize("who", [ALICE, BOB_B, SESSION, EC2, GOOGLE, None])
    def test_bare_star_matches_everyone(self, who):
        """"Principal": "*" is every principal, anonymous callers included.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches("*", who)

    @pytest.mark.parametrize("who, expected", [(ALICE, True), (BOB_B, True), (SESSION, True), (None, True),
                                               (EC2, False), (GOOGLE, False)])
    def test_aws_star_matches_aws_identities_and_anonymous(self, who, expected):
        """{"AWS": "*"} equals "*" for anonymous users; it names AWS identities, not service principals.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches({"AWS": "*"}, who) is expected

    @pytest.mark.parametrize("element", [{"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}])
    def test_account_principal_delegates_to_every_principal_of_the_account(self, element):
        """Account ID and root ARN behave the same; they do not mean only the root user.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches(element, ALICE)
        assert trust_matches(element, SESSION)
        assert trust_matches(element, ROOT_A)
        assert not trust_matches(element, BOB_B)
        assert not trust_matches(element, EC2)

    def test_user_arn_matches_that_user_only(self):
        """An IAM user principal names one user.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        element = {"AWS": f"arn:aws:iam::{A}:user/alice"}
        assert trust_matches(element, ALICE)
        assert not trust_matches(element, ALICE_PATHED)
        assert not trust_matches(element, ROOT_A)

    def test_user_name_part_is_case_sensitive(self):
        """The user name part of the ARN is case sensitive in a Principal element.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert not trust_matches({"AWS": f"arn:aws:iam::{A}:user/Alice"}, ALICE)

    def test_unique_id_matches_the_user(self):
        """IAM stores a trust policy's user ARN as the unique ID (AIDA...).
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
        """
        assert trust_matches({"AWS": ALICE.unique_id}, ALICE)
        assert not trust_matches({"AWS": ALICE.unique_id}, ALICE_PATHED)

    def test_role_arn_matches_sessions_of_that_role_with_its_path(self):
        """A role principal's permissions are those of its role sessions.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches({"AWS": ROLE_ARN}, SESSION)
        assert not trust_matches({"AWS": f"arn:aws:iam::{A}:role/reader"}, SESSION)  # path differs

    def test_role_unique_id_matches_its_sessions(self):
        """A role ARN saved in a trust policy becomes the role's unique ID (AROA...).
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
        """
        assert trust_matches({"AWS": "AROAREADER0000000001"}, SESSION)

    def test_session_arn_matches_only_that_session(self):
        """An assumed-role session principal names one session.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches({"AWS": f"arn:aws:sts::{A}:assumed-role/reader/s1"}, SESSION)
        assert not trust_matches({"AWS": f"arn:aws:sts::{A}:assumed-role/reader/s2"}, SESSION)

    def test_service_principal_matches_that_service(self):
        """{"Service": "ec2.amazonaws.com"} lets EC2 act.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches({"Service": "ec2.amazonaws.com"}, EC2)
        assert not trust_matches({"Service": "lambda.amazonaws.com"}, EC2)
        assert not trust_matches({"Service": "ec2.amazonaws.com"}, ALICE)

    def test_federated_principal_matches_exact_provider(self):
        """Web identity and SAML principals name the provider.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        assert trust_matches({"Federated": "accounts.google.com"}, GOOGLE)
        assert not trust_matches({"Federated": "graph.facebook.com"}, GOOGLE)

    def test_notprincipal_matches_everyone_not_listed(self):
        """NotPrincipal with Deny denies all principals except those listed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
        """
        d = doc(stmt(Effect="Deny", NotPrincipal={"AWS": [f"arn:aws:iam::{A}:user/alice"]},
                     Resource="arn:aws:s3:::bucket/*"))
        assert not matches(d, req(principal=ALICE), "bucket")
        assert matches(d, req(principal=BOB_B), "bucket")
        assert matches(d, req(principal=None), "bucket")

    def test_principal_list_is_ored(self):
        """Several principals in an element are a logical OR.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        element = {"AWS": [B], "Service": "ec2.amazonaws.com"}
        assert trust_matches(element, BOB_B) and trust_matches(element, EC2) and not trust_matches(element, ALICE)


# ============================================================================ Conditions

class TestConditionLogic:
    def test_operator_blocks_are_anded(self):
        """Multiple condition operators are ANDed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
        """
        c = {"StringEquals": {"aws:username": "alice"}, "Bool": {"aws:SecureTransport": "true"}}
        assert cond_matches(c, {"aws:username": ["alice"], "aws:SecureTransport": ["true"]})
        assert not cond_matches(c, {"aws:username": ["alice"], "aws:SecureTransport": ["false"]})

    def test_keys_within_an_operator_are_anded(self):
        """Multiple keys under one operator are ANDed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
        """
        c = {"StringEquals": {"aws:username": "alice", "aws:PrincipalTag/team": "red"}}
        assert cond_matches(c, {"aws:username": ["alice"], "aws:principaltag/team": ["red"]})
        assert not cond_matches(c, {"aws:username": ["alice"], "aws:principaltag/team": ["blue"]})

    def test_values_for_a_key_are_ored(self):
        """Multiple values for one key are ORed.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
        """
        c = {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}
        assert cond_matches(c, {"aws:principaltag/team": ["blue"]})
        assert not cond_matches(c, {"aws:principaltag/team": ["green"]})

    def test_negated_operator_with_several_values_is_nor(self):
        """A negated operator's values are evaluated with a logical NOR.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
        """
        c = {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}
        assert not cond_matches(c, {"aws:principaltag/team": ["red"]})
        assert cond_matches(c, {"aws:principaltag/team": ["green"]})

    def test_missing_key_makes_a_plain_condition_false(self):
        """If the key is not present in the request context, the condition is false.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({"StringEquals": {"aws:username": "alice"}}, {})

    @pytest.mark.parametrize("operator, value", [
        ("StringNotEquals", "x"), ("StringNotEqualsIgnoreCase", "x"), ("StringNotLike", "x*"),
        ("NumericNotEquals", "1"), ("DateNotEquals", "2020-01-01T00:00:00Z"), ("ArnNotEquals", "arn:aws:s3:::b"),
        ("ArnNotLike", "arn:aws:s3:::*"), ("NotIpAddress", "10.0.0.0/8"),
    ])
    def test_missing_key_makes_a_negated_condition_true(self, operator, value):
        """'If the policy condition requires that the key is not matched, such as StringNotLike or
        ArnNotLike, and the right key is not present, the condition is true.'
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({operator: {"aws:SourceArn": value}}, {})

    def test_ifexists_is_true_on_a_missing_key(self):
        """...IfExists: if the key is not present, evaluate the condition element as true.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({"StringEqualsIfExists": {"aws:username": "alice"}}, {})

    def test_ifexists_still_tests_a_present_key(self):
        """...IfExists processes the key as specified when it is present.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"StringEqualsIfExists": {"aws:username": "alice"}}
        assert cond_matches(c, {"aws:username": ["alice"]})
        assert not cond_matches(c, {"aws:username": ["bob"]})

    def test_negated_ifexists_on_present_key(self):
        """StringNotEqualsIfExists on a present key behaves like StringNotEquals.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({"StringNotEqualsIfExists": {"aws:username": "alice"}}, {"aws:username": ["alice"]})

    @pytest.mark.parametrize("want, context, expected", [
        ("true", {}, True), ("true", {"aws:TokenIssueTime": ["2020-01-01T00:00:00Z"]}, False),
        ("false", {}, False), ("false", {"aws:TokenIssueTime": ["2020-01-01T00:00:00Z"]}, True),
        ("false", {"aws:TokenIssueTime": []}, False), ("TRUE", {}, True),
    ])
    def test_null_checks_absence(self, want, context, expected):
        """Null: true means the key is absent (or has no value), false that it exists.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({"Null": {"aws:TokenIssueTime": want}}, context) is expected

    @pytest.mark.parametrize("context", [{}, {"aws:TagKeys": []}])
    def test_forallvalues_is_true_on_missing_or_empty(self, context):
        """ForAllValues returns true when the key resolves to an empty data set.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        """
        assert cond_matches({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, context)

    def test_forallvalues_needs_every_request_value_to_match(self):
        """ForAllValues: every request value must match at least one policy value.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        """
        c = {"ForAllValues:StringLike": {"aws:TagKeys": ["env", "team*"]}}
        assert cond_matches(c, {"aws:TagKeys": ["env", "team-x"]})
        assert not cond_matches(c, {"aws:TagKeys": ["env", "owner"]})

    @pytest.mark.parametrize("context", [{}, {"aws:TagKeys": []}])
    def test_foranyvalue_is_false_on_missing_or_empty(self, context):
        """ForAnyValue returns false when the key resolves to an empty data set.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        """
        assert not cond_matches({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, context)

    def test_foranyvalue_needs_one_match(self):
        """ForAnyValue: true if any request value matches any policy value.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        """
        c = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["ID", "PostDateTime"]}}
        assert cond_matches(c, {"aws:TagKeys": ["UserName", "PostDateTime"]})
        assert not cond_matches(c, {"aws:TagKeys": ["UserName", "Message"]})

    def test_set_operators_with_a_negated_operator(self):
        """ForAnyValue:StringNotEquals holds if some value is outside the list; ForAllValues if all are.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        """
        ctx = {"aws:TagKeys": ["env", "owner"]}
        assert cond_matches({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx)
        assert not cond_matches({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx)
        assert cond_matches({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["x"]}}, ctx)

    def test_plain_operators_on_a_multivalued_key(self):
        """Multivalued keys need a set operator; without one (model's choice) a plain operator holds
        if any value matches, a negated one only if none does.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        """
        ctx = {"aws:TagKeys": ["env", "owner"]}
        assert cond_matches({"StringEquals": {"aws:TagKeys": "env"}}, ctx)
        assert not cond_matches({"StringNotEquals": {"aws:TagKeys": "env"}}, ctx)
        assert cond_matches({"StringNotEquals": {"aws:TagKeys": "team"}}, ctx)


class TestConditionOperators:
    def test_string_equals_is_case_sensitive_and_literal(self):
        """StringEquals: exact matching, case sensitive; no wildcards.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({"StringEquals": {"aws:username": "Alice"}}, {"aws:username": ["alice"]})
        assert not cond_matches({"StringEquals": {"aws:username": "al*"}}, {"aws:username": ["alice"]})
        assert cond_matches({"StringEquals": {"aws:username": "al*"}}, {"aws:username": ["al*"]})

    def test_string_equals_ignore_case(self):
        """StringEqualsIgnoreCase / StringNotEqualsIgnoreCase ignore case.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": ["alice"]})
        assert not cond_matches({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": ["alice"]})

    def test_string_like_wildcards(self):
        """StringLike: * matches any run of characters, ? exactly one; case sensitive.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"StringLike": {"s3:prefix": ["home/al?ce/*"]}}
        assert cond_matches(c, {"s3:prefix": ["home/alice/docs/x"]})
        assert not cond_matches(c, {"s3:prefix": ["home/ALICE/docs"]})
        assert not cond_matches(c, {"s3:prefix": ["home/allice/x"]})

    def test_string_not_like(self):
        """StringNotLike: negated case-sensitive matching with wildcards.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": ["home/x"]})
        assert cond_matches({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": ["tmp/x"]})

    @pytest.mark.parametrize("operator, policy, request_value, expected", [
        ("NumericEquals", "10", "10.0", True), ("NumericEquals", "10", "11", False),
        ("NumericNotEquals", "10", "11", True), ("NumericLessThan", "10", "9.5", True),
        ("NumericLessThan", "10", "10", False), ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "1.5", "2", True), ("NumericGreaterThanEquals", "-3", "-3", True),
    ])
    def test_numeric_operators(self, operator, policy, request_value, expected):
        """Numeric operators compare integers and decimals.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({operator: {"s3:max-keys": policy}}, {"s3:max-keys": [request_value]}) is expected

    @pytest.mark.parametrize("operator", ["NumericEquals", "NumericNotEquals", "NumericLessThan"])
    def test_unparseable_numeric_policy_value_is_false_not_a_crash(self, operator):
        """A policy value that is not a number compares with nothing.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({operator: {"s3:max-keys": "ten"}}, {"s3:max-keys": ["10"]})

    def test_unparseable_numeric_request_value_is_false(self):
        """A request value that is not a number matches neither plain nor negated operators.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert not cond_matches({"NumericNotEquals": {"s3:max-keys": "1"}}, {"s3:max-keys": ["lots"]})

    @pytest.mark.parametrize("operator, policy, request_value, expected", [
        ("DateGreaterThan", "2020-01-01T00:00:01Z", "2020-06-01T00:00:00Z", True),
        ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", True),
        ("DateEquals", "1577836800", "2020-01-01T00:00:00Z", True),
        ("DateEquals", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", True),
        ("DateLessThanEquals", "2020-01-01", "2020-01-01T00:00:00Z", True),
        ("DateNotEquals", "2020-01-01T00:00:00Z", "1577836801", True),
        ("DateGreaterThanEquals", "2020-01-01T00:00:00.500Z", "2020-01-01T00:00:00Z", False),
    ])
    def test_date_operators_accept_iso8601_and_epoch(self, operator, policy, request_value, expected):
        """Dates are W3C ISO 8601 or epoch (UNIX) time.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({operator: {"aws:CurrentTime": policy}}, {"aws:CurrentTime": [request_value]}) \
            is expected

    @pytest.mark.parametrize("policy, request_value, expected", [
        ("true", "true", True), ("True", "true", True), ("false", "TRUE", False), ("false", "false", True),
    ])
    def test_bool_is_case_insensitive(self, policy, request_value, expected):
        """Bool: boolean matching of "true"/"false".
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"Bool": {"aws:MultiFactorAuthPresent": policy}}
        assert cond_matches(c, {"aws:MultiFactorAuthPresent": [request_value]}) is expected

    def test_binary_equals_compares_decoded_bytes(self):
        """BinaryEquals compares byte for byte against a base-64 value.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"BinaryEquals": {"aws:username": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}
        assert cond_matches(c, {"aws:username": ["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]})
        assert not cond_matches(c, {"aws:username": ["QQ=="]})

    @pytest.mark.parametrize("policy, ip, expected", [
        ("203.0.113.0/24", "203.0.113.7", True), ("203.0.113.0/24", "203.0.114.7", False),
        ("203.0.113.7", "203.0.113.7", True), ("203.0.113.7", "203.0.113.8", False),
        ("2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True), ("203.0.113.0/24", "2001:db8::1", False),
    ])
    def test_ip_address_cidr(self, policy, ip, expected):
        """IpAddress takes CIDR v4/v6; a bare address means /32.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        assert cond_matches({"IpAddress": {"aws:SourceIp": policy}}, {"aws:SourceIp": [ip]}) is expected

    def test_not_ip_address(self):
        """NotIpAddress: all addresses except the range.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}
        assert cond_matches(c, {"aws:SourceIp": ["203.0.113.9"]})
        assert not cond_matches(c, {"aws:SourceIp": ["10.1.2.3"]})

    def test_arn_operators_match_each_segment_separately(self):
        """The documented example: StringLike matches, ArnLike does not.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        pattern = "arn:aws:someservice:*:111122223333:finance/*"
        value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        assert cond_matches({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": [value]})
        assert not cond_matches({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": [value]})

    @pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
    def test_arn_equals_and_arn_like_behave_identically(self, operator):
        """ArnEquals and ArnLike both take wildcards per segment.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {operator: {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/team/*"}}
        assert cond_matches(c, {"aws:PrincipalArn": [ROLE_ARN]})
        assert not cond_matches(c, {"aws:PrincipalArn": [f"arn:aws:iam::{B}:role/team/reader"]})

    def test_arn_not_like(self):
        """ArnNotEquals/ArnNotLike: negated ARN matching.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        """
        c = {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/*"}}
        assert not cond_matches(c, {"aws:PrincipalArn": [ROLE_ARN]})
        assert cond_matches(c, {"aws:PrincipalArn": [f"arn:aws:iam::{A}:user/alice"]})


# ============================================================================ policy variables

class TestPolicyVariables:
    def test_username_variable_in_resource(self):
        """${aws:username} is replaced with the user's friendly name.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource="arn:aws:s3:::bucket/home/${aws:username}/*"))
        assert matches(d, ctx_req({"aws:username": ["alice"]}, resource="arn:aws:s3:::bucket/home/alice/x"))
        assert not matches(d, ctx_req({"aws:username": ["bob"]}, resource="arn:aws:s3:::bucket/home/alice/x"))

    def test_missing_variable_key_makes_the_resource_not_match(self):
        """A key that is not present makes any attempt to match it fail (role sessions have no aws:username).
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource="arn:aws:s3:::bucket/home/${aws:username}/*"))
        assert not matches(d, ctx_req({}, resource="arn:aws:s3:::bucket/home//x"))
        assert not matches(d, ctx_req({}, resource="arn:aws:s3:::bucket/home/${aws:username}/x"))

    def test_missing_variable_in_notresource_does_not_match_either(self):
        """An unresolvable variable makes the statement invalid, negated or not.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource=None, NotResource="arn:aws:s3:::bucket/${aws:username}/*"))
        assert not matches(d, ctx_req({}, resource="arn:aws:s3:::other/x"))

    def test_default_value_is_used_when_key_is_absent(self):
        """${key, 'default'} supplies a default value.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource="arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*"))
        assert matches(d, ctx_req({}, resource="arn:aws:s3:::bucket/company-wide/x"))
        assert matches(d, ctx_req({"aws:principaltag/team": ["red"]}, resource="arn:aws:s3:::bucket/red/x"))
        assert not matches(d, ctx_req({"aws:principaltag/team": ["red"]},
                                      resource="arn:aws:s3:::bucket/company-wide/x"))

    def test_variable_in_condition_value(self):
        """Variables work in string condition values.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        c = {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}
        assert cond_matches(c, {"aws:username": ["alice"], "s3:prefix": ["home/alice/x"]})
        assert not cond_matches(c, {"aws:username": ["bob"], "s3:prefix": ["home/alice/x"]})

    def test_variable_in_arn_condition_value(self):
        """Variables work with the ARN operators.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        c = {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::" + A + ":user/${aws:username}"}}
        assert cond_matches(c, {"aws:username": ["alice"], "aws:PrincipalArn": [ALICE.arn]})

    def test_unresolvable_variable_fails_negated_condition_too(self):
        """An unresolved variable makes the statement invalid rather than 'not equal'.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        assert not cond_matches({"StringNotEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": ["x"]})

    def test_variable_value_is_literal_not_a_wildcard(self):
        """A substituted value is compared literally.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        c = {"StringLike": {"s3:prefix": "${aws:PrincipalTag/p}"}}
        assert not cond_matches(c, {"aws:principaltag/p": ["a*"], "s3:prefix": ["abc"]})
        assert cond_matches(c, {"aws:principaltag/p": ["a*"], "s3:prefix": ["a*"]})

    @pytest.mark.parametrize("escape, literal, other", [("${*}", "*", "x"), ("${?}", "?", "x"), ("${$}", "$", "x")])
    def test_special_character_variables_are_literal(self, escape, literal, other):
        """${*}, ${?}, ${$} stand for the literal characters.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource=f"arn:aws:s3:::bucket/a{escape}b"))
        assert matches(d, ctx_req({}, resource=f"arn:aws:s3:::bucket/a{literal}b"))
        assert not matches(d, ctx_req({}, resource=f"arn:aws:s3:::bucket/a{other}b"))

    @pytest.mark.parametrize("version", ["2008-10-17", None])
    def test_variables_are_literal_before_2012_10_17(self, version):
        """Without Version 2012-10-17, ${aws:username} is a literal string.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource="arn:aws:s3:::bucket/${aws:username}"), version=version)
        assert matches(d, ctx_req({}, resource="arn:aws:s3:::bucket/${aws:username}"))
        assert not matches(d, ctx_req({"aws:username": ["alice"]}, resource="arn:aws:s3:::bucket/alice"))

    def test_variables_are_not_allowed_in_action(self):
        """Variables belong in Resource and condition values; in Action the variable's colon makes
        the name invalid.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        assert malformed(doc(stmt(Action="s3:${aws:username}"))).message == \
            "Actions/Condition can contain only one colon."
        d = doc(stmt(Action="s3:Get${*}"))  # no colon: accepted, and ${*} stays literal text
        assert not matches(d, ctx_req({}, action="s3:GetObject"))

    def test_variables_only_count_in_the_resource_part_of_the_arn(self):
        """A variable cannot replace the parts of an ARN before the fifth colon.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        d = doc(stmt(Resource="arn:aws:sqs:us-east-2:${aws:PrincipalAccount}:queue"))
        assert not matches(d, ctx_req({"aws:principalaccount": [A]}, resource=f"arn:aws:sqs:us-east-2:{A}:queue"))

    def test_variables_are_not_substituted_for_numeric_operators(self):
        """You can't use a policy variable with Numeric operators.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        c = {"NumericEquals": {"s3:max-keys": "${aws:PrincipalTag/limit}"}}
        assert not cond_matches(c, {"aws:principaltag/limit": ["5"], "s3:max-keys": ["5"]})

    def test_multivalued_key_cannot_be_a_variable(self):
        """Only single-valued keys can be policy variables.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        """
        c = {"StringEquals": {"s3:prefix": "${aws:TagKeys}"}}
        assert not cond_matches(c, {"aws:TagKeys": ["a", "b"], "s3:prefix": ["a"]})

    def test_unknown_variable_key_is_not_modelled(self):
        """The model cannot tell whether an unknown key would resolve.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        with pytest.raises(NotModelled):
            parse_policy(doc(stmt(Resource="arn:aws:s3:::b/${ec2:SourceInstanceARN}")), "identity")


# ============================================================================ public API

class TestPolicyApi:
    def test_policy_kinds(self):
        """Boundaries and session policies share the identity grammar.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        assert POLICY_KINDS == ("identity", "trust", "bucket", "boundary", "session")
        with pytest.raises(ValueError):
            parse_policy(doc(stmt()), "scp")

    def test_statements_carry_index_sid_and_effect(self):
        """Statements keep their Sid and Effect.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        """
        p = parse_policy(doc(stmt(Sid="First"), stmt(Effect="Deny")), "identity")
        assert [(s.index, s.sid, s.effect) for s in p.statements] == [(0, "First", "Allow"), (1, None, "Deny")]
        assert [s.index for s in matching_statements(p, req())] == [0, 1]

    def test_json_string_and_dict_parse_the_same(self):
        """A policy is a JSON document.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        d = doc(stmt())
        assert parse_policy(json.dumps(d), "identity") == parse_policy(d, "identity")

    def test_principals_lists_named_principals(self):
        """The IAM model checks that named principals exist.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        p = parse_policy(doc(trust_stmt({"AWS": [ROLE_ARN, A], "Service": "ec2.amazonaws.com"}),
                             trust_stmt({"AWS": ROLE_ARN}, Action="sts:TagSession")), "trust")
        assert p.principals() == [("AWS", ROLE_ARN), ("AWS", A), ("Service", "ec2.amazonaws.com")]

    def test_with_principals_replaced_stores_unique_ids(self):
        """Saving a trust policy turns role ARNs into unique IDs; deleting and recreating the role breaks it.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
        """
        p = parse_policy(doc(trust_stmt({"AWS": ROLE_ARN})), "trust")
        stored = p.with_principals_replaced({ROLE_ARN: "AROAREADER0000000001"})
        assert stored.principals() == [("AWS", "AROAREADER0000000001")]
        r = req(action="sts:AssumeRole", resource=ROLE_ARN, principal=SESSION)
        assert matching_statements(stored, r)
        recreated = Principal(arn=SESSION.arn, account=A, unique_id="AROANEWROLE000000001", role_arn=ROLE_ARN)
        assert not matching_statements(stored, req(action="sts:AssumeRole", resource=ROLE_ARN, principal=recreated))
        assert isinstance(stored, Policy) and p.document["Statement"][0]["Principal"]["AWS"] == ROLE_ARN

    def test_without_conditions(self):
        """Explaining a decision: would the statement match without its Condition?
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
        """
        p = parse_policy(doc(stmt(Condition={"Bool": {"aws:SecureTransport": "true"}})), "identity")
        assert not matching_statements(p, req()) and matching_statements(p.without_conditions(), req())

    def test_compiled_policy_matches_variables_sets_and_addresses(self):
        """One compiled policy, reused: variables, multi-value sets and CIDRs all match.
        (Speed is measured by benchmarks/policy_decisions.py, not by a timed test.)
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
        """
        p = parse_policy(doc(
            stmt(Action=["s3:Get*", "s3:List*"], Resource="arn:aws:s3:::bucket/${aws:username}/*"),
            stmt(Effect="Deny", Action="s3:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            stmt(Action="sts:AssumeRole", Resource=ROLE_ARN, Condition={
                "StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        ), "identity")
        r = ctx_req({"aws:username": ["alice"], "aws:SecureTransport": ["true"], "aws:principaltag/team": ["red"],
                     "aws:SourceIp": ["10.1.2.3"]}, resource="arn:aws:s3:::bucket/alice/x")
        for _ in range(3):
            assert [st.index for st in matching_statements(p, r)] == [0]
