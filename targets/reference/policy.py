"""The IAM policy language for the reference model: parse and validate a policy document for
its kind, compile its matchers once, and tell which statements match a request.

Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html.
Each rule below cites the AWS page it encodes; tests/test_policy_language.py checks them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .condition_keys import is_known_condition_key

__all__ = [
    "POLICY_KINDS", "MalformedPolicy", "NotModelled", "Statement", "Policy", "Principal", "Request",
    "parse_policy", "matching_statements",
]

POLICY_KINDS = ("identity", "trust", "bucket", "boundary", "session")
# Permissions boundaries and session policies use the identity-policy grammar.
_IDENTITY_KINDS = frozenset({"identity", "boundary", "session"})
_IAM_KINDS = frozenset({"identity", "trust", "boundary", "session"})

VERSIONS = ("2012-10-17", "2008-10-17")
VARIABLES_VERSION = "2012-10-17"  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

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


class NotModelled(Exception):
    """The model does not know an operator or condition key it would need; the caller reports
    `unsupported`, never allow/deny."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# --- request side -------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who is making the request, as a Principal element sees it.

    `arn` is the user ARN, session ARN (arn:aws:sts::A:assumed-role/R/S), root ARN, or the
    service name for a service. `federated` (the IdP ARN or name, for AssumeRoleWithSAML or
    AssumeRoleWithWebIdentity callers) and `canonical_user` (S3) are optional extras.
    """
    arn: str
    account: str | None
    unique_id: str | None
    role_arn: str | None = None
    service: str | None = None
    federated: str | None = None
    canonical_user: str | None = None
    #: an IAM user or role with a permissions boundary (see `matching_statements`)
    bounded: bool = False


@dataclass
class Request:
    action: str                      # "sts:AssumeRole"
    resource: str                    # ARN
    principal: Principal | None      # None: an anonymous caller
    context: dict[str, list[str]]    # lower-cased condition key -> values; absent key = not in dict


# --- wildcard patterns and policy variables -----------------------------------------------
# A pattern is compiled from tokens: ("t", text) policy text, in which * and ? are wildcards
# for the Like operators; ("c", ch) a literal character from ${*} ${?} ${$}; ("v", key, default,
# text as written) a policy variable. Variables are resolved per request; text without them compiles once.

_VAR = re.compile(r"\$\{([^}]*)\}")
_VAR_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _tokenize(text: str, variables: bool) -> list[tuple]:
    if not variables or "${" not in text:
        return [("t", text)]
    tokens: list[tuple] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            tokens.append(("t", text[pos:m.start()]))
        body = m.group(1)
        if body in _ESCAPES:
            tokens.append(("c", _ESCAPES[body]))
        else:
            vm = _VAR_BODY.fullmatch(body)
            if vm is None:  # not a variable AWS would recognise: keep the text as written
                tokens.append(("t", m.group(0)))
            else:
                tokens.append(("v", vm.group(1).lower(), vm.group(2), m.group(0)))
        pos = m.end()
    if pos < len(text):
        tokens.append(("t", text[pos:]))
    return tokens


def _has_vars(tokens: list[tuple]) -> bool:
    return any(t[0] == "v" for t in tokens)


def _resolve(tokens: list[tuple], ctx: dict[str, list[str]]) -> list[tuple[str, bool]] | None:
    """Pieces (text, is_policy_text), or None when a variable cannot be resolved.

    Only single-valued keys can be variables
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
    """
    out: list[tuple[str, bool]] = []
    for tok in tokens:
        kind = tok[0]
        if kind == "t":
            out.append((tok[1], True))
        elif kind == "c":
            out.append((tok[1], False))
        else:
            values = ctx.get(tok[1])
            if values is not None and len(values) == 1:
                out.append((values[0], False))
            elif tok[2] is not None and not values:
                out.append((tok[2], False))
            else:
                return None
    return out


def _flat(pieces: list[tuple[str, bool]]) -> str:
    return "".join(text for text, _ in pieces)


def _flag_chars(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Each character with whether it is a wildcard (* or ? written in the policy)."""
    return [(ch, wild and ch in "*?") for text, wild in pieces for ch in text]


def _glob_source(chars: list[tuple[str, bool]]) -> str:
    out = []
    for ch, wild in chars:
        out.append((".*" if ch == "*" else ".") if wild else re.escape(ch))
    return "".join(out)


def _arn_source(chars: list[tuple[str, bool]]) -> str:
    """ARN glob: the first five colon-separated segments are matched separately (a wildcard
    does not cross ':'); the resource part may contain anything, '/' and ':' included
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html,
    .../reference_policies_elements_condition_operators.html#Conditions_ARN). A pattern with
    fewer than six segments is matched as a plain glob."""
    segments: list[list[tuple[str, bool]]] = [[]]
    for ch, wild in chars:
        if ch == ":" and len(segments) < 6:
            segments.append([])
        else:
            segments[-1].append((ch, wild))
    if len(segments) < 6:
        return _glob_source(chars)
    parts = []
    for i, seg in enumerate(segments):
        last = i == 5
        out = []
        for ch, wild in seg:
            if wild:
                out.append((".*" if last else "[^:]*") if ch == "*" else ("." if last else "[^:]"))
            else:
                out.append(re.escape(ch))
        parts.append("".join(out))
    return ":".join(parts)


_REGEX_CACHE: dict[tuple[str, int], re.Pattern] = {}


def _compile(source: str, flags: int = 0) -> re.Pattern:
    key = (source, flags)
    rx = _REGEX_CACHE.get(key)
    if rx is None:
        if len(_REGEX_CACHE) > 4096:
            _REGEX_CACHE.clear()
        rx = _REGEX_CACHE[key] = re.compile(source, flags | re.DOTALL)
    return rx


_PIECES_CACHE: dict[tuple, re.Pattern] = {}


def _pieces_regex(pieces: list[tuple[str, bool]], arn: bool) -> re.Pattern:
    """The compiled pattern for resolved pieces (cached: the same variable values recur)."""
    key = (arn, *pieces)
    rx = _PIECES_CACHE.get(key)
    if rx is None:
        if len(_PIECES_CACHE) > 4096:
            _PIECES_CACHE.clear()
        chars = _flag_chars(pieces)
        rx = _PIECES_CACHE[key] = _compile(_arn_source(chars) if arn else _glob_source(chars))
    return rx


def _alternation(sources: list[str], flags: int = 0) -> re.Pattern | None:
    if not sources:
        return None
    return _compile("|".join(f"(?:{s})" for s in sources), flags)


# --- Action -------------------------------------------------------------------------------

class _ActionMatcher:
    """Action names are case-insensitive; * and ? are wildcards
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html)."""
    __slots__ = ("all", "names", "regex")

    def __init__(self, patterns: list[str]):
        self.all = "*" in patterns
        self.names = frozenset(p.lower() for p in patterns if "*" not in p and "?" not in p)
        wild = [p.lower() for p in patterns if ("*" in p or "?" in p)]
        self.regex = _alternation([_glob_source(_flag_chars([(p, True)])) for p in wild])

    def match(self, action_lower: str) -> bool:
        if self.all or action_lower in self.names:
            return True
        return self.regex is not None and self.regex.fullmatch(action_lower) is not None


# --- Resource -----------------------------------------------------------------------------

def _resource_tokens(text: str, variables: bool) -> list[tuple]:
    """Variables count only in the resource part of the ARN, after the fifth colon
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-resourceelement);
    elsewhere `${...}` stays as written."""
    tokens = _tokenize(text, variables)
    if not _has_vars(tokens):
        return tokens
    colons = 0
    out: list[tuple] = []
    for tok in tokens:
        if tok[0] == "v" and colons < 5:
            out.append(("t", tok[3]))
            continue
        if tok[0] == "t":
            colons += tok[1].count(":")
        out.append(tok)
    return out


class _ResourceMatcher:
    """Resource ARNs match case-sensitively; `*` alone matches every resource."""
    __slots__ = ("all", "regex", "dynamic")

    def __init__(self, patterns: list[str], variables: bool):
        self.all = "*" in patterns
        static: list[str] = []
        self.dynamic: list[list[tuple]] = []
        for p in patterns:
            tokens = _resource_tokens(p, variables)
            if _has_vars(tokens):
                self.dynamic.append(tokens)
            else:
                static.append(_arn_source(_flag_chars(_resolve(tokens, {}))))
        self.regex = _alternation(static)

    def match(self, resource: str, ctx: dict[str, list[str]]) -> bool | None:
        """True if some pattern matches, None if none does and a variable was unresolvable."""
        if self.all:
            return True
        if self.regex is not None and self.regex.fullmatch(resource) is not None:
            return True
        unresolved = False
        for tokens in self.dynamic:
            pieces = _resolve(tokens, ctx)
            if pieces is None:
                unresolved = True
            elif _pieces_regex(pieces, True).fullmatch(resource) is not None:
                return True
        return None if unresolved else False


# --- Principal ----------------------------------------------------------------------------

_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_NAME = r"[\w+=,.@-]+"
_PATH = r"(?:/[\x21-\x7e]*)?/"  # IAM path: / or /a/b/
_AWS_PRINCIPAL = re.compile(
    r"arn:aws(?:-[a-z]+)*:(?:"
    rf"iam::\d{{12}}:(?:root|user{_PATH}{_NAME}|role{_PATH}{_NAME})"
    rf"|sts::\d{{12}}:(?:assumed-role/{_NAME}/{_NAME}|federated-user/{_NAME})"
    r")", re.ASCII)
_UNIQUE_ID = re.compile(r"(?:AIDA|AROA)[A-Z0-9]{12,124}", re.ASCII)
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+", re.ASCII | re.IGNORECASE)
_CANONICAL = re.compile(r"[0-9a-f]{64}", re.ASCII)
_ROOT = re.compile(r"arn:aws(?:-[a-z]+)*:iam::(\d{12}):root", re.ASCII)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class _PrincipalMatcher:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"""
    __slots__ = ("star", "aws_star", "accounts", "arns", "role_arns", "unique_ids", "services",
                 "federated", "canonical")

    def __init__(self, values: list[tuple[str, str]], star: bool):
        self.star = star                 # "Principal": "*": everyone, services included
        self.aws_star = False            # {"AWS": "*"}: every AWS identity and anonymous callers
        self.accounts: set[str] = set()
        self.arns: set[str] = set()
        self.role_arns: set[str] = set()
        self.unique_ids: set[str] = set()
        self.services: set[str] = set()
        self.federated: set[str] = set()
        self.canonical: set[str] = set()
        for typ, v in values:
            if typ == "AWS":
                if v == "*":
                    self.aws_star = True
                elif _ACCOUNT.fullmatch(v):
                    self.accounts.add(v)
                elif (m := _ROOT.fullmatch(v)) is not None:
                    self.accounts.add(m.group(1))
                elif ":role/" in v:
                    self.role_arns.add(v)
                elif v.startswith("arn:"):
                    self.arns.add(v)
                else:
                    self.unique_ids.add(v)
            elif typ == "Service":
                self.services.add(v)
            elif typ == "Federated":
                self.federated.add(v)
            else:
                self.canonical.add(v)

    def match(self, p: Principal | None) -> bool:
        if self.star:
            return True
        if p is None:  # anonymous: "*" and {"AWS": "*"} are equivalent for anonymous users
            return self.aws_star
        if p.service is not None:
            return p.service in self.services
        if p.federated is not None:
            return p.federated in self.federated
        if p.canonical_user is not None and p.canonical_user in self.canonical:
            return True
        if self.aws_star:
            return True
        # An account principal (ID or root ARN) delegates to the whole account.
        if p.account is not None and p.account in self.accounts:
            return True
        if p.arn in self.arns:
            return True
        if p.role_arn is not None and p.role_arn in self.role_arns:
            return True
        return p.unique_id is not None and p.unique_id in self.unique_ids


# --- Condition ----------------------------------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

# base operator -> (family, negated)
_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("str", False), "StringNotEquals": ("str", True),
    "StringEqualsIgnoreCase": ("stri", False), "StringNotEqualsIgnoreCase": ("stri", True),
    "StringLike": ("like", False), "StringNotLike": ("like", True),
    "NumericEquals": ("num_eq", False), "NumericNotEquals": ("num_eq", True),
    "NumericLessThan": ("num_lt", False), "NumericLessThanEquals": ("num_le", False),
    "NumericGreaterThan": ("num_gt", False), "NumericGreaterThanEquals": ("num_ge", False),
    "DateEquals": ("date_eq", False), "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False), "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False), "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False), "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False), "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True), "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}
# Policy variables work with the string and ARN operators
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-conditionelement)
# and, per the condition-operators page, with Bool. Elsewhere ${...} is literal text.
_VARIABLE_FAMILIES = frozenset({"str", "stri", "like", "arn", "bool"})


def _parse_operator(name: str) -> tuple[str | None, str, bool] | None:
    """(set operator 'all'|'any'|None, base operator, IfExists) or None when unknown.

    IfExists goes with every operator except Null; ForAllValues:/ForAnyValue: qualify any
    operator except Null (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html).
    """
    set_op = None
    if name.startswith("ForAllValues:"):
        set_op, name = "all", name[len("ForAllValues:"):]
    elif name.startswith("ForAnyValue:"):
        set_op, name = "any", name[len("ForAnyValue:"):]
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[:-len("IfExists")]
    if name not in _OPERATORS:
        return None
    if name == "Null" and (if_exists or set_op is not None):
        return None
    return set_op, name, if_exists


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_EPOCH = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def _number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _date(text: str) -> float | None:
    """Seconds since the epoch, from epoch seconds or a W3C ISO 8601 date/time
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
    A value without 'T' or '-' is epoch time (as IAM's legacy parser reads it)."""
    s = text.strip()
    low = s.lower()
    if "t" not in low and "-" not in low:
        return float(s) if _EPOCH.fullmatch(s) else None
    if (m := _YEAR_MONTH.fullmatch(s)) is not None:
        s = f"{m.group(1)}-{m.group(2)}-01"
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _ip_network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)  # a bare address is /32 or /128
    except ValueError:
        return None


_ORDER = {
    "eq": lambda a, b: a == b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}


class _ValueMatcher:
    """`match(request_value, ctx)`: True if the value matches some policy value, False if it
    matches none, None if it matches none and some comparison was impossible (an unparseable
    value or an unresolvable policy variable). None fails both plain and negated operators."""
    __slots__ = ("family", "static", "regex", "dynamic", "parsed", "cmp")

    def __init__(self, family: str, values: list[str], variables: bool):
        self.family = family
        self.static: frozenset[str] = frozenset()
        self.regex = None
        self.dynamic: list[list[tuple]] = []
        self.parsed: list[Any] = []
        self.cmp = None
        use_vars = variables and family in _VARIABLE_FAMILIES
        if family in ("str", "stri", "like", "arn", "bool"):
            resolved: list[list[tuple[str, bool]]] = []
            for v in values:
                tokens = _tokenize(v, use_vars)
                if _has_vars(tokens):
                    self.dynamic.append(tokens)
                else:
                    resolved.append(_resolve(tokens, {}))
            if family == "str":
                self.static = frozenset(_flat(p) for p in resolved)
            elif family in ("stri", "bool"):
                self.static = frozenset(_flat(p).lower() for p in resolved)
            elif family == "like":
                self.regex = _alternation([_glob_source(_flag_chars(p)) for p in resolved])
            else:
                self.regex = _alternation([_arn_source(_flag_chars(p)) for p in resolved])
        elif family.startswith("num_"):
            self.parsed = [_number(v) for v in values]
            self.cmp = _ORDER[family[4:]]
        elif family.startswith("date_"):
            self.parsed = [_date(v) for v in values]
            self.cmp = _ORDER[family[5:]]
        elif family == "binary":
            self.parsed = [_binary(v) for v in values]
        elif family == "ip":
            self.parsed = [_ip_network(v) for v in values]

    def match(self, value: str, ctx: dict[str, list[str]]) -> bool | None:
        family = self.family
        unresolved = False
        if family in ("str", "stri", "bool"):
            v = value if family == "str" else value.lower()
            if v in self.static:
                return True
            for tokens in self.dynamic:
                pieces = _resolve(tokens, ctx)
                if pieces is None:
                    unresolved = True
                    continue
                text = _flat(pieces)
                if (text if family == "str" else text.lower()) == v:
                    return True
        elif family in ("like", "arn"):
            if self.regex is not None and self.regex.fullmatch(value) is not None:
                return True
            arn = family == "arn"
            for tokens in self.dynamic:
                pieces = _resolve(tokens, ctx)
                if pieces is None:
                    unresolved = True
                elif _pieces_regex(pieces, arn).fullmatch(value) is not None:
                    return True
        else:
            if family.startswith("num_"):
                rv = _number(value)
            elif family.startswith("date_"):
                rv = _date(value)
            elif family == "binary":
                rv = _binary(value)
            else:
                try:
                    rv = ipaddress.ip_address(value.strip())
                except ValueError:
                    rv = None
            if rv is None:
                return None
            for pv in self.parsed:
                if pv is None:
                    unresolved = True
                elif family == "ip":
                    if rv.version == pv.version and rv in pv:
                        return True
                elif family == "binary":
                    if rv == pv:
                        return True
                elif self.cmp(rv, pv):
                    return True
        return None if unresolved else False


@dataclass(frozen=True)
class _Condition:
    operator: str            # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str                 # lower case
    set_op: str | None       # "all" | "any" | None
    if_exists: bool
    negated: bool
    null_wants: tuple[bool, ...] | None   # Null: for each policy value, True = "key is absent"
    matcher: _ValueMatcher | None = field(compare=False)

    def holds(self, ctx: dict[str, list[str]]) -> bool:
        values = ctx.get(self.key)
        if self.null_wants is not None:
            absent = not values  # a key with an empty value counts as null
            return absent in self.null_wants
        if not values:
            # Missing key: false, except IfExists (true) and the negated operators (true);
            # ForAllValues is true and ForAnyValue false on a missing or empty key
            # (condition_operators.html "Important"; multi-value-conditions.html), and a set
            # operator decides before IfExists: AWS denies under an Allow with
            # ForAnyValue:StringEqualsIfExists on an absent key (a real-AWS report,
            # https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w; iam-simulate agrees;
            # docs/decisions.md 26).
            if self.set_op == "all":
                return True
            if self.set_op == "any":
                return False
            if self.if_exists:
                return True
            return self.negated
        m = self.matcher
        want = not self.negated  # a negated operator holds for a value that matches no policy value (NOR)
        if self.set_op == "all":
            for v in values:
                if m.match(v, ctx) is not want:
                    return False
            return True
        if self.set_op == "any":
            for v in values:
                if m.match(v, ctx) is want:
                    return True
            return False
        # No set operator on a multivalued key: a plain operator holds if any value
        # matches; a negated one only if no value matches.
        if self.negated:
            for v in values:
                if m.match(v, ctx) is not False:
                    return False
            return True
        for v in values:
            if m.match(v, ctx) is True:
                return True
        return False


# --- policy and statement -----------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str                                  # "Allow" | "Deny"
    actions: tuple[str, ...]                     # from Action, or NotAction when not_action
    not_action: bool
    resources: tuple[str, ...] | None            # None: no Resource element (trust policy)
    not_resource: bool
    principal_values: tuple[tuple[str, str], ...]  # (type, value) from Principal or NotPrincipal
    not_principal: bool
    has_principal: bool                          # a Principal or NotPrincipal element exists
    conditions: tuple[_Condition, ...] = field(default=(), repr=False)
    _action: _ActionMatcher | None = field(default=None, repr=False, compare=False)
    _resource: _ResourceMatcher | None = field(default=None, repr=False, compare=False)
    _principal: _PrincipalMatcher | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Policy:
    version: str | None
    statements: tuple[Statement, ...]
    kind: str
    document: dict = field(compare=False, hash=False, repr=False)

    def principals(self) -> list[tuple[str, str]]:
        """(type, value) pairs named in Principal/NotPrincipal, in document order, without
        duplicates; `"Principal": "*"` appears as ("AWS", "*")."""
        seen: dict[tuple[str, str], None] = {}
        for st in self.statements:
            for pv in st.principal_values:
                seen.setdefault(pv, None)
        return list(seen)

    def with_principals_replaced(self, mapping: dict[str, str]) -> "Policy":
        """A copy whose Principal/NotPrincipal values are replaced through `mapping` (IAM stores
        user and role ARNs in a trust policy as unique IDs, AIDA.../AROA...)."""
        doc = json.loads(json.dumps(self.document))
        stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for st in stmts:
            for elem in ("Principal", "NotPrincipal"):
                p = st.get(elem)
                if not isinstance(p, dict):
                    continue
                for typ, v in p.items():
                    if isinstance(v, str):
                        p[typ] = mapping.get(v, v)
                    elif isinstance(v, list):
                        p[typ] = [mapping.get(x, x) if isinstance(x, str) else x for x in v]
        return parse_policy(doc, self.kind)

    def without_conditions(self) -> "Policy":
        """The same policy with every Condition removed (to tell 'the condition failed' from
        'nothing matched' when explaining a decision)."""
        return replace(self, statements=tuple(replace(st, conditions=()) for st in self.statements))


def matching_statements(policy: Policy, request: Request) -> list[Statement]:
    """Statements whose Action/NotAction, Resource/NotResource (absent in a trust policy: the
    role is implied), Principal/NotPrincipal (when present) and Condition all match."""
    action = request.action.lower()
    ctx = request.context
    out = []
    for st in policy.statements:
        if st._action.match(action) is st.not_action:
            continue
        r = st._resource
        if r is not None:
            hit = r.match(request.resource, ctx)
            if st.not_resource:
                if hit is not False:
                    continue
            elif hit is not True:
                continue
        p = st._principal
        if p is not None and p.match(request.principal) is st.not_principal and not (
                st.not_principal and st.effect == "Deny" and request.principal is not None
                and request.principal.bounded):
            # A Deny with NotPrincipal "will always deny any IAM principal that has a permissions
            # boundary policy attached, regardless of the values specified in the NotPrincipal
            # element" (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
            continue
        if st.conditions:
            ok = True
            for c in st.conditions:
                if not c.holds(ctx):
                    ok = False
                    break
            if not ok:
                continue
        out.append(st)
    return out


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


def parse_policy(document: str | dict, kind: str) -> Policy:
    """Validate `document` as a policy of `kind` (one of POLICY_KINDS) and compile it.

    Raises MalformedPolicy when IAM (or S3, for kind 'bucket') would reject the document,
    NotModelled when it is valid but names a condition key or policy variable the model
    cannot evaluate. Size limits are the caller's job.
    """
    if kind not in POLICY_KINDS:
        raise ValueError(f"kind must be one of {POLICY_KINDS}, not {kind!r}")
    parser = _Parser(kind)
    doc = parser.load(document)
    stmts = parser.statements(doc)
    parser.legacy(stmts)
    parser.elements(stmts)
    parser.sids(stmts)
    parser.required(stmts)
    if kind != "trust":
        parser.resources(stmts)
    parser.actions(stmts)
    principal_values = [parser.principal_values(st) for st in stmts]

    version = doc.get("Version")
    variables = version == VARIABLES_VERSION
    compiled: list[Statement] = []
    unknown: list[str] = []
    for i, st in enumerate(stmts):
        not_action = "NotAction" in st
        actions = _as_list(st["NotAction" if not_action else "Action"])
        not_resource = "NotResource" in st
        resources = _as_list(st["NotResource"]) if not_resource else (
            _as_list(st["Resource"]) if "Resource" in st else None)
        res_matcher = None
        if resources is not None:
            res_matcher = _ResourceMatcher(resources, variables)
            for tokens in res_matcher.dynamic:
                unknown.extend(t[1] for t in tokens if t[0] == "v" and not is_known_condition_key(t[1]))
        pvalues, star = principal_values[i]
        has_principal = "Principal" in st or "NotPrincipal" in st
        conditions = []
        for op, block in st.get("Condition", {}).items():
            if not block:
                continue
            set_op, base, if_exists = _parse_operator(op)
            family, negated = _OPERATORS[base]
            for key, values in block.items():
                texts = [_condition_text(v) for v in _as_list(values)]
                if not is_known_condition_key(key):
                    unknown.append(key)
                if family == "null":
                    wants = tuple(t.lower() == "true" for t in texts if t.lower() in ("true", "false"))
                    conditions.append(_Condition(op, key.lower(), None, False, False, wants, None))
                    continue
                matcher = _ValueMatcher(family, texts, variables)
                for tokens in matcher.dynamic:
                    unknown.extend(t[1] for t in tokens if t[0] == "v" and not is_known_condition_key(t[1]))
                conditions.append(_Condition(op, key.lower(), set_op, if_exists, negated, None, matcher))
        compiled.append(Statement(
            index=i,
            sid=st.get("Sid"),
            effect=st["Effect"],
            actions=tuple(actions),
            not_action=not_action,
            resources=tuple(resources) if resources is not None else None,
            not_resource=not_resource,
            principal_values=tuple(pvalues),
            not_principal="NotPrincipal" in st,
            has_principal=has_principal,
            conditions=tuple(conditions),
            _action=_ActionMatcher(actions),
            _resource=res_matcher,
            _principal=_PrincipalMatcher(pvalues, star) if has_principal else None,
        ))
    if unknown:
        raise NotModelled(f"condition key {unknown[0]!r} is not modelled", key=unknown[0])
    return Policy(version=version, statements=tuple(compiled), kind=kind, document=doc)


class UnevaluablePolicy:
    """A document IAM accepts that the model can store but not evaluate (a condition key or
    variable it does not know): saving it succeeds, a decision that needs it is NotModelled."""

    def __init__(self, document: str, kind: str, reason: str):
        self.document, self.kind, self.reason = document, kind, reason
        self.version = None

    @property
    def statements(self):
        raise NotModelled(self.reason)

    def principals(self):
        raise NotModelled(self.reason)
