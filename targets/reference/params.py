"""Server-side parameter validation the way AWS does it, driven by botocore's service models.

`validate` checks a request's parameters against the model's `required`, `min`, `max`,
`pattern` and `enum` and raises `ParamValidationError` with AWS's code and message.
Whatever AWS's answer cannot be sourced for raises `NotModelled`; the caller reports
"unsupported" instead of guessing.

Message formats and their sources (AWS-recorded unless said otherwise):

* `1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy
  constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*` -- LocalStack
  snapshot `tests/aws/services/sts/test_sts.snapshot.json::test_sts_invalid_parameters`.
* `... Member must have length less than or equal to 64` -- same snapshot,
  `test_assume_role_session_name_too_long`; https://github.com/getmoto/moto/issues/9218.
* `2 validation errors detected: Value '' at 'roleArn' failed to satisfy constraint: Member
  must satisfy regular expression pattern: [...]; Value '' at 'roleArn' failed to satisfy
  constraint: Member must have length greater than or equal to 20` -- every violated
  constraint is listed, pattern before length: https://github.com/newscorpaus/consigliere/issues/18
* `... Member must have value greater than or equal to 900` --
  https://github.com/goldstack/goldstack/pull/425
* `Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null`
  (STS, missing required member) -- https://github.com/fog/fog-aws/pull/550
* IAM leaves the value out: `1 validation error detected: Value at 'maxSessionDuration'
  failed to satisfy constraint: Member must have value less than or equal to 43200` --
  https://github.com/boto/botocore/issues/3337 (2025); `Value at 'description' ... pattern`
  -- https://github.com/ministackorg/ministack/issues/1411 (2026). Older reports (2019,
  https://github.com/serverless/examples/issues/405) still showed the value.
* IAM answers a bad role/user name or path with its own sentence, e.g. `The specified value
  for roleName is invalid. It must contain only alphanumeric characters and/or the
  following: +=,.@_-` -- https://github.com/kubecost/docs/pull/36 (see `_IAM_PATTERN_MESSAGES`).
* Nested members: `tags.6.member.value` (IAM) -- https://github.com/SWO-GS/auto-tag/issues/90;
  member names are lowerCamelCase by lowering the first letter only (`SAMLOptions` ->
  `sAMLOptions`) -- https://github.com/ministryofjustice/cloud-platform-infrastructure/pull/4097
* enum violations are NotModelled: AWS's text is `Member must satisfy enum value set: [B, N,
  S]` (https://github.com/aws/aws-sdk-js/issues/979), but that lists DynamoDB's model enum
  `[S, N, B]` in another order, and no IAM or STS recording shows the order.

IAM's missing-member message (`Value at 'roleName' ... Member must not be null`) follows
the same rendering; it is weakly sourced: emulators only (versity's IAM), and fog-aws's mocks
from before IAM dropped values (`Value null at 'policyArn'`).

Lengths count code points: an unattributed public conformance suite for AWS STS expects a
lone emoji RoleSessionName to fail `min 2` (weakly sourced). Patterns use ASCII `\\w` and
must match the whole value.
"""
from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError

# one NotModelled for the whole model: AWS's answer to this input could not be sourced
from rolecall.targets.reference.policy import NotModelled

__all__ = [
    "ParamValidationError",
    "NotModelled",
    "Violation",
    "validate",
    "shape_constraints",
    "input_members",
    "compile_pattern",
    "translate_pattern",
    "wire_name",
]

SERVICES = ("iam", "sts", "s3")

# AWS's validation layer renders the offending value in STS messages but no longer in IAM's
# (sources in the module docstring).
_RENDERS_VALUE = {"sts": True, "iam": False}

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# IAM pattern violations whose answer has been observed, keyed by the member's wire path
# with list indexes removed. A value of None means AWS's generic pattern message; a string
# is IAM's own sentence ({member} is the wire name). Any other IAM pattern violation is
# NotModelled, because IAM answers some with the generic message and others with its own.
_NAME_SENTENCE = ("The specified value for {member} is invalid. It must contain only alphanumeric "
                  "characters and/or the following: +=,.@_-")
_PATH_SENTENCE = ("The specified value for {member} is invalid. It must begin and end with / and "
                  "contain only alphanumeric characters and/or / characters.")
_PATH_PREFIX_SENTENCE = ("The specified value for {member} is invalid. It must begin with the / "
                         "character and contain only alphanumeric characters and/or / characters.")
_IAM_PATTERN_MESSAGES: dict[str, str | None] = {
    # https://github.com/kubecost/docs/pull/36, https://github.com/aws/karpenter-provider-aws/pull/7524
    "roleName": _NAME_SENTENCE,
    # https://github.com/app-sre/qontract-reconcile/pull/2640
    "userName": _NAME_SENTENCE,
    # https://github.com/serverless/serverless/pull/3802, https://github.com/aws-cloudformation/cfn-lint/issues/722
    "path": _PATH_SENTENCE,
    # https://github.com/ansible-collections/amazon.aws/issues/2065
    "pathPrefix": _PATH_PREFIX_SENTENCE,
    # generic message: https://github.com/ministackorg/ministack/issues/1411
    "description": None,
    # generic message: https://github.com/SWO-GS/auto-tag/issues/90
    "tags.member.key": None,
    "tags.member.value": None,
}


class ParamValidationError(Exception):
    """AWS's answer to parameters that break the service model's constraints.

    `violations` lists every broken constraint in message order. AWS's order *across*
    members is not documented (it looks arbitrary in recordings); compare the set when more
    than one member is wrong.
    """

    def __init__(self, code: str, http_status: int, message: str, violations: tuple["Violation", ...] = ()):
        super().__init__(f"{code}: {message}")
        self.code, self.http_status, self.message = code, http_status, message
        self.violations = violations


@dataclass(frozen=True)
class Violation:
    path: str          # wire path as AWS prints it, e.g. 'roleSessionName', 'tags.1.member.key'
    constraint: str    # 'required' | 'pattern' | 'min' | 'max' | 'enum'
    text: str          # e.g. 'Member must have length less than or equal to 64'
    value: Any         # the wire value (None for a missing member)


# ---------------------------------------------------------------------------- model access

@functools.lru_cache(maxsize=None)
def _service_model(service: str):
    if service not in SERVICES:
        raise ValueError(f"service must be one of {SERVICES}, got {service!r}")
    return botocore.session.get_session().get_service_model(service)


@functools.lru_cache(maxsize=None)
def _input_shape(service: str, operation: str):
    try:
        op = _service_model(service).operation_model(operation)
    except (OperationNotFoundError, UnknownServiceError) as exc:
        raise ValueError(f"{service} has no operation {operation!r}") from exc
    return op.input_shape


def wire_name(member: str) -> str:
    """The name AWS prints for a member: lowerCamelCase by lowering the first letter only."""
    return member[:1].lower() + member[1:]


def _member_shape(service: str, operation: str, member: str):
    shape = _input_shape(service, operation)
    if shape is None or member not in shape.members:
        known = sorted(shape.members) if shape is not None else []
        raise ValueError(f"{service}:{operation} has no member {member!r}; members are {known}")
    return shape, shape.members[member]


def input_members(service: str, operation: str) -> tuple[str, ...]:
    """The operation's top-level input members, in model order."""
    shape = _input_shape(service, operation)
    return tuple(shape.members) if shape is not None else ()


def shape_constraints(service: str, operation: str, member: str) -> dict:
    """The model's constraints on one top-level input member.

    Keys: `type` (botocore type name), `required`, `min`, `max` (None when absent),
    `pattern` (compiled, or None), `pattern_text` (as the model and AWS's messages spell
    it), `enum` (tuple, empty when none).
    """
    parent, shape = _member_shape(service, operation, member)
    return _constraints(shape, required=member in parent.required_members)


def _constraints(shape, *, required: bool) -> dict:
    meta = shape.metadata
    pattern_text = meta.get("pattern")
    return {
        "type": shape.type_name,
        "required": required,
        "min": meta.get("min"),
        "max": meta.get("max"),
        "pattern": compile_pattern(pattern_text) if pattern_text is not None else None,
        "pattern_text": pattern_text,
        "enum": tuple(getattr(shape, "enum", None) or ()),
    }


# ---------------------------------------------------------------------------- patterns

@functools.lru_cache(maxsize=None)
def _major_category_ranges() -> dict[str, tuple[tuple[int, int], ...]]:
    """Code-point ranges per major Unicode category ('L', 'N', 'Z', ...), in one pass."""
    ranges: dict[str, list[list[int]]] = {}
    category = unicodedata.category
    for cp in range(sys.maxunicode + 1):
        rs = ranges.setdefault(category(chr(cp))[0], [])
        if rs and rs[-1][1] == cp - 1:
            rs[-1][1] = cp
        else:
            rs.append([cp, cp])
    return {k: tuple((lo, hi) for lo, hi in v) for k, v in ranges.items()}


def _escape_cp(cp: int) -> str:
    return f"\\U{cp:08X}"


def _class_body(ranges) -> str:
    return "".join(_escape_cp(lo) if lo == hi else f"{_escape_cp(lo)}-{_escape_cp(hi)}" for lo, hi in ranges)


_U_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4,6})")


def translate_pattern(pattern: str) -> str:
    """Rewrite a Java/Smithy pattern from the model into Python `re` syntax.

    * `\\u10000`-`\\u10FFFF`: the model writes supplementary code points with 5-6 hex digits,
      which Python would read as `\\u1000` + `0`; they become `\\U00010000`.
    * `\\p{L}`, `\\p{Z}`, `\\p{N}` (tag keys and values) become explicit code-point ranges.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "u":
                m = _U_ESCAPE.match(pattern, i)
                if m:
                    digits = m.group(1)
                    # prefer the longest reading that is a supplementary code point
                    for n in (6, 5):
                        if len(digits) >= n and 0xFFFF < int(digits[:n], 16) <= 0x10FFFF:
                            out.append(_escape_cp(int(digits[:n], 16)))
                            i += 2 + n
                            break
                    else:
                        out.append(pattern[i:i + 6])
                        i += 6
                    continue
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                end = pattern.index("}", i)
                name = pattern[i + 3:end]
                if len(name) != 1 or name not in "LMNPSZC" or nxt == "P":
                    raise NotModelled(f"pattern {pattern!r} uses \\{nxt}{{{name}}}, which is not translated")
                body = _class_body(_major_category_ranges()[name])
                out.append(body if in_class else f"[{body}]")
                i = end + 1
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            i += 1
            if pattern[i:i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i:i + 1] == "]":  # a ']' right after '[' or '[^' is a literal
                out.append("]")
                i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=None)
def compile_pattern(pattern: str) -> re.Pattern:
    """Compile a model pattern once: translated, ASCII `\\w`/`\\d` (as AWS's Java regexes);
    use `fullmatch`, because AWS matches the whole value although the model's patterns are
    unanchored."""
    return re.compile(translate_pattern(pattern), re.ASCII)


# ---------------------------------------------------------------------------- validation

def validate(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Check `params` (as passed to a boto3 client built with parameter_validation=False)
    against the model and raise what AWS answers.

    Raises `ParamValidationError` (code `ValidationError`, HTTP 400 for IAM and STS),
    `NotModelled` where AWS's answer is unsourced (wrong Python types, list-length
    violations, S3, ...), `ValueError` for an unknown service, operation or parameter.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping, got {type(params).__name__}")
    shape = _input_shape(service, operation)
    members = shape.members if shape is not None else {}
    unknown = sorted(set(params) - set(members))
    if unknown:
        # botocore's serializer raises before sending, so no server ever sees these
        raise ValueError(f"{service}:{operation} has no parameter(s) {unknown}; members are {sorted(members)}")

    if service == "s3":
        missing = [m for m in (shape.required_members if shape is not None else []) if m not in params]
        if missing:
            # S3 is REST: a missing Bucket or Key changes the URL, so no generic answer exists.
            raise NotModelled(f"s3:{operation} without required {missing}")
        return  # S3's own constraints (bucket names, ...) belong to the S3 model

    violations: list[Violation] = []
    for name, member_shape in members.items():
        path = wire_name(name)
        if name not in params:
            if name in shape.required_members:
                violations.append(Violation(path, "required", "Member must not be null", None))
            continue
        violations.extend(_check(member_shape, params[name], path, service))

    if service == "iam" and operation in ("AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy"):
        # IAM checks that PolicyArn is an ARN before its length: "pol" gets "ARN pol is not valid."
        # (recorded: LocalStack test_iam_roles.py::TestRoleManagedPolicies::test_role_managed_policy_errors,
        # existing-policy-name-provided, AWS-validated 2026-02-19)
        violations = [v for v in violations if not (v.path == "policyArn" and v.constraint == "min")]
    if not violations:
        return
    if service == "iam":
        _raise_iam(violations)
    raise ParamValidationError("ValidationError", 400, _message(service, violations), tuple(violations))


def _message(service: str, violations: list[Violation]) -> str:
    renders = _RENDERS_VALUE[service]

    def item(v: Violation) -> str:
        if not renders:
            value = "Value"
        elif v.value is None:
            value = "Value null"
        else:
            value = f"Value '{v.value}'"
        return f"{value} at '{v.path}' failed to satisfy constraint: {v.text}"

    n = len(violations)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(item(v) for v in violations)


_INDEX = re.compile(r"\.\d+\.")


def _raise_iam(violations: list[Violation]) -> None:
    patterns = [v for v in violations if v.constraint == "pattern"]
    for v in patterns:
        key = _INDEX.sub(".", v.path)
        if key not in _IAM_PATTERN_MESSAGES:
            raise NotModelled(f"IAM's answer to a pattern violation at {v.path!r} is not sourced")
        sentence = _IAM_PATTERN_MESSAGES[key]
        if sentence is not None:
            if len(violations) > 1:
                # IAM's own sentence comes from a different layer than the generic list;
                # which one wins when both apply is not sourced.
                raise NotModelled(f"IAM's answer when {v.path!r} breaks its pattern along with "
                                  f"{[w.path + ':' + w.constraint for w in violations if w is not v]} is not sourced")
            raise ParamValidationError("ValidationError", 400, sentence.format(member=v.path), (v,))
    raise ParamValidationError("ValidationError", 400, _message("iam", violations), tuple(violations))


def _check(shape, value: Any, path: str, service: str = "iam") -> list[Violation]:
    """The violations of one member's value; NotModelled when the wire form is unsourced."""
    if value is None:
        # botocore would send the string 'None'
        raise NotModelled(f"{path}=None (botocore serialises it as the string 'None'; omit the member instead)")
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if isinstance(value, (bytes, bytearray, list, tuple, dict, set)):
            raise NotModelled(f"{path}: a {type(value).__name__} for a string member")
        text = str(value)  # the Query protocol sends str(value); wire-identical to that string
        out = []
        pattern = meta.get("pattern")
        if pattern is not None and not compile_pattern(pattern).fullmatch(text):
            out.append(Violation(path, "pattern", f"Member must satisfy regular expression pattern: {pattern}", text))
        length = len(text)  # code points, as AWS counts them
        if "min" in meta and length < meta["min"]:
            out.append(Violation(path, "min", f"Member must have length greater than or equal to {meta['min']}", text))
        if "max" in meta and length > meta["max"]:
            out.append(Violation(path, "max", f"Member must have length less than or equal to {meta['max']}", text))
        enum = getattr(shape, "enum", None) or []
        if enum and text not in enum:
            raise NotModelled(f"{path}={text!r} is outside its enum; "
                              "the order AWS lists the value set in is not sourced")
        return out
    if kind in ("integer", "long"):
        number = _as_int(value, path)
        lo, hi = INT32 if kind == "integer" else INT64
        if not lo <= number <= hi:
            raise NotModelled(f"{path}={number} does not fit a {kind}")
        out = []
        if "min" in meta and number < meta["min"]:
            text = f"Member must have value greater than or equal to {meta['min']}"
            out.append(Violation(path, "min", text, str(number)))
        if "max" in meta and number > meta["max"]:
            text = f"Member must have value less than or equal to {meta['max']}"
            out.append(Violation(path, "max", text, str(number)))
        return out
    if kind == "boolean":
        if isinstance(value, bool) or value in ("true", "false"):
            return []
        raise NotModelled(f"{path}={value!r} for a boolean member")
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise NotModelled(f"{path}: a {type(value).__name__} for a list member")
        if not value:
            raise NotModelled(f"{path}=[] (botocore sends an empty '{path}=' parameter)")
        if "min" in meta and len(value) < meta["min"]:
            raise NotModelled(f"{path}: how AWS prints a list shorter than its minimum is not sourced")
        if "max" in meta and len(value) > meta["max"]:
            if service != "iam":
                raise NotModelled(f"{path}: how {service.upper()} prints a list longer than its maximum is not sourced")
            # recorded: "Value at 'tags' failed to satisfy constraint: Member must have length less
            # than or equal to 50" (LocalStack test_iam_roles.py::TestRoleTags::test_role_tag_errors)
            return [Violation(path, "max", f"Member must have length less than or equal to {meta['max']}", None)]
        out = []
        for i, item in enumerate(value, start=1):
            out.extend(_check(shape.member, item, f"{path}.{i}.member", service))
        if out and shape.member.type_name == "string" and service == "iam":
            # A list of plain strings is reported once, at the list, with every constraint of its
            # member (recorded for TagKeys: untag-role-key-too-long and untag-role-invalid-char in
            # test_role_tag_errors): max, min, pattern, not null, in this order.
            m = shape.member.metadata
            parts = []
            if "max" in m:
                parts.append(f"Member must have length less than or equal to {m['max']}")
            if "min" in m:
                parts.append(f"Member must have length greater than or equal to {m['min']}")
            if "pattern" in m:
                parts.append(f"Member must satisfy regular expression pattern: {m['pattern']}")
            parts.append("Member must not be null")
            return [Violation(path, "member", f"Member must satisfy constraint: [{', '.join(parts)}]", None)]
        return out
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise NotModelled(f"{path}: a {type(value).__name__} for a structure member")
        unknown = sorted(set(value) - set(shape.members))
        if unknown:
            raise ValueError(f"{path} has no member(s) {unknown}; members are {sorted(shape.members)}")
        out = []
        for name, child in shape.members.items():
            if name not in value:
                if name in shape.required_members:
                    # versity's IAM emulator answers MissingParameter here, others ValidationError
                    raise NotModelled(f"{path} without required {name}")
                continue
            out.extend(_check(child, value[name], f"{path}.{wire_name(name)}", service))
        return out
    if kind in ("timestamp", "blob"):
        return []  # the models put no constraints on these
    raise NotModelled(f"{path}: {kind} members are not validated")


def _as_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise NotModelled(f"{path}={value!r}: a boolean for a number member (sent as '{value}')")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) and str(int(value)) == value:
        return int(value)  # the same wire bytes as the int
    raise NotModelled(f"{path}={value!r}: AWS's answer to a non-integer for a number member is not sourced")
