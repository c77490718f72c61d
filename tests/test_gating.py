"""The baseline gate as CI meets it, through the real `rolecall` command.

Exit codes: 0 every divergence is known, 1 a new or expired one, 2 rolecall could not do
its job (unreachable target, corrupted baseline), 130 interrupted. Plus the ledger's
pinned replays: known divergences reproduce, fixed ones are stale.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import junitparser
import pytest

from rolecall.ledger import Baseline, add_replays, replay_baseline

ROLECALL = Path(sys.executable).parent / "rolecall"
PROPERTY = "assume_role_trust_and_identity"

PLANTED = (Path(__file__).parent / "renamed_target.py").read_text()

UNREACHABLE = textwrap.dedent('''
    """A target whose server is down."""
    from rolecall.targets.base import Target, TargetUnavailable


    class Unreachable(Target):
        name = "unreachable_target:factory"

        def open(self):
            raise TargetUnavailable("unreachable: cannot reach http://127.0.0.1:9: connection refused")

        def admin(self, account_id):
            raise TargetUnavailable("unreachable")

        def call(self, credentials, service, action, params):
            raise TargetUnavailable("unreachable")


    def factory():
        return Unreachable()
''')


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "planted_target.py").write_text(PLANTED)
    (tmp_path / "unreachable_target.py").write_text(UNREACHABLE)
    return tmp_path


def rolecall(workdir: Path, *args, **kw):
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    env.pop("MOTO_ACCOUNT_ID", None)
    return subprocess.run([str(ROLECALL), *map(str, args)], capture_output=True, text=True, cwd=workdir, env=env,
                          timeout=900, **kw)


def run_gated(workdir: Path, target: str, *extra):
    return rolecall(workdir, "run", "--target", target, "--property", PROPERTY, "--max-examples", "3",
                    "--report-dir", workdir / "reports", "--baseline", workdir / "baselines", *extra)


def gate_of(workdir: Path) -> dict:
    return json.loads((workdir / "reports" / "latest" / "summary.json").read_text())["gate"]


def test_moto_new_divergences_fail_then_pass_once_accepted(workdir):
    first = run_gated(workdir, "moto")
    assert first.returncode == 1, first.stdout + first.stderr
    gate = gate_of(workdir)
    assert gate["failing"] and gate["new"] and not gate["known"]
    assert "gate: FAIL" in first.stdout

    update = rolecall(workdir, "baseline", "update", "--from", "latest", "--reason", "moto lacks trust checks")
    assert update.returncode == 0, update.stderr
    ledger = json.loads((workdir / "baselines" / "moto.json").read_text())
    assert {e["id"] for e in ledger["divergences"]} == {p["id"] for p in gate["new"]}

    second = run_gated(workdir, "moto")
    assert second.returncode == 0, second.stdout + second.stderr
    gate2 = gate_of(workdir)
    assert not gate2["failing"] and not gate2["new"]
    assert {p["id"] for p in gate2["known"]} == {p["id"] for p in gate["new"]}
    xml = junitparser.JUnitXml.fromfile(str(workdir / "reports" / "latest" / "junit.xml"))
    assert xml.failures == 0 and xml.errors == 0 and xml.tests == 1
    md = (workdir / "reports" / "latest" / "summary.md").read_text()
    assert md.startswith("## rolecall: ✅ gate passed")


def test_expired_entries_fail_and_unseen_ones_are_unobserved(workdir):
    """An entry past its expiry day fails the gate again; one the search did not meet passes."""
    assert run_gated(workdir, "planted_target:factory").returncode == 1
    update = rolecall(workdir, "baseline", "update", "--from", "latest", "--expires", "2000-01-01",
                      "--ticket", "https://example.org/issues/7")
    assert update.returncode == 0, update.stderr
    ledger_file = workdir / "baselines" / "planted_target-factory.json"
    expired = run_gated(workdir, "planted_target:factory")
    assert expired.returncode == 1, expired.stdout + expired.stderr
    gate = gate_of(workdir)
    assert gate["expired"] and not gate["new"]

    doc = json.loads(ledger_file.read_text())
    # no --reason: each entry says what the target does and which AWS rule it breaks
    for entry in doc["divergences"]:
        assert entry["reason"].startswith(f"planted_target:factory answers {entry['call']} with AccessDeniedException "
                                          "where AWS answers AccessDenied"), entry["reason"]
        assert entry["source"].startswith("https://docs.aws.amazon.com/"), entry
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for entry in doc["divergences"]:
        entry["expires"] = tomorrow
    never_seen = dict(doc["divergences"][0], id="RC-00000000aa")
    never_seen.pop("scenario")
    doc["divergences"].append(never_seen)
    ledger_file.write_text(json.dumps(doc, indent=2))
    passing = run_gated(workdir, "planted_target:factory")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    gate = gate_of(workdir)
    assert gate["unobserved"] == [{"target": "planted_target:factory", "id": "RC-00000000aa"}]
    assert not gate["expired"] and gate["known"]


def _unreachable_specs():
    specs = [pytest.param(["--target", "unreachable_target:factory"], id="module-target")]
    try:
        import rolecall.targets.localstack  # noqa: F401
    except ImportError:
        specs.append(pytest.param(None, id="localstack",
                                  marks=pytest.mark.skip(reason="the localstack target is not in this tree yet")))
    else:
        specs.append(pytest.param(["--target", "localstack", "--localstack-endpoint", "http://127.0.0.1:9"],
                                  id="localstack"))
    return specs


@pytest.mark.parametrize("target_args", _unreachable_specs())
def test_unreachable_target_exits_2(workdir, target_args):
    p = rolecall(workdir, "run", *target_args, "--property", PROPERTY, "--max-examples", "3",
                 "--report-dir", workdir / "reports", "--baseline", workdir / "baselines")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    summary = json.loads((workdir / "reports" / "latest" / "summary.json").read_text())
    assert summary["target_errors"] and not summary["complete"]
    xml = junitparser.JUnitXml.fromfile(str(workdir / "reports" / "latest" / "junit.xml"))
    assert xml.errors >= 1


def test_corrupted_baseline_is_one_line_exit_2_and_left_untouched(workdir):
    baselines = workdir / "baselines"
    baselines.mkdir()
    corrupted = baselines / "moto.json"
    corrupted.write_bytes(b'{"format": "rolecall/baseline@1", "target": "moto", "divergences": [{"id": "RC-12')
    before = corrupted.read_bytes()
    for args in (["run", "--target", "moto", "--property", PROPERTY, "--max-examples", "3",
                  "--report-dir", workdir / "reports", "--baseline", baselines],
                 ["baseline", "update", "--from", workdir / "reports", "--baseline", baselines]):
        p = rolecall(workdir, *args)
        assert p.returncode == 2, p.stdout + p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and str(corrupted) in lines[0] and "Traceback" not in p.stderr, p.stderr
    assert corrupted.read_bytes() == before
    assert not (workdir / "reports").exists(), "nothing ran, nothing was written"


def test_interrupted_run_exits_130_and_leaves_no_partial_report(workdir):
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    env.pop("MOTO_ACCOUNT_ID", None)
    # the second property agrees on moto, so its 5000 examples keep the run busy
    proc = subprocess.Popen([str(ROLECALL), "run", "--target", "moto", "--property", PROPERTY, "--property",
                             "ec2_instance_profile_to_s3", "--max-examples", "5000", "--report-dir",
                             str(workdir / "reports")], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # the first cell is done: the second is being explored
            if "on moto" in line:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    reports = workdir / "reports"
    if reports.exists():
        for entry in reports.iterdir():
            assert not entry.name.startswith("."), f"partial report left: {entry}"
            if entry.name != "latest":
                summary = json.loads((entry / "summary.json").read_text())
                assert summary["interrupted"] is True and summary["complete"] is False


# ----------------------------------------------------------------------------- pinned replays

AGREEING = {
    # Same account, a trust policy naming the caller: AWS allows, and so does moto.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    "format": "rolecall/scenario@1",
    "accounts": {"A": {"users": {"bob": {}}, "roles": {"reader": {"trust": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "{{A:user/bob}}"},
                                               "Action": "sts:AssumeRole"}]}}}}},
    "steps": [{"id": "assume", "as": "A:user/bob", "call": "sts:AssumeRole",
               "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "bob-session"}}],
}


def _diverging_entry() -> tuple[str, dict]:
    """The sample scenario (a trust policy that does not name the caller) and its id on moto."""
    from rolecall.compare import Divergence, first_difference
    from rolecall.scenario import load
    from rolecall.session import make_target

    scenario = load(Path(__file__).resolve().parent.parent / "scenarios" / "delegation" /
                    "trust-does-not-name-caller.json")
    with make_target("reference", {}) as oracle, make_target("moto", {}) as moto:
        diff = first_difference(scenario, oracle.run(scenario), moto.run(scenario), "code")
    assert diff is not None, "moto does not enforce trust policies"
    return Divergence.of(PROPERTY, "moto", scenario, diff).id, scenario.to_dict()


def test_replaying_the_baseline_reproduces_known_divergences_and_finds_stale_ones(tmp_path):
    from rolecall.session import RunResult

    div_id, scenario = _diverging_entry()
    bl = tmp_path / "baselines"
    (bl / "moto").mkdir(parents=True)
    (bl / "moto" / f"{div_id}.json").write_text(json.dumps(scenario))
    (bl / "moto" / "RC-0000000001.json").write_text(json.dumps(AGREEING))
    entries = [{"id": div_id, "property": PROPERTY, "reason": "moto ignores trust", "scenario": f"moto/{div_id}.json"},
               {"id": "RC-0000000001", "property": PROPERTY, "reason": "fixed since",
                "scenario": "moto/RC-0000000001.json"}]
    (bl / "moto.json").write_text(json.dumps({"format": "rolecall/baseline@1", "target": "moto",
                                              "divergences": entries}))
    baseline = Baseline.load(bl)
    replays = replay_baseline(baseline, "moto", "reference", "code")
    status = {r.id: r.status for r in replays}
    assert status == {div_id: "reproduced", "RC-0000000001": "stale"}
    assert next(r for r in replays if r.id == "RC-0000000001").attempts == 3  # retried before calling it stale

    result = RunResult("r", "now", "ci", "code", "reference", ["moto"], 0)
    add_replays(result, replays)
    (cell,) = result.cells
    assert set(cell.divergences) == {div_id} and cell.divergences[div_id].confirmed
    relaxed = baseline.judge(result, replays)
    assert [d.id for d in relaxed.known] == [div_id] and relaxed.stale == [("moto", "RC-0000000001")]
    assert not relaxed.failing
    assert baseline.judge(result, replays, strict=True).failing


@pytest.mark.parametrize("content, fragment", [
    ("[]", "$.format"),
    ('{"format": "rolecall/baseline@1", "target": "moto", "divergences": [{"id": "bad"}]}', "$.divergences[0].id"),
    ('{"format": "rolecall/baseline@1", "target": "moto", "divergences": [{"id": "RC-0123456789", '
     '"expires": "soon"}]}', "$.divergences[0].expires: expected a date"),
    ('{"format": "rolecall/baseline@1", "target": "moto", "divergences": [{"id": "RC-0123456789", '
     '"scenario": "moto/RC-0123456789.json"}]}', "no such file"),
    ('{"format": "rolecall/baseline@1", "target": "moto+auth", "divergences": []}', "belongs in moto-auth.json"),
])
def test_baseline_problems_name_the_file_and_place(tmp_path, content, fragment):
    from rolecall.ledger import LedgerError

    (tmp_path / "moto.json").write_text(content)
    with pytest.raises(LedgerError) as exc:
        Baseline.load(tmp_path)
    assert str(tmp_path / "moto.json") in str(exc.value) and fragment in str(exc.value)
    assert "\n" not in str(exc.value)

