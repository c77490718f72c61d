"""The ci budget reaches every feature of the policy language and the API that rolecall aims
at (`rolecall.features.FEATURES`): each property explored as a run explores it (the ci
profile's seed, budget and rounds), the reference model as target and oracle, and the
features of every scenario the oracle accepts counted. A feature no scenario reaches is a
hole in the search that reason labels do not show (issue 18: a ForAllValues condition on a
missing key, a default-duration session used after its hour)."""
from collections import Counter

import pytest

from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.features import FEATURES, features
from rolecall.targets.reference import ReferenceTarget


class _Counting(ReferenceTarget):
    def __init__(self, counts: Counter):
        super().__init__()
        self.counts = counts

    def run(self, scenario):
        result = super().run(scenario)
        if result.setup_error is None:
            self.counts["<scenarios>"] += 1
            self.counts.update(features(scenario))
        return result


@pytest.mark.slow
def test_the_ci_budget_reaches_every_feature():
    counts: Counter = Counter()
    for prop in CATALOGUE:
        cell = explore(prop, ReferenceTarget(), _Counting(counts), profile=PROFILES["ci"])
        assert cell.error is None, cell.error
    assert counts["<scenarios>"] >= 40 * len(CATALOGUE)
    missing = [f for f in FEATURES if not counts[f]]
    assert not missing, f"the ci budget reaches no scenario with {missing}"
