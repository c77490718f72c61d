"""Every generated example is a valid scenario file: it survives `to_dict`/`from_dict`, and
saved to disk and loaded back it replays with the same outcomes on the reference model. A
counterexample the engine saves is therefore one a user can replay by hand.

Also: the property catalogue lists every conformance module, and each family has a property.
"""
from __future__ import annotations

import json
import pkgutil
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import rolecall.conformance as conformance
from rolecall.conformance import CATALOGUE, MODULES
from rolecall.scenario import from_dict, load
from rolecall.strategies import FAMILIES
from rolecall.targets.reference import reference

EXAMPLES = 20


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_generated_scenarios_round_trip_and_replay(family):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.json"

        @settings(max_examples=EXAMPLES, database=None, derandomize=True, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(FAMILIES[family]())
        def check(scenario):
            data = scenario.to_dict()
            json.dumps(data)  # plain JSON all the way down
            again = from_dict(json.loads(json.dumps(data)), origin="<again>")
            assert again.to_dict() == data
            scenario.save(path)
            loaded = load(path)
            assert loaded.to_dict() == data
            first, replayed = reference().run(scenario), reference().run(loaded)
            assert replayed.to_dict() == first.to_dict()
            assert first.setup_error is None, first.setup_error

        check()


def test_catalogue_lists_every_conformance_module():
    # test_conformance is the pytest entry point (`pytest --pyargs rolecall.conformance`)
    on_disk = {m.name for m in pkgutil.iter_modules(conformance.__path__) if not m.name.startswith("test_")}
    assert set(MODULES) == on_disk


def test_properties_have_unique_names_and_marker_features():
    names = [p.name for p in CATALOGUE]
    assert len(names) == len(set(names))
    for p in CATALOGUE:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.feature), p.feature
        assert p.source.startswith("https://"), p.source


def test_every_family_has_a_property():
    used = {p.strategy for p in CATALOGUE}
    assert set(FAMILIES.values()) <= used, sorted(n for n, f in FAMILIES.items() if f not in used)
