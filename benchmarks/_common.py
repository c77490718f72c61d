"""Shared pieces of the benchmark scripts: seeded scenario sets, medians, and a one-line
description of the machine and its load (the machine is shared, so every figure is a
median over repeats and names the load it was measured under)."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from importlib.metadata import PackageNotFoundError, version

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hseed, settings

SEED = 20121017  # the IAM policy language version date: any fixed number would do


def draw(prop, n: int, seed: int = SEED) -> list:
    """`n` scenarios from `prop.strategy()`, the same ones on every run (seeded, no database).

    Hypothesis's generate phase alone, with a body that never fails, gives the same
    sequence for the same seed and strategy (checked: equal JSON across runs).
    """
    out: list = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @given(prop.strategy())
    def collect(scenario) -> None:
        out.append(scenario)

    collect()
    return out


def accepted(scenarios: list, oracle) -> list:
    """The scenarios whose world the oracle creates: the engine rejects the others unrun."""
    return [s for s in scenarios if oracle.run(s).setup_error is None]


def median(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def spread(xs) -> str:
    """min-max of the repeats, to show how noisy the median is."""
    return f"{min(xs):.0f}-{max(xs):.0f}" if xs else "-"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f}/{five:.2f} (1/5 min) on {os.cpu_count()} CPUs"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mem_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown memory"


def _pkg(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} -"


def machine() -> str:
    py = ".".join(map(str, sys.version_info[:3]))
    pkgs = ", ".join(_pkg(p) for p in ("hypothesis", "moto", "boto3", "botocore", "pytest", "pytest-xdist"))
    return f"{os.cpu_count()} CPUs ({_cpu_model()}), {_mem_total()}, Python {py}; {pkgs}"


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# {machine()}")
    print(f"# {load()} at {time.strftime('%Y-%m-%d %H:%M:%S')}")
