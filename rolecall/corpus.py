"""The committed scenario corpora (scenarios/**: documented behaviour, and AWS's recorded answers
in scenarios/aws-recorded/) as one more property: `rolecall run` replays every file on every
target as the first cell of that target (in its lane, side by side with the other targets'), and
what diverges is confirmed and explained by the engine like a search example (a file is already
small: it is not reduced), so it becomes the same findings.

A file on which the oracle itself misses the file's expectations (a documented disagreement
with AWS, tests/test_scenario_corpus.py) is skipped: it is no evidence about a target.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import strategies as st

from rolecall.engine import Cell, replay
from rolecall.outcome import Run, matches_expectation
from rolecall.property import Property
from rolecall.scenario import Scenario, ScenarioError, load

SUFFIXES = (".json", ".yaml", ".yml")


def _no_search() -> st.SearchStrategy[Scenario]:
    """A corpus is replayed, never searched (module level: the property pickles into lanes)."""
    return st.nothing()


CORPUS = Property(
    name="corpus", behaviour="corpus", feature="corpus", strategy=_no_search,
    description="Each committed scenario file (scenarios/**) behaves on the target as on the oracle",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
)


def default_folders() -> list[Path]:
    """rolecall's own committed corpora (the repository's scenarios/ folder), when present."""
    folder = Path(__file__).resolve().parent.parent / "scenarios"
    return [folder] if folder.is_dir() else []


def load_corpus(folders: list[Path]) -> list[Scenario]:
    """Every scenario file under `folders`, in path order. Raises ScenarioError (one line) for a
    missing folder or an invalid file."""
    out: list[Scenario] = []
    for folder in folders:
        if not Path(folder).is_dir():
            raise ScenarioError(str(folder), "", "no such corpus folder")
        out.extend(load(p) for p in sorted(Path(folder).rglob("*")) if p.suffix in SUFFIXES and p.is_file())
    return out


def oracle_holds(scenario: Scenario, expected: Run) -> bool:
    """The oracle meets every expectation the file states (steps it cannot express aside)."""
    for step in scenario.steps:
        if step.expect is None:
            continue
        o = expected.outcome(step.id)
        if o is None or o.outcome == "unsupported":
            continue
        if not matches_expectation(dict(step.expect), o.to_dict()):
            return False
    return True


#: seconds a corpus file takes on moto (13-37 s for 614 files): the cell's cost, by which a lane
#: that is done takes it from another (rolecall.lanes)
SECONDS_PER_FILE = 0.05


def corpus_property(scenarios: list[Scenario]) -> Property:
    """The `corpus` property holding these scenarios: a run's first cell on each target."""
    return replace(CORPUS, corpus=tuple(scenarios), cost=max(1.0, SECONDS_PER_FILE * len(scenarios)))


def replay_corpus(scenarios: list[Scenario], target, oracle, *, strictness: str = "code",
                  on_example=None) -> Cell:
    """The corpus on one open target against the open oracle: one cell of the `corpus` property.
    A diverging file is not reduced: it is already a reviewed scenario with its provenance (a
    recorded AWS answer, an AWS page), and reducing costs a server target minutes."""
    return replay(CORPUS, scenarios, target, oracle, strictness=strictness, holds=oracle_holds, reduce_found=False,
                  on_example=on_example)
