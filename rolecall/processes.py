"""Process helpers shared by the emulator servers, the report writer and the lanes: whether a
pid still runs (and what), and a child that dies with its parent. Linux's /proc and prctl are
used where present; elsewhere the answers fall back to kill(pid, 0) and a no-op."""
from __future__ import annotations

import contextlib
import os
import signal


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs. A zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    # a zombie still answers kill(0); treat it as gone
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    return True


def pid_runs(pid: int, marker: bytes) -> bool:
    """Whether process ``pid``'s command line contains ``marker`` (e.g. its module)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return marker in f.read()
    except OSError:
        return False


def die_with_parent() -> None:
    """Ask the kernel to SIGTERM this process when its parent dies (Linux; elsewhere nothing).
    Runs in a child: between fork and exec, or first thing in a worker process."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
