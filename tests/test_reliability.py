"""Reliability and safety: bad input never crashes, secrets never leak, runs are
deterministic, a broken target is recorded apart from divergences."""
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, rolecall
from rolecall.cli import main
from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES
from rolecall.reports import write_report
from rolecall.session import run as run_suite
from rolecall.targets.moto import MotoTarget

GOOD = json.loads((ROOT / "scenarios" / "delegation" / "trust-does-not-name-caller.json").read_text())


def _tree_digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- bad input

def _mutations():
    """Malformed scenario documents: each breaks the contract in one place."""
    def drop(key):
        return lambda d: d.pop(key)

    def step(key, value):
        return lambda d: d["steps"][0].__setitem__(key, value)

    def world(value):
        return lambda d: d["accounts"]["A"].__setitem__("roles", value)

    return st.sampled_from([
        drop("format"), drop("accounts"), drop("steps"),
        step("call", "sts:NoSuchAction!"), step("call", 42), step("as", "Z:user/nobody"), step("id", ""),
        step("params", ["not", "an", "object"]), step("at", "soon"), step("expect", {"outcome": "perhaps"}),
        step("params", {"RoleArn": "{{A:role/ghost}}"}), step("params", {"RoleArn": "{{Q}}"}),
        world({"r": {"path": "/"}}), world([]), world({"bad name!": {"trust": {}}}),
        lambda d: d.__setitem__("steps", {}), lambda d: d["accounts"].__setitem__("a", {}),
        lambda d: d["steps"].append(dict(d["steps"][0])),
    ])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutate=_mutations(), as_yaml=st.booleans(), garbage=st.text(string.printable, max_size=20))
def test_malformed_scenarios_exit_2_with_one_line_and_touch_nothing(tmp_path_factory, mutate, as_yaml, garbage):
    tmp = tmp_path_factory.mktemp("bad")
    reports, baselines = tmp / "reports", tmp / "baselines"
    (reports / "old-run").mkdir(parents=True)
    (reports / "old-run" / "summary.json").write_text('{"run_id": "old-run"}\n')
    baselines.mkdir()
    (baselines / "moto.json").write_text('{"format": "rolecall/baseline@1", "target": "moto", "divergences": []}\n')
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    if as_yaml:
        import yaml

        path = tmp / "bad.yaml"
        path.write_text(yaml.safe_dump(doc) + ("\n" + garbage if garbage.strip() else ""))
    else:
        path = tmp / "bad.json"
        path.write_text(json.dumps(doc) + garbage)
    before = _tree_digest(tmp)
    code, out, err = _cli(["replay", str(path), "--target", "reference"])
    if code == 0:
        return  # trailing whitespace garbage or a YAML comment: still a valid file
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in err, err
    assert _tree_digest(tmp) == before


@pytest.mark.parametrize("argv, fragment", [
    (["run", "--target", "moto", "--max-examples", "0"], "--max-examples"),
    (["run", "--target", "moto", "--strictness", "loose"], "--strictness"),
    (["run", "--target", "moto", "--baseline", "{tmp}/file.txt"], "not a file"),
    (["replay", "{tmp}/missing.json"], "no such file"),
    (["replay", "{tmp}"], "no scenario files"),
])
def test_bad_options_leave_reports_and_baselines_alone(tmp_path, argv, fragment):
    (tmp_path / "file.txt").write_text("x")
    before = _tree_digest(tmp_path)
    code, out, err = _cli([a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert _tree_digest(tmp_path) == before


# ----------------------------------------------------------------------------- secrets

class RecordingMoto(MotoTarget):
    """moto, remembering every secret it was handed or handed out."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def call(self, credentials, service, action, params):
        if credentials.account is None:
            self.secrets.add(credentials.secret_access_key)
            if credentials.session_token:
                self.secrets.add(credentials.session_token)
        result = super().call(credentials, service, action, params)
        for key in ("AccessKey", "Credentials"):
            value = result.result.get(key) if isinstance(result.result, dict) else None
            if isinstance(value, dict):
                self.secrets.update(v for k, v in value.items() if k in ("SecretAccessKey", "SessionToken"))
        return result


def test_no_secret_reaches_a_report_or_the_terminal(tmp_path, capsys):
    import rolecall.pool as pool

    target = RecordingMoto()
    original = pool.make_target
    pool.make_target = lambda spec, options: target if spec == "recording" else original(spec, options)
    try:
        result = run_suite(CATALOGUE[:2], ["recording"], profile=PROFILES["ci"], max_examples=8)
    finally:
        pool.make_target = original
    path = write_report(result, tmp_path)
    from rolecall.reports.terminal import print_summary

    print_summary(result, report_path=path)
    assert len(target.secrets) > 5, "the run should have used real credentials"
    outputs = capsys.readouterr().out + "".join(p.read_text(errors="replace") for p in path.rglob("*") if p.is_file())
    leaked = [s for s in target.secrets if s in outputs]
    assert not leaked


# ----------------------------------------------------------------------------- determinism

def _comparable(report: Path) -> tuple:
    cells = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    for c in cells:
        c.pop("seconds", None)
    divergences = json.loads((report / "divergences.json").read_text())
    scenarios = sorted((p.parent.name, p.read_text()) for p in report.rglob("scenario.json"))
    return cells, sorted(d["id"] for d in divergences), scenarios


@pytest.mark.slow
def test_same_seed_and_profile_give_the_same_report(tmp_path):
    reports = []
    # two processes with different string hashing (set and dict orders differ between them)
    for name, hash_seed in (("one", "1"), ("two", "2")):
        p = rolecall("run", "--target", "moto", "--seed", "7", "--max-examples", "15",
                     "--property", "assume_role_trust_and_identity", "--report-dir",
                     str(tmp_path / name), env={"PYTHONHASHSEED": hash_seed})
        assert p.returncode in (0, 1), p.stderr[-2000:]
        reports.append(_comparable(tmp_path / name / "latest"))
    assert reports[0] == reports[1]


def _explored(prop_name: str) -> tuple:
    from rolecall import engine
    from rolecall.targets import load_target

    prop = next(p for p in CATALOGUE if p.name == prop_name)
    with load_target("moto") as target, load_target("reference") as oracle:
        profile = dataclasses.replace(PROFILES["ci"], rounds=1, max_shrinks=20)
        cell = engine.explore(prop, target, oracle, profile=profile, max_examples=15)
    return cell.examples, {i: f.divergence.scenario.dumps() for i, f in cell.divergences.items()}


@pytest.mark.slow
def test_a_slow_machine_explores_a_seeded_cell_as_a_fast_one(monkeypatch):
    """Every limit of a seeded run is a count: Hypothesis's "stop ten seconds after the first
    bug" and its five-minute shrink limit, and rolecall's minimiser's, are set aside. A clock
    that leaps a minute at every look (a machine far slower than this one) changes nothing."""
    fast = _explored("bucket_owner_delegates_through_role")
    assert fast[1], "the cell should find divergences on moto"
    for name in ("monotonic", "perf_counter"):
        clock = iter(range(0, 10**9, 60))
        monkeypatch.setattr(time, name, lambda clock=clock: float(next(clock)))
    slow = _explored("bucket_owner_delegates_through_role")
    monkeypatch.undo()
    assert slow == fast


# ----------------------------------------------------------------------------- broken targets

@pytest.mark.slow
def test_an_endpoint_that_never_answers_times_out_with_one_line(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # accepts connections, never answers
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        p = rolecall("run", "--target", "localstack", "--localstack-endpoint", f"http://127.0.0.1:{port}",
                     "--report-dir", str(tmp_path), timeout=120,
                     env={"ROLECALL_LOCALSTACK_ENDPOINT": "", "ROLECALL_ENDPOINT_WAIT": "3"})
        assert time.monotonic() - started < 60
    finally:
        server.close()
    assert p.returncode == 2
    assert f"127.0.0.1:{port}" in p.stderr and "did not answer within 3s" in p.stderr
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    assert summary["complete"] is False and "localstack" in summary["target_errors"]


@pytest.mark.slow
@pytest.mark.localstack
def test_localstack_killed_mid_run_is_a_target_error_and_the_run_goes_on(tmp_path):
    from rolecall.targets.localstack_server import LocalStackServer

    server = LocalStackServer()
    endpoint = server.start()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "rolecall.cli", "run", "--target", "localstack", "--target",
                                 "moto", "--localstack-endpoint", endpoint, "--max-examples", "10",
                                 "--property", "assume_role_trust_and_identity",
                                 "--report-dir", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # well into the LocalStack examples: LocalStack logs each request it answers
        deadline = time.monotonic() + 120
        while server.log_path.read_text(errors="replace").count("localstack.request.aws") < 30:
            assert time.monotonic() < deadline and proc.poll() is None, "the run never reached LocalStack"
            time.sleep(0.1)
        os.kill(server.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=600)
    finally:
        server.stop()
    assert proc.returncode == 2, err[-3000:]
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    assert summary["complete"] is False
    assert "localstack" in summary["target_errors"]
    cells = [json.loads(line) for line in (tmp_path / "latest" / "results.jsonl").read_text().splitlines()]
    assert any(c["target"] == "moto" and c["examples"] > 0 for c in cells), "the other target still ran"
    assert all(not c["divergences"] for c in cells if c["target"] == "localstack" and c["error"])
