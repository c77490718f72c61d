"""Outcomes: what one step did on one target, normalised so equal behaviour compares equal.

Concrete account ids, bucket names and unique ids go back to `{{...}}` references or
placeholders; keys, secrets, tokens and timestamps become shapes. The shape keeps what is
a real difference (an ASIA vs an LSIA key prefix), and drops what legitimately varies.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

OK, ERROR, UNSUPPORTED = "ok", "error", "unsupported"


class TargetUnavailable(Exception):
    """The target cannot be reached or started at all; the run cannot do its job for it."""


@dataclass(frozen=True)
class Outcome:
    id: str
    outcome: str
    code: str | None = None
    http_status: int | None = None
    message: str | None = None
    result: Any = None
    reason: str | None = None  # why a step is unsupported; or the model's reason label
    trace: tuple = field(default=(), compare=False)  # the reference model's decision trace
    # returned facts (rolecall.facts) the oracle is not sure of on this step: not compared
    unsure: tuple = field(default=(), compare=False)

    def to_dict(self, *, trace: bool = False) -> dict:
        d: dict[str, Any] = {"id": self.id, "outcome": self.outcome}
        if self.outcome == ERROR:
            d["code"] = self.code
            d["http_status"] = self.http_status
            d["message"] = self.message
        elif self.outcome == OK:
            d["result"] = self.result
        if self.reason:
            d["reason"] = self.reason
        if trace and self.trace:
            d["trace"] = [dict(t) for t in self.trace]
        if trace and self.unsure:
            d["unsure"] = list(self.unsure)
        return d


    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Outcome":
        return cls(id=d["id"], outcome=d["outcome"], code=d.get("code"), http_status=d.get("http_status"),
                   message=d.get("message"), result=d.get("result"), reason=d.get("reason"),
                   trace=tuple(d.get("trace") or ()), unsure=tuple(d.get("unsure") or ()))


@dataclass(frozen=True)
class Run:
    """A scenario's run on one target: the step outcomes, or the setup error that stopped it."""

    target: str
    outcomes: tuple[Outcome, ...]
    setup_error: Outcome | None = None

    def outcome(self, step_id: str) -> Outcome | None:
        for o in self.outcomes:
            if o.id == step_id:
                return o
        return None

    def to_dict(self, *, trace: bool = False) -> dict:
        d: dict[str, Any] = {"target": self.target, "outcomes": [o.to_dict(trace=trace) for o in self.outcomes]}
        if self.setup_error:
            d["setup_error"] = self.setup_error.to_dict(trace=trace)
        return d


# Keys of the 4-letter-prefixed identifiers AWS generates (AKIA, ASIA, AROA, AIDA, ANPA, AIPA, ...)
# and of emulators' own variants (LSIA, ...). Replaced by their prefix-keeping shape.
_ID_TOKEN = re.compile(r"\b([A-Z]{4})[A-Z0-9]{12,28}\b")
_BARE_ID = re.compile(r"[A-Za-z0-9]{16,32}")
_VALID_PREFIXES = {"AccessKeyId": ("AKIA", "ASIA")}  # long-term and temporary keys
_SECRET_FIELDS = {"SecretAccessKey": "<secret>", "SessionToken": "<session-token>"}
_TIME_FIELDS_RELATIVE = {"Expiration"}
# A unique id is named by its entity only when it carries AWS's prefix for that kind of entity
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes):
# one that does not keeps its shape, so a wrong prefix shows as a different returned fact.
_ID_PREFIXES = {"RoleId": "AROA", "UserId": "AIDA", "PolicyId": "ANPA", "InstanceProfileId": "AIPA",
                "AccessKeyId": "AKIA"}


class Normaliser:
    """Turns one target's raw values into comparable ones for one scenario run."""

    def __init__(self, symbols: Mapping[str, str]):
        self.symbols: dict[str, str] = dict(symbols)
        self._pattern: re.Pattern | None = None

    def learn(self, concrete: str, placeholder: str) -> None:
        if concrete and concrete not in self.symbols:
            self.symbols[concrete] = placeholder
            self._pattern = None

    def learn_ids(self, result: Any, describe) -> None:
        """Record unique ids found in a create/get result: {"Role": {"RoleId": .., "Arn": ..}} and the like
        (each only with its kind's prefix)."""
        if isinstance(result, dict):
            for id_key, prefix in _ID_PREFIXES.items():
                if id_key in result and isinstance(result[id_key], str) and result[id_key].startswith(prefix):
                    kind = id_key[:-2]
                    label = describe(result)
                    if label:
                        self.learn(result[id_key], f"<{kind[0].lower() + kind[1:]}-id:{label}>")
            for v in result.values():
                if isinstance(v, (dict, list)):
                    self.learn_ids(v, describe)
        elif isinstance(result, list):
            for v in result:
                self.learn_ids(v, describe)

    def _regex(self) -> re.Pattern:
        if self._pattern is None:
            keys = sorted(self.symbols, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else re.compile(r"(?!x)x")
        return self._pattern

    def text(self, s: str) -> str:
        if self.symbols:
            s = self._regex().sub(lambda m: self.symbols[m.group(0)], s)
        return _ID_TOKEN.sub(lambda m: f"<{m.group(1)}…>", s)

    def value(self, v: Any, key: str | None = None, *, now: _dt.datetime | None = None) -> Any:
        if key in _SECRET_FIELDS and isinstance(v, str):
            return _SECRET_FIELDS[key]
        if isinstance(v, _dt.datetime):
            if key in _TIME_FIELDS_RELATIVE and now is not None:
                seconds = (v - now).total_seconds()
                return f"<now+{int(round(seconds / 60.0)) * 60}s>"
            return "<timestamp>"
        if isinstance(v, str):
            prefix = _ID_PREFIXES.get(key or "")
            if (prefix and v not in self.symbols and _BARE_ID.fullmatch(v) and not v.isdigit()
                    and not v.startswith(_VALID_PREFIXES.get(key, (prefix,)))):
                # a unique id without any AWS prefix (moto's 20 random lower-case characters): one
                # shape, judged on the raw value alone, so it differs from AWS's answer but not
                # from another run of the same emulator
                return f"<{key} not {prefix}…>"
            return self.text(v)
        if isinstance(v, dict):
            return {k: self.value(x, k, now=now) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x, now=now) for x in v]
        if isinstance(v, (bytes, bytearray)):
            return v.decode("utf-8", "replace")
        return v


# Matchers an expectation may use in place of a value (docs/scenario-format.md, "Matchers").
# Each is an object with exactly one key; rolecall.scenario checks them when a file loads.
MATCHERS = ("$absent", "$any", "$match", "$contains", "$unordered", "$exactly")


def matcher_of(v: Any) -> str | None:
    """The matcher an expectation value is, or None for a plain value."""
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        if isinstance(key, str) and key.startswith("$"):
            return key
    return None


def matches_expectation(expect: Any, actual: Any) -> bool:
    """Fields the expectation gives must match; objects recursively, lists and scalars exactly,
    unless a matcher ($absent, $any, $match, $contains, $unordered, $exactly) says otherwise."""
    op = matcher_of(expect)
    if op is not None:
        return _matcher(op, expect[op], actual)
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return False
        for k, v in expect.items():
            if matcher_of(v) == "$absent":
                if (k in actual) == bool(v["$absent"]):
                    return False
            elif k not in actual or not matches_expectation(v, actual[k]):
                return False
        return True
    if isinstance(expect, list):
        return _exact(expect, actual)
    return expect == actual


def _exact(expect: Any, actual: Any) -> bool:
    """A plain list is compared exactly (objects in it too, every key), matchers honoured."""
    op = matcher_of(expect)
    if op is not None:
        return op != "$absent" and _matcher(op, expect[op], actual)
    if isinstance(expect, dict):
        present = {k for k, v in expect.items() if matcher_of(v) != "$absent"}
        return (isinstance(actual, dict) and present == actual.keys()
                and all(_exact(expect[k], actual[k]) for k in present))
    if isinstance(expect, list):
        return (isinstance(actual, list) and len(expect) == len(actual)
                and all(_exact(e, a) for e, a in zip(expect, actual)))
    return expect == actual


def _matcher(op: str, arg: Any, actual: Any) -> bool:
    if op == "$any":
        return True  # reached only when the field is present
    if op == "$absent":
        return not arg  # {"$absent": false} outside an object: the value is there
    if op == "$match":
        return isinstance(actual, str) and re.fullmatch(arg, actual, re.DOTALL) is not None
    if op == "$contains":
        if isinstance(actual, str):
            return all(part in actual for part in ([arg] if isinstance(arg, str) else arg))
        return isinstance(actual, list) and _assign(list(arg), list(actual))
    if op == "$unordered":
        return isinstance(actual, list) and len(arg) == len(actual) and _assign(list(arg), list(actual))
    if op == "$exactly":
        return _exact(arg, actual)  # every object in it has exactly the keys given
    return False


def _assign(wanted: list, items: list) -> bool:
    """Each wanted item matches a distinct item (backtracking; lists here are short)."""
    if not wanted:
        return True
    first, rest = wanted[0], wanted[1:]
    for i, item in enumerate(items):
        if matches_expectation(first, item) and _assign(rest, items[:i] + items[i + 1:]):
            return True
    return False
