"""Divergence ids survive reseeding: a run with another seed reaches the same divergence by
other random worlds (other names, accounts, policies) and must name it by the same id, or a
committed baseline would stop matching the moment CI changes its seed."""
import pytest

from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, explore
from rolecall.targets.reference import reference

from .planted import BUGS, PlantedTarget

SEEDS = (0, 1, 2)
PROPERTIES = {p.name: p for p in CATALOGUE}
BUG = {b.name: b for b in BUGS}


@pytest.mark.parametrize("bug, prop", [
    ("role-not-found-leaks", "same_account_assume_role"),
    ("chaining-limit-not-enforced", "redshift_style_role_chain"),
    ("expired-credentials-accepted", "session_duration_and_expiry"),
])
@pytest.mark.slow
def test_another_seed_names_the_same_divergence_by_the_same_id(bug, prop):
    found = {}
    for seed in SEEDS:
        cell = explore(PROPERTIES[prop], PlantedTarget(BUG[bug]), reference(), profile=PROFILES["ci"], seed=seed)
        assert cell.error is None, cell.error
        found[seed] = set(cell.divergences)
    assert found[0], f"seed 0 does not detect {bug} through {prop}"
    for seed in SEEDS[1:]:
        missing = set(found[0]) - set(found[seed])
        assert not missing, f"seed {seed} found {sorted(found[seed])}, not seed 0's {sorted(missing)}"
