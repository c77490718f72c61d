"""The scenario file contract (shared/scenario-format.md): loading, validation, references, saving."""
import json

import pytest

from rolecall.scenario import FORMAT, Names, ScenarioError, declared_names, from_dict, load, loads

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
