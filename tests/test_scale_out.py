"""Scale-out on existing machinery: pytest-xdist inside a machine, a shared Hypothesis
example database on a real Redis server across processes, --shard for CI matrices."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolecall.pytest_plugin import in_shard

TESTS = Path(__file__).parent
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "rolecall.conformance",
          "-q", "--rolecall-target", "external_target:factory", "-m", "delegation"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (./dev test installs Debian's redis-server)")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def _pytest(*args, env=None, cwd=TESTS):
    return subprocess.run([*PYTEST, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def _report(path: Path) -> dict:
    divergences = json.loads((path / "latest" / "divergences.json").read_text())
    return {d["id"] for d in divergences}


def test_a_counterexample_found_by_one_worker_is_replayed_by_another_from_redis(redis_url, tmp_path):
    env = {"ROLECALL_DATABASE": "redis", "ROLECALL_REDIS_URL": redis_url}
    first = _pytest("--rolecall-profile", "dev", "--rolecall-max-examples", "40",
                    "--rolecall-report-dir", str(tmp_path / "one"), env=env)
    assert first.returncode == 1, first.stdout[-3000:]
    found = _report(tmp_path / "one")
    assert found
    import redis

    assert redis.Redis.from_url(redis_url).keys(b"rolecall-example:*"), "the finder stored nothing in Redis"
    # The second process does not search at all (the replay profile has no generate phase):
    # whatever it finds came from the shared database.
    second = _pytest("--rolecall-profile", "replay", "--rolecall-report-dir", str(tmp_path / "two"), env=env)
    assert second.returncode == 1, second.stdout[-3000:]
    assert _report(tmp_path / "two") & found


def test_replay_profile_with_an_empty_database_finds_nothing(redis_url, tmp_path):
    env = {"ROLECALL_DATABASE": "redis", "ROLECALL_REDIS_URL": redis_url}
    p = _pytest("--rolecall-profile", "replay", "--rolecall-report-dir", str(tmp_path / "r"), env=env)
    assert p.returncode == 0, p.stdout[-3000:]


def test_two_xdist_workers_find_what_one_process_finds(tmp_path):
    args = ("--rolecall-max-examples", "30", "-m", "delegation or cross_account")
    one = _pytest(*args, "--rolecall-report-dir", str(tmp_path / "one"))
    two = _pytest(*args, "-n", "2", "--rolecall-report-dir", str(tmp_path / "two"))
    assert one.returncode == two.returncode == 1, two.stdout[-3000:]
    assert _report(tmp_path / "one") == _report(tmp_path / "two")


def test_shards_partition_the_catalogue():
    from rolecall.conformance import CATALOGUE

    names = [p.name for p in CATALOGUE]
    for n in (1, 2, 3, 5):
        slices = [[x for x in names if in_shard(x, (i, n))] for i in range(1, n + 1)]
        assert sorted(sum(slices, [])) == sorted(names)


def test_shard_option_selects_a_slice(tmp_path):
    from rolecall.conformance import CATALOGUE

    p = _pytest("--collect-only", "-m", "", "--shard", "1/2")
    listed = [line for line in p.stdout.splitlines() if "test_property[" in line]
    expected = [x.name for x in CATALOGUE if in_shard(x.name, (1, 2))]
    assert len(listed) == len(expected)
    bad = _pytest("--collect-only", "--shard", "3/2")
    assert bad.returncode != 0 and "--shard expects" in bad.stderr + bad.stdout
