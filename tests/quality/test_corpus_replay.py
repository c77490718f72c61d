"""`rolecall run` replays the committed scenario corpora on every target before the search, and
what they reveal is reported as findings like the search's (issue 18).

The planted bug (tests/quality/corpus_only.py: no quota on access keys) is in calls no property
makes, so a run with a tiny search budget finds it only through the corpus: with the corpus it is
a finding, with --no-corpus the run is clean.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests.quality.corpus_only:access_keys_unlimited"

pytestmark = pytest.mark.slow


def run(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("ROLECALL_CORPUS", None)  # the default: the committed corpora
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "rolecall.cli", "run", "--target", TARGET,
                           "--property", "assume_role_trust_and_identity", "--max-examples", "2", "--workers", "1",
                           "--report-dir", str(reports), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    findings = json.loads((reports / "latest" / "findings.json").read_text()) if (reports / "latest").exists() else []
    return done, findings


def test_a_bug_only_the_corpus_shows_is_a_finding_of_rolecall_run(tmp_path):
    done, findings = run(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    quota = [f for f in findings if any(s.get("call") == "iam:CreateAccessKey" for s in f["scenario"]["steps"])]
    assert quota, json.dumps(findings, indent=1)[:3000]
    finding = quota[0]
    assert finding["target"] == "mutant:access-keys-unlimited"
    # the minimal scenario: a user, two keys, the third one AWS refuses
    assert [s["call"] for s in finding["scenario"]["steps"]][-1] == "iam:CreateAccessKey"
    assert "LimitExceeded" in json.dumps(finding)
    assert finding["direction"] == "too permissive" and finding["properties"] == ["corpus"]
    assert finding["behaviour"] in done.stdout  # in the terminal's findings, like the search's


def test_without_the_corpus_the_tiny_search_does_not_see_it(tmp_path):
    done, findings = run(tmp_path, "--no-corpus")
    assert done.returncode == 0, done.stdout + done.stderr
    assert findings == []


def test_each_targets_corpus_is_its_first_cell_and_runs_in_the_lanes():
    """The corpus is a cell of each target, not a phase before the lanes: with two targets and two
    workers, each target's lane replays it (side by side, instead of one target after another
    in the parent), and it is that target's first cell in the report."""
    from rolecall.conformance import select
    from rolecall.corpus import corpus_property, default_folders, load_corpus
    from rolecall.session import _catalogued, plan_lanes, run as run_suite

    scenarios = load_corpus(default_folders())[:12]
    props = [corpus_property(scenarios), *select(["input_validation"])]
    assert _catalogued(props) and len(plan_lanes(["moto", "reference"], 2, {})) == 2  # lanes, not the parent
    result = run_suite(props, ["moto", "reference"], max_examples=2, workers=2)
    assert [(c.target, c.property) for c in result.cells] == [
        ("moto", "corpus"), ("moto", "input_validation"), ("reference", "corpus"), ("reference", "input_validation")]
    corpus = [c for c in result.cells if c.property == "corpus"]
    assert all(c.examples == len(scenarios) and c.error is None for c in corpus), corpus
