"""Compare two runs of one scenario and name the most telling difference.

Levels, from coarse to fine: `decision` (ok / error), `code`, `facts` (the returned fields AWS
defines exactly, rolecall.facts, those the oracle is sure of), `result`, `message`. A run
compares at a chosen strictness, `facts` by default: differences finer than it are ignored.
A divergence's identity is (property, call, level, signature); the signature uses the oracle's
reason label when it has one, so one emulator bug gets one id however it was reached, and two
different rules broken in the same call get two.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from rolecall import facts
from rolecall.outcome import ERROR, OK, UNSUPPORTED, Outcome, Run
from rolecall.scenario import Scenario

LEVELS = ("decision", "code", "facts", "result", "message")
#: the strictness a run compares at unless told otherwise
DEFAULT_STRICTNESS = "facts"


@dataclass(frozen=True)
class Difference:
    step_id: str
    call: str
    level: str
    expected: Outcome
    observed: Outcome


def level_of(expected: Outcome, observed: Outcome, call: str | None = None) -> str | None:
    """The first level at which two outcomes of a `call` differ, or None when they agree."""
    if UNSUPPORTED in (expected.outcome, observed.outcome):
        return None
    if expected.outcome != observed.outcome:
        return "decision"
    if expected.outcome == ERROR:
        if expected.code != observed.code:
            return "code"
        if (expected.message or "") != (observed.message or ""):
            return "message"
        return None
    if call is not None and facts.differing(call, expected.result, observed.result, expected.unsure):
        return "facts"
    if expected.result != observed.result:
        return "result"
    return None


def first_difference(scenario: Scenario, expected: Run, observed: Run,
                     strictness: str = DEFAULT_STRICTNESS) -> Difference | None:
    """The earliest difference at the coarsest level found, within the strictness: a wrong
    decision on a later step wins over a wrong returned fact on an earlier one, so comparing
    facts hides no decision that `code` would report."""
    limit = LEVELS.index(strictness)
    found: Difference | None = None
    for step in scenario.steps:
        e, o = expected.outcome(step.id), observed.outcome(step.id)
        if e is None or o is None:
            continue
        level = level_of(e, o, step.call)
        if level is None or LEVELS.index(level) > limit:
            continue
        if found is None or LEVELS.index(level) < LEVELS.index(found.level):
            found = Difference(step.id, step.call, level, e, o)
            if LEVELS.index(level) <= LEVELS.index("code"):
                break  # nothing coarser than a decision or code difference to wait for
    return found


def expectation(o: Outcome, level: str) -> dict:
    """What a scenario file should expect so that replaying it checks this level."""
    exp: dict[str, Any] = {"outcome": o.outcome}
    if o.outcome == ERROR:
        exp["code"] = o.code
        if level == "message":
            exp["message"] = o.message
    elif level in ("result", "message") and o.result is not None:
        exp["result"] = o.result
    return exp


def expectation_of(diff: Difference) -> dict:
    """`expectation` of the oracle's answer at a difference; at `facts`, the facts it is sure of."""
    if diff.level == "facts" and diff.expected.outcome == OK:
        return {"outcome": OK, "result": facts.of(diff.call, diff.expected.result, diff.expected.unsure)}
    return expectation(diff.expected, diff.level)


def pin(scenario: Scenario, diff: Difference) -> Scenario:
    """The scenario up to the diverging step, which expects what the oracle answered: replayed,
    it passes on the oracle and fails on the diverging target."""
    steps = []
    for step in scenario.steps:
        if step.id == diff.step_id:
            steps.append(replace(step, expect=expectation_of(diff)))
            break
        steps.append(replace(step, expect=None))
    return replace(scenario, steps=tuple(steps),
                   description=f"{diff.call} diverges at the {diff.level} level ({diff.expected.reason or 'no rule'})")


_MASK = re.compile(r"\{\{[^}]*\}\}|<[^<>]*>|arn:aws:[^\s\"']+|'[^']*'|\"[^\"]*\"|\b\d+\b")


def _summary(o: Outcome) -> str:
    return o.outcome if o.outcome == OK else f"{o.outcome}:{o.code}"


def _result_paths(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"+{path}.{k}")
            elif k not in b:
                out.append(f"-{path}.{k}")
            else:
                out += _result_paths(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for x, y in zip(a, b) for p in _result_paths(x, y, f"{path}[]")]
    return [] if a == b else [f"~{path}"]


def signature(diff: Difference) -> str:
    e, o = diff.expected, diff.observed
    rule = e.reason or "-"
    if diff.level in ("decision", "code"):
        detail = f"{_summary(e)}->{_summary(o)}"
    elif diff.level == "facts":
        # a wrong returned fact does not depend on why the call was allowed: no rule in its id
        rule = "-"
        detail = ",".join(sorted(facts.differing(diff.call, e.result, o.result, e.unsure)))
    elif diff.level == "result":
        detail = ",".join(sorted(set(_result_paths(e.result, o.result))))
    else:
        detail = f"{_MASK.sub('_', e.message or '')}->{_MASK.sub('_', o.message or '')}"
    return f"{diff.call}|{diff.level}|{rule}|{detail}"


def divergence_id(prop: str, diff: Difference) -> str:
    digest = hashlib.sha256(f"{prop}|{signature(diff)}".encode()).hexdigest()
    return f"RC-{digest[:10]}"


@dataclass(frozen=True)
class Divergence:
    """One distinct way a target differs from the oracle, with its minimal scenario."""

    id: str
    property: str
    target: str
    call: str
    level: str
    signature: str
    step_id: str
    expected: Outcome
    observed: Outcome
    scenario: Scenario = field(compare=False)
    oracle: str = "reference"

    @classmethod
    def of(cls, prop: str, target: str, scenario: Scenario, diff: Difference, oracle: str = "reference") -> "Divergence":
        return cls(id=divergence_id(prop, diff), property=prop, target=target, call=diff.call, level=diff.level,
                   signature=signature(diff), step_id=diff.step_id, expected=diff.expected, observed=diff.observed,
                   scenario=pin(scenario, diff), oracle=oracle)

    def summary(self) -> str:
        e, o = self.expected, self.observed
        rule = f" (rule {e.reason})" if e.reason else ""
        return (f"{self.id} {self.target} {self.call} at step {self.step_id!r}: {self.oracle} says "
                f"{_summary(e)}{rule}, {self.target} says {_summary(o)} [{self.level}]")

    @classmethod
    def from_dict(cls, d: dict) -> "Divergence":
        from rolecall.scenario import from_dict

        return cls(id=d["id"], property=d["property"], target=d["target"], call=d["call"], level=d["level"],
                   signature=d["signature"], step_id=d["step"], expected=Outcome.from_dict(d["expected"]),
                   observed=Outcome.from_dict(d["observed"]), scenario=from_dict(d["scenario"], origin=d["id"]),
                   oracle=d.get("oracle", "reference"))

    def to_dict(self, *, scenario: bool = False) -> dict:
        extra = {"scenario": self.scenario.to_dict()} if scenario else {}
        return {**extra, "id": self.id, "property": self.property, "target": self.target, "call": self.call,
                "level": self.level, "signature": self.signature, "step": self.step_id, "oracle": self.oracle,
                "expected": self.expected.to_dict(trace=True), "observed": self.observed.to_dict()}
