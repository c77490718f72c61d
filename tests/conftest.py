import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# `rolecall run` replays the whole committed corpus on every target before its search (tens of
# seconds per target). The tests of other parts run it with the replay off; the corpus replay's
# own tests (tests/quality/test_corpus_replay.py) turn it back on.
os.environ.setdefault("ROLECALL_CORPUS", "off")
ROLECALL = [sys.executable, "-m", "rolecall.cli"]


def rolecall(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600):
    """Run the real `rolecall` command; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*ROLECALL, *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


@pytest.fixture
def run_rolecall():
    return rolecall


@pytest.fixture(scope="session")
def localstack_endpoint():
    """One real LocalStack server for the whole test session; subprocesses reuse it through
    ROLECALL_LOCALSTACK_ENDPOINT instead of starting their own."""
    from rolecall.targets.localstack import ENDPOINT_ENV, shared_server

    given = os.environ.get(ENDPOINT_ENV)
    if given:
        yield given
        return
    server = shared_server()
    endpoint = server.start()
    os.environ[ENDPOINT_ENV] = endpoint
    try:
        yield endpoint
    finally:
        os.environ.pop(ENDPOINT_ENV, None)
        server.stop()
