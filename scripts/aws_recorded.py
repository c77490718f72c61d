"""Turn AWS's recorded answers into scenario expectations, for scenarios/aws-recorded/.

LocalStack keeps IAM and STS tests recorded against real AWS: `*.snapshot.json` (the
responses, with ids and names replaced by `<...>` placeholders by its snapshot transformers)
and `*.validation.json` (when each was last validated against AWS). This script reads those
files (data, not code) from a LocalStack checkout and prints, for one recorded response, the
`expect` a scenario step should carry: the strictest the recording shows (code, HTTP status
and message of an error; the whole result, no field more or less, of a success), with the
placeholders turned back into the scenario's names, `$any` or `$match` patterns.

    python scripts/aws_recorded.py expect CHECKOUT/tests/aws/services/iam/test_iam_roles.snapshot.json \\
        "TestRoleLifecycle::test_create_role_defaults" get-role-response --name "<role-name:1>=app"
    python scripts/aws_recorded.py service-linked-roles CHECKOUT/tests/aws/services/iam OUT_DIR

The second form writes one scenario file per recorded TestIAMServiceRoles test.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

RECORDED_ACCOUNT = "111111111111"  # LocalStack's snapshots replace the account id with it
PLACEHOLDER = re.compile(r"<[^<>]+>")
LOCALSTACK = "https://github.com/localstack/localstack"


def _text(s: str, names: dict[str, str]) -> Any:
    for placeholder, value in names.items():
        s = s.replace(placeholder, value)
    s = s.replace("arn:<partition>:", "arn:aws:").replace(RECORDED_ACCOUNT, "{{A}}")
    if not PLACEHOLDER.search(s):
        return s
    if PLACEHOLDER.fullmatch(s):
        return {"$any": True}  # a generated id, a date, a token: present, any value
    parts, last = [], 0
    for m in PLACEHOLDER.finditer(s):
        parts.append(re.escape(s[last:m.start()]))
        parts.append(".+?")
        last = m.end()
    parts.append(re.escape(s[last:]))
    return {"$match": "".join(parts)}


def transform(value: Any, names: dict[str, str]) -> Any:
    """A recorded value with its placeholders resolved (names), or made `$any` / `$match`."""
    if isinstance(value, str):
        return _text(value, names)
    if isinstance(value, dict):
        return {k: transform(v, names) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [transform(v, names) for v in value]
    return value


def expectation(recorded: dict, names: dict[str, str] | None = None, at: str | None = None) -> dict:
    """The `expect` of a step whose answer AWS recorded. `at`: the recording holds only this
    field of the response (the test snapshotted `response[at]`)."""
    names = names or {}
    if "Error" in recorded:
        err = recorded["Error"]
        out = {"outcome": "error", "code": err["Code"]}
        status = recorded.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status:
            out["http_status"] = status
        if "Message" in err:
            out["message"] = _text(err["Message"], names)
        return out
    result = transform(recorded, names)
    if at:
        return {"outcome": "ok", "result": {at: {"$exactly": result}}}
    return {"outcome": "ok", "result": {"$exactly": result}}


def provenance(snapshot: Path, test: str, key: str, commit: str) -> dict:
    """Where a recorded answer comes from: test id, snapshot key, recording and validation dates."""
    data = json.loads(snapshot.read_text())
    full = next(k for k in data if k.endswith(test))
    validation = snapshot.with_name(snapshot.name.replace(".snapshot.", ".validation."))
    validated = json.loads(validation.read_text()).get(full, {}) if validation.exists() else {}
    return {"test": full, "snapshot_keys": [key] if isinstance(key, str) else list(key),
            "recorded_date": data[full]["recorded-date"],
            "last_validated_date": validated.get("last_validated_date"),
            "repository": LOCALSTACK, "commit": commit}


def recorded(snapshot: Path, test: str, key: str) -> dict:
    data = json.loads(snapshot.read_text())
    full = next(k for k in data if k.endswith(test))
    return data[full]["recorded-content"][key]


# ----------------------------------------------------------------------------- service-linked roles

def service_linked_roles(folder: Path, out: Path, commit: str) -> int:
    """One scenario per recorded TestIAMServiceRoles test (lifecycle, custom suffix, suffix not
    allowed): CreateServiceLinkedRole, then the calls the test snapshotted."""
    snapshot = folder / "test_iam.snapshot.json"
    data = json.loads(snapshot.read_text())
    source = f"{LOCALSTACK}/blob/{commit}/tests/aws/services/iam/test_iam.py"
    written = 0
    for full, entry in data.items():
        m = re.search(r"::TestIAMServiceRoles::(test_service_role_\w+)\[(.+)\]$", full)
        if not m:
            continue
        test, service = m.groups()
        content = entry["recorded-content"]
        steps: list[dict] = []
        suffix = "rc1"
        if test == "test_service_role_lifecycle_custom_suffix_not_allowed":
            steps.append({"id": "create", "as": "A:admin", "call": "iam:CreateServiceLinkedRole",
                          "params": {"AWSServiceName": service, "CustomSuffix": "testsuffix"},
                          "expect": expectation(content["custom-suffix-not-allowed"])})
            keys = ["custom-suffix-not-allowed"]
        else:
            role = content["describe-response"]["Role"]
            name = role["RoleName"].replace("<suffix>", suffix)
            params = {"AWSServiceName": service}
            if test == "test_service_role_lifecycle_custom_suffix":
                params["CustomSuffix"] = suffix
            steps.append({"id": "create", "as": "A:admin", "call": "iam:CreateServiceLinkedRole", "params": params,
                          "expect": {"outcome": "ok", "result": {"Role": {"RoleName": name}}}})
            names = {"<suffix>": suffix}
            get = expectation(content["describe-response"], names)
            # The test does not verify these (they depend on whether the role existed in the
            # recording account, made by the service): present or absent, any value.
            for skipped in ("RoleLastUsed", "Description", "Tags"):
                get["result"]["$exactly"]["Role"].pop(skipped, None)
            get = {"outcome": "ok", "result": {"Role": get["result"]["$exactly"]["Role"]}}
            steps.append({"id": "get", "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": name},
                          "expect": get})
            steps.append({"id": "inline", "as": "A:admin", "call": "iam:ListRolePolicies",
                          "params": {"RoleName": name}, "expect": expectation(content["inline-role-policies"], names)})
            steps.append({"id": "attached", "as": "A:admin", "call": "iam:ListAttachedRolePolicies",
                          "params": {"RoleName": name}, "expect": expectation(content["attached-role-policies"], names)})
            keys = ["describe-response", "inline-role-policies", "attached-role-policies"]
        doc = {"format": "rolecall/scenario@1",
               "description": f"AWS's recorded answer: {test} for {service}",
               "source": source,
               "recorded": provenance(snapshot, f"{test}[{service}]", keys, commit),
               "accounts": {"A": {}}, "steps": steps}
        name = f"slr-{test.replace('test_service_role_', '').replace('_', '-')}-{service.replace('.amazonaws.com', '')}.json"
        (out / name).write_text(json.dumps(doc, indent=2) + "\n")
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("expect", help="print the expectation for one recorded response")
    e.add_argument("snapshot", type=Path)
    e.add_argument("test", help="the test id's tail, e.g. TestRoleTags::test_role_tag_errors")
    e.add_argument("key", help="the snapshot key, e.g. get-role-response")
    e.add_argument("--name", action="append", default=[], help="<placeholder>=value (repeatable)")
    e.add_argument("--at", help="the response field the test snapshotted (response[AT])")
    s = sub.add_parser("service-linked-roles", help="write the TestIAMServiceRoles scenarios")
    s.add_argument("folder", type=Path, help="CHECKOUT/tests/aws/services/iam")
    s.add_argument("out", type=Path)
    s.add_argument("--commit", required=True, help="the LocalStack commit the files come from")
    args = parser.parse_args(argv)
    try:
        if args.command == "expect":
            names = dict(n.split("=", 1) for n in args.name)
            print(json.dumps(expectation(recorded(args.snapshot, args.test, args.key), names, args.at)))
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            print(f"{service_linked_roles(args.folder, args.out, args.commit)} files written to {args.out}")
    except (OSError, KeyError, StopIteration, ValueError) as exc:
        print(f"aws_recorded: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
