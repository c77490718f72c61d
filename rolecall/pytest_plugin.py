"""rolecall's pytest plugin (entry point `pytest11`): the property catalogue as pytest tests.

    pytest --pyargs rolecall.conformance --rolecall-target moto --rolecall-target localstack -m cross_account

Each property x target is one test, marked with the property's feature. Targets are opened
once per session (per worker under pytest-xdist). Each test's cell travels to the
controller as a JUnit property, where `--rolecall-report-dir` writes one merged report.
"""
from __future__ import annotations

import json
import os
import zlib

import pytest

from rolecall.engine import PROFILES, Cell, explore

CELL_PROPERTY = "rolecall_cell"


def pytest_addoption(parser) -> None:
    g = parser.getgroup("rolecall", "rolecall conformance")
    g.addoption("--rolecall-target", action="append", default=[], metavar="NAME",
                help="target to test (repeatable); default: moto, moto+auth, localstack")
    g.addoption("--rolecall-oracle", default="reference", metavar="NAME", help="the target others are compared with")
    g.addoption("--rolecall-strictness", default="code", choices=["decision", "code", "result", "message"])
    g.addoption("--rolecall-profile", default=os.environ.get("ROLECALL_PROFILE", "ci"), choices=sorted(PROFILES),
                help="Hypothesis profile (default: $ROLECALL_PROFILE or ci)")
    g.addoption("--rolecall-max-examples", type=int, default=None, metavar="N")
    g.addoption("--rolecall-seed", type=int, default=None, metavar="N")
    g.addoption("--rolecall-localstack-endpoint", default=None, metavar="URL")
    g.addoption("--rolecall-baseline", default=None, metavar="DIR", help="fail only on divergences not in it")
    g.addoption("--rolecall-report-dir", default=None, metavar="DIR", help="write a merged report here")
    g.addoption("--shard", "--rolecall-shard", dest="rolecall_shard", default=None, metavar="I/N",
                help="run only the I-th of N slices of the property catalogue (for CI matrices)")


def _catalogue():
    from rolecall.conformance import CATALOGUE

    return CATALOGUE


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard expects I/N such as 1/4, got {text!r}") from None
    if not (n >= 1 and 1 <= i <= n):
        raise pytest.UsageError(f"--shard expects 1 <= I <= N, got {text!r}")
    return i, n


def in_shard(property_name: str, shard: tuple[int, int] | None) -> bool:
    """Stable split by property name, independent of catalogue order and of the machine."""
    if shard is None:
        return True
    i, n = shard
    return zlib.crc32(property_name.encode()) % n == i - 1


def pytest_configure(config) -> None:
    parse_shard(config.getoption("rolecall_shard"))
    for feature in sorted({p.feature for p in _catalogue()}):
        config.addinivalue_line("markers", f"{feature}: rolecall properties of the {feature} feature")
    config.addinivalue_line("markers", "rolecall: a rolecall conformance property")
    config._rolecall_cells = []


def pytest_generate_tests(metafunc) -> None:
    if "rolecall_property" not in metafunc.fixturenames:
        return
    from rolecall.targets import LOCAL_DEFAULT

    config = metafunc.config
    shard = parse_shard(config.getoption("rolecall_shard"))
    targets = config.getoption("rolecall_target") or list(LOCAL_DEFAULT)
    params = [pytest.param(prop, target, id=f"{prop.name}-{target}",
                           marks=[getattr(pytest.mark, prop.feature), pytest.mark.rolecall])
              for prop in _catalogue() if in_shard(prop.name, shard) for target in targets]
    metafunc.parametrize(("rolecall_property", "rolecall_target_name"), params)


def pytest_collection_modifyitems(session, config, items) -> None:
    """Under pytest-xdist, costliest properties first: workers take tests in collection order,
    so a long cell started last would leave one worker running alone at the end."""
    if not hasattr(config, "workerinput"):
        return  # not a pytest-xdist worker (the controller does not collect)
    rolecall = [i for i, item in enumerate(items)
                if "rolecall_property" in getattr(getattr(item, "callspec", None), "params", {})]
    ordered = sorted((items[i] for i in rolecall), key=lambda item: -item.callspec.params["rolecall_property"].cost)
    for i, item in zip(rolecall, ordered):
        items[i] = item


class _Targets:
    def __init__(self, config):
        self.config = config
        self.open: dict[str, object] = {}
        self.failed: dict[str, str] = {}

    def get(self, spec: str):
        from rolecall.session import make_target
        from rolecall.targets import TargetUnavailable, UnknownTarget

        if spec in self.failed:
            pytest.fail(self.failed[spec], pytrace=False)
        if spec not in self.open:
            try:
                target = make_target(spec, {"endpoint": self.config.getoption("rolecall_localstack_endpoint")})
                target.open()
            except (TargetUnavailable, UnknownTarget) as exc:
                self.failed[spec] = f"target {spec}: {exc}"
                pytest.fail(self.failed[spec], pytrace=False)
            self.open[spec] = target
        return self.open[spec]

    def close(self) -> None:
        for target in self.open.values():
            target.close()
        self.open.clear()


@pytest.fixture(scope="session")
def rolecall_targets(request):
    targets = _Targets(request.config)
    yield targets
    targets.close()


@pytest.fixture
def rolecall_target(rolecall_targets, rolecall_target_name):
    return rolecall_targets.get(rolecall_target_name)


@pytest.fixture
def rolecall_oracle(rolecall_targets, request):
    return rolecall_targets.get(request.config.getoption("rolecall_oracle"))


def check_property(prop, target, oracle, config, record_property) -> Cell:
    """Explore one property on one target; fail the test on divergences (new ones, with a baseline)."""
    cell = explore(prop, target, oracle, profile=PROFILES[config.getoption("rolecall_profile")],
                   strictness=config.getoption("rolecall_strictness"), seed=config.getoption("rolecall_seed"),
                   max_examples=config.getoption("rolecall_max_examples"))
    record_property("examples", cell.examples)
    for div_id in sorted(cell.divergences):
        record_property("divergence", div_id)
    record_property(CELL_PROPERTY, json.dumps(cell.to_dict(), default=str))
    if cell.error:
        pytest.fail(f"{target.name}: {cell.error}", pytrace=False)
    findings = list(cell.divergences.values())
    baseline_dir = config.getoption("rolecall_baseline")
    if baseline_dir and findings:
        from rolecall.ledger import Baseline

        import datetime as dt

        from rolecall.findings import symptom_cause

        gate, today = Baseline.load(baseline_dir), dt.date.today()
        findings = [f for f in findings
                    if not gate.knows(target.name, (f.cause or symptom_cause(f.divergence)).id, today)]
    if findings:
        lines = [f"{len(findings)} divergence(s) of {target.name} from {oracle.name}:"]
        for f in findings:
            lines.append("  " + f.divergence.summary())
            lines.append("    minimal scenario: " + json.dumps(f.divergence.scenario.to_dict()))
        pytest.fail("\n".join(lines), pytrace=False)
    return cell


def pytest_runtest_logreport(report) -> None:
    if report.when != "call":
        return
    for name, value in getattr(report, "user_properties", ()):
        if name == CELL_PROPERTY:
            _cells.append(value)


_cells: list[str] = []


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller merges
    report_dir = config.getoption("rolecall_report_dir", None)
    if not report_dir or not _cells:
        return
    import datetime as dt
    from pathlib import Path

    from rolecall.reports import write_report
    from rolecall.session import RunResult, new_run_id

    cells = [Cell.from_dict(json.loads(c)) for c in _cells]
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    result = RunResult(run_id=new_run_id(), started=now, profile=config.getoption("rolecall_profile"),
                       strictness=config.getoption("rolecall_strictness"),
                       oracle=config.getoption("rolecall_oracle"),
                       targets=sorted({c.target for c in cells}), seed=config.getoption("rolecall_seed"),
                       cells=cells, finished=now)
    path = write_report(result, Path(report_dir))
    config._rolecall_report = path
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"rolecall report: {path}")
