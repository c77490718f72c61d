"""The rough edges a new user meets first: an unwritable report folder, colours, `replay
--explain` on an emulator, and the pytest plugin's conventions."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TRUST = ROOT / "scenarios" / "delegation" / "trust-does-not-name-caller.json"
PROPERTY = "assume_role_trust_and_identity"


def _blocked(tmp_path: Path) -> Path:
    """A report folder that cannot exist: its parent is a file (so it fails as root too)."""
    (tmp_path / "taken").write_text("a file, not a folder\n")
    return tmp_path / "taken" / "reports"


def test_an_unwritable_report_folder_is_one_line_exit_2_before_any_work(run_rolecall, tmp_path):
    for command in (["run", "--target", "moto", "--property", PROPERTY, "--max-examples", "3"],
                    ["explore", "--target", "moto", "--hours", "0.001"]):
        p = run_rolecall(*command, "--report-dir", str(_blocked(tmp_path)), cwd=tmp_path)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1, p.stdout + p.stderr
        assert "taken is not a folder" in lines[0] and "Traceback" not in p.stderr
        assert p.stdout == "", "nothing ran"


def _tty_output(args: list[str], env: dict) -> str:
    """The command's output as a terminal shows it (click only colours a terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "rolecall.cli", *args], stdout=follower, stderr=follower,
                            cwd=ROOT, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the command exited and closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_replay_honours_no_color():
    """https://no-color.org: when NO_COLOR is set, no ANSI colour."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _tty_output(["replay", str(TRUST), "--target", "reference"], env)
    plain = _tty_output(["replay", str(TRUST), "--target", "reference"], {**env, "NO_COLOR": "1"})
    assert "\x1b[" in coloured and "AccessDenied" in coloured
    assert "\x1b[" not in plain and "AccessDenied" in plain


def test_replay_explain_shows_the_references_trace_beside_an_emulators_answer(run_rolecall):
    """moto lets bob assume a role whose trust policy does not name him; the reference's trace
    says which rule denies (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)."""
    p = run_rolecall("replay", str(TRUST), "--target", "moto", "--explain")
    assert p.returncode == 1, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:3] == ["assume", "sts:AssumeRole", "ok"])
    assert lines[at + 1].split()[:3] == ["reference:", "error", "AccessDenied"], p.stdout
    assert '"rule": "deny-trust-no-match"' in p.stdout
    doc = json.loads(run_rolecall("replay", str(TRUST), "--target", "moto", "--explain", "--json").stdout)
    (scenario,) = doc["scenarios"]
    assert scenario["outcomes"][0]["outcome"] == "ok"
    assert scenario["reference"]["outcomes"][0]["code"] == "AccessDenied"
    assert scenario["reference"]["outcomes"][0]["trace"]


def _pytest(tmp_path: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if k not in ("MOTO_ACCOUNT_ID", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "rolecall.conformance", "-p", "no:xdist",
                           "-p", "no:cacheprovider", *args], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=600)


def test_pytest_bad_options_are_one_usage_error(tmp_path):
    unknown = _pytest(tmp_path, "--rolecall-target", "mot")
    assert unknown.returncode == 4, unknown.stdout + unknown.stderr  # pytest's "usage error"
    assert unknown.stderr.count("unknown target 'mot'") == 1 and "Traceback" not in unknown.stderr
    assert "passed" not in unknown.stdout and "error" not in unknown.stdout.lower()
    blocked = _pytest(tmp_path, "--rolecall-target", "moto", "--rolecall-report-dir", str(_blocked(tmp_path)))
    assert blocked.returncode == 4 and "taken is not a folder" in blocked.stderr, blocked.stdout + blocked.stderr


@pytest.mark.slow
def test_pytest_failure_seed_and_statistics_follow_pytest_and_hypothesis_conventions(tmp_path):
    reports = tmp_path / "reports"
    p = _pytest(tmp_path, "--rolecall-target", "moto", "-k", PROPERTY, "--rolecall-max-examples", "4",
                "--hypothesis-seed", "7", "--hypothesis-show-statistics", "--rolecall-report-dir", str(reports))
    out = p.stdout
    assert p.returncode == 1, out + p.stderr  # moto does not enforce trust policies: divergences
    # a readable failure: each divergence in a few lines, with the command that replays it
    replays = [line.split("replay:", 1)[1].strip() for line in out.splitlines() if line.strip().startswith("replay:")]
    assert replays and all(r.startswith("rolecall replay ") and r.endswith(" --target moto --explain")
                           for r in replays), out
    scenario = Path(replays[0].split()[2])
    assert json.loads(scenario.read_text())["format"] == "rolecall/scenario@1"
    assert "minimal scenario: {" not in out
    # --hypothesis-show-statistics: the section has the cell's figures
    stats = out.split("Hypothesis Statistics", 1)[1]
    assert f"{PROPERTY} on moto:" in stats and " examples: " in stats, out
    # --hypothesis-seed is the search's seed (the report records it)
    summary = json.loads((reports / "latest" / "summary.json").read_text())
    assert summary["seed"] == 7
