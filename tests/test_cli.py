"""`rolecall replay` and `rolecall run` as a user meets them: exit codes and one-line errors."""
import json
from pathlib import Path

import pytest

from conftest import ROOT

TRUST = ROOT / "scenarios" / "delegation" / "trust-does-not-name-caller.json"


def test_replay_reference_agrees_with_aws(run_rolecall):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: a trust
    policy that does not name the caller denies, whatever the caller's identity policy says."""
    p = run_rolecall("replay", str(TRUST), "--target", "reference")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "error AccessDenied (403)" in p.stdout


def test_replay_moto_does_not_enforce_trust(run_rolecall):
    p = run_rolecall("replay", str(TRUST), "--target", "moto")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "EXPECTED" in p.stdout


def test_replay_moto_with_enforcement_denies(run_rolecall):
    p = run_rolecall("replay", str(TRUST), "--target", "moto+auth")
    assert p.returncode == 0, p.stdout + p.stderr


def test_replay_json_is_one_document(run_rolecall):
    p = run_rolecall("replay", str(TRUST), "--target", "reference", "--json")
    doc = json.loads(p.stdout)
    (scenario,) = doc["scenarios"]
    assert scenario["outcomes"][0]["code"] == "AccessDenied"
    assert scenario["expectations"] == {"assume": True}


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "invalid JSON"),
    ('{"format": "rolecall/scenario@1", "accounts": {"A": {}}, "steps": [{"id": "x", "as": "A:user/ghost", '
     '"call": "sts:GetCallerIdentity"}]}', "$.steps[0].as: no user 'ghost'"),
    ('{"format": "rolecall/scenario@1", "accounts": {"A": {}}, "steps": [{"id": "x", "as": "A:admin", '
     '"call": "sts:GetCallerIdentity", "params": {"R": "{{A:role/none}}"}}]}', "unknown reference {{A:role/none}}"),
])
def test_bad_scenario_file_is_one_line_exit_2(run_rolecall, tmp_path, content, fragment):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    p = run_rolecall("replay", str(bad), "--target", "reference")
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert str(bad) in lines[0] and fragment in lines[0]
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("args, fragment", [
    (["replay", "x.json", "--target", "nonesuch"], "unknown target 'nonesuch'"),
    (["replay", "x.json", "--target", "no_such_module:factory"], "cannot import"),
    (["run", "--target", "nonesuch"], "unknown target 'nonesuch'"),
    (["run", "--profile", "forever"], "Invalid value for '--profile'"),
    (["run", "--property", "no_such_property", "--target", "moto"], "unknown property"),
    (["run", "--bogus"], "No such option"),
])
def test_bad_options_are_one_line_exit_2(run_rolecall, args, fragment, tmp_path):
    (tmp_path / "x.json").write_text(TRUST.read_text())
    p = run_rolecall(*args, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], p.stderr


def _command_paths():
    """Every command and subcommand of the `rolecall` group, as the package builds it."""
    import click

    from rolecall.cli import cli

    def walk(group, prefix):
        for name, command in sorted(group.commands.items()):
            yield [*prefix, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*prefix, name])

    return list(walk(cli, []))


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_command_answers_under_python_m(run_rolecall, path):
    """`python -m rolecall.cli explore` once answered "No such command" (the command modules
    registered themselves on a second copy of the CLI module)."""
    p = run_rolecall(*path, "--help")
    assert p.returncode == 0 and p.stdout.startswith(f"Usage: rolecall {' '.join(path)} "), p.stdout + p.stderr


def test_the_console_script_lists_every_command(run_rolecall):
    import subprocess
    import sys

    script = Path(sys.executable).parent / "rolecall"
    p = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    listed = {line.split()[0] for line in p.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert p.returncode == 0 and listed == {path[0] for path in _command_paths()}, p.stdout + p.stderr
    assert {"run", "replay", "explore", "compare", "explain", "baseline", "aws"} <= listed
