"""A scenario file's action and parameter names are botocore's: a misspelt one is an input error
naming the file and the place (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
lists AssumeRole's parameters; botocore's service model is generated from the same definition)."""
from __future__ import annotations

import json

import pytest

from rolecall.scenario import ScenarioError, load

pytestmark = pytest.mark.fast


def _file(tmp_path, call: str, params: dict):
    data = {"format": "rolecall/scenario@1", "accounts": {"A": {"users": {"bob": {}}}},
            "steps": [{"id": "who", "as": "A:user/bob", "call": "sts:GetCallerIdentity"},
                      {"id": "it", "as": "A:user/bob", "call": call, "params": params}]}
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data))
    return path


def test_a_misspelt_parameter_names_file_place_and_the_right_name(tmp_path):
    path = _file(tmp_path, "sts:AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSesionName": "s"})
    with pytest.raises(ScenarioError) as err:
        load(path)
    assert str(err.value) == (f"{path}: $.steps[1].params.RoleSesionName: sts:AssumeRole has no parameter "
                              "'RoleSesionName' (did you mean 'RoleSessionName'?)")


def test_a_misspelt_action_is_refused(tmp_path):
    path = _file(tmp_path, "iam:CreateRol", {"RoleName": "r"})
    with pytest.raises(ScenarioError, match=r"\$\.steps\[1\]\.call: iam has no action 'CreateRol' "
                                            r"\(did you mean 'CreateRole'\?\)"):
        load(path)


def test_known_names_load(tmp_path):
    path = _file(tmp_path, "s3:GetObject", {"Bucket": "b", "Key": "k"})
    assert load(path).steps[1].params == {"Bucket": "b", "Key": "k"}
