"""Parameter validation as AWS does it (rolecall.targets.reference.params) and the strategies
that draw valid and invalid parameter values from the same botocore models."""
from __future__ import annotations

import re

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecall.strategies.params import (
    invalid_value,
    labelled_invalid_value,
    valid_params,
    valid_value,
    values,
)
from rolecall.targets.reference.params import (
    NotModelled,
    ParamValidationError,
    compile_pattern,
    shape_constraints,
    validate,
    wire_name,
)

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

ROLE_ARN = "arn:aws:iam::123456789012:role/reader"
TRUST = '{"Version":"2012-10-17","Statement":[]}'

MEMBERS = [
    ("sts", "AssumeRole", "RoleSessionName"),
    ("sts", "AssumeRole", "DurationSeconds"),
    ("sts", "AssumeRole", "ExternalId"),
    ("sts", "AssumeRole", "SourceIdentity"),
    ("sts", "AssumeRole", "RoleArn"),
    ("iam", "CreateRole", "RoleName"),
    ("iam", "CreateRole", "Path"),
    ("iam", "CreateRole", "MaxSessionDuration"),
    ("iam", "CreateRole", "Description"),
    ("iam", "CreateServiceLinkedRole", "CustomSuffix"),
]
IDS = [f"{s}:{o}:{m}" for s, o, m in MEMBERS]

# IAM members whose pattern violation has a sourced answer (see params._IAM_PATTERN_MESSAGES)
IAM_PATTERN_SOURCED = {"roleName", "path", "description"}


def _model_shape(service, operation, member):
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape.members[member]


# ---------------------------------------------------------------------------- properties

@pytest.mark.parametrize("service,operation,member", MEMBERS, ids=IDS)
@settings(deadline=None)  # a loaded CI machine must not make a correct check fail on time
@given(data=st.data())
def test_every_valid_value_passes_validation(service, operation, member, data):
    params = data.draw(valid_params(service, operation, members=(member,)))
    validate(service, operation, params)


@pytest.mark.parametrize("service,operation,member", MEMBERS, ids=IDS)
@given(data=st.data())
def test_every_invalid_value_fails_naming_that_member_and_only_it(service, operation, member, data):
    params = data.draw(valid_params(service, operation))
    drawn = data.draw(labelled_invalid_value(service, operation, member))
    params[member] = drawn.value
    wire = wire_name(member)
    if service == "iam" and drawn.constraint == "pattern" and wire not in IAM_PATTERN_SOURCED:
        with pytest.raises(NotModelled, match=wire):
            validate(service, operation, params)
        return
    with pytest.raises(ParamValidationError) as info:
        validate(service, operation, params)
    err = info.value
    assert (err.code, err.http_status) == ("ValidationError", 400)
    assert f"'{wire}'" in err.message or f"for {wire} is invalid" in err.message
    assert [(v.path, v.constraint) for v in err.violations] == [(wire, drawn.constraint)]
    if service == "sts":  # STS prints the value; exactly one error is listed
        assert err.message.startswith(f"1 validation error detected: Value '{drawn.value}' at '{wire}' ")


@pytest.mark.parametrize("service,operation,member", MEMBERS, ids=IDS)
@given(data=st.data())
def test_invalid_draws_break_the_constraint_they_name(service, operation, member, data):
    drawn = data.draw(labelled_invalid_value(service, operation, member))
    c = shape_constraints(service, operation, member)
    if c["type"] == "integer":
        size = drawn.value
        assert (size < c["min"]) if drawn.constraint == "min" else (size > c["max"])
        return
    size = len(drawn.value)
    if drawn.constraint == "pattern":
        assert not c["pattern"].fullmatch(drawn.value)
        assert (c["min"] or 0) <= size <= c["max"]
    else:
        assert c["pattern"] is None or c["pattern"].fullmatch(drawn.value)
        assert (size < c["min"]) if drawn.constraint == "min" else (size > c["max"])


@given(valid_value("sts", "AssumeRole", "RoleSessionName"))
def test_valid_role_session_names_respect_the_model_bounds(name):
    c = shape_constraints("sts", "AssumeRole", "RoleSessionName")
    assert c["min"] <= len(name) <= c["max"] and c["pattern"].fullmatch(name)


def test_valid_strings_reach_both_length_boundaries_and_are_mostly_ascii():
    seen = []

    @settings(derandomize=True, max_examples=300, database=None)
    @given(valid_value("sts", "AssumeRole", "RoleSessionName"))
    def collect(name):
        seen.append(name)

    collect()
    c = shape_constraints("sts", "AssumeRole", "RoleSessionName")
    lengths = {len(s) for s in seen}
    assert c["min"] in lengths and c["max"] in lengths
    assert sum(s.isascii() for s in seen) >= 0.7 * len(seen)


def test_values_mixes_valid_and_invalid_and_checks_its_probability():
    with pytest.raises(ValueError, match="invalid_probability"):
        values("sts", "AssumeRole", "RoleSessionName", invalid_probability=1.5)
    outcomes = []

    @settings(max_examples=100, database=None)
    @given(values("sts", "AssumeRole", "DurationSeconds", invalid_probability=1.0),
           values("sts", "AssumeRole", "DurationSeconds", invalid_probability=0.0))
    def collect(bad, good):
        outcomes.append((bad, good))

    collect()
    c = shape_constraints("sts", "AssumeRole", "DurationSeconds")
    assert all(not c["min"] <= bad <= c["max"] and c["min"] <= good <= c["max"] for bad, good in outcomes)


def test_invalid_value_refuses_members_without_constraints():
    with pytest.raises(ValueError, match="no constraint"):
        invalid_value("iam", "UpdateAccountPasswordPolicy", "RequireSymbols")
    with pytest.raises(ValueError, match="only scalar"):
        valid_value("iam", "CreateRole", "Tags")


# ---------------------------------------------------------------------------- sourced messages

def test_role_session_name_outside_the_pattern():
    # AWS-recorded: localstack/localstack tests/aws/services/sts/test_sts.snapshot.json
    # :: test_sts_invalid_parameters (recorded 21-07-2025)
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "Session1:2"})
    assert info.value.message == (
        "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    assert (info.value.code, info.value.http_status) == ("ValidationError", 400)


def test_role_session_name_of_65_characters():
    # AWS-recorded: localstack test_sts.snapshot.json :: test_assume_role_session_name_too_long
    # (recorded 09-02-2026); also https://github.com/getmoto/moto/issues/9218
    name = "s" * 65
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": name})
    assert info.value.message == (
        f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")


def test_duration_seconds_below_the_minimum():
    # AWS-recorded (GetSessionToken, same text): https://github.com/goldstack/goldstack/pull/425
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "DurationSeconds": 600})
    assert info.value.message == (
        "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900")


def test_every_broken_constraint_of_a_member_is_listed_pattern_first():
    # AWS-recorded: https://github.com/newscorpaus/consigliere/issues/18
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": "", "RoleSessionName": "ab"})
    pattern = _model_shape("sts", "AssumeRole", "RoleArn").metadata["pattern"]
    assert info.value.message == (
        f"2 validation errors detected: Value '' at 'roleArn' failed to satisfy constraint: Member must satisfy "
        f"regular expression pattern: {pattern}; Value '' at 'roleArn' failed to satisfy constraint: "
        "Member must have length greater than or equal to 20")


def test_missing_required_sts_member_is_null():
    # AWS-recorded (AssumeRoleWithWebIdentity): https://github.com/fog/fog-aws/pull/550
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRoleWithWebIdentity", {"RoleArn": ROLE_ARN, "RoleSessionName": "ab"})
    assert info.value.message == ("1 validation error detected: Value null at 'webIdentityToken' failed to "
                                  "satisfy constraint: Member must not be null")


def test_iam_leaves_the_value_out():
    # AWS-recorded: https://github.com/boto/botocore/issues/3337 (2025)
    with pytest.raises(ParamValidationError) as info:
        validate("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST,
                                       "MaxSessionDuration": 1_000_000})
    assert info.value.message == ("1 validation error detected: Value at 'maxSessionDuration' failed to satisfy "
                                  "constraint: Member must have value less than or equal to 43200")


def test_iam_description_outside_its_pattern():
    # AWS-recorded: https://github.com/ministackorg/ministack/issues/1411 (an em dash)
    with pytest.raises(ParamValidationError) as info:
        validate("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST,
                                       "Description": "Test role \u2014 with an em dash"})
    assert info.value.message == (
        "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*")


def test_iam_role_name_and_path_get_iams_own_sentences():
    # AWS-recorded: https://github.com/kubecost/docs/pull/36 and https://github.com/serverless/serverless/pull/3802
    with pytest.raises(ParamValidationError) as info:
        validate("iam", "CreateRole", {"RoleName": "bad/name", "AssumeRolePolicyDocument": TRUST})
    assert info.value.message == ("The specified value for roleName is invalid. It must contain only alphanumeric "
                                  "characters and/or the following: +=,.@_-")
    with pytest.raises(ParamValidationError) as info:
        validate("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "Path": "test/"})
    assert info.value.message == ("The specified value for path is invalid. It must begin and end with / and "
                                  "contain only alphanumeric characters and/or / characters.")


def test_iam_nested_tag_paths():
    # path form AWS-recorded: https://github.com/SWO-GS/auto-tag/issues/90 (tags.6.member.value)
    tags = [{"Key": "ok", "Value": "v"}, {"Key": "k", "Value": "v" * 257}]
    with pytest.raises(ParamValidationError) as info:
        validate("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "Tags": tags})
    assert info.value.message == ("1 validation error detected: Value at 'tags.2.member.value' failed to satisfy "
                                  "constraint: Member must have length less than or equal to 256")


# ---------------------------------------------------------------------------- pattern rewrite

def test_supplementary_plane_characters_are_allowed_where_the_model_allows_them():
    # the model writes \u10000-\u10FFFF, which Python's re would read as \u1000 + '0'
    validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN + "\U0001F600", "RoleSessionName": "ab"})
    pattern = compile_pattern(_model_shape("sts", "AssumeRole", "RoleArn").metadata["pattern"])
    assert pattern.fullmatch("\U0001F600\U0010FFFD")
    naive = re.compile(_model_shape("sts", "AssumeRole", "RoleArn").metadata["pattern"])
    assert not naive.fullmatch("\U0001F600")  # what compiling the model's text as-is gets wrong


def test_control_characters_are_rejected():
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN + "\x01", "RoleSessionName": "ab"})
    assert [v.constraint for v in info.value.violations] == ["pattern"]


def test_word_characters_are_ascii():
    with pytest.raises(ParamValidationError):
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "caf\u00e9"})


def test_lengths_count_code_points():
    # a lone emoji fails min 2 (two UTF-16 units, one code point)
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "\U0001F600"})
    assert [v.constraint for v in info.value.violations] == ["pattern", "min"]


# ---------------------------------------------------------------------------- not modelled

@pytest.mark.parametrize("params", [
    {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "DurationSeconds": "abc"},
    {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "DurationSeconds": True},
    {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "DurationSeconds": 1.5},
    {"RoleArn": None, "RoleSessionName": "ab"},
    {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "TransitiveTagKeys": ["k"] * 51},
], ids=["string-for-int", "bool-for-int", "float-for-int", "None", "list-too-long"])
def test_unsourced_answers_are_not_modelled(params):
    with pytest.raises(NotModelled):
        validate("sts", "AssumeRole", params)


def test_a_digit_string_for_an_integer_is_the_same_request():
    with pytest.raises(ParamValidationError) as info:
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "DurationSeconds": "600"})
    assert "Value '600' at 'durationSeconds'" in info.value.message


def test_iam_own_sentence_alongside_other_violations_is_not_modelled():
    with pytest.raises(NotModelled):
        validate("iam", "CreateRole", {"RoleName": "bad/" * 20, "AssumeRolePolicyDocument": TRUST})


def test_enum_violations_are_not_modelled():
    with pytest.raises(NotModelled, match="enum"):
        validate("iam", "ListPolicies", {"Scope": "Everything"})


def test_s3_checks_only_required_members():
    validate("s3", "GetObject", {"Bucket": "b", "Key": "k"})
    with pytest.raises(NotModelled):
        validate("s3", "GetObject", {"Bucket": "b"})


def test_unknown_parameters_are_a_caller_error():
    with pytest.raises(ValueError, match="NoSuchParam"):
        validate("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "ab", "NoSuchParam": 1})


# ---------------------------------------------------------------------------- model access

@pytest.mark.parametrize("service,operation,member", MEMBERS, ids=IDS)
def test_shape_constraints_come_from_the_model(service, operation, member):
    shape = _model_shape(service, operation, member)
    c = shape_constraints(service, operation, member)
    assert c["type"] == shape.type_name
    assert (c["min"], c["max"], c["pattern_text"]) == (
        shape.metadata.get("min"), shape.metadata.get("max"), shape.metadata.get("pattern"))
    assert c["required"] == (member in botocore.session.get_session().get_service_model(service)
                             .operation_model(operation).input_shape.required_members)
