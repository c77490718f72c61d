"""The mutation score of the ci profile: each low-level planted bug of `mutants.py` (a
realistic emulator bug in a copy of the reference model, not a flipped label) is found on
the property that should find it, at the ci profile's seed and budget, and each of its
divergences shrinks to a scenario of at most three steps. Each mutant is loaded as a user
loads an emulator, through its `module:factory` name."""
import pytest

from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.targets import load_target
from rolecall.targets.reference import reference

from .mutants import MUTANTS

PROPERTIES = {p.name: p for p in CATALOGUE}


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_ci_profile_finds_and_shrinks_the_mutant(mutant):
    target = load_target(f"tests.quality.mutants:{mutant.name.replace('-', '_')}")
    assert target.name == f"mutant:{mutant.name}"
    cell = explore(PROPERTIES[mutant.property], target, reference(), profile=PROFILES["ci"],
                   strictness=mutant.strictness)
    assert cell.error is None, cell.error
    assert cell.divergences, f"{mutant.property} does not detect: {mutant.what}"
    for confirmed in cell.divergences.values():
        steps = confirmed.divergence.scenario.steps
        assert len(steps) <= 3, f"{confirmed.divergence.summary()}: {len(steps)} steps"

