"""The steering phase (`engine.aimed`): after the rounds, only fresh scenarios that reach a
catalogued feature no example of the cell reached are run, at most a few, the same ones for a
seed (issue 18: rare features are reached sooner)."""
from collections import Counter

import pytest

from rolecall.conformance import CATALOGUE
from rolecall.engine import aimed
from rolecall.features import FEATURES, features

pytestmark = pytest.mark.fast

PROP = next(p for p in CATALOGUE if p.name == "policy_evaluation")


def test_each_scenario_it_runs_reaches_a_feature_nothing_reached_before():
    reached = Counter({f: 3 for f in FEATURES if not f.startswith(("condition:", "qualifier:"))})
    picked = aimed(PROP, reached, draws=30, runs=4, seed=0)
    assert 1 <= len(picked) <= 4
    seen = {f for f, n in reached.items() if n}
    for scenario in picked:
        new = (features(scenario) & set(FEATURES)) - seen
        assert new, "a steered example reaches something new"
        seen |= new


def test_a_cell_that_reached_every_feature_runs_nothing_more():
    assert aimed(PROP, Counter({f: 1 for f in FEATURES}), draws=30, runs=4, seed=0) == []


def test_a_seed_gives_the_same_examples():
    a = aimed(PROP, Counter(), draws=20, runs=3, seed=7)
    b = aimed(PROP, Counter(), draws=20, runs=3, seed=7)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b]
