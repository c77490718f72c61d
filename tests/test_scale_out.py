"""Scale-out on existing machinery: pytest-xdist inside a machine, a shared Hypothesis
example database on a real Redis server across processes, --shard for CI matrices."""
import contextlib
import json
import os
import shutil
import signal
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_xdist_workers_take_the_costliest_properties_first():
    """pytest-xdist hands tests out in collection order: a long cell left to the end runs on
    one worker while the other idles, so workers collect the costliest properties first."""
    from types import SimpleNamespace

    from rolecall.conformance import CATALOGUE
    from rolecall.pytest_plugin import pytest_collection_modifyitems

    def item(prop, target):
        return SimpleNamespace(callspec=SimpleNamespace(params={"rolecall_property": prop,
                                                                "rolecall_target_name": target}))

    other = SimpleNamespace(name="test_something_else")
    items = [other] + [item(p, t) for p in CATALOGUE for t in ("moto", "moto+auth")]
    as_collected = list(items)
    pytest_collection_modifyitems(None, SimpleNamespace(), items)
    assert items == as_collected, "one process keeps the catalogue's order"
    pytest_collection_modifyitems(None, SimpleNamespace(workerinput={}), items)
    assert items[0] is other
    costs = [i.callspec.params["rolecall_property"].cost for i in items[1:]]
    assert costs == sorted(costs, reverse=True)
    assert items[1].callspec.params["rolecall_property"].name == "redshift_style_role_chain"
    assert [i.callspec.params["rolecall_target_name"] for i in items[1:3]] == ["moto", "moto+auth"]


# ----------------------------------------------------------------------------- lanes in `rolecall run`

ROLECALL = Path(sys.executable).with_name("rolecall")
# one property on two targets: two lanes, 8 findings on moto and moto+auth (5 s a run)
LANE_RUN = ["run", "--target", "moto", "--target", "moto+auth", "--property", "session_duration_and_expiry",
            "--max-examples", "6"]


def _rolecall(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MOTO_ACCOUNT_ID"}
    return subprocess.run([str(ROLECALL), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _findings(report: Path) -> tuple:
    rows = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    cells = [(r["property"], r["target"], r["verdict"], r["examples"], sorted(r["divergences"])) for r in rows]
    return cells, sorted(d["id"] for d in json.loads((report / "divergences.json").read_text()))


def test_plan_lanes_gives_the_slowest_target_a_lane_of_its_own():
    from rolecall.session import plan_lanes

    assert plan_lanes(["moto", "moto+auth", "localstack"], 2, {}) == [["localstack"], ["moto", "moto+auth"]]
    assert plan_lanes(["moto", "moto+auth"], 1, {}) == [["moto", "moto+auth"]]
    assert plan_lanes(["moto"], 4, {}) == [["moto"]]
    assert sorted(map(tuple, plan_lanes(["moto", "moto+auth", "reference"], 8, {}))) == [
        ("moto",), ("moto+auth",), ("reference",)]


@pytest.mark.slow
def test_targets_side_by_side_find_what_one_after_another_finds(tmp_path):
    found = {}
    for workers in ("1", "2"):
        p = _rolecall(*LANE_RUN, "--workers", workers, "--report-dir", str(tmp_path / workers), cwd=tmp_path)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        found[workers] = _findings(tmp_path / workers / "latest")
    assert found["1"][1], "the run found no divergence to compare"
    assert found["1"] == found["2"]


def _lanes(pid: int) -> set[int]:
    """The run's worker processes (multiprocessing's resource tracker is a child too)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    out.add(int(child))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_stops_its_lanes_and_marks_the_report(tmp_path, sig):
    env = {k: v for k, v in os.environ.items() if k != "MOTO_ACCOUNT_ID"}
    argv = [a if a != "6" else "5000" for a in LANE_RUN]
    proc = subprocess.Popen([str(ROLECALL), *argv, "--workers", "2", "--report-dir", str(tmp_path / "reports")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(_lanes(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        lanes = _lanes(proc.pid)
        assert len(lanes) >= 2, "the run did not start its lanes"
        time.sleep(3)  # exploring has begun in both
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out + err)[-2000:]
    assert "Traceback" not in err, err[-2000:]
    for pid in lanes:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(), \
            f"lane process {pid} outlived the run"
    summary = json.loads((tmp_path / "reports" / "latest" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["complete"] is False


def test_a_lane_that_is_done_takes_the_costliest_movable_cell_of_another():
    from rolecall.lanes import next_cell

    cost = {"chain": 100.0, "bucket": 70.0, "small": 5.0}
    pending = [[("localstack", "chain"), ("localstack", "small")],
               [("moto", "small"), ("moto", "chain"), ("moto+auth", "bucket"), ("moto+auth", "chain")]]

    def take(lane):
        return next_cell(lane, pending, {"moto", "moto+auth"}, lambda cell: cost[cell[1]])

    assert take(1) == ("moto", "small"), "a lane's own cells first, in order"
    assert take(0) == ("localstack", "chain")
    assert take(0) == ("localstack", "small")
    assert take(0) == ("moto", "chain"), "then the costliest movable cell, the first of equals"
    assert take(0) == ("moto+auth", "chain")
    assert take(1) == ("moto+auth", "bucket")
    assert take(1) is None and take(0) is None
    # a server target's cells never leave their lane
    pending = [[], [("localstack", "chain")]]
    assert take(0) is None and take(1) == ("localstack", "chain")
