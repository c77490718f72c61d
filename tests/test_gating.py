"""The baseline gate as CI meets it, through the real `rolecall` command.

Exit codes: 0 every finding is known, 1 a new or expired finding or a regression, 2 rolecall
could not do its job (unreachable target, corrupted or missing baseline), 130 interrupted.
Plus the ledger's replays: known findings reproduce, fixed ones agree with AWS, a scenario the
target passed at baseline time that fails now is a regression.
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
    (tmp_path / "baselines").mkdir()  # an empty baseline: every finding is new
    return tmp_path


def rolecall(workdir: Path, *args, env: dict | None = None, **kw):
    env = {**os.environ, "PYTHONPATH": str(workdir), **(env or {})}
    env.pop("MOTO_ACCOUNT_ID", None)
    return subprocess.run([str(ROLECALL), *map(str, args)], capture_output=True, text=True, cwd=workdir, env=env,
                          timeout=900, **kw)


def run_gated(workdir: Path, target: str, *extra):
    return rolecall(workdir, "run", "--target", target, "--property", PROPERTY, "--max-examples", "3",
                    "--report-dir", workdir / "reports", "--baseline", workdir / "baselines", *extra)


def gate_of(workdir: Path) -> dict:
    return json.loads((workdir / "reports" / "latest" / "summary.json").read_text())["gate"]


@pytest.mark.slow
def test_moto_new_findings_fail_then_pass_once_accepted_and_stay_passing_after_a_dev_run(workdir):
    first = run_gated(workdir, "moto")
    assert first.returncode == 1, first.stdout + first.stderr
    gate = gate_of(workdir)
    assert gate["failing"] and gate["new"] and not gate["known"]
    assert "gate: FAIL" in first.stdout
    # moto's default mode authorizes nothing: one finding, whatever the symptoms
    findings = json.loads((workdir / "reports" / "latest" / "findings.json").read_text())
    nothing = [f for f in findings if f["key"] == "authorizes-nothing"]
    assert len(nothing) == 1 and len(nothing[0]["divergences"]) >= 1, findings

    update = rolecall(workdir, "baseline", "update", "--from", "latest")
    assert update.returncode == 0, update.stderr
    ledger = json.loads((workdir / "baselines" / "moto.json").read_text())
    assert {e["id"] for e in ledger["findings"]} == {p["id"] for p in gate["new"]}
    assert next(e for e in ledger["findings"] if e["key"] == "authorizes-nothing")["status"] == "by design"

    second = run_gated(workdir, "moto")
    assert second.returncode == 0, second.stdout + second.stderr
    gate2 = gate_of(workdir)
    assert not gate2["failing"] and not gate2["new"]
    assert {p["id"] for p in gate2["known"]} == {p["id"] for p in gate["new"]}
    xml = junitparser.JUnitXml.fromfile(str(workdir / "reports" / "latest" / "junit.xml"))
    assert xml.failures == 0 and xml.errors == 0
    md = (workdir / "reports" / "latest" / "summary.md").read_text()
    assert md.startswith("## rolecall: ✅ gate passed")

    # a dev-profile run fills the local example database; the gate must not read it
    dev = rolecall(workdir, "run", "--target", "moto", "--property", PROPERTY, "--profile", "dev",
                   "--max-examples", "8", "--report-dir", workdir / "dev-reports")
    assert dev.returncode in (0, 1), dev.stdout + dev.stderr
    assert (workdir / ".hypothesis").exists()
    again = run_gated(workdir, "moto")  # as before the dev run
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.dumps(gate_of(workdir), sort_keys=True) == json.dumps(gate2, sort_keys=True)


def test_a_missing_baseline_folder_is_exit_2_before_any_work(workdir):
    p = rolecall(workdir, "run", "--target", "moto", "--property", PROPERTY, "--max-examples", "3",
                 "--report-dir", workdir / "reports", "--baseline", workdir / "baselinse")
    assert p.returncode == 2, p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "baselinse: no such baseline folder" in lines[0], p.stderr
    assert not (workdir / "reports").exists()


@pytest.mark.slow
def test_expired_entries_fail_and_unseen_ones_are_unobserved(workdir):
    """An entry past its expiry day fails the gate again; one the search did not meet passes."""
    assert run_gated(workdir, "planted_target:factory").returncode == 1
    update = rolecall(workdir, "baseline", "update", "--from", "latest", "--expires", "2000-01-01",
                      "--upstream", "https://example.org/issues/7")
    assert update.returncode == 0, update.stderr
    ledger_file = workdir / "baselines" / "planted_target-factory.json"
    expired = run_gated(workdir, "planted_target:factory")
    assert expired.returncode == 1, expired.stdout + expired.stderr
    gate = gate_of(workdir)
    assert gate["expired"] and not gate["new"]

    doc = json.loads(ledger_file.read_text())
    assert len(doc["findings"]) == 1, [e["title"] for e in doc["findings"]]
    for entry in doc["findings"]:
        # the planted bug answers AccessDeniedException where AWS answers AccessDenied: one finding
        assert entry["title"].startswith(
            "planted_target:factory answers AccessDeniedException where AWS answers AccessDenied"), entry
        assert entry["status"] == "reported" and entry["upstream"] == "https://example.org/issues/7"
        assert entry["source"].startswith("https://docs.aws.amazon.com/"), entry
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for entry in doc["findings"]:
        entry["expires"] = tomorrow
    never_seen = dict(doc["findings"][0], id="F-00000000aa")
    never_seen.pop("scenario")
    never_seen.pop("passes", None)
    doc["findings"].append(never_seen)
    ledger_file.write_text(json.dumps(doc, indent=2))
    passing = run_gated(workdir, "planted_target:factory")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    gate = gate_of(workdir)
    assert gate["unobserved"] == [{"target": "planted_target:factory", "id": "F-00000000aa"}]
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


@pytest.mark.slow
@pytest.mark.parametrize("target_args", _unreachable_specs())
def test_unreachable_target_exits_2(workdir, target_args):
    """(The baseline is read first; the target is found unreachable when it is opened.)"""
    p = rolecall(workdir, "run", *target_args, "--property", PROPERTY, "--max-examples", "3",
                 "--report-dir", workdir / "reports", "--baseline", workdir / "baselines",
                 env={"ROLECALL_ENDPOINT_WAIT": "2"})  # a given endpoint's wait (15 s by default)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    summary = json.loads((workdir / "reports" / "latest" / "summary.json").read_text())
    assert summary["target_errors"] and not summary["complete"]
    xml = junitparser.JUnitXml.fromfile(str(workdir / "reports" / "latest" / "junit.xml"))
    assert xml.errors >= 1


def test_corrupted_baseline_is_one_line_exit_2_and_left_untouched(workdir):
    baselines = workdir / "baselines"
    corrupted = baselines / "moto.json"
    corrupted.write_bytes(b'{"format": "rolecall/baseline@2", "target": "moto", "findings": [{"id": "F-12')
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


@pytest.mark.slow
def test_interrupted_run_exits_130_and_leaves_no_partial_report(workdir):
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    env.pop("MOTO_ACCOUNT_ID", None)
    # the first cell replays a one-file corpus (a second); the property after it agrees on moto, so
    # its 5000 examples keep the run busy when the interrupt comes
    corpus = workdir / "corpus"
    corpus.mkdir()
    (corpus / "one.json").write_text((Path(__file__).resolve().parent.parent / "scenarios" / "delegation" /
                                      "trust-does-not-name-caller.json").read_text())
    proc = subprocess.Popen([str(ROLECALL), "run", "--target", "moto", "--corpus", str(corpus), "--property",
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
    entries = list((workdir / "reports").iterdir())
    assert not [e for e in entries if e.name.startswith(".")], f"partial report left: {entries}"
    (report,) = [e for e in entries if e.name != "latest"]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["complete"] is False
    cells = [json.loads(line)["property"] for line in (report / "results.jsonl").read_text().splitlines()]
    assert cells == ["corpus"], "the report holds the cell done before the interrupt, and only it"


# ----------------------------------------------------------------------------- pinned replays

AGREEING = {
    # Same account, a trust policy naming the caller: AWS allows, and so does moto. With a session
    # policy, so that AWS's PackedPolicySize (unpublished packing) is a fact the oracle is unsure of.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    "format": "rolecall/scenario@1",
    "accounts": {"A": {"users": {"bob": {}}, "roles": {"reader": {"trust": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "{{A:user/bob}}"},
                                               "Action": "sts:AssumeRole"}]}}}}},
    "steps": [{"id": "assume", "as": "A:user/bob", "call": "sts:AssumeRole",
               "params": {"RoleArn": "{{A:role/reader}}", "RoleSessionName": "bob-session",
                          "Policy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
                                    '"Resource":"*"}]}'}}],
}


def _write_baseline(folder: Path, target: str, entries: list[dict], files: dict[str, dict]) -> None:
    for rel, doc in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(doc))
    (folder / f"{target}.json").write_text(json.dumps({"format": "rolecall/baseline@2", "target": target,
                                                       "findings": entries}))


def test_replaying_the_baseline_reproduces_known_findings_and_finds_fixed_ones_and_regressions(tmp_path):
    """moto (which authorizes nothing) against three entries: one whose scenario still diverges, one
    whose scenario agrees now (fixed), and one whose passing twin diverges now (a regression)."""
    from rolecall.findings import AUTHORIZES_NOTHING, finding_id
    from rolecall.session import RunResult

    diverging = json.loads((Path(__file__).resolve().parent.parent / "scenarios" / "delegation" /
                            "trust-does-not-name-caller.json").read_text())
    nothing = finding_id(AUTHORIZES_NOTHING)
    bl = tmp_path / "baselines"
    _write_baseline(bl, "moto", [
        {"id": nothing, "title": "moto authorizes nothing", "scenario": f"moto/{nothing}.json"},
        {"id": "F-0000000001", "title": "fixed since", "scenario": "moto/F-0000000001.json"},
        {"id": "F-0000000002", "title": "known, with a twin", "scenario": "moto/F-0000000001.json",
         "passes": "moto/F-0000000002.passes.json"},
    ], {f"moto/{nothing}.json": diverging, "moto/F-0000000001.json": AGREEING,
        "moto/F-0000000002.passes.json": diverging})
    baseline = Baseline.load(bl)
    replays = replay_baseline(baseline, "moto", "reference", "code")
    status = {(r.id, r.kind): r.status for r in replays}
    assert status == {(nothing, "pinned"): "reproduced", ("F-0000000001", "pinned"): "fixed",
                      ("F-0000000002", "pinned"): "fixed", ("F-0000000002", "passes"): "changed"}, status
    assert next(r for r in replays if r.id == "F-0000000001").attempts == 3  # retried before calling it fixed

    result = RunResult("r", "now", "ci", "code", "reference", ["moto"], 0)
    add_replays(result, replays)
    from rolecall.reports.records import build

    findings = build(result)["findings"]
    assert [f["id"] for f in findings] == [nothing]
    verdicts = baseline.judge(findings, replays)
    assert [f["id"] for f in verdicts.known] == [nothing]
    assert [r.id for r in verdicts.regressions] == ["F-0000000002"] and verdicts.failing
    assert sorted(verdicts.fixed) == [("moto", "F-0000000001"), ("moto", "F-0000000002")]


def test_prune_drops_only_entries_whose_scenario_agrees_now_and_says_why(tmp_path, workdir):
    """prune replays: an entry the search did not meet this time but whose scenario still diverges stays."""
    from rolecall.findings import AUTHORIZES_NOTHING, finding_id

    diverging = json.loads((Path(__file__).resolve().parent.parent / "scenarios" / "delegation" /
                            "trust-does-not-name-caller.json").read_text())
    nothing = finding_id(AUTHORIZES_NOTHING)
    bl = workdir / "baselines"
    _write_baseline(bl, "moto", [
        {"id": nothing, "title": "moto authorizes nothing", "scenario": f"moto/{nothing}.json"},
        {"id": "F-0000000001", "title": "moto did something once", "scenario": "moto/F-0000000001.json"},
    ], {f"moto/{nothing}.json": diverging, "moto/F-0000000001.json": AGREEING})
    before = (bl / "moto.json").read_text()
    dry = rolecall(workdir, "baseline", "prune", "--baseline", bl, "--dry-run")
    assert dry.returncode == 0 and "F-0000000001" in dry.stdout and (bl / "moto.json").read_text() == before
    p = rolecall(workdir, "baseline", "prune", "--baseline", bl)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "- F-0000000001 moto did something once (moto agrees with reference, 3 replays)" in p.stdout, p.stdout
    left = json.loads((bl / "moto.json").read_text())["findings"]
    assert [e["id"] for e in left] == [nothing]
    assert not (bl / "moto" / "F-0000000001.json").exists() and (bl / "moto" / f"{nothing}.json").exists()


@pytest.mark.parametrize("content, fragment", [
    ("[]", "$.format"),
    ('{"format": "rolecall/baseline@1", "target": "moto", "divergences": []}', "make it anew from a report"),
    ('{"format": "rolecall/baseline@2", "target": "moto", "findings": [{"id": "bad"}]}', "$.findings[0].id"),
    ('{"format": "rolecall/baseline@2", "target": "moto", "findings": [{"id": "F-0123456789", '
     '"expires": "soon"}]}', "$.findings[0].expires: expected a date"),
    ('{"format": "rolecall/baseline@2", "target": "moto", "findings": [{"id": "F-0123456789", '
     '"status": "wontfix"}]}', "$.findings[0].status: expected one of"),
    ('{"format": "rolecall/baseline@2", "target": "moto", "findings": [{"id": "F-0123456789", '
     '"scenario": "moto/F-0123456789.json"}]}', "no such file"),
    ('{"format": "rolecall/baseline@2", "target": "moto+auth", "findings": []}', "belongs in moto-auth.json"),
])
def test_baseline_problems_name_the_file_and_place(tmp_path, content, fragment):
    from rolecall.ledger import LedgerError

    (tmp_path / "moto.json").write_text(content)
    with pytest.raises(LedgerError) as exc:
        Baseline.load(tmp_path)
    assert str(tmp_path / "moto.json") in str(exc.value) and fragment in str(exc.value)
    assert "\n" not in str(exc.value)

