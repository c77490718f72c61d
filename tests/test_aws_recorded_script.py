"""scripts/aws_recorded.py turns an AWS-recorded response (LocalStack snapshot format) into the
expectation of a scenario step: strict where the recording is, `$any`/`$match` where its
transformers hid a generated value."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from rolecall.outcome import matches_expectation

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "aws_recorded.py"
spec = importlib.util.spec_from_file_location("aws_recorded", SCRIPT)
aws_recorded = importlib.util.module_from_spec(spec)
spec.loader.exec_module(aws_recorded)

GET_ROLE = {"Role": {"Arn": "arn:<partition>:iam::111111111111:role/<path-prefix>/<role-name:1>",
                     "CreateDate": "<datetime>", "MaxSessionDuration": 3600, "Path": "/<path-prefix>/",
                     "RoleId": "<role-id:1>", "RoleLastUsed": {}, "RoleName": "<role-name:1>"},
            "ResponseMetadata": {"HTTPHeaders": {}, "HTTPStatusCode": 200}}


def test_a_recorded_success_becomes_an_exact_result_with_names_and_placeholders():
    e = aws_recorded.expectation(GET_ROLE, {"<role-name:1>": "app", "<path-prefix>": "p"})
    role = e["result"]["$exactly"]["Role"]
    assert role["Arn"] == "arn:aws:iam::{{A}}:role/p/app" and role["RoleId"] == {"$any": True}
    outcome = {"outcome": "ok", "result": {"Role": {
        "Arn": "arn:aws:iam::{{A}}:role/p/app", "CreateDate": "<timestamp>", "MaxSessionDuration": 3600,
        "Path": "/p/", "RoleId": "<role-id:A:role/app>", "RoleLastUsed": {}, "RoleName": "app"}}}
    assert matches_expectation(e, outcome)
    outcome["result"]["Role"]["Tags"] = []  # a field AWS did not answer
    assert not matches_expectation(e, outcome)


def test_a_recorded_error_keeps_code_status_and_message_and_a_hidden_name_becomes_a_pattern():
    recorded = {"Error": {"Code": "NoSuchEntity", "Message": "The role with name <role-name:1> cannot be found.",
                          "Type": "Sender"}, "ResponseMetadata": {"HTTPStatusCode": 404}}
    e = aws_recorded.expectation(recorded)
    assert e["code"] == "NoSuchEntity" and e["http_status"] == 404
    assert matches_expectation(e, {"outcome": "error", "code": "NoSuchEntity", "http_status": 404,
                                   "message": "The role with name r-1 cannot be found."})
    assert not matches_expectation(e, {"outcome": "error", "code": "NoSuchEntity", "http_status": 404,
                                       "message": "Role r-1 cannot be found."})
