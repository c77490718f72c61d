"""Validation of a policy document for its kind: the checks IAM (or S3, for a bucket policy)
makes, in the order it reports problems, with AWS's messages. `policy.parse_policy` runs them,
then compiles the statements.

Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .policy_conditions import _OPERATORS, _date, _parse_operator
from .policy_matchers import _ACCOUNT, _AWS_PRINCIPAL, _CANONICAL, _SERVICE, _UNIQUE_ID
from .policy_patterns import _compile, _flag_chars, _glob_source

# Permissions boundaries and session policies use the identity-policy grammar.
_IDENTITY_KINDS = frozenset({"identity", "boundary", "session"})
_IAM_KINDS = frozenset({"identity", "trust", "boundary", "session"})

VERSIONS = ("2012-10-17", "2008-10-17")

# The actions a role trust policy may name. IAM's text for anything else:
# "AssumeRole policy may only specify STS AssumeRole actions." (LocalStack's IAM provider;
# list per https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html,
# .../id_credentials_temp_control-access_monitor.html and the sts:SetContext action).
TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
                 "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")

# --- messages -----------------------------------------------------------------------------
# IAM (code MalformedPolicyDocument). Provenance in the shared data folder (shared/data/iam-sts-error-messages.json).
MSG_INVALID_JSON = "This policy contains invalid Json"                    # AWS-recorded (LocalStack snapshot)
MSG_SYNTAX = "Syntax errors in policy."                                    # AWS-recorded (CreatePolicy, below)
MSG_LEGACY = "The policy failed legacy parsing"                            # AWS-recorded (CreatePolicy, below)
MSG_VERSION = "Policy document must be version 2012-10-17 or greater."     # AWS-recorded (CreatePolicy, below)
# AWS-recorded: LocalStack's AWS-validated test_iam_policies.py::TestPolicyDocumentValidity
# (tests/aws/services/iam at 708a15e6aa0ecfc5dc8e91c2290d7b0abca73b41, recorded 2026-02-18),
# replayed by scenarios/aws-recorded/iam_policies-create-policy-*.json.
MSG_PRINCIPAL_IN_IDENTITY = "Policy document should not specify a principal."  # AWS-recorded
MSG_SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."  # moto, believed AWS
MSG_SID_ALNUM = ("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
                 "regular expression [0-9A-Za-z]*")                         # weak: remembered AWS text
MSG_NO_ACTIONS = "Policy statement must contain actions."                  # moto, believed AWS
MSG_NO_RESOURCES = "Policy statement must contain resources."              # moto, believed AWS
MSG_VENDOR_PREFIX = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
MSG_ONE_COLON = "Actions/Condition can contain only one colon."
MSG_VENDOR_INVALID = "Vendor {vendor} is not valid"
MSG_RESOURCE_ARN = 'Resource {resource} must be in ARN format or "*".'
MSG_RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
MSG_PARTITION = 'Partition "{partition}" is not valid for resource "{resource}".'
MSG_IAM_REGION = "IAM resource {resource} cannot contain region information."
MSG_S3_REGION = "Resource {resource} can not contain region information."
MSG_IAM_PATH = ('IAM resource path must either be "*", root, or start with user/, federated-user/, role/, group/, '
                'instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, '
                'oidc-provider/, report/, access-report/.')  # AWS-recorded (invalid-35, 2026-02-18)
MSG_TRUST_ACTIONS = "AssumeRole policy may only specify STS AssumeRole actions."
MSG_PROHIBITED = "Has prohibited field {field}"                            # moto/LocalStack
MSG_NO_PRINCIPALS = ("Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
                     "The passed in policy has a statement with no principals!")  # AWS-recorded
MSG_INVALID_PRINCIPAL = 'Invalid principal in policy: "{type}":"{value}"'  # AWS-recorded ("AWS":"arn:...")
# S3 PutBucketPolicy (code MalformedPolicy); AWS output pasted in public issues.
S3_INVALID_JSON = "Policies must be valid JSON and the first byte must be '{'"
S3_MISSING = "Missing required field {field}"
S3_EMPTY_PRINCIPAL = "Missing required field Principal cannot be empty!"
S3_INVALID_PRINCIPAL = "Invalid principal in policy"
S3_INVALID_ACTION = "Policy has invalid action"
S3_INVALID_RESOURCE = "Policy has invalid resource"


class MalformedPolicy(Exception):
    """IAM (or S3) rejects the document: `.code` is the AWS error code ('MalformedPolicyDocument',
    or 'MalformedPolicy' for a bucket policy) and `.message` AWS's text."""

    def __init__(self, message: str, code: str = "MalformedPolicyDocument"):
        super().__init__(message)
        self.message = message
        self.code = code


# --- parsing and validation ---------------------------------------------------------------

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                             "Principal", "NotPrincipal", "Condition"})
_SID = re.compile(r"[A-Za-z0-9]*", re.ASCII)
_VENDOR = re.compile(r"[a-zA-Z0-9\-.]+", re.ASCII)
_IAM_RESOURCE_PREFIXES = ("user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
                          "server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/",
                          "report/", "access-report/")


class _Parser:
    def __init__(self, kind: str):
        self.kind = kind
        self.code = "MalformedPolicy" if kind == "bucket" else "MalformedPolicyDocument"

    def fail(self, message: str) -> MalformedPolicy:
        return MalformedPolicy(message, self.code)

    def syntax(self) -> MalformedPolicy:
        return self.fail(MSG_SYNTAX)

    # Each phase checks every statement before the next phase runs, so a document with two
    # problems reports the one IAM reports first (the order follows moto's validator).

    def load(self, document: str | dict) -> dict:
        if isinstance(document, (bytes, bytearray)):
            document = document.decode("utf-8", errors="replace")
        if isinstance(document, str):
            try:
                doc = json.loads(document)
            except ValueError:
                raise self.fail(S3_INVALID_JSON if self.kind == "bucket" else MSG_INVALID_JSON) from None
        elif isinstance(document, dict):
            try:
                doc = json.loads(json.dumps(document))
            except (TypeError, ValueError):
                raise self.syntax() from None
        else:
            raise TypeError(f"document must be a JSON string or a dict, not {type(document).__name__}")
        if not isinstance(doc, dict):
            raise self.syntax()
        return doc

    def statements(self, doc: dict) -> list[dict]:
        for k in doc:
            if k not in _TOP_KEYS:
                raise self.syntax()
        if "Version" in doc and doc["Version"] not in VERSIONS:
            raise self.syntax()
        if "Id" in doc and not isinstance(doc["Id"], str):
            raise self.syntax()
        raw = doc.get("Statement")
        stmts = [raw] if isinstance(raw, dict) else raw
        if not isinstance(stmts, list) or not stmts:
            raise self.syntax()
        for st in stmts:
            self.statement_syntax(st)
        return stmts

    @staticmethod
    def _strings(value: Any) -> bool:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(x, str) for x in value))

    def statement_syntax(self, st: Any) -> None:
        if not isinstance(st, dict):
            raise self.syntax()
        for k in st:
            if k not in _STATEMENT_KEYS:
                raise self.syntax()
        for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if a in st and b in st:
                raise self.syntax()
        effect = st.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            raise self.syntax()
        for k in ("Action", "NotAction", "Resource", "NotResource"):
            if k in st and not self._strings(st[k]):
                raise self.syntax()
        if "Sid" in st and not isinstance(st["Sid"], str):
            raise self.syntax()
        for k in ("Principal", "NotPrincipal"):
            if k in st:
                p = st[k]
                if isinstance(p, str):
                    if p != "*":
                        raise self.syntax()
                elif isinstance(p, dict):
                    for v in p.values():
                        if not self._strings(v):
                            raise self.syntax()
                else:
                    raise self.syntax()
        if "Condition" in st:
            self.condition_syntax(st["Condition"])

    def condition_syntax(self, cond: Any) -> None:
        if not isinstance(cond, dict):
            raise self.syntax()
        for op, block in cond.items():
            if not isinstance(block, dict):
                raise self.syntax()
            for values in block.values():
                items = values if isinstance(values, list) else [values]
                for v in items:
                    if not isinstance(v, (str, bool, int, float)):
                        raise self.syntax()
            # Unknown operators are an error. IAM tolerates one with an empty block, which
            # can have no effect on a decision (moto's AWS-derived valid documents).
            if block and _parse_operator(op) is None:
                raise self.syntax()

    def legacy(self, stmts: list[dict]) -> None:
        # Effect is case-sensitive, and date values must parse
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html).
        for st in stmts:
            if st["Effect"] not in ("Allow", "Deny"):
                raise self.fail(MSG_LEGACY)
            # An aws-partition ARN of four or five parts, or without a service, fails legacy parsing
            # before anything else is checked (AWS-recorded: invalid-36, 37, 68, 71, 77; while
            # valid-9 shows "arn:aws:fdsasf", three parts, accepted).
            for key in ("Resource", "NotResource") if self.kind != "bucket" else ():
                values = st.get(key)
                for r in (values if isinstance(values, list) else [values]):
                    if isinstance(r, str) and r != "*" and ":" in r:
                        parts = r.split(":")
                        if parts[1] == "aws" and len(parts) >= 3 and (4 <= len(parts) < 6 or parts[2] == ""):
                            raise self.fail(MSG_LEGACY)
            for op, block in st.get("Condition", {}).items():
                parsed = _parse_operator(op)
                if parsed is None or not _OPERATORS[parsed[1]][0].startswith("date_"):
                    continue
                for values in block.values():
                    for v in (values if isinstance(values, list) else [values]):
                        if _date(_condition_text(v)) is None:
                            raise self.fail(MSG_LEGACY)

    def elements(self, stmts: list[dict]) -> None:
        kind = self.kind
        for st in stmts:
            if kind in _IDENTITY_KINDS:
                if "Principal" in st or "NotPrincipal" in st:
                    raise self.fail(MSG_PRINCIPAL_IN_IDENTITY)
            elif kind == "trust":
                for f in ("Resource", "NotResource", "NotPrincipal"):
                    # NotPrincipal is not allowed in trust policies
                    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
                    if f in st:
                        raise self.fail(MSG_PROHIBITED.format(field=f))
                if "Principal" not in st or _empty_principal(st["Principal"]):
                    raise self.fail(MSG_NO_PRINCIPALS)
            else:  # bucket
                if "Principal" not in st and "NotPrincipal" not in st:
                    raise self.fail(S3_MISSING.format(field="Principal"))
                if _empty_principal(st.get("Principal", st.get("NotPrincipal"))):
                    raise self.fail(S3_EMPTY_PRINCIPAL)
                if "Action" not in st and "NotAction" not in st:
                    raise self.fail(S3_MISSING.format(field="Action"))
                if "Resource" not in st and "NotResource" not in st:
                    raise self.fail(S3_MISSING.format(field="Resource"))

    def sids(self, stmts: list[dict]) -> None:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        if self.kind not in _IAM_KINDS:
            return
        seen: set[str] = set()
        for st in stmts:
            sid = st.get("Sid")
            if sid is None:
                continue
            if not _SID.fullmatch(sid):
                raise self.fail(MSG_SID_ALNUM)
        for st in stmts:
            sid = st.get("Sid")
            if sid:
                if sid in seen:
                    raise self.fail(MSG_SID_UNIQUE)
                seen.add(sid)

    def required(self, stmts: list[dict]) -> None:
        for st in stmts:
            acts = st.get("Action", st.get("NotAction"))
            if acts is None or acts == []:
                raise self.fail(S3_MISSING.format(field="Action") if self.kind == "bucket" else MSG_NO_ACTIONS)
        if self.kind in _IDENTITY_KINDS or self.kind == "bucket":
            for st in stmts:
                res = st.get("Resource", st.get("NotResource"))
                if res is None or res == []:
                    raise self.fail(S3_MISSING.format(field="Resource") if self.kind == "bucket"
                                    else MSG_NO_RESOURCES)

    def resources(self, stmts: list[dict]) -> None:
        for st in stmts:
            for key in ("Resource", "NotResource"):
                if key not in st:
                    continue
                for r in _as_list(st[key]):
                    if self.kind == "bucket":
                        if r != "*" and not r.startswith("arn:aws:s3:::"):
                            raise self.fail(S3_INVALID_RESOURCE)
                    elif (err := _resource_error(r)) is not None:
                        raise self.fail(err)

    def actions(self, stmts: list[dict]) -> None:
        for st in stmts:
            for key in ("Action", "NotAction"):
                for a in _as_list(st.get(key, [])):
                    if a == "*":
                        continue
                    parts = a.split(":")
                    if len(parts) == 1:
                        raise self.fail(MSG_VENDOR_PREFIX)
                    if len(parts) > 2:
                        raise self.fail(MSG_ONE_COLON)
                    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
                        raise self.fail(MSG_VENDOR_INVALID.format(vendor=parts[0]))
                    if self.kind == "bucket" and parts[0].lower() not in ("s3", "*"):
                        raise self.fail(S3_INVALID_ACTION)
                    if self.kind == "trust" and not _trust_action_ok(a, key == "NotAction"):
                        raise self.fail(MSG_TRUST_ACTIONS)

    def principal_values(self, st: dict) -> tuple[list[tuple[str, str]], bool]:
        """Validated (type, value) pairs of the statement's Principal/NotPrincipal, and whether
        it is the bare "*"."""
        p = st.get("Principal", st.get("NotPrincipal"))
        if p is None:
            return [], False
        if p == "*":
            return [("AWS", "*")], True
        out: list[tuple[str, str]] = []
        for typ, values in p.items():
            for v in _as_list(values):
                if not _principal_ok(typ, v, self.kind):
                    if self.kind == "bucket":
                        raise self.fail(S3_INVALID_PRINCIPAL)
                    raise self.fail(MSG_INVALID_PRINCIPAL.format(type=typ.upper(), value=v))
                out.append((typ, v))
        return out, False


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _empty_principal(p: Any) -> bool:
    if p is None or p == {}:
        return True
    return isinstance(p, dict) and all(_as_list(v) == [] for v in p.values())


def _condition_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return v


def _resource_error(r: str) -> str | None:
    """IAM's resource ARN format checks (messages from moto's AWS-derived validator)."""
    if r == "*":
        return None
    if ":" not in r:
        return MSG_RESOURCE_ARN.format(resource=r)
    parts = r.split(":")
    partition = parts[1]
    if partition != "aws":
        rest = parts[2:] + ["*"] * (4 - len(parts[2:]))
        if len(parts) > 6:
            rest = parts[2:5] + [":".join(parts[5:])]
        rest = [x if x != "" or len(parts) > 3 else "*" for x in rest]
        return MSG_PARTITION.format(partition=partition, resource=f"arn:{partition}:" + ":".join(rest))
    if len(parts) < 3:
        return MSG_RESOURCE_VENDOR
    service = parts[2]
    region = parts[3] if len(parts) > 3 else ""
    if service == "iam" and region:
        return MSG_IAM_REGION.format(resource=r)
    if service == "s3" and region and not (len(parts) > 5 and parts[5].startswith("accesspoint/")):
        # an S3 access point's ARN names its region (AWS-recorded: valid-50 accepts
        # arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point)
        return MSG_S3_REGION.format(resource=r)
    if service == "iam" and len(parts) > 5:
        path = ":".join(parts[5:])
        if path not in ("*", "root") and not path.startswith(_IAM_RESOURCE_PREFIXES):
            return MSG_IAM_PATH
    return None


def _trust_action_ok(action: str, negated: bool) -> bool:
    """A trust policy's actions must be STS AssumeRole-family actions. "*" is accepted (as
    LocalStack's IAM does); a wildcard is accepted when it covers at least one of them."""
    if action == "*":
        return True
    vendor, _, name = action.partition(":")
    if vendor.lower() != "sts":
        return False
    if negated:
        return True
    rx = _compile(_glob_source(_flag_chars([(action.lower(), True)])))
    return any(rx.fullmatch(a.lower()) for a in TRUST_ACTIONS)


def _principal_ok(typ: str, v: str, kind: str) -> bool:
    """No partial wildcards: only "*" exactly, and only for AWS
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)."""
    if typ == "AWS":
        if v == "*":
            return True
        if "*" in v or "?" in v:
            return False
        return bool(_ACCOUNT.fullmatch(v) or _AWS_PRINCIPAL.fullmatch(v) or _UNIQUE_ID.fullmatch(v))
    if typ == "Service":
        return bool(_SERVICE.fullmatch(v))
    if typ == "Federated":
        return bool(v) and "*" not in v and "?" not in v
    if typ == "CanonicalUser":
        return kind == "bucket" and bool(_CANONICAL.fullmatch(v))
    return False
