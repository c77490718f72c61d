"""Focused checks of the reference model's AWS rules that the corpus (scenarios/) does not pin.

Each test builds a small scenario in Python, runs it on the `reference` target and names the
AWS page (or recorded AWS output) behind the rule it checks.
"""
from __future__ import annotations

import json

import pytest

from rolecall import aws
from rolecall.scenario import from_dict
from rolecall.targets.reference import reference
from rolecall.targets.reference.model import AwsError, Model

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

V = "2012-10-17"


def _doc(*statements):
    return {"Version": V, "Statement": list(statements)}


def _allow(action, resource="*", **extra):
    return _doc({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def _trust(*principals, action="sts:AssumeRole"):
    return _doc({"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": action})


def _assume(step_id, who, role, session=None, **params):
    return {"id": step_id, "as": who, "call": "sts:AssumeRole",
            "params": {"RoleArn": role, "RoleSessionName": session or step_id, **params}}


def _get(step_id, who, bucket="{{A:bucket/data}}", key="a.txt"):
    return {"id": step_id, "as": who, "call": "s3:GetObject", "params": {"Bucket": bucket, "Key": key}}


def run(accounts: dict, steps: list[dict]) -> dict[str, dict]:
    """Outcomes by step id (normalised, as a user sees them in `rolecall replay --json`)."""
    scenario = from_dict({"format": "rolecall/scenario@1", "accounts": accounts, "steps": steps})
    result = reference().run(scenario)
    assert result.setup_error is None, result.setup_error
    return {o.id: o.to_dict() for o in result.outcomes}


def code(outcome: dict) -> str:
    return outcome["code"] if outcome["outcome"] == "error" else outcome["outcome"]


# ----------------------------------------------------------------------------- evaluation

def test_star_principal_in_same_account_bucket_policy_is_not_limited_by_boundary():
    """A bucket policy whose Principal is "*" grants to the caller itself, like naming the
    session ARN: the caller's boundary does not limit it (docs/decisions.md: "*" principals).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    bucket_policy = _doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::{{A:bucket/data}}/*",
                          "Condition": {"StringEquals": {"aws:PrincipalAccount": "{{A}}"}}})
    out = run({"A": {"managed_policies": {"iam-only": _allow("iam:*")},
                     "users": {"alice": {"boundary": "iam-only"}},
                     "buckets": {"data": {"objects": {"a.txt": "x"}, "policy": bucket_policy}}}},
              [_get("read", "A:user/alice")])
    assert code(out["read"]) == "ok"


def test_cross_account_bucket_policy_naming_the_session_still_needs_identity_policy():
    """Across accounts the resource policy never suffices alone, even naming the session ARN.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"""
    bucket_policy = _doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::{{B}}:assumed-role/app/s1"},
                          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{{A:bucket/data}}/*"})
    out = run({"A": {"buckets": {"data": {"objects": {"a.txt": "x"}, "policy": bucket_policy}}},
               "B": {"users": {"bob": {}}, "roles": {"app": {"trust": _trust("{{B:user/bob}}")}}}},
              [_assume("s1", "B:user/bob", "{{B:role/app}}"), _get("read", "s1")])
    assert code(out["s1"]) == "ok"
    assert code(out["read"]) == "AccessDenied"


def test_trust_naming_a_pathed_role_admits_its_sessions():
    """A role ARN in a trust policy (with the role's path) matches that role's sessions, whose
    own ARNs carry no path. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"""
    out = run({"A": {"users": {"alice": {}},
                     "roles": {"first": {"trust": _trust("{{A:user/alice}}"), "path": "/ops/"},
                               "second": {"trust": _trust("{{A:role/first}}")}}}},
              [_assume("first", "A:user/alice", "{{A:role/first}}"), _assume("second", "first", "{{A:role/second}}")])
    assert code(out["second"]) == "ok"


def test_chained_source_identity_needs_identity_permission_too():
    """With role chaining, sts:SetSourceIdentity must be allowed by the trust policy *and* the
    permissions policy of the session making the call.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms"""
    both = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    accounts = {"A": {"users": {"alice": {}},
                      "roles": {"first": {"trust": _trust("{{A:user/alice}}", action=both)},
                                "granted": {"trust": _trust("{{A:user/alice}}", action=both),
                                            "policies": {"p": _allow("sts:SetSourceIdentity")}},
                                "second": {"trust": _trust("{{A:role/first}}", "{{A:role/granted}}", action=both)}}}}
    out = run(accounts, [_assume("first", "A:user/alice", "{{A:role/first}}", SourceIdentity="alice"),
                         _assume("hop", "first", "{{A:role/second}}"),
                         _assume("granted", "A:user/alice", "{{A:role/granted}}", SourceIdentity="alice"),
                         _assume("granted-hop", "granted", "{{A:role/second}}")])
    assert code(out["hop"]) == "AccessDenied"
    assert code(out["granted-hop"]) == "ok"


# ----------------------------------------------------------------------------- STS messages

def test_assume_role_access_denied_message_names_caller_and_role():
    """Classic AccessDenied text for AssumeRole; for a chained caller it names the session ARN.
    Raw AWS output in https://github.com/Netflix/security_monkey/issues/77 (the notebook's §1.10)."""
    out = run({"A": {"users": {"alice": {}},
                     "roles": {"first": {"trust": _trust("{{A:user/alice}}")},
                               "locked": {"trust": _trust("{{A:user/alice}}"), "path": "/x/"}}}},
              [_assume("first", "A:user/alice", "{{A:role/first}}", "one"),
               _assume("hop", "first", "{{A:role/locked}}")])
    assert out["hop"]["http_status"] == 403
    assert out["hop"]["message"].startswith(
        "User: arn:aws:sts::{{A}}:assumed-role/first/one is not authorized to perform: sts:AssumeRole "
        "on resource: arn:aws:iam::{{A}}:role/x/locked")


def test_missing_role_is_access_denied_not_no_such_entity():
    """AssumeRole on a role that does not exist answers like a trust denial (no existence leak);
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html lists no NoSuchEntity."""
    out = run({"A": {"users": {"alice": {"policies": {"p": _allow("sts:AssumeRole")}}}}},
              [_assume("ghost", "A:user/alice", "arn:aws:iam::{{A}}:role/ghost")])
    assert code(out["ghost"]) == "AccessDenied"


def test_root_cannot_assume_role_message():
    """'Roles may not be assumed by root accounts.' (recorded AWS output,
    https://github.com/Netflix/security_monkey/issues/1026;
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-api.html)."""
    out = run({"A": {"roles": {"r": {"trust": _trust("arn:aws:iam::{{A}}:root")}}}},
              [_assume("root", "A:root", "{{A:role/r}}")])
    assert out["root"]["message"] == "Roles may not be assumed by root accounts."


@pytest.mark.parametrize("service, expected", [
    ("sts", ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")),
    ("iam", ("InvalidClientTokenId", 403, "The security token included in the request is invalid")),
    ("s3", ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")),
])
def test_unknown_access_key_per_service(service, expected):
    """Unknown credentials: each service's own code and text (raw XML in
    https://github.com/aws/aws-cli/issues/8918 for IAM, https://github.com/aws/aws-sdk-php/issues/1622 for STS;
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html for S3)."""
    with pytest.raises(AwsError) as exc:
        Model().caller("AKIANOTAKEY000000000", service)
    assert (exc.value.code, exc.value.http_status, exc.value.message) == expected


# ----------------------------------------------------------------------------- GetSessionToken

def test_session_token_credentials_are_not_limited_by_role_chaining():
    """GetSessionToken credentials calling AssumeRole are an IAM user, not a role session: the
    chaining one-hour limit does not apply.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison"""
    out = run({"A": {"users": {"alice": {}},
                     "roles": {"r": {"trust": _trust("{{A:user/alice}}"), "max_session_duration": 43200}}}},
              [{"id": "token", "as": "A:user/alice", "call": "sts:GetSessionToken", "params": {}},
               _assume("long", "token", "{{A:role/r}}", DurationSeconds=43200)])
    assert out["long"]["result"]["Credentials"]["Expiration"] == "<now+43200s>"


def test_session_token_needs_no_permission_even_under_deny():
    """GetSessionToken only authenticates; policies cannot control it.
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html"""
    out = run({"A": {"users": {"alice": {"policies": {"none": _doc({"Effect": "Deny", "Action": "*", "Resource": "*"})}}}}},
              [{"id": "token", "as": "A:user/alice", "call": "sts:GetSessionToken", "params": {}}])
    assert code(out["token"]) == "ok"


def test_session_token_with_mfa_is_not_modelled():
    """MFA devices are not part of the model: the step is reported unsupported, never guessed."""
    out = run({"A": {"users": {"alice": {}}}},
              [{"id": "token", "as": "A:user/alice", "call": "sts:GetSessionToken",
                "params": {"SerialNumber": "arn:aws:iam::{{A}}:mfa/alice", "TokenCode": "123456"}}])
    assert out["token"]["outcome"] == "unsupported"


# ----------------------------------------------------------------------------- service-linked roles

SLR_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html"
EB = "elasticbeanstalk.amazonaws.com"
EB_ROLE = "AWSServiceRoleForElasticBeanstalk"


@pytest.mark.parametrize("call, params", [
    ("iam:DeleteRolePolicy", {"RoleName": EB_ROLE, "PolicyName": "any"}),
    ("iam:DetachRolePolicy", {"RoleName": EB_ROLE, "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ("iam:DeleteRolePermissionsBoundary", {"RoleName": EB_ROLE}),
    ("iam:UpdateRole", {"RoleName": EB_ROLE, "MaxSessionDuration": 7200}),
])
def test_service_linked_role_is_protected(call, params):
    """Only AWS modifies a service-linked role: UnmodifiableEntity with AWS's text
    (https://github.com/rebuy-de/aws-nuke/issues/331; SLR_DOCS)."""
    out = run({"A": {"service_linked_roles": [EB]}}, [{"id": "change", "as": "A:admin", "call": call, "params": params}])
    assert out["change"]["code"] == "UnmodifiableEntity"
    assert out["change"]["message"] == (f"Cannot perform the operation on the protected role '{EB_ROLE}' - "
                                        "this role is only modifiable by AWS")


def test_service_linked_role_deletion_task():
    """DeleteServiceLinkedRole returns a task id task/aws-service-role/<service>/<name>/<id>;
    GetServiceLinkedRoleDeletionStatus reports it; the role is then gone (SLR_DOCS, and
    LocalStack's AWS-recorded snapshot test_service_role_deletion)."""
    out = run({"A": {"service_linked_roles": [EB]}},
              [{"id": "delete", "as": "A:admin", "call": "iam:DeleteServiceLinkedRole", "params": {"RoleName": EB_ROLE}},
               {"id": "get", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": EB_ROLE}}])
    task = out["delete"]["result"]["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/{EB}/{EB_ROLE}/")
    status = run({"A": {"service_linked_roles": [EB]}},
                 [{"id": "delete", "as": "A:admin", "call": "iam:DeleteServiceLinkedRole", "params": {"RoleName": EB_ROLE}},
                  {"id": "status", "as": "A:admin", "call": "iam:GetServiceLinkedRoleDeletionStatus",
                   "params": {"DeletionTaskId": task}}])
    assert status["status"]["result"]["Status"] in ("SUCCEEDED", "IN_PROGRESS", "NOT_STARTED")
    assert code(out["get"]) == "NoSuchEntity"


def test_every_service_linked_role_in_the_table_is_created_with_its_recorded_name():
    """The table in rolecall/aws.py (LocalStack's AWS-validated recording) and the model agree:
    each service gets its recorded name and path; exactly the recorded services take a suffix."""
    services = sorted(aws.SERVICE_LINKED_ROLES)
    steps = [{"id": f"s{i}", "as": "A:admin", "call": "iam:CreateServiceLinkedRole", "params": {"AWSServiceName": svc}}
             for i, svc in enumerate(services)]
    out = run({"A": {}}, steps)
    for i, svc in enumerate(services):
        role = out[f"s{i}"]["result"]["Role"]
        assert role["RoleName"] == aws.SERVICE_LINKED_ROLES[svc][0]
        assert role["Path"] == f"/aws-service-role/{svc}/"
        # plain strings, not one-element lists (recorded: TestIAMServiceRoles::test_service_role_lifecycle)
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": svc}}]
    assert {s for s, (_, suffix) in aws.SERVICE_LINKED_ROLES.items() if suffix} == {
        "autoscaling.amazonaws.com", "connect.amazonaws.com", "lexv2.amazonaws.com"}


def test_unknown_service_is_not_guessed():
    """A service the table does not know gets `unsupported`, not an invented role name."""
    out = run({"A": {}}, [{"id": "create", "as": "A:admin", "call": "iam:CreateServiceLinkedRole",
                           "params": {"AWSServiceName": "example.amazonaws.com"}}])
    assert out["create"]["outcome"] == "unsupported"


# ----------------------------------------------------------------------------- IAM

def test_delete_role_reports_managed_policies_before_inline_and_profiles():
    """With several attachments, DeleteRole names the managed policies first (docs/decisions.md;
    messages from https://github.com/aws-cloudformation/rain/issues/462 and
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html)."""
    out = run({"A": {"managed_policies": {"m": _allow("s3:GetObject")},
                     "roles": {"web": {"trust": _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}),
                                       "managed": ["m"], "policies": {"i": _allow("s3:ListBucket")}}},
                     "instance_profiles": {"host": {"role": "web"}}}},
              [{"id": "delete", "as": "A:admin", "call": "iam:DeleteRole", "params": {"RoleName": "web"}}])
    assert out["delete"]["code"] == "DeleteConflict"
    assert out["delete"]["http_status"] == 409
    assert out["delete"]["message"] == "Cannot delete entity, must detach all policies first."


def test_trust_policy_is_returned_as_written_with_arns():
    """GetRole returns the trust policy naming the user's ARN (IAM stores the unique id, but shows
    the ARN while the user exists; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)."""
    out = run({"A": {"users": {"alice": {}}, "roles": {"r": {"trust": _trust("{{A:user/alice}}")}}}},
              [{"id": "get", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "r"}}])
    statement = out["get"]["result"]["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert json.dumps(statement["Principal"]) == json.dumps({"AWS": ["arn:aws:iam::{{A}}:user/alice"]})



def test_get_access_key_info_names_the_keys_account_and_needs_permission():
    """GetAccessKeyInfo answers the account of an access key (also another account's) and is
    authorized like any call: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html"""
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetAccessKeyInfo", "Resource": "*"}]}
    out = run({"A": {"users": {"alice": {"policies": {"p": allow}}, "bob": {}}}, "B": {"users": {"carol": {}}}},
              [{"id": "key", "as": "B:admin", "call": "iam:CreateAccessKey", "params": {"UserName": "carol"}},
               {"id": "info", "as": "A:user/alice", "call": "sts:GetAccessKeyInfo",
                "params": {"AccessKeyId": {"$from": "key.AccessKey.AccessKeyId"}}},
               {"id": "denied", "as": "A:user/bob", "call": "sts:GetAccessKeyInfo",
                "params": {"AccessKeyId": {"$from": "key.AccessKey.AccessKeyId"}}}])
    assert out["info"]["result"] == {"Account": "{{B}}"}
    assert code(out["denied"]) == "AccessDenied"


# ----------------------------------------------------------------------------- the model's layout

def test_every_iam_action_of_the_entity_modules_is_dispatched_and_a_second_definition_is_refused(monkeypatch):
    """`iam.py` collects the `@operation` functions of the entity modules (no list to keep): the
    model's dispatch (`iam.<Action>`) finds each of them, and an action written in two modules
    fails, naming both."""
    import types

    from rolecall.targets.reference import iam
    from rolecall.targets.reference.model import operation

    defined = {name for module in iam.MODULES for name, fn in vars(module).items()
               if getattr(fn, "is_operation", False)}
    assert defined and defined == set(iam.OPERATIONS)
    assert all(getattr(iam, name) is iam.OPERATIONS[name] for name in defined)
    twin = types.ModuleType("rolecall.targets.reference.iam_twin")
    twin.CreateRole = operation(lambda model, caller, p: ({}, None))
    twin.CreateRole.__module__ = twin.__name__
    monkeypatch.setattr(iam, "MODULES", (*iam.MODULES, twin))
    with pytest.raises(ImportError, match="iam:CreateRole is defined in both rolecall.targets.reference.iam_roles "
                                          "and rolecall.targets.reference.iam_twin"):
        iam._operations()
