"""The strategies feed every decision path, in the manner of Hypothesis's own quality tests.

Each family is drawn N times with a fixed seed and run on the reference model. Its final
steps must be allowed (ok) and denied (error) each at least a fifth of the time, its
worlds must be ones AWS accepts, and together the families must reach every reason label
the model decides with (the evaluation's REASONS and the labels the STS, IAM and model
modules raise directly). A strategy that starves a path fails here; a label no scenario
can reach is a finding about the model, not a reason to drop it from this test.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import rolecall.targets.reference as reference_package
from rolecall.outcome import ERROR, OK, UNSUPPORTED
from rolecall.strategies import FAMILIES
from rolecall.targets.reference import reference
from rolecall.targets.reference.evaluation import REASONS, RULES

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

N = 150
MIN_SHARE = 0.20
MAX_UNSUPPORTED = 0.02


def model_labels() -> set[str]:
    """Every reason label the reference model can answer with."""
    raised: set[str] = set()
    for module in Path(reference_package.__file__).parent.glob("*.py"):
        raised |= set(re.findall(r'reason="([a-z][a-z-]+)"', module.read_text(encoding="utf-8")))
    return set(REASONS) | raised


def test_every_reason_label_says_in_one_line_what_aws_does():
    """A baseline entry's reason quotes these lines (rolecall baseline update)."""
    missing = model_labels() - set(RULES)
    assert not missing, f"labels without a RULES line: {sorted(missing)}"
    assert all(len(line) <= 100 and "\n" not in line for line in RULES.values())


@functools.lru_cache(maxsize=None)
def sample(family: str) -> dict:
    """Final-step outcomes, reason labels, unsupported steps and setup errors of N examples."""
    target = reference()
    out = {"finals": Counter(), "reasons": Counter(), "steps": 0, "unsupported": 0, "setup_errors": []}

    @settings(max_examples=N, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(FAMILIES[family]())
    def collect(scenario):
        run = target.run(scenario)
        if run.setup_error is not None:
            out["setup_errors"].append((scenario.description, run.setup_error.message))
            return
        out["finals"][run.outcomes[-1].outcome] += 1
        for o in run.outcomes:
            out["steps"] += 1
            if o.outcome == UNSUPPORTED:
                out["unsupported"] += 1
            elif o.reason:
                out["reasons"][o.reason] += 1

    collect()
    return out


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_draws_worlds_aws_accepts(family):
    # A world the reference refuses is an example the engine throws away (and AWS would refuse
    # it too): trust and bucket policies may name only principals that exist.
    assert sample(family)["setup_errors"] == []


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_feeds_both_decisions(family):
    finals = sample(family)["finals"]
    decided = finals[OK] + finals[ERROR]
    assert decided >= N * 0.9, f"{family}: only {decided} of {N} final steps were decided: {dict(finals)}"
    for outcome in (OK, ERROR):
        share = finals[outcome] / decided
        assert share >= MIN_SHARE, f"{family}: final steps {outcome} in {share:.0%} of examples: {dict(finals)}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_uses_calls_the_model_implements(family):
    s = sample(family)
    assert s["unsupported"] <= MAX_UNSUPPORTED * s["steps"], f"{family}: {s['unsupported']} of {s['steps']} unsupported"


def test_families_reach_every_reason_label():
    reached: Counter = Counter()
    for family in FAMILIES:
        reached.update(sample(family)["reasons"])
    missing = sorted(model_labels() - set(reached))
    assert not missing, f"no family reaches {missing}; reached: {dict(reached)}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_reaches_several_labels(family):
    # a family whose examples all end in one rule explores one path, however many it draws
    labels = sample(family)["reasons"]
    assert len(labels) >= 3, f"{family} reaches only {dict(labels)}"
