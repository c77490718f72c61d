import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROLECALL = [sys.executable, "-m", "rolecall.cli"]


def rolecall(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600):
    """Run the real `rolecall` command; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*ROLECALL, *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


@pytest.fixture
def run_rolecall():
    return rolecall
