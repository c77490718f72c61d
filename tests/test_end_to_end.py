"""`rolecall run` end to end on real targets: divergences found, shrunk, saved, replayable."""
import json
from pathlib import Path

import pytest

from conftest import ROOT


def _divergence_files(report: Path, target: str) -> list[Path]:
    return sorted((report / "divergences" / target.replace("+", "-")).glob("*/scenario.json"))


@pytest.mark.slow
def test_run_finds_moto_divergences_and_saves_replayable_minimal_scenarios(run_rolecall, tmp_path):
    p = run_rolecall("run", "--target", "reference", "--target", "moto", "--max-examples", "10",
                     "--property", "assume_role_trust_and_identity",
                     "--report-dir", str(tmp_path / "reports"))
    assert p.returncode == 1, p.stderr[-2000:]
    report = tmp_path / "reports" / "latest"
    summary = json.loads((report / "summary.json").read_text())
    assert summary["by_target"]["reference"] == []  # the oracle agrees with itself
    saved = _divergence_files(report, "moto")
    assert saved, "moto should diverge from AWS on its own"
    # the run ends with moto's findings: it authorizes nothing (one line, however many symptoms),
    # beside the returned facts it gets wrong (strictness facts: PackedPolicySize without a session policy)
    assert "authorizes nothing" in p.stdout and "(reference 0, moto " in p.stdout
    findings = json.loads((report / "findings.json").read_text())
    assert sum("authorizes nothing" in f["title"] for f in findings) == 1
    assert all("authorizes nothing" in f["title"] or f["rule"] == "returned-facts" for f in findings), \
        [f["title"] for f in findings]
    for scenario in saved[:2]:
        doc = json.loads(scenario.read_text())
        assert len(doc["steps"]) <= 3
        # the saved file expects what AWS (the reference) answers: replaying reproduces the divergence
        assert run_rolecall("replay", str(scenario), "--target", "moto").returncode == 1
        assert run_rolecall("replay", str(scenario), "--target", "reference").returncode == 0


def test_a_target_from_outside_rolecall_runs_by_import_path(run_rolecall, tmp_path):
    tests_dir = Path(__file__).parent
    p = run_rolecall("run", "--target", "external_target:factory", "--max-examples", "40", "-m", "delegation",
                     "--report-dir", str(tmp_path / "r"), cwd=tests_dir)
    assert p.returncode == 1, p.stderr[-2000:]
    summary = json.loads((tmp_path / "r" / "latest" / "summary.json").read_text())
    (target,) = summary["by_target"]
    assert target == "trusting-reference"
    divergences = json.loads((tmp_path / "r" / "latest" / "divergences.json").read_text())
    assert divergences and all(d["expected"]["reason"].startswith("deny-cross-account") for d in divergences)
