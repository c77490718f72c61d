"""Hypothesis strategies for API parameter values, read from botocore's service models.

`valid_value` draws values that satisfy a member's min, max and pattern, biased to the
boundaries; `invalid_value` draws values that break exactly one of them; `values` mixes the
two. Strings are built from the pattern's own character classes (no `filter`), mostly from
printable ASCII, because they travel over real HTTP to emulators.

These strategies know the model only: a valid RoleArn here is any 20-2048 characters the
model's pattern allows, not necessarily a parseable ARN.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

try:  # Python 3.11+
    import re._constants as _sre
    import re._parser as _sre_parse
except ImportError:  # Python 3.10: the same modules under their old names
    import sre_constants as _sre
    import sre_parse as _sre_parse

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from rolecall.targets.reference.params import (
    INT32,
    INT64,
    input_members,
    shape_constraints,
    translate_pattern,
)

__all__ = ["valid_value", "invalid_value", "labelled_invalid_value", "values", "valid_params", "Invalid"]

MAX_CODEPOINT = 0x10FFFF
_SURROGATES = ((0xD800, 0xDFFF),)
_PRINTABLE_ASCII = ((0x20, 0x7E),)
_INF = 10**9
# longest string drawn when the model sets no max (Policy has only min 1)
_UNBOUNDED_SOFT_MAX = 256


class Invalid(NamedTuple):
    """One invalid draw and the single constraint it breaks: 'min', 'max', 'pattern' or 'enum'."""
    value: Any
    constraint: str


# ---------------------------------------------------------------------------- character sets

def _normalise(ranges) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _complement(ranges) -> tuple[tuple[int, int], ...]:
    out, nxt = [], 0
    for lo, hi in _normalise(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODEPOINT:
        out.append((nxt, MAX_CODEPOINT))
    return tuple(out)


def _intersect(a, b) -> tuple[tuple[int, int], ...]:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi:
                out.append((lo, hi))
    return _normalise(out)


def _minus(a, b):
    return _intersect(a, _complement(b))


def _size(ranges) -> int:
    return sum(hi - lo + 1 for lo, hi in ranges)


# ASCII categories, as AWS's Java regexes (and `re.ASCII`) read \w, \d, \s
_CATEGORIES = {
    _sre.CATEGORY_WORD: ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    _sre.CATEGORY_DIGIT: ((0x30, 0x39),),
    _sre.CATEGORY_SPACE: ((0x09, 0x0D), (0x20, 0x20)),
}
_CATEGORIES[_sre.CATEGORY_NOT_WORD] = _complement(_CATEGORIES[_sre.CATEGORY_WORD])
_CATEGORIES[_sre.CATEGORY_NOT_DIGIT] = _complement(_CATEGORIES[_sre.CATEGORY_DIGIT])
_CATEGORIES[_sre.CATEGORY_NOT_SPACE] = _complement(_CATEGORIES[_sre.CATEGORY_SPACE])


# ---------------------------------------------------------------------------- pattern IR
# A pattern the generator understands is a sequence of character-class repeats and
# alternations of such sequences; anything else (look-arounds, repeated groups) falls back
# to `st.from_regex`.

class _Unsupported(Exception):
    pass


@dataclass(frozen=True)
class _Rep:
    chars: tuple[tuple[int, int], ...]
    lo: int
    hi: int  # _INF when unbounded


@dataclass(frozen=True)
class _Alt:
    options: tuple["_Seq", ...]


@dataclass(frozen=True)
class _Seq:
    items: tuple  # of _Rep | _Alt


def _single(op, av) -> tuple[tuple[int, int], ...]:
    """The characters one parsed item matches, or _Unsupported."""
    if op is _sre.LITERAL:
        return ((av, av),)
    if op is _sre.NOT_LITERAL:
        return _complement(((av, av),))
    if op is _sre.ANY:
        return _complement(((0x0A, 0x0A),))
    if op is _sre.IN:
        ranges, negate = [], False
        for iop, iav in av:
            if iop is _sre.NEGATE:
                negate = True
            elif iop is _sre.LITERAL:
                ranges.append((iav, iav))
            elif iop is _sre.RANGE:
                ranges.append(iav)
            elif iop is _sre.CATEGORY and iav in _CATEGORIES:
                ranges.extend(_CATEGORIES[iav])
            else:
                raise _Unsupported(iop)
        return _complement(ranges) if negate else _normalise(ranges)
    if op is _sre.SUBPATTERN and len(av[3]) == 1:
        return _single(*av[3][0])
    raise _Unsupported(op)


def _seq(parsed) -> _Seq:
    items = list(parsed)
    # ^ and $ are harmless at the ends: AWS matches the whole value anyway
    while items and items[0][0] is _sre.AT and items[0][1] in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING):
        items.pop(0)
    while items and items[-1][0] is _sre.AT and items[-1][1] in (_sre.AT_END, _sre.AT_END_STRING):
        items.pop()
    out: list = []
    for op, av in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            if len(sub) != 1:
                raise _Unsupported("repeated sequence")
            out.append(_Rep(_single(*sub[0]), lo, _INF if hi is _sre.MAXREPEAT else hi))
        elif op is _sre.BRANCH:
            out.append(_Alt(tuple(_seq(branch) for branch in av[1])))
        elif op is _sre.SUBPATTERN:
            inner = _seq(av[3])
            out.extend(inner.items)
        else:
            out.append(_Rep(_single(op, av), 1, 1))
    return _Seq(tuple(out))


@functools.lru_cache(maxsize=None)
def _ir(pattern_text: str | None) -> _Seq | None:
    """The generator's view of a model pattern; None when it needs st.from_regex."""
    if pattern_text is None:
        return _Seq((_Rep(_minus(((0, MAX_CODEPOINT),), _SURROGATES), 0, _INF),))
    try:
        return _seq(_sre_parse.parse(translate_pattern(pattern_text), re.ASCII))
    except (_Unsupported, re.error):
        return None


def _all_chars(node) -> tuple[tuple[int, int], ...]:
    if isinstance(node, _Rep):
        return node.chars
    parts = node.items if isinstance(node, _Seq) else node.options
    return _normalise([r for p in parts for r in _all_chars(p)])


# ---------------------------------------------------------------------------- length sets
# A set of lengths is a tuple of disjoint (lo, hi) intervals.

def _add(a, b):
    return _normalise([(min(x[0] + y[0], _INF), min(x[1] + y[1], _INF)) for x in a for y in b])


@functools.lru_cache(maxsize=None)
def _lengths(node) -> tuple[tuple[int, int], ...]:
    if isinstance(node, _Rep):
        return ((node.lo, node.hi),)
    if isinstance(node, _Alt):
        return _normalise([r for option in node.options for r in _lengths(option)])
    total = ((0, 0),)
    for item in node.items:
        total = _add(total, _lengths(item))
    return total


@functools.lru_cache(maxsize=None)
def _suffix_lengths(seq: _Seq) -> tuple:
    out = [((0, 0),)]
    for item in reversed(seq.items):
        out.append(_add(out[-1], _lengths(item)))
    return tuple(reversed(out))  # out[i] = lengths of items[i:]


def _clip(intervals, lo: int, hi: int):
    return _intersect(intervals, ((lo, hi),)) if lo <= hi else ()


def _contains(intervals, n: int) -> bool:
    return any(lo <= n <= hi for lo, hi in intervals)


def _pick(draw, intervals) -> int:
    lo, hi = intervals[0] if len(intervals) == 1 else draw(_sampled(intervals))
    return lo if lo == hi else draw(_integers(lo, hi))


# Strategies are built once per distinct argument: building one costs more than a draw.
_integers = functools.lru_cache(maxsize=4096)(st.integers)
_sampled = functools.lru_cache(maxsize=4096)(st.sampled_from)


# ---------------------------------------------------------------------------- text

@functools.lru_cache(maxsize=None)
def _alphabets(chars) -> tuple[str, SearchStrategy | None]:
    """(printable-ASCII characters as a str, strategy over every sendable character)."""
    ascii_chars = "".join(chr(c) for lo, hi in _intersect(chars, _PRINTABLE_ASCII) for c in range(lo, hi + 1))
    sendable = _minus(chars, _SURROGATES + ((0, 0),))
    if not sendable:
        return ascii_chars, None
    starts, offsets, total = [], [], 0
    for lo, hi in sendable:
        starts.append(total)
        offsets.append(lo)
        total += hi - lo + 1

    def nth(i: int) -> str:
        k = bisect.bisect_right(starts, i) - 1
        return chr(offsets[k] + i - starts[k])

    return ascii_chars, st.integers(0, total - 1).map(nth)


@functools.lru_cache(maxsize=4096)
def _text_strategy(chars, a: int, b: int, mixed: bool) -> SearchStrategy:
    ascii_chars, full = _alphabets(chars)
    if ascii_chars and (not mixed or full is None):
        return st.text(alphabet=ascii_chars, min_size=a, max_size=b)
    element = st.one_of(st.sampled_from(ascii_chars), full) if ascii_chars else full
    return st.lists(element, min_size=a, max_size=b).map("".join)


def _text(draw, chars, k: int, mixed: bool) -> str:
    """k characters from `chars`: printable ASCII unless `mixed`; long strings repeat a drawn
    chunk between a drawn head and tail, so they cost a few dozen draws, not thousands."""
    if k == 0:
        return ""
    if len(chars) == 1 and chars[0][0] == chars[0][1]:
        return chr(chars[0][0]) * k

    def run(a: int, b: int) -> str:
        return draw(_text_strategy(chars, a, b, mixed))

    if k <= 48:
        return run(k, k)
    head, tail, chunk = run(0, 16), run(0, 16), run(1, 8)
    middle = k - len(head) - len(tail)
    return head + (chunk * (middle // len(chunk) + 1))[:middle] + tail


def _generate(draw, node, n: int, mixed: bool) -> str:
    """A string of exactly n characters that the pattern IR matches (n must be feasible)."""
    if isinstance(node, _Rep):
        return _text(draw, node.chars, n, mixed)
    if isinstance(node, _Alt):
        options = tuple(o for o in node.options if _contains(_lengths(o), n))
        return _generate(draw, options[0] if len(options) == 1 else draw(_sampled(options)), n, mixed)
    if len(node.items) == 1:
        return _generate(draw, node.items[0], n, mixed)
    suffix = _suffix_lengths(node)
    parts = []
    for i, item in enumerate(node.items):
        rest = tuple((n - hi, n - lo) for lo, hi in reversed(suffix[i + 1]))
        k = _pick(draw, _intersect(_lengths(item), _clip(rest, 0, n)))
        parts.append(_generate(draw, item, k, mixed))
        n -= k
    return "".join(parts)


# ---------------------------------------------------------------------------- strategies

def _scalar(service: str, operation: str, member: str) -> dict:
    c = shape_constraints(service, operation, member)
    if c["type"] not in ("string", "integer", "long", "boolean"):
        raise ValueError(f"{service}:{operation} {member} is a {c['type']}; only scalar members are drawn")
    return c


def _integer_bounds(c: dict) -> tuple[int, int]:
    lo, hi = INT32 if c["type"] == "integer" else INT64
    return (c["min"] if c["min"] is not None else lo), (c["max"] if c["max"] is not None else hi)


def _string_lengths(c: dict, ir: _Seq) -> tuple:
    """Lengths that satisfy both the model's min/max and the pattern."""
    lo = c["min"] or 0
    hi = c["max"] if c["max"] is not None else lo + _UNBOUNDED_SOFT_MAX
    return _clip(_lengths(ir), lo, hi)


@st.composite
def _boundary_length(draw, feasible) -> int:
    """A feasible length: a third of the time a boundary (min, max, min+1 or max-1), a third
    within 32 of the shortest, a third anywhere."""
    short, edges = _length_choices(feasible)
    choice = draw(_integers(0, 2))
    if choice == 0:  # short values first: they shrink well and read well
        return _pick(draw, short)
    if choice == 1:
        return draw(_sampled(edges))
    return _pick(draw, feasible)


@functools.lru_cache(maxsize=None)
def _length_choices(feasible):
    lo, hi = feasible[0][0], feasible[-1][1]
    return _clip(feasible, lo, lo + 32), tuple(sorted({n for n in (lo, hi, lo + 1, hi - 1) if _contains(feasible, n)}))


@st.composite
def _mixed(draw) -> bool:
    """One value in ten may use non-ASCII characters the pattern allows."""
    return draw(_integers(0, 9)) == 9


@st.composite
def _pattern_string(draw, ir: _Seq, feasible) -> str:
    return _generate(draw, ir, draw(_boundary_length(feasible)), draw(_mixed()))


def valid_value(service: str, operation: str, member: str) -> SearchStrategy:
    """Values that satisfy the member's model constraints (min, max, pattern, enum).

    Integers are half the time exactly min, max, min+1 or max-1. String lengths are a third
    of the time a boundary (exactly min length, exactly max length, or one inside), a third
    short, a third anywhere; characters are printable ASCII in nine values of ten and may
    include any character the pattern allows in the tenth. Strings are built from the
    pattern's own classes (no filtering); exotic patterns fall back to `st.from_regex`.
    """
    c = _scalar(service, operation, member)
    if c["type"] == "boolean":
        return st.booleans()
    if c["type"] in ("integer", "long"):
        lo, hi = _integer_bounds(c)
        edges = sorted({lo, hi, min(lo + 1, hi), max(hi - 1, lo)})
        return st.one_of(st.sampled_from(edges), st.integers(lo, hi))
    if c["enum"]:
        return st.sampled_from(c["enum"])
    ir = _ir(c["pattern_text"])
    if ir is None:
        lo = c["min"] or 0
        hi = c["max"] if c["max"] is not None else lo + _UNBOUNDED_SOFT_MAX
        return st.from_regex(c["pattern"], fullmatch=True).filter(lambda s: lo <= len(s) <= hi)
    feasible = _string_lengths(c, ir)
    if not feasible:
        raise ValueError(f"{service}:{operation} {member}: no length satisfies both min/max and the pattern")
    return _pattern_string(ir, feasible)


@st.composite
def _beyond(draw, exact: int, further: tuple[int, int]) -> int:
    """Exactly `exact` (one past the boundary) two times in three, else anywhere in `further`."""
    if further[0] > further[1] or draw(st.integers(0, 2)) < 2:
        return exact
    return draw(st.integers(*further))


@st.composite
def _bad_length(draw, ir: _Seq, exact: int, further) -> str:
    """A pattern-valid string of length `exact` (one past the boundary) two times in three,
    else of any length in `further`."""
    n = exact if draw(st.integers(0, 2)) < 2 else _pick(draw, further)
    return _generate(draw, ir, n, draw(_mixed()))


def _bad_characters(ir: _Seq) -> SearchStrategy | None:
    """Characters no part of the pattern allows: printable ASCII first (':' in a session
    name), then ASCII controls, then anything else sendable."""
    outside = _minus(_complement(_all_chars(ir)), _SURROGATES + ((0, 0),))
    tiers = [t for t in (_intersect(outside, _PRINTABLE_ASCII),
                         _intersect(outside, ((0x01, 0x1F), (0x7F, 0x7F))),
                         _intersect(outside, ((0x80, MAX_CODEPOINT),))) if t]
    if not tiers:
        return None
    strategies = [_alphabets(t)[1] for t in tiers]
    weights = [0] * 8 + list(range(1, len(tiers)))  # the first tier eight times in ten or more
    return st.sampled_from(weights).flatmap(lambda i: strategies[i])


@st.composite
def _pattern_violation(draw, ir: _Seq, feasible, bad: SearchStrategy) -> str:
    """A valid string with one character replaced by one the pattern never allows."""
    value = _generate(draw, ir, draw(_boundary_length(feasible)), mixed=False)
    i = draw(st.integers(0, len(value) - 1))
    return value[:i] + draw(bad) + value[i + 1:]


def labelled_invalid_value(service: str, operation: str, member: str) -> SearchStrategy:
    """Like `invalid_value`, but each draw is an `Invalid(value, constraint)` naming the one
    constraint it breaks."""
    c = _scalar(service, operation, member)
    cases: list[SearchStrategy] = []
    if c["type"] in ("integer", "long"):
        lo, hi = _integer_bounds(c)
        wide_lo, wide_hi = INT32 if c["type"] == "integer" else INT64
        if c["min"] is not None and lo > wide_lo:
            cases.append(_beyond(lo - 1, (max(wide_lo, lo - 10**5), lo - 2)).map(lambda v: Invalid(v, "min")))
        if c["max"] is not None and hi < wide_hi:
            cases.append(_beyond(hi + 1, (hi + 2, min(wide_hi, hi + 10**5))).map(lambda v: Invalid(v, "max")))
    elif c["type"] == "string" and c["enum"]:
        enum = set(c["enum"])
        cases.append(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=16)
                     .filter(lambda s: s not in enum).map(lambda v: Invalid(v, "enum")))
    elif c["type"] == "string":
        ir = _ir(c["pattern_text"])
        if ir is not None:
            pattern_lengths = _lengths(ir)
            if c["min"]:
                too_short = _clip(pattern_lengths, 0, c["min"] - 1)
                if too_short:  # e.g. no 0-character RoleName: the pattern needs one, so skip
                    cases.append(_bad_length(ir, too_short[-1][1], too_short).map(lambda v: Invalid(v, "min")))
            if c["max"] is not None:
                too_long = _clip(pattern_lengths, c["max"] + 1, c["max"] + 1 + 64)
                if too_long:
                    cases.append(_bad_length(ir, too_long[0][0], too_long).map(lambda v: Invalid(v, "max")))
            bad = _bad_characters(ir) if c["pattern_text"] is not None else None
            feasible = _clip(_string_lengths(c, ir), 1, _INF)
            if bad is not None and feasible:
                cases.append(_pattern_violation(ir, feasible, bad).map(lambda v: Invalid(v, "pattern")))
    if not cases:
        raise ValueError(f"{service}:{operation} {member} has no constraint a value can break")
    return st.one_of(cases)


def invalid_value(service: str, operation: str, member: str) -> SearchStrategy:
    """Values that break exactly one of the member's constraints, everything else valid.

    Each draw is one of: one below min (length or value; two times in three exactly one
    below, else further), one above max (likewise), or a valid-length string with one
    character the pattern never allows (printable ASCII such as ':' or ' ' eight times in
    ten, else a control or non-ASCII character), or a string outside the enum. Cases the
    pattern makes impossible are skipped (RoleName has no too-short value: '' also breaks
    its pattern). `labelled_invalid_value` says which constraint each draw breaks.
    """
    return labelled_invalid_value(service, operation, member).map(lambda d: d.value)


@st.composite
def _either(draw, valid: SearchStrategy, invalid: SearchStrategy, per_hundred: int):
    # shrinks towards the valid branch
    if draw(st.integers(0, 99)) >= 100 - per_hundred:
        return draw(invalid)
    return draw(valid)


def values(service: str, operation: str, member: str, *, invalid_probability: float = 0.1) -> SearchStrategy:
    """Mostly `valid_value`, with about `invalid_probability` of draws from `invalid_value`
    (none when the member has no constraint to break); shrinks towards valid values."""
    if not isinstance(invalid_probability, (int, float)) or not 0 <= invalid_probability <= 1:
        raise ValueError(f"invalid_probability must be a number in [0, 1], got {invalid_probability!r}")
    valid = valid_value(service, operation, member)
    per_hundred = round(invalid_probability * 100)
    if invalid_probability > 0:
        per_hundred = max(per_hundred, 1)
    if per_hundred == 0:
        return valid
    try:
        invalid = invalid_value(service, operation, member)
    except ValueError:
        if per_hundred == 100:
            raise
        return valid
    if per_hundred == 100:
        return invalid
    return _either(valid, invalid, per_hundred)


def valid_params(service: str, operation: str, members: tuple[str, ...] | list[str] = ()) -> SearchStrategy:
    """Dicts with every required member, plus `members`, drawn by `valid_value`."""
    names = [m for m in input_members(service, operation)
             if m in members or shape_constraints(service, operation, m)["required"]]
    unknown = set(members) - set(input_members(service, operation))
    if unknown:
        raise ValueError(f"{service}:{operation} has no member(s) {sorted(unknown)}")
    return st.fixed_dictionaries({m: valid_value(service, operation, m) for m in names})
