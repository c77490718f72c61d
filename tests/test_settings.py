"""Settings: [tool.rolecall] in pyproject.toml, then ROLECALL_* variables, then flags."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rolecall import settings

PROPERTY = "assume_role_trust_and_identity"


def _pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text("[project]\nname = 'mine'\n\n[tool.rolecall]\n" + textwrap.dedent(body))
    return path


@pytest.mark.fast
def test_the_environment_wins_over_the_file_and_paths_are_relative_to_it(tmp_path):
    path = _pyproject(tmp_path, 'targets = ["moto"]\nprofile = "dev"\nreport-dir = "out"\n')
    assert settings.load(path, {}) == {"targets": ["moto"], "profile": "dev", "report-dir": tmp_path / "out"}
    env = {"ROLECALL_TARGETS": "moto+auth, localstack", "ROLECALL_PROFILE": "explore"}
    assert settings.load(path, env) == {"targets": ["moto+auth", "localstack"], "profile": "explore",
                                        "report-dir": tmp_path / "out"}
    assert settings.default_map(settings.load(path, env))["run"]["targets"] == ["moto+auth", "localstack"]


@pytest.mark.fast
@pytest.mark.parametrize("body, env, message", [
    ('profil = "dev"\n', {}, "[tool.rolecall] unknown setting 'profil' (did you mean 'profile'?)"),
    ('profile = "fast"\n', {}, "profile is one of ci, dev, explore, replay, got 'fast'"),
    ('targets = "moto"\n', {}, None),  # one target as a string is fine
    ('targets = []\n', {}, "targets is a list of target names, got []"),
    ("", {"ROLECALL_STRICTNESS": "exact"}, "ROLECALL_STRICTNESS: strictness is one of decision, code, facts, result, "
                                           "message, got 'exact'"),
])
def test_a_wrong_setting_is_one_line_naming_where_it_is(tmp_path, body, env, message):
    path = _pyproject(tmp_path, body)
    if message is None:
        assert settings.load(path, env) == {"targets": ["moto"]}
        return
    with pytest.raises(settings.SettingsError) as err:
        settings.load(path, env)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_rolecall_run_takes_file_then_environment_then_flags(tmp_path):
    _pyproject(tmp_path, 'targets = ["moto+auth"]\nprofile = "dev"\nreport-dir = "from-file"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("MOTO_ACCOUNT_ID", "ROLECALL_PROFILE")}
    env.update(ROLECALL_TARGETS="moto", ROLECALL_REPORT_DIR=str(tmp_path / "from-env"))
    p = subprocess.run([sys.executable, "-m", "rolecall.cli", "run", "--property", PROPERTY, "--max-examples", "3",
                        "--workers", "1", "--report-dir", str(tmp_path / "from-flag")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode in (0, 1), p.stdout + p.stderr
    summary = json.loads((tmp_path / "from-flag" / "latest" / "summary.json").read_text())
    assert summary["target_specs"] == ["moto"] and summary["profile"] == "dev"
    assert not (tmp_path / "from-file").exists() and not (tmp_path / "from-env").exists()


def test_a_misspelt_setting_stops_rolecall_before_any_work(run_rolecall, tmp_path):
    _pyproject(tmp_path, 'report_dir = "out"\n')
    p = run_rolecall("run", "--target", "moto", cwd=tmp_path, env={"ROLECALL_PROFILE": ""})
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0] == (f"rolecall: error: {tmp_path / 'pyproject.toml'}: [tool.rolecall] unknown setting "
                        "'report_dir' (did you mean 'report-dir'?)")
    assert os.listdir(tmp_path) == ["pyproject.toml"]


@pytest.mark.fast
def test_the_corpus_setting_names_folders_or_turns_the_replay_off(tmp_path):
    path = _pyproject(tmp_path, 'corpus = ["mine", "/abs/theirs"]\n')
    assert settings.load(path, {}) == {"corpus": [tmp_path / "mine", Path("/abs/theirs")]}
    assert settings.default_map(settings.load(path, {}))["run"] == {"corpus": [tmp_path / "mine", Path("/abs/theirs")]}
    off = _pyproject(tmp_path, 'corpus = "off"\n')
    assert settings.default_map(settings.load(off, {}))["run"] == {"no_corpus": True}
    assert settings.default_map(settings.load(path, {"ROLECALL_CORPUS": "off"}))["run"] == {"no_corpus": True}
    bad = _pyproject(tmp_path, "corpus = 3\n")
    with pytest.raises(settings.SettingsError, match='corpus is a list of folders or "off", got 3'):
        settings.load(bad, {})


def test_a_missing_corpus_folder_is_one_line_and_exit_2(run_rolecall, tmp_path):
    p = run_rolecall("run", "--target", "moto", "--corpus", str(tmp_path / "nowhere"), "--report-dir",
                     str(tmp_path / "r"))
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip() == f"rolecall: error: {tmp_path / 'nowhere'}: no such corpus folder"
