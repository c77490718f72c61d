"""Organizations in scenarios: the file format (docs/scenario-format.md), the reference
model's SCP and RCP rules the corpus (scenarios/organizations/) does not pin, and the
organization's creation through a target's Organizations API."""
from __future__ import annotations

import json

import pytest

from rolecall.scenario import ScenarioError, from_dict
from rolecall.targets.reference import organizations as orgs
from rolecall.targets.reference import reference
from rolecall.targets.reference.model import AwsError, Model

V = "2012-10-17"
DENY_ALL = {"Version": V, "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
TRUST_ACCOUNT = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{{B}}:root"},
                                              "Action": "sts:AssumeRole"}]}


def _scenario(organization, accounts=None, steps=()):
    return from_dict({"format": "rolecall/scenario@1", "organization": organization,
                      "accounts": accounts or {"A": {}, "B": {}}, "steps": list(steps)}, origin="org.json")


@pytest.mark.fast
@pytest.mark.parametrize("org, path", [
    ({"management": "Z"}, "$.organization.management"),
    ({"management": "A", "accounts": {"B": "prod"}}, "$.organization.accounts.B"),
    ({"management": "A", "ous": {"Prod": {}}}, "$.organization.ous.Prod"),
    ({"management": "A", "ous": {"a": {"parent": "b"}, "b": {"parent": "a"}}}, "$.organization.ous.a.parent"),
    ({"management": "A", "scps": {"p": {"document": DENY_ALL, "targets": ["nowhere"]}}},
     "$.organization.scps.p.targets[0]"),
    ({"management": "A", "accounts": {"B": "root"}, "detach_full_access": ["B"]},
     "$.organization.detach_full_access[0]"),
    ({"management": "A", "policies": {}}, "$.organization.policies"),
])
def test_a_bad_organization_is_refused_in_one_line_naming_the_place(org, path):
    with pytest.raises(ScenarioError) as exc:
        _scenario(org)
    assert exc.value.path == path and "\n" not in str(exc.value)
    assert str(exc.value).startswith(f"org.json: {path}: ")


@pytest.mark.fast
def test_a_file_without_an_organization_means_no_organization_and_saves_as_it_loaded():
    plain = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {}}, "steps": []})
    assert plain.organization is None
    org = {"management": "A", "accounts": {"B": "root"}, "scps": {"p": {"document": DENY_ALL, "targets": ["B"]}}}
    again = from_dict(json.loads(_scenario(org).dumps()))
    assert again.organization == org


def _run(scenario):
    target = reference()
    run = target.run(scenario)
    assert run.setup_error is None, run.setup_error.to_dict()
    return target, run


@pytest.mark.fast
def test_scps_do_not_apply_to_service_linked_roles():
    """"SCPs do not affect any service-linked role": the SLR's session gets no SCP levels, an
    ordinary role's session of the same account gets every level.
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"""
    web_trust = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                              "Action": "sts:AssumeRole"}]}
    slr = "arn:aws:iam::{{B}}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk"
    scenario = _scenario(
        {"management": "A", "ous": {"prod": {}}, "accounts": {"B": "prod"},
         "scps": {"p": {"document": DENY_ALL, "targets": ["prod"]}}},
        {"A": {}, "B": {"service_linked_roles": ["elasticbeanstalk.amazonaws.com"], "roles": {"web": {"trust": web_trust}}}},
        [{"id": "slr", "as": "service:elasticbeanstalk.amazonaws.com", "call": "sts:AssumeRole",
          "params": {"RoleArn": slr, "RoleSessionName": "eb"}},
         {"id": "web", "as": "service:ec2.amazonaws.com", "call": "sts:AssumeRole",
          "params": {"RoleArn": "{{B:role/web}}", "RoleSessionName": "i-1"}}])
    target, run = _run(scenario)
    assert [o.outcome for o in run.outcomes] == ["ok", "ok"]
    sessions = {c.session.role_name: c for _, c in target.model.keys.values() if c.kind == "session"}
    assert orgs.scp_levels(target.model, sessions["AWSServiceRoleForElasticBeanstalk"]) == []
    assert len(orgs.scp_levels(target.model, sessions["web"])) == 3  # root, prod, the account


def _org_model() -> tuple[Model, object]:
    target = reference()
    target.run(_scenario({"management": "A", "ous": {"prod": {}}, "accounts": {"B": "prod"}},
                         {"A": {}, "B": {"roles": {"app": {"trust": TRUST_ACCOUNT}}}}))
    admin = target.model.keys[target.admin("111111111111").access_key_id][1]
    return target.model, admin


@pytest.mark.fast
def test_an_rcp_must_deny_with_principal_star():
    """RCPs: "Principal" must be "*", and only RCPFullAWSAccess may Allow.
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html"""
    model, admin = _org_model()
    allow = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    named = {"Version": V, "Statement": [{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                          "Action": "s3:*", "Resource": "*"}]}
    for doc in (allow, named):
        with pytest.raises(AwsError) as exc:
            orgs.CreatePolicy(model, admin, {"Content": json.dumps(doc), "Name": "x", "Type": orgs.RCP})
        assert exc.value.code == "MalformedPolicyDocumentException"


@pytest.mark.fast
def test_rcp_full_aws_access_cannot_be_detached_and_every_level_keeps_an_scp():
    """https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_attach.html"""
    model, admin = _org_model()
    for policy_id in (orgs.RCP_FULL_AWS_ACCESS, orgs.FULL_AWS_ACCESS):
        with pytest.raises(AwsError) as exc:
            orgs.DetachPolicy(model, admin, {"PolicyId": policy_id, "TargetId": "222222222222"})
        assert exc.value.code == "ConstraintViolationException"


@pytest.mark.fast
def test_the_request_context_has_the_organization_keys_of_members_only():
    """aws:PrincipalOrgID and aws:PrincipalOrgPaths ("o-.../r-.../ou-.../") are present for
    principals of accounts in the organization, absent for others.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths"""
    model, admin = _org_model()
    org = model.organization
    member = type(admin)("admin", "222222222222")
    outsider = type(admin)("admin", "333333333333")
    ctx = orgs.context_keys(model, member, "arn:aws:s3:::b/k", "333333333333")
    ou = next(iter(org.ous))
    assert ctx["aws:principalorgid"] == [org.id]
    assert ctx["aws:principalorgpaths"] == [f"{org.id}/{org.root_id}/{ou}/"]
    assert ctx["aws:resourceaccount"] == ["333333333333"] and "aws:resourceorgid" not in ctx
    assert "aws:principalorgid" not in orgs.context_keys(model, outsider, "*", None)


SCP_FILE = "scenarios/organizations/scp-explicit-deny.json"


def test_moto_creates_the_organization_through_its_api_with_accounts_it_creates():
    """moto has no handshakes: its members join with CreateAccount, under ids moto gives."""
    from pathlib import Path

    from rolecall.scenario import load
    from rolecall.targets import load_target

    scenario = load(Path(__file__).resolve().parent.parent / SCP_FILE)
    with load_target("moto") as target:
        run = target.run(scenario)
        assert run.setup_error is None, run.setup_error.to_dict()
        assert [o.id for o in run.outcomes] == ["assume", "who"]
        target.organization_members = "invite"  # what moto cannot do: a setup error, not a step's divergence
        refused = target.run(scenario)
    assert refused.outcomes == () and refused.setup_error.id == "setup:organization:join"


def test_the_repro_of_an_organization_divergence_builds_the_organization(tmp_path):
    """A standalone boto3 repro would leave the organization out (it is built from results of
    earlier calls): the repro replays through rolecall's adapter, and reproduces on moto."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from rolecall.conformance import CATALOGUE
    from rolecall.engine import compare_once
    from rolecall.reports import repro
    from rolecall.scenario import load
    from rolecall.targets import load_target

    prop = next(p for p in CATALOGUE if p.name == "organization_policies_cap_access")
    scenario = load(Path(__file__).resolve().parent.parent / SCP_FILE)
    with load_target("moto") as target:
        _, _, div = compare_once(prop, scenario, target, reference(), "code")
    assert div is not None and div.step_id == "assume" and repro.kind(div) == "rolecall"
    (tmp_path / "repro.py").write_text(repro.script(div))
    p = subprocess.run([sys.executable, str(tmp_path / "repro.py")], capture_output=True, text=True, cwd=tmp_path,
                       env=dict(os.environ), timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr


@pytest.mark.fast
def test_org_reference_needs_an_organization_and_outcomes_name_the_id_back():
    """{{org}} is the organization's id, which the target's CreateOrganization gives: refused
    without an organization; the id maps back to {{org}} in outcomes."""
    with pytest.raises(ScenarioError, match=r"\{\{org\}\} names the organization's id"):
        from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {}},
                   "steps": [{"id": "s", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "{{org}}"}}]})
    scenario = _scenario({"management": "A", "accounts": {"B": "root"}}, {"A": {}, "B": {}},
                         [{"id": "s", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "{{org}}"}}])
    _, run = _run(scenario)
    assert run.outcomes[0].code == "NoSuchEntity" and "{{org}}" in run.outcomes[0].message
