"""This repository's own baselines (baselines/<target>.json, made from real ci-profile runs with
`rolecall baseline update`): one entry per finding (an emulator behaviour, not a symptom), each
titled as an upstream issue would be, with the AWS page, triage metadata and a pinned scenario
that expects what AWS answers: it replays exit 0 on the reference model and exit 1 on its target."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from rolecall.ledger import TRIAGE, Baseline

BASELINES = ROOT / "baselines"
TARGETS = ["moto", "moto+auth", "localstack", "ministack+auth"]  # the default targets
AWS_PAGE = re.compile(r"https://(docs\.aws\.amazon\.com|repost\.aws|aws\.amazon\.com)/")
ROLECALL = str(Path(sys.executable).with_name("rolecall"))


def test_each_local_target_has_a_baseline_of_findings_with_titles_sources_and_triage():
    ledger = Baseline.load(BASELINES)
    assert set(TARGETS) <= set(ledger.entries), sorted(ledger.entries)
    for target in TARGETS:
        entries = ledger.entries[target]
        # behaviours, not symptoms: a ci run of 768 divergences gives 38-56 findings per target
        # (returned facts, the corpus, federation, organizations and the simulator included)
        assert 1 <= len(entries) <= 60, f"{target}: {len(entries)} findings"
        for fid, e in entries.items():
            assert e["title"].startswith(target + " ") and len(e["title"]) <= 200, (fid, e["title"])
            assert AWS_PAGE.match(e["source"]), (fid, e["source"])
            assert e["status"] in TRIAGE and {"upstream", "since", "fixed_in"} <= set(e), (fid, e)
            assert e["divergences"], (fid, "a finding covers at least one divergence")
            assert (BASELINES / e["scenario"]).is_file(), (fid, e["scenario"])
        assert ledger.passed.get(target), f"{target}: the scenarios it passed are kept"
    # the targets that authorize nothing by design say so once
    for target in ("moto", "localstack"):
        nothing = [e for e in ledger.entries[target].values() if e["key"] == "authorizes-nothing"]
        assert len(nothing) == 1 and nothing[0]["status"] == "by design", (target, nothing)


def _pinned(target: str) -> list[str]:
    ledger = json.loads((BASELINES / f"{target.replace('+', '-')}.json").read_text())
    return [str(BASELINES / e["scenario"]) for e in ledger["findings"]]


@pytest.mark.parametrize("target", TARGETS)
def test_pinned_scenarios_expect_what_the_reference_model_answers(target):
    p = subprocess.run([ROLECALL, "replay", *_pinned(target), "--target", "reference"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]


def _still_failing(target: str, *extra: str) -> None:
    """Every finding's scenario fails its expectation on its target (replayed in one process)."""
    p = subprocess.run([ROLECALL, "replay", *_pinned(target), "--target", target, "--json", *extra],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, (p.stdout[-2000:], p.stderr[-2000:])
    docs = json.loads(p.stdout)["scenarios"]
    passing = [d["file"] for d in docs if d.get("setup_error") is None and all(d["expectations"].values())]
    assert not passing, f"{target} now passes these pinned scenarios (fixed? `rolecall baseline prune`): {passing}"


@pytest.mark.parametrize("target", ["moto", "moto+auth", "ministack+auth"])
def test_each_pinned_scenario_still_fails_on_its_emulator(target):
    _still_failing(target)


@pytest.mark.localstack
def test_each_pinned_scenario_still_fails_on_localstack(localstack_endpoint):
    _still_failing("localstack", "--localstack-endpoint", localstack_endpoint)
