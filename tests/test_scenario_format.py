"""The scenario file contract (shared/scenario-format.md): loading, validation, references, saving."""
import json

import pytest

from rolecall.scenario import FORMAT, Names, ScenarioError, declared_names, from_dict, load, loads

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

GOOD = {
    "format": FORMAT,
    "description": "d",
    "accounts": {
        "A": {"roles": {"reader": {"path": "/app/", "trust": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{{B}}:root"}, "Action": "sts:AssumeRole"}]}}},
              "buckets": {"data": {"objects": {"k": "v"}}}},
        "B": {"users": {"bob": {}}},
    },
    "steps": [
        {"id": "assume", "as": "B:user/bob", "call": "sts:AssumeRole",
         "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "s"},
         "expect": {"outcome": "error", "code": "AccessDenied"}},
        {"id": "get", "as": "assume", "call": "s3:GetObject", "params": {"Bucket": "{{A:bucket/data}}", "Key": "k"}},
    ],
}


def with_(path, value):
    d = json.loads(json.dumps(GOOD))
    *head, last = path
    node = d
    for p in head:
        node = node[p]
    node[last] = value
    return d


def test_round_trip_is_lossless(tmp_path):
    s = from_dict(GOOD)
    p = s.save(tmp_path / "s.json")
    again = load(p)
    assert again.to_dict() == s.to_dict() == {**GOOD}


def test_yaml_with_the_same_structure_loads(tmp_path):
    import yaml

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(GOOD))
    assert load(p).to_dict() == from_dict(GOOD).to_dict()


@pytest.mark.parametrize("mutation, where, what", [
    ((("format",), "rolecall/scenario@9"), "$.format", "expected 'rolecall/scenario@1'"),
    ((("steps", 0, "call"), "sts:assume_role"), "$.steps[0].call", "service:Action"),
    ((("steps", 1, "as"), "nobody"), "$.steps[1].as", "expected A:admin"),
    ((("steps", 1, "id"), "assume"), "$.steps[1].id", "duplicate step id"),
    ((("steps", 0, "params", "RoleArn"), "{{A:role/writer}}"), "$.steps[0].params.RoleArn", "no role 'writer'"),
    ((("steps", 0, "params", "RoleArn"), "{{Z:role/reader}}"), "$.steps[0].params.RoleArn", "unknown account"),
    ((("accounts", "A", "roles", "reader", "trust"), 7), "$.accounts.A.roles.reader.trust", "policy document"),
    ((("accounts", "A", "roles", "reader", "colour"), "red"), "$.accounts.A.roles.reader.colour", "unknown field"),
    ((("steps", 0, "expect", "outcome"), "maybe"), "$.steps[0].expect.outcome", "expected one of"),
    ((("steps", 0, "at"), -1), "$.steps[0].at", "seconds"),
    ((("accounts", "a"), {}), "$.accounts.a", "account names"),
])
def test_invalid_scenarios_name_the_json_path(mutation, where, what):
    path, value = mutation
    with pytest.raises(ScenarioError) as info:
        from_dict(with_(path, value), origin="f.json")
    message = str(info.value)
    assert message.startswith(f"f.json: {where}: ")
    assert what in message
    assert "\n" not in message


def test_a_role_without_trust_is_rejected():
    d = with_(("accounts", "A", "roles", "reader"), {"path": "/"})
    with pytest.raises(ScenarioError, match=r"roles\.reader\.trust: missing required field"):
        from_dict(d)


def test_invalid_json_names_line_and_column():
    with pytest.raises(ScenarioError, match=r"^x\.json: line 1, column 2: invalid JSON"):
        loads("{,}", origin="x.json")


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load(tmp_path / "nope.json")


def test_references_resolve_to_arns_with_paths_and_bucket_names():
    s = from_dict(GOOD)
    names = Names({"A": "111111111111", "B": "222222222222"}, {("A", "data"): "rc-a-data"}, declared_names(s))
    assert names.resolve("{{A:role/reader}}") == "arn:aws:iam::111111111111:role/app/reader"
    assert names.resolve("x {{B}} y") == "x 222222222222 y"
    assert names.resolve({"b": ["{{A:bucket/data}}"]}) == {"b": ["rc-a-data"]}
    assert names.resolve("${aws:username}") == "${aws:username}"  # IAM policy variables are AWS's


# ----------------------------------------------------------------------------- matchers and extensions
from rolecall.outcome import matches_expectation  # noqa: E402
from rolecall.targets.reference import reference  # noqa: E402

TRUST_ME = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{{A}}:root"}, "Action": "sts:AssumeRole"}]}


def scenario(accounts, steps):
    return from_dict({"format": FORMAT, "accounts": accounts, "steps": steps}, origin="t.json")


def holds(s):
    """Replay on the reference model: step id -> whether its expectation holds."""
    run = reference().run(s)
    assert run.setup_error is None, run.setup_error
    return {st.id: matches_expectation(dict(st.expect), run.outcome(st.id).to_dict())
            for st in s.steps if st.expect is not None}


@pytest.mark.parametrize("expect, actual, ok", [
    ({"a": {"$absent": True}}, {"b": 1}, True),
    ({"a": {"$absent": True}}, {"a": 1}, False),
    ({"a": {"$any": True}}, {"a": None}, True),
    ({"a": {"$any": True}}, {}, False),
    ({"m": {"$match": r"Role \S+ in Instance Profile p cannot be found\."}},
     {"m": "Role r in Instance Profile p cannot be found."}, True),
    ({"m": {"$match": "cannot"}}, {"m": "Role r cannot be found."}, False),  # a whole-string match
    ({"m": {"$contains": "cannot be found"}}, {"m": "Role r cannot be found."}, True),
    ({"m": {"$contains": ["Role", "nope"]}}, {"m": "Role r cannot be found."}, False),
    ({"l": {"$contains": [{"K": "b"}]}}, {"l": [{"K": "a", "V": 1}, {"K": "b", "V": 2}]}, True),
    ({"l": {"$contains": [{"K": "b"}, {"K": "b"}]}}, {"l": [{"K": "a"}, {"K": "b"}]}, False),  # distinct items
    ({"l": {"$unordered": ["b", "a"]}}, {"l": ["a", "b"]}, True),
    ({"l": {"$unordered": ["a"]}}, {"l": ["a", "b"]}, False),
    # a plain list is exact, the objects in it too (as before matchers existed)
    ({"l": [{"K": "a"}]}, {"l": [{"K": "a", "V": 1}]}, False),
    ({"l": [{"K": "a", "V": {"$any": True}}]}, {"l": [{"K": "a", "V": 1}]}, True),
    # $exactly: a recorded response, no field more or less
    ({"r": {"$exactly": {"Role": {"N": "r", "D": {"$any": True}}}}}, {"r": {"Role": {"N": "r", "D": 1}}}, True),
    ({"r": {"$exactly": {"Role": {"N": "r"}}}}, {"r": {"Role": {"N": "r", "MaxSessionDuration": 3600}}}, False),
])
def test_matchers(expect, actual, ok):
    assert matches_expectation(expect, actual) is ok


@pytest.mark.parametrize("expect, where, what", [
    ({"result": {"X": {"$nope": 1}}}, "$.steps[0].expect.result.X.$nope", "unknown matcher"),
    ({"result": {"X": {"$match": "("}}}, "$.steps[0].expect.result.X.$match", "invalid regular expression"),
    ({"result": {"X": {"$any": True, "Y": 1}}}, "$.steps[0].expect.result.X.$any", "one key"),
    ({"result": {"X": {"$from": "a.B"}}}, "$.steps[0].expect.result.X.$from", "earlier step"),
    ({"result": {"X": {"$unordered": "ab"}}}, "$.steps[0].expect.result.X.$unordered", "expected an array"),
])
def test_a_bad_matcher_is_one_line_with_its_json_path(expect, where, what):
    with pytest.raises(ScenarioError) as info:
        scenario({"A": {}}, [{"id": "s", "as": "A:admin", "call": "sts:GetCallerIdentity", "expect": expect}])
    assert str(info.value).startswith(f"t.json: {where}: ") and what in str(info.value)
    assert "\n" not in str(info.value)


def test_from_must_name_an_earlier_step():
    with pytest.raises(ScenarioError, match=r"^t\.json: \$\.steps\[0\]\.params\.DeletionTaskId\.\$from: no earlier step 'later'"):
        scenario({"A": {}}, [
            {"id": "s", "as": "A:admin", "call": "iam:GetServiceLinkedRoleDeletionStatus",
             "params": {"DeletionTaskId": {"$from": "later.DeletionTaskId"}}},
            {"id": "later", "as": "A:admin", "call": "sts:GetCallerIdentity"}])


def test_arn_references_in_expect_are_resolved():
    """{{A:role/app}} in an expectation means the role's ARN (path included), as in params."""
    s = scenario({"A": {"roles": {"app": {"path": "/svc/", "trust": TRUST_ME}}}}, [
        {"id": "get", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "app"},
         "expect": {"outcome": "ok", "result": {"Role": {"Arn": "{{A:role/app}}"}}}},
        {"id": "get2", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "app"},
         "expect": {"outcome": "ok", "result": {"Role": {"Arn": {"$match": "{{A:role/app}}"}}}}},
        {"id": "wrong", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": "app"},
         "expect": {"outcome": "ok", "result": {"Role": {"Arn": "arn:aws:iam::{{A}}:role/app"}}}},
    ])
    assert s.step("get").expect["result"]["Role"]["Arn"] == "arn:aws:iam::{{A}}:role/svc/app"
    assert holds(s) == {"get": True, "get2": True, "wrong": False}


def test_values_from_earlier_steps_and_signing_with_a_created_access_key():
    s = scenario({"A": {"users": {"alice": {"policies": {"p": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}}}},
                        "service_linked_roles": ["batch.amazonaws.com"]}}, [
        {"id": "key", "as": "A:admin", "call": "iam:CreateAccessKey", "params": {"UserName": "alice"}},
        {"id": "who", "as": "key", "call": "sts:GetCallerIdentity",
         "expect": {"outcome": "ok", "result": {"Arn": "{{A:user/alice}}"}}},
        {"id": "me", "as": "key", "call": "iam:GetUser",
         "expect": {"outcome": "ok", "result": {"User": {"UserName": "alice", "Tags": {"$absent": True}}}}},
        {"id": "delete", "as": "A:admin", "call": "iam:DeleteServiceLinkedRole",
         "params": {"RoleName": "AWSServiceRoleForBatch"},
         "expect": {"outcome": "ok", "result": {"DeletionTaskId": {
             "$match": "task/aws-service-role/batch\\.amazonaws\\.com/AWSServiceRoleForBatch/[0-9a-f-]{36}"}}}},
        {"id": "status", "as": "A:admin", "call": "iam:GetServiceLinkedRoleDeletionStatus",
         "params": {"DeletionTaskId": {"$from": "delete.DeletionTaskId"}},
         "expect": {"outcome": "ok", "result": {"Status": "SUCCEEDED"}}},
    ])
    assert holds(s) == {"who": True, "me": True, "delete": True, "status": True}


def test_a_value_from_a_failed_step_is_an_error_of_the_step_not_a_crash():
    s = scenario({"A": {}}, [
        {"id": "delete", "as": "A:admin", "call": "iam:DeleteServiceLinkedRole", "params": {"RoleName": "nope"}},
        {"id": "status", "as": "A:admin", "call": "iam:GetServiceLinkedRoleDeletionStatus",
         "params": {"DeletionTaskId": {"$from": "delete.DeletionTaskId"}}, "expect": {"outcome": "error", "code": "NoValue"}},
    ])
    assert holds(s) == {"status": True}


def test_groups_in_the_world_give_their_members_permissions():
    """A user's identity policies include its groups' (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html)."""
    allow_get_role = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}
    s = scenario({"A": {"groups": {"readers": {"policies": {"read": allow_get_role}}},
                        "users": {"alice": {"groups": ["readers"]}, "bob": {}},
                        "roles": {"app": {"trust": TRUST_ME}}}}, [
        {"id": "alice", "as": "A:user/alice", "call": "iam:GetRole", "params": {"RoleName": "app"},
         "expect": {"outcome": "ok"}},
        {"id": "bob", "as": "A:user/bob", "call": "iam:GetRole", "params": {"RoleName": "app"},
         "expect": {"outcome": "error", "code": "AccessDenied"}},
        {"id": "members", "as": "A:admin", "call": "iam:GetGroup", "params": {"GroupName": "readers"},
         "expect": {"outcome": "ok", "result": {"Group": {"Arn": "{{A:group/readers}}"},
                                                "Users": [{"UserName": "alice", "Arn": "{{A:user/alice}}",
                                                           "Path": "/", "UserId": {"$any": True},
                                                           "CreateDate": {"$any": True}}]}}},
    ])
    assert holds(s) == {"alice": True, "bob": True, "members": True}


def test_a_user_in_an_unknown_group_is_rejected_with_its_path():
    with pytest.raises(ScenarioError, match=r"\$\.accounts\.A\.users\.alice\.groups\[0\]: no group 'ops'"):
        scenario({"A": {"users": {"alice": {"groups": ["ops"]}}}}, [])


def test_an_anonymous_caller_reaches_only_what_a_public_policy_grants():
    public = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{{A:bucket/pub}}/*"}]}
    s = scenario({"A": {"buckets": {"pub": {"policy": public, "objects": {"k": "v"}}, "priv": {"objects": {"k": "v"}}}}}, [
        {"id": "pub", "as": "anonymous", "call": "s3:GetObject", "params": {"Bucket": "{{A:bucket/pub}}", "Key": "k"},
         "expect": {"outcome": "ok", "result": {"Body": "v"}}},
        {"id": "priv", "as": "anonymous", "call": "s3:GetObject", "params": {"Bucket": "{{A:bucket/priv}}", "Key": "k"},
         "expect": {"outcome": "error", "code": "AccessDenied"}},
        {"id": "sts", "as": "anonymous", "call": "sts:GetCallerIdentity",
         "expect": {"outcome": "error", "code": "MissingAuthenticationToken"}},
    ])
    assert holds(s) == {"pub": True, "priv": True, "sts": True}
