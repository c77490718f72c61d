"""Each target answers as that emulator really does, and agrees with itself.

The trust rule checked here: a role's trust policy must name the caller (or its account,
with the caller's identity policy allowing) for sts:AssumeRole to succeed:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""
from dataclasses import replace

import pytest

from conftest import ROOT
from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.scenario import load
from rolecall.targets import load_target

TRUST = load(ROOT / "scenarios" / "delegation" / "trust-does-not-name-caller.json")


@pytest.mark.parametrize("name, code", [("reference", "AccessDenied"), ("moto+auth", "AccessDenied"),
                                        ("moto", None)])
def test_trust_not_naming_the_caller(name, code):
    with load_target(name) as target:
        outcome = target.run(TRUST).outcome("assume")
    assert (outcome.outcome, outcome.code) == (("error", code) if code else ("ok", None))


@pytest.mark.localstack
def test_localstack_does_not_enforce_trust(localstack_endpoint):
    with load_target("localstack", endpoint=localstack_endpoint) as target:
        run = target.run(TRUST)
    assert run.setup_error is None
    assert run.outcome("assume").outcome == "ok"


@pytest.mark.localstack
def test_localstack_accounts_come_from_access_keys(localstack_endpoint):
    """Two logical accounts get two real accounts: GetCallerIdentity of a user shows its own."""
    from rolecall.scenario import from_dict

    s = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {"users": {"a": {}}}, "B": {"users": {"b": {}}}},
                   "steps": [{"id": "a", "as": "A:user/a", "call": "sts:GetCallerIdentity"},
                             {"id": "b", "as": "B:user/b", "call": "sts:GetCallerIdentity"}]})
    with load_target("localstack", endpoint=localstack_endpoint) as target:
        run = target.run(s)
    assert run.outcome("a").result["Account"] == "{{A}}"
    assert run.outcome("b").result["Account"] == "{{B}}"


@pytest.mark.parametrize("target_name", ["reference", pytest.param("moto", marks=pytest.mark.slow)])
@pytest.mark.parametrize("prop", CATALOGUE, ids=[p.name for p in CATALOGUE])
def test_a_target_agrees_with_a_second_instance_of_itself(target_name, prop):
    """No false divergences: a target against a second instance of itself finds nothing. The
    reference gets the ci profile's whole budget (every round, then the steering phase). moto's
    cells cost about twenty times more (169 s against 8 s in CI): they get half of the first
    round's examples and the steering phase (a second round, or more examples of the first,
    draw more worlds of the same kinds; 52 s of CI's tests with the whole first round)."""
    profile = PROFILES["ci"] if target_name == "reference" else replace(
        PROFILES["ci"], rounds=1, max_examples=PROFILES["ci"].max_examples // 2)
    with load_target(target_name) as oracle, load_target(target_name) as target:
        cell = explore(prop, target, oracle, profile=profile)
    assert cell.error is None, cell.error
    assert not cell.divergences, [f.divergence.summary() for f in cell.divergences.values()]
    assert cell.examples >= profile.max_examples * profile.rounds


def test_a_step_acting_as_an_unsupported_step_is_unsupported_too():
    """moto cannot act as a service: the EC2 step is unsupported, and so is every step that
    uses its credentials (not a NoCredentials error that would read as a divergence)."""
    from rolecall.scenario import from_dict

    s = from_dict({"format": "rolecall/scenario@1", "accounts": {"A": {"roles": {"web": {"trust": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}}}}},
        "steps": [{"id": "ec2", "as": "service:ec2.amazonaws.com", "call": "sts:AssumeRole",
                   "params": {"RoleArn": "{{A:role/web}}", "RoleSessionName": "i-1"}},
                  {"id": "who", "as": "ec2", "call": "sts:GetCallerIdentity"}]})
    with load_target("moto") as target:
        run = target.run(s)
    assert [o.outcome for o in run.outcomes] == ["unsupported", "unsupported"]
    with load_target("reference") as target:
        assert [o.outcome for o in target.run(s).outcomes] == ["ok", "ok"]


def test_moto_keeps_no_objects_from_before_its_last_reset(monkeypatch):
    """moto tracks every model object it makes (for its dashboard) and its own reset keeps
    them; the moto target's periodic reset drops them, so a long run's memory stays flat."""
    from moto.iam.models import Role

    from rolecall.targets import moto as moto_module

    monkeypatch.setattr(moto_module, "RESET_EVERY", 3)
    with load_target("moto") as target:
        for _ in range(3):  # the third run starts with a reset
            target.run(TRUST)
        after_reset = len(Role.instances_tracked)
        for _ in range(2):
            target.run(TRUST)
        before_next = len(Role.instances_tracked)
        target.run(TRUST)  # a reset, then one run
        assert len(Role.instances_tracked) == after_reset < before_next
