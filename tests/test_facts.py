"""Returned facts are compared by default (strictness `facts`): ARNs, account ids, unique-id
prefixes, expirations relative to the request time, PackedPolicySize; what AWS randomises never
counts, and a fact the oracle is unsure of is not compared.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html"""
import pytest

from rolecall.compare import DEFAULT_STRICTNESS, LEVELS, Divergence, first_difference, level_of
from rolecall.outcome import ERROR, OK, Normaliser, Outcome, Run, matches_expectation
from rolecall.scenario import from_dict

pytestmark = pytest.mark.fast

ARN = "arn:aws:sts::111111111111:assumed-role/reader/sess"


def _ok(result, **kw):
    return Outcome("s1", OK, result=result, **kw)


def _scenario(*calls):
    return from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {}},
                      "steps": [{"id": f"s{i + 1}", "as": "A:admin", "call": c} for i, c in enumerate(calls)]})


def test_the_default_strictness_compares_returned_facts():
    assert DEFAULT_STRICTNESS == "facts"
    assert LEVELS == ("decision", "code", "facts", "result", "message")  # the old names still work


def test_a_wrong_session_arn_from_get_caller_identity_is_a_facts_difference():
    aws = _ok({"UserId": "<role-id:A:role/reader>:sess", "Account": "{{A}}", "Arn": ARN})
    emulator = _ok({**aws.result, "Arn": "arn:aws:iam::111111111111:role/reader"})
    assert level_of(aws, emulator, "sts:GetCallerIdentity") == "facts"
    scenario = _scenario("sts:GetCallerIdentity")
    diff = first_difference(scenario, Run("reference", (aws,)), Run("t", (emulator,)))
    assert diff.level == "facts"
    assert first_difference(scenario, Run("reference", (aws,)), Run("t", (emulator,)), "code") is None
    div = Divergence.of("p", "t", scenario, diff)
    assert div.signature == "sts:GetCallerIdentity|facts|-|~.Arn"
    expect = div.scenario.steps[0].expect
    assert matches_expectation(expect["result"], aws.result)
    assert not matches_expectation(expect["result"], emulator.result)


def test_a_field_that_is_no_fact_differs_only_at_result():
    aws = _ok({"Role": {"Arn": "arn:aws:iam::{{A}}:role/r", "RoleName": "r", "Description": "x"}})
    emulator = _ok({"Role": {"Arn": "arn:aws:iam::{{A}}:role/r", "RoleName": "r", "Description": "y"}})
    assert level_of(aws, emulator, "iam:CreateRole") == "result"


def test_packed_policy_size_is_compared_only_where_the_oracle_is_sure():
    aws = _ok({"AssumedRoleUser": {"Arn": ARN}})  # no session policy: AWS answers no PackedPolicySize
    emulator = _ok({"AssumedRoleUser": {"Arn": ARN}, "PackedPolicySize": 6})
    assert level_of(aws, emulator, "sts:AssumeRole") == "facts"
    unsure = _ok(aws.result, unsure=("PackedPolicySize",))  # a session policy: its packed size is not modelled
    assert level_of(unsure, emulator, "sts:AssumeRole") == "result"


def test_the_reference_model_says_it_is_unsure_of_packed_policy_size_with_a_session_policy():
    from rolecall.targets.reference import _unsure

    assert _unsure("sts:AssumeRole", {"RoleArn": "x", "Policy": "{}"}) == ("PackedPolicySize",)
    assert _unsure("sts:AssumeRole", {"RoleArn": "x"}) == ()


def test_expiration_is_compared_relative_to_the_request_time():
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    norm = Normaliser({})
    one_hour = norm.value({"Credentials": {"Expiration": now + dt.timedelta(hours=1)}}, now=now)
    twelve = norm.value({"Credentials": {"Expiration": now + dt.timedelta(hours=12)}}, now=now)
    assert level_of(_ok(one_hour), _ok(twelve), "sts:AssumeRole") == "facts"
    later = norm.value({"Credentials": {"Expiration": now + dt.timedelta(hours=1, seconds=1)}}, now=now)
    assert level_of(_ok(one_hour), _ok(later), "sts:AssumeRole") is None


def test_a_unique_id_without_its_kinds_prefix_shows_as_a_different_fact():
    # moto 5 answers a lowercase random UserId; AWS's user ids start with AIDA
    def describe(_entity):
        return "A:user/alice"

    def user_id(raw):
        norm = Normaliser({})
        norm.learn_ids({"User": {"UserId": raw, "Arn": "x"}}, describe)
        return norm.value({"User": {"UserId": raw}})

    aws = user_id("AIDAEXAMPLEEXAMPLE1234")
    assert aws == {"User": {"UserId": "<user-id:A:user/alice>"}}
    assert user_id("AIDAOTHEROTHEROTHER99") == aws  # the random part never counts
    assert level_of(_ok(aws), _ok(user_id("j5mwxxej4vwnzscovoh8")), "iam:CreateUser") == "facts"


def test_a_later_decision_difference_wins_over_an_earlier_facts_difference():
    scenario = _scenario("sts:GetCallerIdentity", "iam:GetRole")
    aws = Run("reference", (_ok({"Arn": ARN}), Outcome("s2", ERROR, code="AccessDenied")))
    emulator = Run("t", (_ok({"Arn": "arn:aws:iam::1:role/reader"}), Outcome("s2", OK, result={})))
    diff = first_difference(scenario, aws, emulator)
    assert (diff.step_id, diff.level) == ("s2", "decision")


def test_a_wrong_fact_is_a_finding_titled_by_the_fact_and_citing_the_calls_page():
    from rolecall.findings import symptom_cause

    scenario = _scenario("sts:AssumeRole")
    aws = _ok({"AssumedRoleUser": {"Arn": ARN}})
    emulator = _ok({"AssumedRoleUser": {"Arn": ARN}, "PackedPolicySize": 6})
    diff = first_difference(scenario, Run("reference", (aws,)), Run("t", (emulator,)))
    cause = symptom_cause(Divergence.of("p", "t", scenario, diff))
    assert cause.title == "returns an extra PackedPolicySize from sts:AssumeRole"
    assert cause.source == "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"
