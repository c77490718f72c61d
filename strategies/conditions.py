"""Condition blocks drawn against a known request context, so a statement's Condition holds
or fails on purpose: every operator family (String, Numeric, Date, Bool, Binary, IpAddress,
Arn, Null), IfExists, ForAllValues/ForAnyValue and policy variables, over keys the request
carries and keys it lacks.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

Condition key names are matched without regard to case ("Context key names are not
case-sensitive. For example, including the aws:SourceIP context key is equivalent to testing
for AWS:SourceIp", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html),
so a block's key names are written in another case once in three (`key_case`).

Only keys whose presence AWS documents the same way for every caller the strategies use
are drawn (no aws:SourceIp, aws:TokenIssueTime, aws:MultiFactorAuthPresent: the reference
model does not populate those). Times are compared with dates far in the past or future,
so the decision does not depend on a target's clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.world import BLOB, NEAR_MISS_DIRECTIONS, Entity, SessionOf, near_name

PAST, FUTURE = "2001-01-01T00:00:00Z", "2099-12-31T23:59:59Z"
PAST_EPOCH, FUTURE_EPOCH = "978307200", "4102444799"
# Keys no request of these worlds carries (no VPC endpoint, no organization, no MFA age).
ALWAYS_ABSENT = ("aws:VpcSourceIp", "aws:PrincipalOrgID", "aws:SourceVpce", "aws:MultiFactorAuthAge")


@dataclass
class Context:
    """What a request carries: single-valued keys, multivalued keys, and keys it lacks;
    `principal` is the caller's user, or its session's role (for ARN near misses)."""

    single: dict[str, str] = field(default_factory=dict)
    multi: dict[str, list[str]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=lambda: list(ALWAYS_ABSENT))
    is_user: bool = False
    principal: Entity | None = None

    def copy(self) -> "Context":
        return Context(dict(self.single), {k: list(v) for k, v in self.multi.items()}, list(self.absent),
                       self.is_user, self.principal)


def principal_context(principal: Entity | SessionOf, tags: dict | None = None,
                      source_identity: str | None = None) -> Context:
    """The keys a user's or role session's request carries (condition-keys page)."""
    ctx = Context()
    tags = tags or {}
    ctx.principal = principal if isinstance(principal, Entity) else principal.role
    if isinstance(principal, Entity):
        ctx.is_user = True
        ctx.single.update({"aws:username": principal.name, "aws:PrincipalArn": principal.ref,
                           "aws:PrincipalType": "User"})
    else:
        # aws:PrincipalArn of a session is its role's ARN, with the path
        ctx.single.update({"aws:PrincipalArn": principal.role.ref, "aws:PrincipalType": "AssumedRole"})
        ctx.absent.append("aws:username")
        if source_identity:
            ctx.single["aws:SourceIdentity"] = source_identity
        else:
            ctx.absent.append("aws:SourceIdentity")
    ctx.single["aws:PrincipalAccount"] = f"{{{{{principal.account}}}}}"
    for k, v in tags.items():
        ctx.single[f"aws:PrincipalTag/{k}"] = v
    for k in ("team", "project", "blob"):
        if k not in tags:
            ctx.absent.append(f"aws:PrincipalTag/{k}")
    return ctx


def assume_role_context(base: Context, session_name: str, external_id: str | None = None,
                        tags: dict | None = None, source_identity: str | None = None) -> Context:
    """`base` plus what sts:AssumeRole adds: sts:RoleSessionName, sts:ExternalId, request tags."""
    ctx = base.copy()
    ctx.single["sts:RoleSessionName"] = session_name
    if external_id is not None:
        ctx.single["sts:ExternalId"] = external_id
    else:
        ctx.absent.append("sts:ExternalId")
    if tags:
        for k, v in tags.items():
            ctx.single[f"aws:RequestTag/{k}"] = v
        ctx.multi["aws:TagKeys"] = list(tags)
    else:
        ctx.absent += ["aws:RequestTag/project", "aws:TagKeys"]
    if source_identity is not None:
        ctx.single["sts:SourceIdentity"] = source_identity
    else:
        ctx.absent.append("sts:SourceIdentity")
    return ctx


def _other(v: str) -> str:
    return v + "x" if not v.endswith("x") else v[:-1] + "y"


def _flip_case(v: str) -> str | None:
    f = v.swapcase()
    return f if f != v else None


# Each family: (ctx, want, draw) -> condition block, or None when the context does not
# offer what the family needs. `want` is whether the block should hold.
Family = Callable[[Context, bool, Callable], "dict | None"]


def _plain_keys(ctx: Context) -> list[str]:
    # references ({{A}}) are resolved per target: compare them exactly, never by case
    return [k for k, v in ctx.single.items() if "{{" not in v]


def _string(ctx: Context, want: bool, draw) -> dict | None:
    """String operators on a key the request carries: equal, one of several, case-folded, like, negated."""
    keys = _plain_keys(ctx)
    if not keys:
        return None
    key = pick(draw, sorted(keys))
    v = ctx.single[key]
    o = _other(v)
    flipped = _flip_case(v)
    if want:
        options = [("StringEquals", v), ("StringEquals", [o, v]), ("StringNotEquals", o),
                   ("StringEqualsIgnoreCase", flipped or v), ("StringLike", v[:1] + "*"),
                   ("StringLike", "*"), ("StringNotLike", o + "*"), ("StringEqualsIfExists", v),
                   ("StringNotEqualsIgnoreCase", o)]
        if len(v) > 1:  # the value without its last character is not equal to it
            options.append(("StringNotEquals", v[:-1]))
        # a single-valued key is a set of one value for the set operators
        options += [("ForAnyValue:StringEquals", v), ("ForAllValues:StringEquals", [v, o]),
                    ("ForAnyValue:StringLike", v[:1] + "*"), ("ForAllValues:StringLike", v[:1] + "*")]
    else:
        options = [("StringEquals", o), ("StringNotEquals", v), ("StringNotEqualsIgnoreCase", flipped or v),
                   ("StringLike", v + "?"), ("StringNotLike", "*"), ("StringEqualsIgnoreCase", o),
                   ("StringEqualsIfExists", o)]
        if flipped:
            options.append(("StringEquals", flipped))
        if len(v) > 1:  # near misses in both directions: a prefix, a suffix, a longer value
            options += [("StringEquals", v[:-1]), ("StringLike", v[1:]), ("StringEquals", "x" + v)]
        options += [("ForAnyValue:StringEquals", o), ("ForAllValues:StringEquals", o)]
    op, value = pick(draw, options)
    return {op: {key: value}}


# Every operator, with a value of its type, for keys the request lacks (Null aside: `_null`).
_ABSENT_VALUES = {"String": "x1", "Numeric": "5", "Date": FUTURE, "Bool": "true", "Binary": BLOB,
                  "IpAddress": "10.0.0.0/8", "NotIpAddress": "10.0.0.0/8", "Arn": "arn:aws:iam::*:root"}
OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
             "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
             "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
             "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
             "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
                     "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"})
NEGATED_OPERATORS = tuple(op for op in OPERATORS if op in NEGATED)
PLAIN_OPERATORS = tuple(op for op in OPERATORS if op not in NEGATED)
# how an operator is written, by whether it holds on a missing key
_SHAPES = {True: ("negated", "IfExists", "ForAllValues:"), False: ("plain", "ForAnyValue:")}


def holds_on_missing_key(operator: str) -> bool:
    """Whether `operator` (qualifiers as written) holds on a key the request lacks: IfExists
    and ForAllValues hold, ForAnyValue fails, a negated operator holds, the others fail
    (reference_policies_elements_condition_operators.html, "Important", and
    reference_policies_multi-value-conditions.html)."""
    if operator.endswith("IfExists") or operator.startswith("ForAllValues:"):
        return True
    if operator.startswith("ForAnyValue:"):
        return False
    return operator in NEGATED


def _absent(ctx: Context, want: bool, draw) -> dict | None:
    """An operator on a key the request lacks, in a shape that holds there (`want`: a negated
    operator, IfExists, ForAllValues) or fails (a plain operator, ForAnyValue), drawn
    uniformly; the operator uniformly among those the shape takes."""
    key = pick(draw, sorted(set(ctx.absent)))
    shape = pick(draw, _SHAPES[want])
    if shape in ("negated", "plain"):
        op = written = pick(draw, NEGATED_OPERATORS if shape == "negated" else PLAIN_OPERATORS)
    else:
        op = pick(draw, OPERATORS)
        written = op + shape if shape == "IfExists" else shape + op
    assert holds_on_missing_key(written) == want
    family = next(f for f in _ABSENT_VALUES if op.startswith(f))
    return {written: {key: _ABSENT_VALUES[family]}}


def _null(ctx: Context, want: bool, draw) -> dict | None:
    """Null on a key the request carries ("false" holds) or, half the time, on one it lacks
    ("true" holds)."""
    if coin(draw) or not ctx.single:
        key = pick(draw, sorted(set(ctx.absent)))
        return {"Null": {key: "true" if want else "false"}}
    key = pick(draw, sorted(ctx.single))
    return {"Null": {key: "false" if want else "true"}}


def _arn(ctx: Context, want: bool, draw) -> dict | None:
    """Arn operators on aws:PrincipalArn: the exact ARN, the account's ARNs, another account's."""
    arn = ctx.single.get("aws:PrincipalArn")
    if arn is None:
        return None
    acct = ctx.single["aws:PrincipalAccount"]
    stranger = "{{D}}" if acct != "{{D}}" else "{{C}}"
    if want:
        options = [("ArnEquals", arn), ("ArnLike", f"arn:aws:iam::{acct}:*"), ("ArnNotEquals", f"arn:aws:iam::{stranger}:root"),
                   ("ArnLike", [f"arn:aws:iam::{stranger}:*", f"arn:aws:iam::{acct}:*"]), ("ArnLike", "arn:aws:iam::*:*"),
                   ("ArnNotLike", f"arn:aws:iam::{stranger}:*")]
    else:
        options = [("ArnEquals", f"arn:aws:iam::{acct}:root"), ("ArnNotLike", f"arn:aws:iam::{acct}:*"),
                   ("ArnLike", f"arn:aws:iam::{stranger}:*"), ("ArnNotEquals", arn)]
    near = arn_near_misses(ctx.principal) if ctx.principal is not None else []
    if near:
        # ARN operators compare case-sensitively, path included: a near miss in any direction misses
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN)
        options += ([("ArnNotEquals", pick(draw, near)[1])] if want else
                    [("ArnEquals", pick(draw, near)[1]), ("ArnLike", pick(draw, near)[1])])
    op, value = pick(draw, options)
    return {op: {"aws:PrincipalArn": value}}


def arn_near_misses(entity: Entity) -> list[tuple[str, str]]:
    """(direction, ARN) pairs that differ from `entity`'s ARN by one edit of its name (longer,
    shorter, prefixed, suffix), the case of its name, or its path; spelled out, not references,
    so the world need not hold them (condition values and Resources name nothing IAM checks)."""
    name = entity.name
    out = [(d, entity.arn(name=near_name(name, d))) for d in NEAR_MISS_DIRECTIONS]
    out.append(("case", entity.arn(name=name.capitalize() if name != name.capitalize() else name.lower())))
    out.append(("path", entity.arn(path="/app/" if entity.path == "/" else "/")))
    return out


def _numeric(ctx: Context, want: bool, draw) -> dict | None:
    """Numeric operators on a numeric principal tag, or on aws:EpochTime against far-off instants."""
    level = ctx.single.get("aws:PrincipalTag/level")
    if level is not None and coin(draw):
        n = int(level)
        options = ([("NumericEquals", str(n)), ("NumericLessThanEquals", str(n)), ("NumericGreaterThan", str(n - 1)),
                    ("NumericNotEquals", str(n + 1))] if want else
                   [("NumericLessThan", str(n)), ("NumericGreaterThanEquals", str(n + 1)), ("NumericNotEquals", str(n)),
                    ("NumericEquals", str(n + 1))])
        op, value = pick(draw, options)
        return {op: {"aws:PrincipalTag/level": value}}
    options = ([("NumericGreaterThan", PAST_EPOCH), ("NumericLessThan", FUTURE_EPOCH),
                ("NumericNotEquals", PAST_EPOCH), ("NumericGreaterThanEquals", PAST_EPOCH)] if want else
               [("NumericLessThan", PAST_EPOCH), ("NumericGreaterThan", FUTURE_EPOCH), ("NumericEquals", PAST_EPOCH),
                ("NumericLessThanEquals", PAST_EPOCH)])
    op, value = pick(draw, options)
    return {op: {"aws:EpochTime": value}}


def _date(ctx: Context, want: bool, draw) -> dict | None:
    """Date operators on aws:CurrentTime against 2001 and 2099 (ISO 8601 and epoch forms)."""
    options = ([("DateGreaterThan", PAST), ("DateLessThan", FUTURE), ("DateNotEquals", PAST),
                ("DateGreaterThanEquals", PAST_EPOCH), ("DateLessThanEquals", FUTURE)] if want else
               [("DateLessThan", PAST), ("DateGreaterThan", FUTURE), ("DateEquals", PAST),
                ("DateLessThanEquals", PAST_EPOCH), ("DateEquals", FUTURE_EPOCH)])
    op, value = pick(draw, options)
    return {op: {"aws:CurrentTime": value}}


def _bool(ctx: Context, want: bool, draw) -> dict | None:
    """Bool on aws:SecureTransport: every request here is sent over TLS (a target that says
    otherwise diverges)."""
    return {"Bool": {"aws:SecureTransport": "true" if want else "false"}}


def _binary(ctx: Context, want: bool, draw) -> dict | None:
    """BinaryEquals on a base64 principal tag (IfExists when the tag is missing)."""
    key = "aws:PrincipalTag/blob"
    if key in ctx.single:
        return {"BinaryEquals": {key: BLOB if want else "Ymx1ZQ=="}}
    return {"BinaryEqualsIfExists" if want else "BinaryEquals": {key: BLOB}}


def _ip(ctx: Context, want: bool, draw) -> dict | None:
    """IpAddress family on aws:VpcSourceIp, present only for requests through a VPC endpoint:
    never here."""
    op = pick(draw, ("NotIpAddress", "IpAddressIfExists")) if want else "IpAddress"
    return {op: {"aws:VpcSourceIp": "10.0.0.0/8"}}


def _set(ctx: Context, want: bool, draw) -> dict | None:
    """ForAllValues / ForAnyValue on a multivalued key (aws:TagKeys)."""
    if not ctx.multi:
        return None
    key = pick(draw, sorted(ctx.multi))
    values = ctx.multi[key]
    if want:
        options = [("ForAllValues:StringEquals", values + ["extra"]), ("ForAnyValue:StringEquals", values[:1]),
                   ("ForAnyValue:StringLike", values[0][:1] + "*"), ("ForAllValues:StringLike", "*")]
    else:
        options = [("ForAnyValue:StringEquals", ["extra"]), ("ForAllValues:StringEquals", ["extra"]),
                   ("ForAnyValue:StringNotLike", "*")]
    op, value = pick(draw, options)
    return {op: {key: value}}


def _variable(ctx: Context, want: bool, draw) -> dict | None:
    """Policy variables in condition values: ${aws:username}, a principal tag, a default."""
    options: list[tuple[bool, dict]] = []
    if "aws:username" in ctx.single:
        name = ctx.single["aws:username"]
        options.append((True, {"StringLike": {"aws:PrincipalArn": "*/${aws:username}"}}))
        sn = ctx.single.get("sts:RoleSessionName")
        if sn is not None:
            options.append((sn == name, {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}))
    else:
        # no aws:username for a role session: the variable cannot be resolved, the condition fails
        options.append((False, {"StringLike": {"aws:PrincipalArn": "*/${aws:username}"}}))
    team = ctx.single.get("aws:PrincipalTag/team")
    if team is not None:
        options.append((True, {"StringEquals": {"aws:PrincipalTag/team": ["${aws:PrincipalTag/team}"]}}))
        options.append((team == "red", {"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/nosuch, 'red'}"}}))
    elif "aws:PrincipalType" in ctx.single:
        options.append((True, {"StringEquals": {"aws:PrincipalType": f"${{aws:PrincipalTag/team, '{ctx.single['aws:PrincipalType']}'}}"}}))
    fitting = [c for ok, c in options if ok == want]
    if not fitting:
        return None
    return pick(draw, fitting)


FAMILIES: dict[str, Family] = {
    "string": _string, "absent": _absent, "null": _null, "arn": _arn, "numeric": _numeric, "date": _date,
    "bool": _bool, "binary": _binary, "ip": _ip, "set": _set, "variable": _variable,
}


KEY_CASES = ("as-written", "lower", "upper", "swapped")


def recase_key(key: str, how: str) -> str:
    """`key` with its name (up to a `/tag-key` part, kept as written) in another case:
    "lower" aws:principalarn, "upper" AWS:PRINCIPALARN, "swapped" AWS:pRINCIPALaRN."""
    name, slash, rest = key.partition("/")
    name = {"as-written": name, "lower": name.lower(), "upper": name.upper(), "swapped": name.swapcase()}[how]
    return name + slash + rest


def key_case(draw, block: dict) -> dict:
    """`block` with its condition-key names written in another case once in three draws (AWS
    matches them without regard to case); shrinks towards the keys as written."""
    if not one_in(draw, 3):
        return block
    how = pick(draw, KEY_CASES[1:])
    return {op: {recase_key(k, how): v for k, v in keys.items()} for op, keys in block.items()}


def condition_block(draw, ctx: Context, want: bool) -> dict:
    """One Condition block that holds on `ctx` (`want=True`) or fails on it, from an operator
    family drawn uniformly (Date when the drawn family needs what the context lacks), the
    names of the keys a request carries in another case once in three."""
    name = pick(draw, _FAMILY_NAMES)
    block = FAMILIES[name](ctx, want, draw)
    if name == "absent":
        return block  # another case of a key the request lacks is as absent: it would test nothing
    return key_case(draw, block or _date(ctx, want, draw))


# keys a request lacks meet every operator and qualifier there: that family is drawn three times as often
_FAMILY_NAMES = tuple(sorted(FAMILIES)) + ("absent", "absent")
condition_blocks = st.composite(condition_block)


def merge(*blocks: dict) -> dict:
    """Several condition blocks as one Condition element (operators and keys ANDed). A
    block naming an operator and key already present is dropped: put the block that must
    fail first."""
    out: dict = {}
    for b in blocks:
        for op, keys in b.items():
            target = out.setdefault(op, {})
            for k, v in keys.items():
                if k.lower() not in {t.lower() for t in target}:  # key names are case-insensitive
                    target[k] = v
    return out
