"""Ctrl-C at any moment: exit 130, never a traceback, never a partial report.

An interrupt only sets a flag that the run checks at its safe points (rolecall.interrupts),
so it can no longer land inside Hypothesis (once it did, while Hypothesis computed its
database key: a traceback and exit 1). The moments are random; the seed is in the message.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rolecall import interrupts
from rolecall.conformance import select
from rolecall.engine import PROFILES
from rolecall.session import run

ROLECALL = Path(sys.executable).parent / "rolecall"
#: agrees on moto, so a run of 5000 examples is still searching when the interrupt comes
BUSY = "ec2_instance_profile_to_s3"
SEED = int(os.environ.get("ROLECALL_INTERRUPT_SEED", random.randrange(10**6)))


@pytest.mark.slow
def test_an_interrupt_at_random_moments_of_a_run_stops_it_cleanly():
    """In process, ten moments over the first second of a run (opening the
    targets, Hypothesis generating, shrinking, replaying): each run returns, marked
    interrupted, and raises nothing."""
    rng = random.Random(SEED)
    props = select([BUSY, "assume_role_trust_and_identity"])
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(10):
            delay = rng.uniform(0.0, 1.0)
            interrupts.reset()
            interrupts.install()
            timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
            try:
                result = run(props, ["moto"], profile=PROFILES["ci"], max_examples=5000)
            finally:
                timer.join()
            assert result.interrupted, f"seed {SEED}: interrupt after {delay:.2f}s not seen"
            assert not result.target_errors and not any(c.error for c in result.cells), (SEED, delay, result)
    finally:
        interrupts.reset()
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.mark.fast
def test_the_steering_phases_drawing_is_a_safe_point():
    """The steering phase first draws two scenarios per example of the budget, running none:
    with --max-examples 5000, 10,000 draws (10 s and more). A Ctrl-C there waited for them all
    (a lane run took 16 s to stop); now each draw is a safe point."""
    from rolecall import engine

    (prop,) = select(["session_duration_and_expiry"])
    interrupts.reset()
    interrupts.request()
    try:
        with pytest.raises(interrupts.Interrupted):
            engine._draw(prop, 10_000, seed=None)
    finally:
        interrupts.reset()


def _handler_installed(pid: int) -> bool:
    """rolecall's handler is in place once the process catches SIGTERM (Python alone does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a process's signal mask from /proc")
@pytest.mark.parametrize("targets, workers, moments", [(["moto"], "1", 1), (["moto", "moto+auth"], "2", 1)],
                         ids=["sequential", "lanes"])
def test_ctrl_c_at_a_random_moment_exits_130_without_traceback_or_partial_report(tmp_path, targets, workers,
                                                                                 moments):
    rng = random.Random(f"{SEED}-{workers}")
    env = {**os.environ}
    env.pop("MOTO_ACCOUNT_ID", None)
    for n in range(moments):
        reports = tmp_path / f"reports{n}"
        delay = rng.uniform(0.0, 3.0)
        args = [str(ROLECALL), "run", "--property", BUSY, "--max-examples", "5000", "--report-dir", str(reports),
                "--workers", workers]
        for t in targets:
            args += ["--target", t]
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            while not _handler_installed(proc.pid):
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.01)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        where = f"seed {SEED}, SIGINT {delay:.2f}s after start:\n{out}{err}"
        assert proc.returncode == 130, where
        assert "Traceback" not in err and "Error" not in err, where
        if reports.exists():
            for entry in reports.iterdir():
                assert not entry.name.startswith("."), f"partial report left: {entry}; {where}"
                if entry.name != "latest":
                    summary = json.loads((entry / "summary.json").read_text())
                    assert summary["interrupted"] is True and summary["complete"] is False, where
