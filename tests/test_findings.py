"""Findings: a divergence's cause, told by replaying twins, and the grouping a maintainer reads.

Each test names what a user would see: one finding for a target that authorizes nothing, the
feature a planted bug mishandles, the same finding id on two targets only when the cause is
the same.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rolecall.compare import Divergence, first_difference
from rolecall.findings import (AUTHORIZES_NOTHING, CRASH, TOO_PERMISSIVE, TOO_STRICT, WRONG_ERROR, WRONG_RESULT,
                               direction, explain, finding_id, group, identity_allow_twin,
                               probe_enforcement, symptom_cause, twin_features, twins)
from rolecall.outcome import Outcome
from rolecall.scenario import from_dict
from rolecall.session import make_target

HERE = Path(__file__).resolve().parent
ROLECALL = Path(sys.executable).parent / "rolecall"


def o(outcome, code=None, status=None):
    return Outcome("s", outcome, code=code, http_status=status)


@pytest.mark.fast
@pytest.mark.parametrize("expected, observed, way", [
    (o("error", "AccessDenied", 403), o("ok"), TOO_PERMISSIVE),
    # the target went past authorization to the object's existence
    (o("error", "AccessDenied", 403), o("error", "NoSuchKey", 404), TOO_PERMISSIVE),
    (o("ok"), o("error", "AccessDenied", 403), TOO_STRICT),
    (o("error", "UnmodifiableEntity", 400), o("error", "NoSuchEntity", 404), WRONG_ERROR),
    (o("ok"), o("error", "NoSuchEntity", 404), WRONG_ERROR),
    (o("ok"), o("ok"), WRONG_RESULT),
    (o("error", "AccessDenied", 403), o("error", "rolecall.TargetCrash:TypeError", 500), CRASH),
])
def test_direction_says_which_way_the_target_is_wrong(expected, observed, way):
    assert direction(expected, observed) == way


def _identity_scenario(statement: dict, call: str = "s3:GetObject") -> dict:
    return {"format": "rolecall/scenario@1",
            "accounts": {"A": {"users": {"bob": {"policies": {"p": {"Version": "2012-10-17",
                                                                     "Statement": [statement]}}}},
                               "buckets": {"data": {"objects": {"k": "v"}}}}},
            "steps": [{"id": "get", "as": "A:user/bob", "call": call,
                       "params": {"Bucket": "{{A:bucket/data}}", "Key": "k"}}]}


def _twin(d: dict, feature: str) -> dict:
    return next(t.scenario for t in twins(d) if t.feature == feature)


@pytest.mark.fast
def test_twins_take_away_one_feature_each_in_awss_own_spelling():
    d = _identity_scenario({"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"})
    assert _twin(d, "action-case")["accounts"]["A"]["users"]["bob"]["policies"]["p"]["Statement"][0]["Action"] \
        == "s3:GetObject"
    d = _identity_scenario({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    st = _twin(d, "NotAction")["accounts"]["A"]["users"]["bob"]["policies"]["p"]["Statement"][0]
    assert st["Action"] == ["s3:GetObject"] and "NotAction" not in st  # the calls the scenario makes
    d = _identity_scenario({"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "*"})
    assert "wildcard-?-in-action" in twin_features(d) and "action-case" not in twin_features(d)
    d = _identity_scenario({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                            "Condition": {"StringEquals": {"AWS:UserName": "bob"}}})
    assert {"condition-key-case", "condition:StringEquals"} <= twin_features(d)
    twin = _twin(d, "condition-key-case")
    assert twin["accounts"]["A"]["users"]["bob"]["policies"]["p"]["Statement"][0]["Condition"] == \
        {"StringEquals": {"aws:username": "bob"}}
    # the original is left alone
    assert d["accounts"]["A"]["users"]["bob"]["policies"]["p"]["Statement"][0]["Condition"] == \
        {"StringEquals": {"AWS:UserName": "bob"}}


@pytest.mark.fast
def test_a_session_policy_given_as_text_is_twinned_and_written_back_as_text():
    d = _identity_scenario({"Effect": "Allow", "Action": "*", "Resource": "*"})
    d["steps"][0]["params"]["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "S3:GETOBJECT", "Resource": "*"}]})
    d["steps"][0]["call"] = "sts:AssumeRole"
    twin = _twin(d, "action-case")
    text = twin["steps"][0]["params"]["Policy"]
    # no step calls s3:GetObject here: only the service prefix has one spelling to go by
    assert isinstance(text, str) and json.loads(text)["Statement"][0]["Action"] == "s3:GETOBJECT"


def _trust_scenario(extra_params: dict | None = None, expect: dict | None = None) -> dict:
    """Same account, a trust policy naming bob, no identity policy: AWS lets bob assume the role
    (IAM user guide, policy evaluation logic: a resource-based policy naming the principal suffices
    within one account)."""
    step = {"id": "assume", "as": "A:user/bob", "call": "sts:AssumeRole",
            "params": {"RoleArn": "{{A:role/target}}", "RoleSessionName": "s1", **(extra_params or {})}}
    if expect:
        step["expect"] = expect
    return {"format": "rolecall/scenario@1",
            "accounts": {"A": {"users": {"bob": {}}, "roles": {"target": {"trust": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "{{A:user/bob}}"},
                                                        "Action": "sts:AssumeRole"}]}}}}},
            "steps": [step]}


@pytest.mark.fast
def test_the_identity_allow_twin_allows_exactly_the_call_on_its_resource_for_its_caller():
    t = identity_allow_twin(_trust_scenario(), "assume").scenario
    assert t["accounts"]["A"]["users"]["bob"]["policies"]["rolecall-twin-allow"]["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "{{A:role/target}}"}]
    d = _identity_scenario({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    st = identity_allow_twin(d, "get").scenario["accounts"]["A"]["users"]["bob"]["policies"]["rolecall-twin-allow"]
    assert st["Statement"][0]["Resource"] == "arn:aws:s3:::{{A:bucket/data}}/k"
    # credentials from an earlier AssumeRole: the role's policies
    d = _trust_scenario()
    d["steps"].append({"id": "get", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}})
    twin = identity_allow_twin(d, "get").scenario
    assert "rolecall-twin-allow" in twin["accounts"]["A"]["roles"]["target"]["policies"]
    # a caller the world does not declare (the account's administrator) has no twin
    d["steps"][0]["as"] = "A:admin"
    assert identity_allow_twin(d, "assume") is None


def test_refusals_that_need_no_identity_allow_in_aws_are_one_moto_auth_finding():
    """moto+auth refuses a same-account AssumeRole that only the trust policy allows, and, having
    refused, never reaches the DurationSeconds check AWS answers with: one behaviour, one finding
    (the duration check behind it is a finding of its own, found where moto+auth does get there)."""
    plain = _trust_scenario()
    too_long = _trust_scenario({"DurationSeconds": 899})
    with make_target("moto+auth", {}) as target, make_target("reference", {}) as oracle:
        # at `code`: moto+auth's extra PackedPolicySize is a finding of its own (tests/test_facts.py)
        causes = [explain(_divergence(target, d), target, oracle, strictness="code") for d in (plain, too_long)]
    assert {c.key for c in causes} == {"feature|identity-allow"}, [c.key for c in causes]
    assert causes[0].title.startswith("requires an identity-policy Allow where AWS does not")
    assert causes[0].passes is not None and causes[1].passes is None  # only a twin it agrees on is kept


@pytest.mark.fast
def test_an_authorization_rule_is_one_finding_whatever_the_service():
    boundary = {"outcome": "error", "code": "AccessDenied", "http_status": 403, "reason": "deny-boundary"}
    causes = []
    for call in ("s3:GetObject", "sts:AssumeRole"):
        s = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {"users": {"bob": {}}}},
                       "steps": [{"id": "s", "as": "A:user/bob", "call": call, "params": {}}]})
        div = Divergence(id="RC-x", property="p", target="t", scenario=s, step_id="s", call=call, level="decision",
                         expected=Outcome("s", **boundary), observed=Outcome("s", "ok"), signature="x")
        causes.append(symptom_cause(div))
    assert causes[0].key == causes[1].key and causes[0].title == "does not apply permissions boundaries"


def test_the_enforcement_canary_tells_a_target_that_authorizes_nothing():
    with make_target("reference", {}) as oracle:
        for name, nothing in (("moto", True), ("moto+auth", False), ("reference", False)):
            with make_target(name, {}) as target:
                e = probe_enforcement(target, oracle)
                assert e.authorizes_nothing is nothing, (name, e.to_dict())


def _divergence(target, scenario: dict) -> Divergence:
    s = from_dict(scenario)
    with make_target("reference", {}) as oracle:
        diff = first_difference(s, oracle.run(s), target.run(s), "code")
    assert diff is not None
    return Divergence.of("policy_evaluation", target.name, s, diff)


@pytest.fixture
def builds(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE / "quality"))
    import two_builds

    return two_builds


def test_a_planted_bug_is_named_by_the_feature_whose_twin_the_target_passes(builds):
    """build 1 matches Action names case-sensitively: an Allow of S3:getobject does nothing there."""
    scenario = _identity_scenario({"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"})
    target = builds.build1()
    div = _divergence(target, scenario)
    with make_target("reference", {}) as oracle:
        cause = explain(div, target, oracle)
    assert cause.feature == "action-case" and cause.how == "counterfactual"
    assert cause.title == "matches Action names case-sensitively"
    assert cause.passes is not None  # the twin it passed: the baseline keeps it


def test_two_bugs_behind_one_symptom_are_two_findings(builds):
    """build 2 also ignores NotAction: an Allow via NotAction fails with the same symptom id as the
    case bug's, yet its cause is another finding."""
    case = _identity_scenario({"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"})
    notaction = _identity_scenario({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    target = builds.build2()
    a, b = _divergence(target, case), _divergence(target, notaction)
    assert a.id == b.id, "the same symptom"
    with make_target("reference", {}) as oracle:
        ca, cb = explain(a, target, oracle), explain(b, target, oracle)
    assert (ca.feature, cb.feature) == ("action-case", "NotAction") and ca.id != cb.id


@pytest.mark.fast
def test_findings_group_divergences_by_cause_per_target_and_are_shared_by_cause():
    cause = {"key": "feature|action-case", "title": "matches Action names case-sensitively",
             "direction": TOO_STRICT, "rule": "allow-identity", "source": "https://docs.aws.amazon.com/x"}
    other = dict(cause, key="feature|NotAction", title="mishandles NotAction")

    def rec(target, div_id, c, steps=1):
        return {"target": target, "id": div_id, "cause": c, "property": "p", "call": "s3:GetObject", "step": "s",
                "expected": {}, "observed": {}, "scenario": {"steps": [{}] * steps, "accounts": {}}}
    out = group([rec("moto+auth", "RC-1", cause, 3), rec("moto+auth", "RC-2", cause, 1),
                 rec("moto+auth", "RC-3", other), rec("ministack", "RC-1", cause)])
    by = {(f["target"], f["id"]): f for f in out}
    mine = by[("moto+auth", finding_id("feature|action-case"))]
    assert mine["divergences"] == ["RC-1", "RC-2"] and mine["from"] == "RC-2"  # the smallest scenario
    assert mine["title"] == "moto+auth matches Action names case-sensitively"
    assert mine["shared_with"] == ["ministack"] and mine["evidence"] == "AWS documentation"
    assert by[("moto+auth", finding_id("feature|NotAction"))]["shared_with"] == []


@pytest.mark.slow
def test_moto_default_mode_is_one_authorizes_nothing_finding_not_one_per_symptom(tmp_path):
    p = subprocess.run([str(ROLECALL), "run", "--target", "moto", "--property", "same_account_assume_role",
                        "--max-examples", "10", "--report-dir", str(tmp_path), "--workers", "1"],
                       capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    assert p.returncode == 1, p.stdout + p.stderr
    findings = json.loads((tmp_path / "latest" / "findings.json").read_text())
    divergences = json.loads((tmp_path / "latest" / "divergences.json").read_text())
    nothing = [f for f in findings if f["key"] == AUTHORIZES_NOTHING]
    assert len(nothing) == 1 and len(nothing[0]["divergences"]) > 1
    assert {d["finding"] for d in divergences} == {f["id"] for f in findings}
    # every finding has its upstream draft, repro and smallest scenario
    for f in findings:
        folder = tmp_path / "latest" / f["folder"]
        assert (folder / "issue.md").read_text().startswith(f"# {f['title']}")
        assert (folder / "scenario.json").exists() and (folder / "repro.py").exists()
    # the terminal ends with the findings, one line each, in 80 columns
    tail = p.stdout[p.stdout.index("findings:"):]
    assert "authorizes nothing" in tail and all(len(line) <= 80 for line in tail.splitlines()), tail
    assert "\x1b[" not in p.stdout  # NO_COLOR


@pytest.mark.fast
def test_organization_rules_are_one_finding_whatever_the_service_and_unknown_credentials_one_per_issuer():
    def div(call, expected, observed, steps):
        s = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {"users": {"bob": {}}}}, "steps": steps})
        return Divergence(id="RC-x", property="p", target="t", scenario=s, step_id=steps[-1]["id"], call=call,
                          level="decision", expected=expected, observed=observed, signature="x")
    scp = Outcome("s", "error", code="AccessDenied", http_status=403, reason="deny-explicit-scp")
    causes = {symptom_cause(div(c, scp, Outcome("s", "ok"), [{"id": "s", "as": "A:user/bob", "call": c, "params": {}}]))
              for c in ("s3:ListAllMyBuckets", "sts:GetCallerIdentity")}
    assert len(causes) == 1 and next(iter(causes)).title == "ignores an explicit Deny in a service control policy (SCP)"
    # a federated user's credentials the target itself issued, refused by two services: one finding
    token = {"id": "fed", "as": "A:user/bob", "call": "sts:GetFederationToken", "params": {"Name": "f"}}
    refused = {symptom_cause(div(c, Outcome("s", "ok"), Outcome("s", "error", code=code, http_status=403),
                                 [token, {"id": "use", "as": "fed", "call": c, "params": {}}]))
               for c, code in (("s3:ListAllMyBuckets", "InvalidAccessKeyId"),
                               ("sts:GetCallerIdentity", "InvalidClientTokenId"))}
    assert len(refused) == 1, refused
    assert next(iter(refused)).title == "does not recognise the credentials sts:GetFederationToken returned"
