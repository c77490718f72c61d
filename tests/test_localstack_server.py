"""Real tests of the host-mode LocalStack runner (no mocks): install, start, call, stop."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from conftest import ROOT
from rolecall.targets import localstack_server as ls
from rolecall.targets.localstack_server import (
    LocalStackServer,
    LocalStackUnavailable,
    ensure_venv,
    find_python313,
    wait_healthy,
)

pytestmark = pytest.mark.localstack

ACCOUNT_A = "000000000001"


def _python313_or_skip() -> str:
    try:
        return find_python313()
    except LocalStackUnavailable as exc:
        pytest.skip(str(exc))


def _client(service: str, endpoint: str, access_key: str = ACCOUNT_A):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gone(pid: int) -> bool:
    """No such process (a zombie counts as alive: it must have been reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _python313_or_skip()
    srv = LocalStackServer(log_dir=tmp_path_factory.mktemp("localstack-logs"))
    srv.start()
    yield srv
    srv.stop()


def test_find_python313_is_313():
    python = _python313_or_skip()
    out = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(3, 13)"


def test_ensure_venv_is_idempotent(server):
    t0 = time.monotonic()
    python = ensure_venv()
    assert python == ensure_venv()
    assert time.monotonic() - t0 < 5, "a present venv must not be reinstalled"
    assert python.exists()
    assert python.parent.parent.name == "venv"
    assert not list(python.parent.parent.parent.glob("venv.tmp-*")), "temp install left behind"
    assert (ls.install_info() or {}).get("install_seconds") is not None


def test_start_health_and_account_from_access_key(server):
    assert server.endpoint == f"http://127.0.0.1:{server.port}"
    assert server.startup_seconds and server.startup_seconds > 0
    # the recorded pid is the LocalStack python process itself, not a wrapper
    with open(f"/proc/{server.pid}/cmdline", "rb") as f:
        assert b"localstack.runtime.main" in f.read()
    # start() is idempotent
    pid = server.pid
    assert server.start() == server.endpoint and server.pid == pid
    wait_healthy(server.endpoint, timeout=5)
    ident = _client("sts", server.endpoint).get_caller_identity()
    assert ident["Account"] == ACCOUNT_A
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:root"
    assert _client("sts", server.endpoint, "000000000002").get_caller_identity()["Account"] == "000000000002"


def test_listens_on_loopback_only(server):
    out = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("ss not available")
    local = [line.split()[3] for line in out.stdout.splitlines() if line.strip()]
    assert local and all(addr.startswith("127.0.0.1:") for addr in local), local


def test_iam_create_role(server):
    iam = _client("iam", server.endpoint)
    name = f"rolecall-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"},
        "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/{name}"
    assert iam.get_role(RoleName=name)["Role"]["RoleName"] == name


def test_s3_put_get(server):
    s3 = _client("s3", server.endpoint)
    bucket = f"rolecall-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


@pytest.mark.slow
def test_stop_kills_the_pid(tmp_path):
    _python313_or_skip()
    srv = LocalStackServer(log_dir=tmp_path)
    with srv:
        pid, endpoint = srv.pid, srv.endpoint
        assert pid and not _gone(pid)
        assert _client("sts", endpoint).get_caller_identity()["Account"] == ACCOUNT_A
    assert _gone(pid)
    assert srv.pid is None and srv.endpoint is None
    srv.stop()  # idempotent
    with pytest.raises(LocalStackUnavailable):
        wait_healthy(endpoint, timeout=1)


@pytest.mark.slow
def test_cli_start_stop(tmp_path):
    _python313_or_skip()
    pid_file = tmp_path / "server.pid"
    cmd = [sys.executable, "-m", "rolecall.targets.localstack_server"]
    out = subprocess.run([*cmd, "start", "--pid-file", str(pid_file)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    endpoint, pid = out.stdout.split()
    pid = int(pid)
    try:
        info = json.loads(pid_file.read_text())
        assert info["pid"] == pid and info["endpoint"] == endpoint
        # the server outlives the CLI process that started it
        wait_healthy(endpoint, timeout=10)
        assert _client("sts", endpoint).get_caller_identity()["Account"] == ACCOUNT_A
    finally:
        stop = subprocess.run([*cmd, "stop", "--pid-file", str(pid_file)],
                              capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0, stop.stderr
    deadline = time.monotonic() + 5  # its parent is init now, which reaps it
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)
    assert not pid_file.exists()


def test_wait_healthy_closed_port_fails_fast_with_one_line():
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    with pytest.raises(LocalStackUnavailable) as err:
        wait_healthy(endpoint, timeout=1.0)
    assert time.monotonic() - t0 < 4
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == f"LocalStack at {endpoint} did not answer within 1s"


def test_wait_healthy_something_else_answers():
    class NotLocalStack(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), NotLocalStack)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
        with pytest.raises(LocalStackUnavailable) as err:
            wait_healthy(endpoint, timeout=1.0)
        assert "\n" not in str(err.value) and "HTTP 404" in str(err.value)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_start_on_a_taken_port_fails_at_once():
    _python313_or_skip()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        srv = LocalStackServer(port=port)
        t0 = time.monotonic()
        with pytest.raises(LocalStackUnavailable) as err:
            srv.start()
    assert time.monotonic() - t0 < 10
    msg = str(err.value)
    assert "\n" not in msg and f"127.0.0.1:{port}" in msg
    assert srv.pid is None


def test_start_timeout_is_one_line_naming_the_log(tmp_path):
    _python313_or_skip()
    srv = LocalStackServer(log_dir=tmp_path, startup_timeout=0.5)
    with pytest.raises(LocalStackUnavailable) as err:
        srv.start()
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("LocalStack 4.14.0 did not become healthy within 0s")
    assert str(srv.log_path) in msg and srv.log_path.exists()
    assert srv.pid is None and srv.endpoint is None


RESTART_SCRIPT = """
import json, os, sys
from rolecall.scenario import load
from rolecall.targets.localstack import CHECK_EVERY, LocalStackTarget, shared_server

scenario = load(sys.argv[1])
target = LocalStackTarget()
target.open()
first_pid = shared_server().pid
runs = []
for _ in range(CHECK_EVERY + 2):
    run = target.run(scenario)
    runs.append([(o.id, o.outcome, o.code) for o in run.outcomes])
print(json.dumps({"restarts": target.restarts, "first_pid": first_pid, "pid": shared_server().pid,
                  "first_alive": os.path.exists(f"/proc/{first_pid}"), "runs": runs}))
"""


@pytest.mark.slow
def test_a_server_past_its_memory_limit_is_restarted_between_scenarios(tmp_path):
    """LocalStack keeps every fresh account (~11 MB each); rolecall restarts a server it started
    once it passes ROLECALL_LOCALSTACK_MAX_RSS_MB, and scenarios after it answer as before."""
    scenario = ROOT / "scenarios" / "chaining" / "chained-caller-arn-is-session-arn.json"
    env = {k: v for k, v in os.environ.items() if k != "ROLECALL_LOCALSTACK_ENDPOINT"}
    env["ROLECALL_LOCALSTACK_MAX_RSS_MB"] = "1"
    p = subprocess.run([sys.executable, "-c", RESTART_SCRIPT, str(scenario)], env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["restarts"] == 1
    assert out["pid"] != out["first_pid"] and not out["first_alive"]
    assert all(r == out["runs"][0] for r in out["runs"]), out["runs"]
    assert out["runs"][0] and all(o[1] == "ok" for o in out["runs"][0])
