"""The Condition element: its operators (with IfExists, ForAllValues and ForAnyValue), the
parsing of numbers, dates, binary values and IP ranges, and whether a compiled condition holds
for a request's context.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .policy_patterns import (_alternation, _arn_source, _flag_chars, _flat, _glob_source, _has_vars, _pieces_regex,
                              _resolve, _tokenize)

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
