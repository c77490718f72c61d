"""rolecall's pytest plugin (entry point `pytest11`): the property catalogue as pytest tests.

    pytest --pyargs rolecall.conformance --rolecall-target moto --rolecall-target localstack -m cross_account

Each property x target is one test, marked with the property's feature. Targets are opened
once per session (per worker under pytest-xdist). Each test's cell travels to the
controller as a JUnit property, where `--rolecall-report-dir` writes one merged report.
"""
from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import pytest

from rolecall import settings
from rolecall.compare import DEFAULT_STRICTNESS, LEVELS
from rolecall.conformance import CATALOGUE
from rolecall.engine import PROFILES, Cell
from rolecall.events import TargetLost
from rolecall.ledger import Baseline
from rolecall.outcome import TargetUnavailable
from rolecall.paths import unwritable
from rolecall.pool import TargetPool
from rolecall.reports import write_report
from rolecall.session import RunResult, new_run_id
from rolecall.spine import run_cell
from rolecall.targets import LOCAL_DEFAULT, UnknownTarget, _factory

CELL_PROPERTY = "rolecall_cell"


def pytest_addoption(parser) -> None:
    g = parser.getgroup("rolecall", "rolecall conformance")
    g.addoption("--rolecall-target", action="append", default=[], metavar="NAME",
                help="target to test (repeatable); default: moto, moto+auth, localstack")
    g.addoption("--rolecall-oracle", default="reference", metavar="NAME", help="the target others are compared with")
    g.addoption("--rolecall-strictness", default=None, choices=list(LEVELS),
                help="default: $ROLECALL_STRICTNESS, [tool.rolecall] strictness, or facts")
    g.addoption("--rolecall-profile", default=None, choices=sorted(PROFILES),
                help="Hypothesis profile (default: $ROLECALL_PROFILE, [tool.rolecall] profile, or ci)")
    g.addoption("--rolecall-max-examples", type=int, default=None, metavar="N")
    g.addoption("--rolecall-seed", type=int, default=None, metavar="N")
    g.addoption("--rolecall-localstack-endpoint", default=None, metavar="URL")
    g.addoption("--rolecall-baseline", default=None, metavar="DIR", help="fail only on divergences not in it")
    g.addoption("--rolecall-report-dir", default=None, metavar="DIR", help="write a merged report here")
    g.addoption("--shard", "--rolecall-shard", dest="rolecall_shard", default=None, metavar="I/N",
                help="run only the I-th of N slices of the property catalogue (for CI matrices)")


def _catalogue():
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


_FLAGS = {"targets": "rolecall_target", "profile": "rolecall_profile", "strictness": "rolecall_strictness",
          "baseline": "rolecall_baseline", "report-dir": "rolecall_report_dir"}
_FALLBACK = {"targets": list(LOCAL_DEFAULT), "profile": "ci", "strictness": DEFAULT_STRICTNESS, "baseline": None,
             "report-dir": None}


def setting(config, name: str):
    """A flag if given, else the environment's or pyproject.toml's setting (rolecall.settings)."""
    given = config.getoption(_FLAGS[name])
    if given:
        return given
    return getattr(config, "_rolecall_settings", {}).get(name, _FALLBACK[name])


def pytest_configure(config) -> None:
    """Bad options are one usage error before any test runs (not one error per test)."""
    parse_shard(config.getoption("rolecall_shard"))
    try:
        config._rolecall_settings = settings.load(settings.find_pyproject(Path(config.rootpath)))
    except settings.SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    given = config.getoption("rolecall_target") or config._rolecall_settings.get("targets")
    if given:
        for spec in [*given, config.getoption("rolecall_oracle")]:
            try:
                _factory(spec)
            except UnknownTarget as exc:
                raise pytest.UsageError(f"--rolecall-target: {exc}") from None
    report_dir = setting(config, "report-dir")
    if report_dir and not hasattr(config, "workerinput"):
        problem = unwritable(report_dir)
        if problem:
            raise pytest.UsageError(f"--rolecall-report-dir {problem}")
    for feature in sorted({p.feature for p in _catalogue()}):
        config.addinivalue_line("markers", f"{feature}: rolecall properties of the {feature} feature")
    config.addinivalue_line("markers", "rolecall: a rolecall conformance property")
    config._rolecall_cells = []


def pytest_generate_tests(metafunc) -> None:
    if "rolecall_property" not in metafunc.fixturenames:
        return
    config = metafunc.config
    shard = parse_shard(config.getoption("rolecall_shard"))
    targets = setting(config, "targets")
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


@pytest.fixture(scope="session")
def rolecall_pool(request):
    """The session's target pool: each target opened once (per pytest-xdist worker), closed at the end."""
    with TargetPool({"endpoint": request.config.getoption("rolecall_localstack_endpoint")}) as pool:
        yield pool


def _open(pool: TargetPool, spec: str):
    try:
        return pool.get(spec)
    except TargetUnavailable as exc:
        pytest.fail(f"target {spec}: {exc}", pytrace=False)


@pytest.fixture
def rolecall_target(rolecall_pool, rolecall_target_name):
    return _open(rolecall_pool, rolecall_target_name)


@pytest.fixture
def rolecall_oracle(rolecall_pool, request):
    return _open(rolecall_pool, request.config.getoption("rolecall_oracle"))


def _seed(config) -> int | None:
    """--rolecall-seed, else Hypothesis's own --hypothesis-seed, else the profile's."""
    seed = config.getoption("rolecall_seed")
    if seed is None:
        given = config.getoption("hypothesis_seed", None)
        if given is not None:
            seed = int(given) if str(given).lstrip("-").isdigit() else zlib.crc32(str(given).encode())
    return seed


def _run_seed(config) -> int | None:
    seed = _seed(config)
    return PROFILES[setting(config, "profile")].seed if seed is None else seed


def check_property(prop, target_name: str, pool: TargetPool, config, record_property, scenarios_dir=None) -> Cell:
    """Explore one property on one target through the run spine; fail the test on divergences
    (new ones, with a baseline), each with its minimal scenario file and the command that replays it."""
    oracle_name = config.getoption("rolecall_oracle")
    lost: list[str] = []

    def emit(event) -> None:
        if isinstance(event, TargetLost):
            lost.append(event.line)

    cell = run_cell(prop, target_name, pool, oracle_spec=oracle_name,
                    profile=PROFILES[setting(config, "profile")],
                    strictness=setting(config, "strictness"), seed=_seed(config),
                    max_examples=config.getoption("rolecall_max_examples"), emit=emit)
    if cell is None:
        pytest.fail(lost[0] if lost else f"target {target_name} could not be opened", pytrace=False)
    record_property("examples", cell.examples)
    for div_id in sorted(cell.divergences):
        record_property("divergence", div_id)
    record_property(CELL_PROPERTY, json.dumps(cell.to_dict(), default=str))
    if cell.error:
        pytest.fail(f"{target_name}: {cell.error}", pytrace=False)
    findings = list(cell.divergences.values())
    baseline_dir = setting(config, "baseline")
    if baseline_dir and findings:
        from rolecall.findings import symptom_cause

        gate, today = Baseline.load(baseline_dir), dt.date.today()
        findings = [f for f in findings
                    if not gate.knows(target_name, (f.cause or symptom_cause(f.divergence)).id, today)]
    if findings:
        pytest.fail(describe_failure(findings, target_name, oracle_name, scenarios_dir), pytrace=False)
    return cell


def describe_failure(findings, target_name: str, oracle_name: str, scenarios_dir) -> str:
    """Each divergence in a few readable lines: the step, what each side answered, the minimal
    scenario's file and the command that replays it."""
    lines = [f"{len(findings)} divergence(s) of {target_name} from {oracle_name}:"]
    for f in findings:
        d = f.divergence
        lines.append("")
        lines.append(f"  {d.id}  {d.call} at step {d.step_id!r} [{d.level}]")
        lines.append(f"    {oracle_name + ':':<12} {_said(d.expected)}")
        lines.append(f"    {target_name + ':':<12} {_said(d.observed)}")
        if d.expected.reason:
            lines.append(f"    rule:        {d.expected.reason}")
        if scenarios_dir is not None:
            path = Path(scenarios_dir) / f"{d.id}.json"
            path.write_text(json.dumps(d.scenario.to_dict(), indent=2) + "\n")
            lines.append(f"    scenario:    {path}")
            lines.append(f"    replay:      rolecall replay {path} --target {target_name} --explain")
    return "\n".join(lines)


def _said(o) -> str:
    if o.outcome == "error":
        return f"error {o.code} ({o.http_status})" + (f": {o.message}" if o.message else "")
    if o.outcome == "ok":
        return "ok"
    return f"unsupported: {o.reason}"


def statistics(cell: Cell) -> str:
    """A cell as `--hypothesis-show-statistics` shows it (Hypothesis's own collector would see
    only the last of a cell's rounds, and none of its replays)."""
    reasons = ", ".join(f"{r} {n}" for r, n in cell.coverage.most_common(6)) or "none"
    return (f"{cell.property} on {cell.target}:\n"
            f"  - {cell.examples} examples: {cell.agreeing} agreeing, {cell.setup_errors} the target could not "
            f"set up; {sum(cell.decisions.values())} steps decided, {cell.unsupported_steps} unsupported\n"
            f"  - {len(cell.divergences)} divergences confirmed, {len(cell.flaky)} flaky; {cell.seconds:.1f}s\n"
            f"  - the reference's reasons: {reasons}\n")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Under Hypothesis's "Hypothesis Statistics" heading, which it prints first."""
    if not config.getoption("hypothesis_show_statistics", False) or hasattr(config, "workerinput"):
        return
    for text in _cells:
        terminalreporter.write_line(statistics(Cell.from_dict(json.loads(text))))


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
    report_dir = setting(config, "report-dir")
    if not report_dir or not _cells:
        return
    cells = [Cell.from_dict(json.loads(c)) for c in _cells]
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    result = RunResult(run_id=new_run_id(), started=now, profile=setting(config, "profile"),
                       strictness=setting(config, "strictness"),
                       oracle=config.getoption("rolecall_oracle"),
                       targets=sorted({c.target for c in cells}), seed=_run_seed(config),
                       cells=cells, finished=now)
    path = write_report(result, Path(report_dir))
    config._rolecall_report = path
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"rolecall report: {path}")
