"""Accounts reused between scenarios (targets/account_pool.py) answer as fresh ones: the same
scenarios on a real server, on fresh accounts and on reused ones, give the same answers; and
an account is reused only when what the scenario made in it was all deleted."""

from __future__ import annotations

import json

import pytest

from rolecall.conformance import CATALOGUE
from rolecall.scenario import from_dict
from rolecall.targets import load_target
from rolecall.targets.account_pool import Journal, plan, undo

DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "{{A:user/alice}}"},
                                                 "Action": "sts:AssumeRole"}]}
#: a world with one of everything rolecall's worlds make, and steps that make more
MESSY = {
    "format": "rolecall/scenario@1",
    "accounts": {"A": {
        "managed_policies": {"read": DOC},
        "groups": {"devs": {"policies": {"g": DOC}, "managed": ["read"]}},
        "users": {"alice": {"policies": {"u": DOC}, "managed": ["read"], "groups": ["devs"],
                            "tags": {"team": "a"}}},
        "roles": {"reader": {"trust": TRUST, "policies": {"r": DOC}, "managed": ["read"], "boundary": "read"}},
        "instance_profiles": {"host": {"role": "reader"}},
        "buckets": {"data": {"policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "{{A:role/reader}}"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::{{A:bucket/data}}/*"}]}, "objects": {"a.txt": "a"}}},
    }, "B": {}},
    "steps": [
        {"id": "role2", "as": "A:admin", "call": "iam:CreateRole",
         "params": {"RoleName": "second", "AssumeRolePolicyDocument": json.dumps(TRUST).replace("{{A:user/alice}}", "{{A}}")}},
        {"id": "key2", "as": "A:admin", "call": "iam:CreateAccessKey", "params": {"UserName": "alice"}},
        {"id": "put", "as": "A:admin", "call": "s3:PutObject", "params": {"Bucket": "{{A:bucket/data}}", "Key": "b.txt", "Body": "b"}},
        {"id": "mine", "as": "B:admin", "call": "s3:CreateBucket", "params": {"Bucket": "rc-reuse-{{B}}"}},
        {"id": "session", "as": "A:user/alice", "call": "sts:AssumeRole",
         "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "s"}},
        {"id": "inline", "as": "A:admin", "call": "iam:PutUserPolicy",
         "params": {"UserName": "alice", "PolicyName": "later", "PolicyDocument": json.dumps(DOC)}},
    ],
}
#: what a scenario that comes after sees of its accounts
LOOK = {
    "format": "rolecall/scenario@1",
    "accounts": {"A": {}, "B": {}},
    "steps": [{"id": f"{a}-{call.split(':')[1]}", "as": f"{a}:admin", "call": call, "params": params}
              for a in ("A", "B") for call, params in (
                  ("iam:ListUsers", {}), ("iam:ListRoles", {}), ("iam:ListGroups", {}),
                  ("iam:ListPolicies", {"Scope": "Local"}), ("iam:ListInstanceProfiles", {}),
                  ("iam:GetAccountSummary", {}), ("s3:ListBuckets", {}))],
}


# ---------------------------------------------------------------- what is deleted, what retires


def _journal(*calls) -> Journal:
    j = Journal()
    for key, account, call, params, result in calls:
        service, action = call.split(":")
        j.record(key, account, service, action, params, result)
    return j


@pytest.mark.fast
def test_what_a_scenario_made_is_deleted_in_the_order_iam_requires():
    j = _journal(("111111111111", "111111111111", "iam:CreateUser", {"UserName": "u"}, {}),
                 ("111111111111", "111111111111", "iam:CreateAccessKey", {"UserName": "u"},
                  {"AccessKey": {"AccessKeyId": "AKIAUSER"}}),
                 ("111111111111", "111111111111", "iam:CreateRole", {"RoleName": "r"}, {}),
                 ("111111111111", "111111111111", "iam:AttachRolePolicy", {"RoleName": "r", "PolicyArn": "P"}, {}),
                 ("AKIAUSER", None, "iam:PutUserPolicy", {"UserName": "u", "PolicyName": "p"}, None),  # denied, undone anyway
                 ("111111111111", "111111111111", "iam:GetRole", {"RoleName": "r"}, {}))
    made, retire = plan(j, {"111111111111"})
    assert retire == set()
    done = []
    clean = undo(lambda acct, s, a, p: done.append((acct, a, p)) or None, made)
    assert clean == {"111111111111"}
    assert [a for _, a, _ in done] == ["DeleteAccessKey", "DeleteUserPolicy", "DeleteUser", "DetachRolePolicy",
                                       "DeleteRole"]


@pytest.mark.fast
def test_a_call_that_named_nothing_is_skipped_when_emptying_the_account():
    """A minimised scenario may leave a name out (AttachRolePolicy without PolicyArn, CreateUser
    without UserName): AWS refused it, it made nothing, and emptying the account goes on (once it
    failed with "'<' not supported between 'str' and 'NoneType'" and lost LocalStack's lane)."""
    acct = "777777777777"
    j = _journal((acct, acct, "iam:CreateRole", {"RoleName": "r"}, {}),
                 (acct, acct, "iam:AttachRolePolicy", {"RoleName": "r", "PolicyArn": "P"}, {}),
                 (acct, acct, "iam:AttachRolePolicy", {"RoleName": "r"}, None),
                 (acct, acct, "iam:CreateUser", {}, None))
    made, retire = plan(j, {acct})
    done = []
    assert undo(lambda acct, s, a, p: done.append((a, p)) or None, made) == {acct}
    assert done == [("DetachRolePolicy", {"RoleName": "r", "PolicyArn": "P"}), ("DeleteRole", {"RoleName": "r"})]


@pytest.mark.fast
def test_an_account_is_retired_when_a_call_cannot_be_taken_back_or_a_deletion_is_refused():
    acct = "222222222222"
    j = _journal((acct, acct, "iam:DeleteServiceLinkedRole", {"RoleName": "AWSServiceRoleForECS"}, {}))
    assert plan(j, {acct})[1] == {acct}
    for call, params in (("iam:CreateRole", {"RoleName": "r"}), ("s3:CreateBucket", {"Bucket": "b"})):
        j = _journal(("AKIAUNKNOWN", None, call, params, {}))  # whose account?
        assert plan(j, {acct, "333333333333"})[1] == {acct, "333333333333"}
    made, _ = plan(_journal((acct, acct, "iam:CreateRole", {"RoleName": "r"}, {})), {acct})
    assert undo(lambda *_: "DeleteConflict", made) == set()
    assert undo(lambda *_: "NoSuchEntity", made) == {acct}  # already gone (a step deleted it)


@pytest.mark.fast
def test_service_linked_roles_are_found_by_path_and_their_policies_detached_before_they_are_deleted():
    """Even when CreateServiceLinkedRole answered an error: the server names the role."""
    acct = "666666666666"
    j = _journal((acct, acct, "iam:CreateServiceLinkedRole", {"AWSServiceName": "ecs.amazonaws.com"}, None))
    made, retire = plan(j, {acct})
    assert retire == set()
    done = []
    answers = {"ListRoles": {"Roles": [{"RoleName": "AWSServiceRoleForECS"}]},
               "ListAttachedRolePolicies": {"AttachedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/ECSPolicy"}]}}

    def call(account, service, action, params, results=None):
        done.append((action, params.get("PolicyArn") or params.get("PathPrefix")))
        if results is not None:
            results.append(answers[action])

    assert undo(call, made) == {acct}
    assert done == [("ListRoles", "/aws-service-role/"), ("ListAttachedRolePolicies", None),
                    ("DetachRolePolicy", "arn:aws:iam::aws:policy/ECSPolicy"), ("DeleteRole", None)]


@pytest.mark.fast
def test_a_session_acts_in_its_roles_account():
    a, b = "444444444444", "555555555555"
    j = _journal((a, a, "sts:AssumeRole", {"RoleArn": f"arn:aws:iam::{b}:role/r"},
                  {"Credentials": {"AccessKeyId": "ASIASESSION"},
                   "AssumedRoleUser": {"Arn": f"arn:aws:sts::{b}:assumed-role/r/s"}}),
                 ("ASIASESSION", None, "iam:CreateRole", {"RoleName": "made-by-session"}, {}))
    made, retire = plan(j, {a, b})
    assert retire == set() and set(made[b].roles) == {"made-by-session"} and not made[a].roles


# ---------------------------------------------------------------- on a real server


def _targets(spec: str):
    fresh, reused = load_target(spec), load_target(spec)
    fresh.reuse_accounts, reused.reuse_accounts = False, True
    fresh.open()
    reused.open()
    return fresh, reused


def _same_answers(fresh, reused, scenario) -> None:
    """`reused` answers as `fresh` does: every answer that two fresh runs agree on is equal, and
    every step's outcome and error code (random ids and task ids differ between fresh runs too)."""
    a, again, b = fresh.run(scenario), fresh.run(scenario), reused.run(scenario)
    assert (b.setup_error is None) == (a.setup_error is None), (a.setup_error, b.setup_error)
    assert [(o.id, o.outcome, o.code) for o in b.outcomes] == [(o.id, o.outcome, o.code) for o in a.outcomes]
    for x, x2, y in zip(a.outcomes, again.outcomes, b.outcomes):
        if x == x2:
            assert y == x


@pytest.mark.localstack
@pytest.mark.parametrize("spec", ["localstack", "localemu"])
def test_an_account_emptied_after_a_scenario_shows_nothing_of_it(spec, localstack_endpoint):
    """After a scenario that made one of everything (and a bucket in a second account), the
    accounts given to the next scenario list no users, roles, groups, policies, instance
    profiles or buckets, and count nothing in their account summary, as fresh ones."""
    if spec == "localemu":
        from test_emulators import _python313_or_skip
        _python313_or_skip()
    fresh, reused = _targets(spec)
    try:
        reused.run(from_dict(MESSY))
        assert reused.spare_accounts.retired == 0
        look = from_dict(LOOK)
        before = reused.spare_accounts.reused
        _same_answers(fresh, reused, look)
        assert reused.spare_accounts.reused >= before + 2  # both accounts were reused ones
    finally:
        if spec == "localemu":
            reused.server().stop()


@pytest.mark.slow
@pytest.mark.localstack
def test_seeded_scenarios_of_every_property_answer_the_same_on_reused_accounts(localstack_endpoint):
    """Seeded scenarios of every property, each run on fresh accounts and on accounts earlier
    scenarios used: the same answers, so a seeded run finds the same divergences either way.
    (On LocalStack; LocalEmu, a fork with the same emptying code and not a default target, is
    checked by the test above.)"""
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    fresh, reused = _targets("localstack")
    scenarios = []
    for prop in CATALOGUE:
        @seed(20121017)
        @settings(max_examples=1, database=None, deadline=None, phases=(Phase.generate,),
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
        @given(prop.strategy())
        def collect(scenario):
            scenarios.append(scenario)
        collect()
    for scenario in scenarios:
        _same_answers(fresh, reused, scenario)
    assert reused.spare_accounts.reused > len(scenarios)  # most scenarios ran on reused accounts
