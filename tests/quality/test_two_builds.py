"""The gate keys on findings, not symptoms (issue 15's must-show).

Two builds of one emulator, named alike (tests/quality/two_builds.py): build 1 has one planted
bug; build 2 has it and a second one whose divergences share symptom ids with the first. Gated
against build 1's baseline, build 1 passes and build 2 fails, naming exactly one new finding.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROLECALL = Path(sys.executable).parent / "rolecall"
HERE = Path(__file__).resolve().parent


def rolecall(cwd: Path, *args):
    env = {**os.environ, "PYTHONPATH": str(HERE), "NO_COLOR": "1"}
    return subprocess.run([str(ROLECALL), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)


def gated(cwd: Path, build: str):
    return rolecall(cwd, "run", "--target", f"two_builds:{build}", "--property", "policy_evaluation",
                    "--profile", "ci", "--workers", "1", "--report-dir", cwd / "reports", "--baseline", cwd / "bl")


@pytest.mark.slow
def test_a_second_bug_behind_known_symptoms_is_one_new_finding(tmp_path):
    (tmp_path / "bl").mkdir()
    first = gated(tmp_path, "build1")
    assert first.returncode == 1, first.stdout + first.stderr
    accept = rolecall(tmp_path, "baseline", "update", "--from", tmp_path / "reports" / "latest",
                      "--baseline", tmp_path / "bl")
    assert accept.returncode == 0, accept.stdout + accept.stderr

    again = gated(tmp_path, "build1")
    assert again.returncode == 0, again.stdout + again.stderr

    second = gated(tmp_path, "build2")
    assert second.returncode == 1, second.stdout + second.stderr
    gate = json.loads((tmp_path / "reports" / "latest" / "summary.json").read_text())["gate"]
    findings = {f["id"]: f for f in json.loads((tmp_path / "reports" / "latest" / "findings.json").read_text())}
    new = [p["id"] for p in gate["new"]]
    assert len(new) == 1, (gate, second.stdout)
    assert findings[new[0]]["title"] == "emulator mishandles NotAction"
    # its symptoms are ids the baseline knows from the first bug
    known_symptoms = {d for e in json.loads((tmp_path / "bl" / "emulator.json").read_text())["findings"]
                      for d in e["divergences"]}
    assert set(findings[new[0]]["divergences"]) & known_symptoms or gate["regressions"], (findings, known_symptoms)
    assert f"new: {new[0]} emulator mishandles NotAction" in second.stdout
