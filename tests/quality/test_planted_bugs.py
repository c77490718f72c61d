"""Quality, in the manner of Hypothesis's own quality/ tests: the default (ci) profile must
detect each planted bug, and shrink its divergence to a scenario of at most three steps."""
import pytest

from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.targets.reference import reference

from .planted import BUGS, PlantedTarget


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_the_ci_profile_finds_and_shrinks_the_planted_bug(bug):
    target, oracle = PlantedTarget(bug), reference()
    findings = []
    for prop in CATALOGUE:
        cell = explore(prop, target, oracle, profile=PROFILES["ci"])
        assert cell.error is None, cell.error
        findings.extend(cell.divergences.values())
        if findings:
            break  # found: the rest of the catalogue is not needed for this bug
    assert findings, f"no property detects: {bug.what}"
    for f in findings:
        steps = f.divergence.scenario.steps
        assert len(steps) <= 3, f"{f.divergence.summary()}: {len(steps)} steps"


@pytest.mark.slow
def test_the_unbroken_model_is_not_flagged():
    target, oracle = reference(), reference()
    for prop in CATALOGUE:
        cell = explore(prop, target, oracle, profile=PROFILES["ci"], max_examples=20)
        assert not cell.divergences
