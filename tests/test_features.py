"""`rolecall.features`: which policy-language and API features a scenario exercises. Each
test names the feature a user reading the coverage table would look for."""
import json
from pathlib import Path

import pytest

from rolecall.features import FEATURES, features
from rolecall.scenario import FORMAT, from_dict, load

V = "2012-10-17"
ROOT = Path(__file__).resolve().parent.parent


def scenario(accounts: dict, steps: list[dict]):
    return from_dict({"format": FORMAT, "accounts": accounts, "steps": steps}, origin="<test>")


def user_policy(condition: dict | None = None, **statement) -> dict:
    st = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **statement}
    if condition:
        st["Condition"] = condition
    return {"Version": V, "Statement": [st]}


def user_calls_s3(policy: dict, tags: dict | None = None):
    bob = {"policies": {"p": policy}, **({"tags": tags} if tags else {})}
    return scenario({"A": {"users": {"bob": bob}, "buckets": {"data": {"objects": {"k": "v"}}}}},
                    [{"id": "get", "as": "A:user/bob", "call": "s3:GetObject",
                      "params": {"Bucket": "{{A:bucket/data}}", "Key": "k"}}])


def trust(principal, action="sts:AssumeRole") -> dict:
    return {"Version": V, "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]}


def assume(caller: str, role: str = "r", step: str = "assume", **params) -> dict:
    return {"id": step, "as": caller, "call": "sts:AssumeRole",
            "params": {"RoleArn": f"{{{{A:role/{role}}}}}", "RoleSessionName": "s1", **params}}


def test_an_operator_on_a_key_the_request_lacks_or_carries():
    negated = {"StringNotEquals": {"aws:PrincipalTag/team": "red"}}
    assert "condition:StringNotEquals:missing" in features(user_calls_s3(user_policy(negated)))
    assert "condition:StringNotEquals:present" in features(user_calls_s3(user_policy(negated), {"team": "blue"}))
    assert "condition:Bool:present" in features(user_calls_s3(user_policy({"Bool": {"aws:SecureTransport": "true"}})))


def test_qualifiers_and_their_keys():
    f = features(user_calls_s3(user_policy({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]},
                                            "NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "5"}})))
    assert {"qualifier:ForAllValues:missing", "condition:StringEquals:missing", "qualifier:IfExists:missing",
            "condition:NumericLessThan:missing"} <= f


def test_condition_key_names_in_another_case():
    """AWS matches condition-key names without regard to case
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html)."""
    assert "condition-key-case:variant" in features(user_calls_s3(user_policy({"StringEquals": {"AWS:USERNAME": "bob"}})))
    f = features(user_calls_s3(user_policy({"StringEquals": {"aws:username": "bob"}})))
    assert "condition-key-case:as-documented" in f and "condition-key-case:variant" not in f


def test_action_case_and_wildcards():
    f = features(user_calls_s3(user_policy(Action=["S3:getobject", "s3:Get*", "s3:GetObjec?", "s3:*"])))
    assert {"action-case:variant", "action-wildcard:partial", "action-wildcard:question",
            "action-wildcard:service"} <= f
    assert "action-case:variant" not in features(user_calls_s3(user_policy(Action="s3:GetObject")))


def test_resource_wildcards_and_variables():
    f = features(user_calls_s3(user_policy(Resource=["arn:aws:s3:::b/k?", "arn:aws:iam::*:role/x",
                                                     "arn:aws:s3:::b/home/${aws:username}/*"])))
    assert {"resource-wildcard:question", "resource-wildcard:account", "resource-wildcard:partial",
            "variable:resource"} <= f


@pytest.mark.parametrize("named, direction", [("bobby", "longer"), ("bo", "shorter"), ("xbob", "prefixed"),
                                              ("ob", "suffix")])
def test_a_trust_naming_a_near_miss_of_the_caller(named, direction):
    s = scenario({"A": {"users": {"bob": {}, named: {}}, "roles": {"r": {"trust": trust({"AWS": f"{{{{A:user/{named}}}}}"})}}}},
                 [assume("A:user/bob")])
    f = features(s)
    assert f"principal-near-miss:{direction}" in f and "principal:user" in f


def test_durations_expiry_and_chains():
    accounts = {"A": {"users": {"bob": {}}, "roles": {"r": {"trust": trust({"AWS": "{{A:user/bob}}"})},
                                                      "r2": {"trust": trust({"AWS": "{{A:role/r}}"})}}}}
    late = {"id": "who", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}, "at": 3600}
    f = features(scenario(accounts, [assume("A:user/bob"), late]))
    assert {"duration:default", "expiry:used-after-expiry", "expiry:default-duration-used-after-hour", "chain:1",
            "caller:user", "caller:session"} <= f
    f = features(scenario(accounts, [assume("A:user/bob", DurationSeconds=7200),
                                     assume("assume", "r2", "chain"), {**late, "as": "chain", "at": 3599}]))
    assert {"duration:over-hour", "chain:2", "expiry:used-before-expiry"} <= f
    assert "expiry:used-after-expiry" not in f


def test_a_role_name_in_another_case():
    s = scenario({"A": {"roles": {"r1": {"trust": trust({"AWS": "{{A}}"})}}}},
                 [{"id": "get", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "R1"}}])
    assert {"name-case:variant", "principal:account-id", "caller:admin"} <= features(s)


def test_the_catalogue_names_are_unique_and_in_their_families():
    assert len(set(FEATURES)) == len(FEATURES)
    assert all(f.count(":") >= 1 and " " not in f for f in FEATURES)


def test_every_committed_scenario_has_features_and_none_outside_the_families():
    """Total on the corpus: every file under scenarios/ gives features without an error."""
    families = {f.split(":")[0] for f in FEATURES}
    files = sorted(p for p in (ROOT / "scenarios").rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
    assert files
    for path in files:
        f = features(load(path))
        assert f, path
        assert {x.split(":")[0] for x in f} <= families, (path, f)


def test_an_invalid_policy_document_is_skipped():
    s = user_calls_s3(user_policy())
    broken = json.loads(json.dumps(s.accounts))
    broken["A"]["users"]["bob"]["policies"]["p"] = "{not json"
    assert "caller:user" in features(scenario(broken, [st.to_dict() for st in s.steps]))
