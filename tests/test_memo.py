"""A cell compares each distinct scenario once (engine.compare_once's memo): Hypothesis's
shrinker and rolecall's minimiser reach the same scenario again from other choices (about 30%
of a cell's comparisons on moto), and it is answered from the cell's memo. What the cell finds
is the same; a target that answers a scenario differently the second time is still caught,
since the replays that confirm a divergence always run on the target."""
from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from external_target import TrustingReference
from rolecall import engine
from rolecall.conformance import CATALOGUE
from rolecall.targets.reference import ReferenceTarget, reference

pytestmark = pytest.mark.fast

PROP = next(p for p in CATALOGUE if p.name == "cross_account_assume_role")
PROFILE = dataclasses.replace(engine.PROFILES["ci"], max_examples=20, rounds=1)


class Counting(TrustingReference):
    """The planted trust bug, counting the runs of each scenario."""

    def __init__(self):
        super().__init__()
        self.runs = Counter()

    def run(self, scenario):
        self.runs[scenario.dumps()] += 1
        return super().run(scenario)


class FlakyOnce(TrustingReference):
    """Shows the planted bug only the first time it runs a scenario; after that it answers as AWS."""

    def __init__(self):
        super().__init__()
        self.seen = set()
        self.honest = False

    def run(self, scenario):
        key = scenario.dumps()
        self.honest = key in self.seen
        self.seen.add(key)
        return super().run(scenario)

    def call(self, credentials, service, action, params):
        if self.honest:
            return ReferenceTarget.call(self, credentials, service, action, params)
        return super().call(credentials, service, action, params)


def _cell(target):
    return engine.explore(PROP, target, reference(), profile=PROFILE)


def test_a_scenario_compared_again_in_a_cell_is_not_run_again_and_the_cell_finds_the_same(monkeypatch):
    with_memo = Counting()
    found = _cell(with_memo)
    assert found.divergences, "the planted bug should be found"

    original = engine.compare_once
    monkeypatch.setattr(engine, "compare_once",
                        lambda prop, scenario, target, oracle, strictness, memo=None:
                        original(prop, scenario, target, oracle, strictness))
    without = Counting()
    again = _cell(without)
    assert (again.examples, sorted(again.divergences)) == (found.examples, sorted(found.divergences))
    assert sum(with_memo.runs.values()) < sum(without.runs.values())
    # each confirmed divergence's minimal scenario still ran on the target for every confirming replay
    for record in found.divergences.values():
        assert with_memo.runs[record.divergence.scenario.dumps()] >= engine.CONFIRM_REPLAYS


def test_a_divergence_the_target_does_not_repeat_is_not_confirmed():
    cell = _cell(FlakyOnce())
    assert not cell.divergences, [r.divergence.summary() for r in cell.divergences.values()]
    assert cell.flaky, "the divergences seen once are reported as not reproducing"
