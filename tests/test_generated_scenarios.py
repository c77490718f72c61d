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
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import rolecall.conformance as conformance
from rolecall.conformance import CATALOGUE, MODULES
from rolecall.scenario import from_dict, load
from rolecall.strategies import FAMILIES
from rolecall.targets.reference import reference

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

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


def test_a_new_property_is_one_module(tmp_path, monkeypatch):
    """No list to update: a module with PROPERTIES in the package is in the catalogue."""
    package = tmp_path / "more_properties"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "test_entry.py").write_text("raise AssertionError('pytest entry points are not imported')\n")
    (package / "extra.py").write_text(textwrap.dedent("""
        from rolecall.engine import Property
        from rolecall.strategies.assume_role import assume_role_scenarios

        PROPERTIES = [Property(name="extra", behaviour="delegate access", feature="delegation",
                               strategy=assume_role_scenarios, description="an extra one",
                               source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html")]
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    props = conformance.load([str(package)], "more_properties")
    assert [p.name for p in props] == ["extra"]
    (package / "broken.py").write_text("PROPERTIES = ['not a property']\n")
    with pytest.raises(TypeError, match="broken.py"):
        conformance.load([str(package)], "more_properties")
    # and this package's own modules are all in the catalogue
    on_disk = {m.name for m in pkgutil.iter_modules(conformance.__path__) if not m.name.startswith("test_")}
    assert set(MODULES) == on_disk and {p.strategy.__module__.rsplit(".", 1)[1] for p in CATALOGUE} <= \
        {f.__module__.rsplit(".", 1)[1] for f in FAMILIES.values()}


def test_properties_have_unique_names_and_marker_features():
    names = [p.name for p in CATALOGUE]
    assert len(names) == len(set(names))
    for p in CATALOGUE:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.feature), p.feature
        assert p.source.startswith("https://"), p.source


def test_every_family_has_a_property():
    used = {p.strategy for p in CATALOGUE}
    assert set(FAMILIES.values()) <= used, sorted(n for n, f in FAMILIES.items() if f not in used)
