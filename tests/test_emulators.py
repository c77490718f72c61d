"""The emulators rolecall starts besides LocalStack 4.14 (MiniStack with and without AUTH,
LocalEmu with IAM enforcement, LocalStack 2026.3.0, moto 5.1.0 as a server), each started
for real from its own cached environment (`./dev test` installs them), and the endpoint target."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, rolecall
from rolecall.cli import main
from rolecall.scenario import load
from rolecall.targets import ENFORCED, NOT_ENFORCED, load_target
from rolecall.targets.emulator_server import ServerUnavailable, find_python313
from rolecall.targets.ministack import MiniStackServer

pytestmark = pytest.mark.localstack  # needs the emulators' environments, as LocalStack's tests do

NO_POLICY = ROOT / "scenarios" / "same-account" / "no-policy-is-implicit-deny.json"
ROOT_USER = ROOT / "scenarios" / "identity" / "root-user.json"
SERVED = ["ministack", "ministack+auth", "localemu", "localstack@2026.3.0", "moto@5.1.0"]


def _python313_or_skip() -> None:
    try:
        find_python313()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module", params=SERVED)
def served(request):
    """A target of each served emulator, its server really started (shared per process)."""
    _python313_or_skip()
    target = load_target(request.param)
    target.open()
    yield target
    target.close()
    target.server().stop()


def test_the_declared_authorization_is_what_the_server_does(served):
    """The administrator builds the world (on LocalEmu only through the per-account root keys
    rolecall configures), and a user with no policy is denied exactly where the target
    declares that it enforces IAM (AWS: no policy is an implicit deny,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html)."""
    assert served.authorization in (ENFORCED, NOT_ENFORCED)
    run = served.run(load(NO_POLICY))
    assert run.setup_error is None, run.setup_error
    outcomes = {o.id: (o.outcome, o.code) for o in run.outcomes}
    if served.authorization == ENFORCED:
        assert outcomes == {"read": ("error", "AccessDenied"), "write": ("error", "AccessDenied")}
    else:
        assert outcomes["read"] == ("ok", None) and outcomes["write"] == ("ok", None)


def test_accounts_are_told_apart_and_the_administrator_is_their_root(served):
    """Each logical account gets its own account id on the server: the administrator's (and
    the root user's, where the target has one) GetCallerIdentity names that account."""
    run = served.run(load(ROOT_USER))
    assert run.setup_error is None, run.setup_error
    for o in run.outcomes:
        assert o.outcome in ("ok", "unsupported"), o
        if o.outcome == "ok" and "Arn" in (o.result or {}):
            assert o.result["Arn"].endswith(":root") or ":user/" in o.result["Arn"], o.result


def test_a_server_is_stopped_by_its_pid(tmp_path):
    _python313_or_skip()
    server = MiniStackServer(log_dir=tmp_path)
    with server:
        pid, endpoint = server.pid, server.endpoint
        assert not _gone(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:  # the pid is MiniStack's python itself
            assert b"ministack" in f.read()
        out = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True)
        if out.returncode == 0:  # loopback only
            assert all(line.split()[3].startswith("127.0.0.1:") for line in out.stdout.splitlines() if line.strip())
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid) and server.pid is None
    with pytest.raises(ServerUnavailable) as err:
        server.wait_healthy(endpoint, timeout=1)
    assert str(err.value) == f"MiniStack at {endpoint} did not answer within 1s"


def _main(args, capsys) -> tuple[int, str]:
    """The `rolecall` command in this process: its exit code and what it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_:
        main(args)
    return exit_.value.code, capsys.readouterr().err


def test_a_server_that_cannot_start_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    """A cache folder that cannot be written: the server cannot be provisioned, and the CLI
    says so in one line, exit 2, no traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ROLECALL_CACHE", str(blocker / "cache"))
    code, err = _main(["replay", str(NO_POLICY), "--target", "ministack@1.5.33"], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "ministack@1.5.33" in lines[0] and "cannot create" in lines[0], lines[0]


def test_a_server_on_a_taken_port_fails_at_once():
    _python313_or_skip()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        server = MiniStackServer(port=port)
        with pytest.raises(ServerUnavailable) as err:
            server.start()
    assert "\n" not in str(err.value) and f"127.0.0.1:{port}" in str(err.value)
    assert server.pid is None


@pytest.mark.parametrize("spec, message", [
    ("moto+auth@5.1.0", "target 'moto+auth' has no versions to choose from"),
    ("ministack@latest", "'latest' is not a version"),
])
def test_a_version_that_cannot_be_is_one_line_and_exit_2(spec, message, tmp_path, capsys):
    code, err = _main(["run", "--target", spec, "--max-examples", "1", "--report-dir", str(tmp_path)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not any(tmp_path.iterdir()), "nothing is written before the error"


# ---------------------------------------------------------------------------- the endpoint target

@pytest.mark.parametrize("args, message", [
    (["--target-option", "url"], "expected KEY=VALUE"),
    (["--target-option", "colour=blue", "--target-option", "url=http://127.0.0.1:9"],
     "--target-option colour: no target of this run takes it"),
    (["--target-option", "url=ftp://x"], "url='ftp://x': expected an http(s) URL"),
    (["--target-option", "url=http://127.0.0.1:9", "--target-option", "accounts=header:"],
     "accounts='header:': expected access-key, header:NAME or single:ACCOUNT_ID"),
    (["--target-option", "url=http://127.0.0.1:9", "--target-option", "authorization=maybe"],
     "authorization='maybe': expected one of enforced, not-enforced, unknown"),
    ([], "the endpoint target needs --target-option url=URL"),
])
def test_a_bad_target_option_is_one_line_and_exit_2(args, message, capsys):
    code, err = _main(["replay", str(NO_POLICY), "--target", "endpoint", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_an_unreachable_endpoint_is_one_line_and_exit_2(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, err = _main(["replay", str(NO_POLICY), "--target", "endpoint", "--target-option",
                       f"url=http://127.0.0.1:{port}"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"endpoint: nothing answers at http://127.0.0.1:{port}" in err


def test_the_endpoint_target_runs_scenarios_on_a_server_it_did_not_start(localstack_endpoint):
    """LocalStack reached only by its URL, told apart by 12-digit access keys: the same
    outcomes as the localstack target."""
    p = rolecall("replay", str(ROOT_USER), str(NO_POLICY), "--json", "--target", "endpoint",
                 "--target-option", f"url={localstack_endpoint}", "--target-option", "name=ls-by-url",
                 "--target-option", "authorization=not-enforced")
    doc = json.loads(p.stdout)
    assert doc["target"] == "ls-by-url"
    runs = {os.path.basename(s["file"]): s for s in doc["scenarios"]}
    assert all(s.get("setup_error") is None for s in runs.values()), runs
    read = next(o for o in runs[NO_POLICY.name]["outcomes"] if o["id"] == "read")
    assert read["outcome"] == "ok"  # LocalStack community authorizes nothing (and the scenario expects a denial)
    assert p.returncode == 1


def test_a_single_account_endpoint_leaves_multi_account_scenarios_unsupported(localstack_endpoint):
    scenario = ROOT / "scenarios" / "cross-account" / sorted(os.listdir(ROOT / "scenarios" / "cross-account"))[0]
    account = f"{random.randrange(10**11, 10**12):012d}"
    target = load_target("endpoint", url=localstack_endpoint, accounts=f"single:{account}")
    target.open()
    run = target.run(load(scenario))
    assert run.outcomes and all(o.outcome == "unsupported" for o in run.outcomes)
    assert f"one account {account}" in run.outcomes[0].reason
    one = target.run(load(NO_POLICY))
    assert one.setup_error is None and {o.outcome for o in one.outcomes} == {"ok"}


@pytest.mark.parametrize("value, seconds", [(None, 15.0), ("3", 3.0), ("0.5", 0.5), ("0", None), ("soon", None)])
def test_a_given_endpoint_waits_rolecall_endpoint_wait_seconds(monkeypatch, tmp_path, value, seconds):
    """ROLECALL_ENDPOINT_WAIT: how long a server given by URL has to answer (docs/targets.md);
    a value that is not a positive number is a bad setting: one line and exit 2 before any work."""
    from rolecall.targets.served import endpoint_wait

    if value is None:
        monkeypatch.delenv("ROLECALL_ENDPOINT_WAIT", raising=False)
    else:
        monkeypatch.setenv("ROLECALL_ENDPOINT_WAIT", value)
    if seconds is None:
        with pytest.raises(ValueError, match="ROLECALL_ENDPOINT_WAIT must be a number of seconds"):
            endpoint_wait()
        done = subprocess.run([sys.executable, "-m", "rolecall.cli", "run", "--target", "localstack",
                               "--localstack-endpoint", "http://127.0.0.1:9", "--report-dir", str(tmp_path / "r")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "ROLECALL_ENDPOINT_WAIT" in done.stderr and not (tmp_path / "r").exists()
    else:
        assert endpoint_wait() == seconds
