"""This repository's own baselines (baselines/<target>.json, produced by real ci-profile runs
with `rolecall baseline update`): every entry says why it is accepted and which AWS page
shows the expected behaviour, and its pinned scenario expects what the reference model
answers, so a gated run's replay of it checks the emulator against AWS's rule."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from rolecall.ledger import Baseline

BASELINES = ROOT / "baselines"
TARGETS = ["moto", "moto+auth", "localstack"]
AWS_PAGE = re.compile(r"https://(docs\.aws\.amazon\.com|repost\.aws|aws\.amazon\.com)/")


def test_each_local_target_has_a_committed_baseline_with_reasons_and_sources():
    ledger = Baseline.load(BASELINES)
    assert set(TARGETS) <= set(ledger.entries), sorted(ledger.entries)
    for target in TARGETS:
        entries = ledger.entries[target]
        assert len(entries) >= 20, f"{target}: {len(entries)} entries"
        for div_id, e in entries.items():
            assert e["reason"].startswith(target + " ") and len(e["reason"]) <= 220, (div_id, e["reason"])
            assert AWS_PAGE.match(e["source"]), (div_id, e["source"])
            assert (BASELINES / e["scenario"]).is_file(), (div_id, e["scenario"])


@pytest.mark.parametrize("target", TARGETS)
def test_pinned_scenarios_expect_what_the_reference_model_answers(target):
    ledger = json.loads((BASELINES / f"{target.replace('+', '-')}.json").read_text())
    files = [str(BASELINES / e["scenario"]) for e in ledger["divergences"]]
    p = subprocess.run([str(Path(sys.executable).with_name("rolecall")), "replay", *files, "--target", "reference"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
