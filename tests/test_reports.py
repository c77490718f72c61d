"""Report folders as a user meets them: the files, JUnit, summary.md, repro scripts, atomic
writes, and the commands that read reports back (`baseline update/prune`, `compare`, `explain`).

One real run (moto and moto+auth against the reference model) feeds every test here.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import junitparser
import pytest

from rolecall.ledger import Baseline
from rolecall.reports import load_report, write_report
from rolecall.scenario import load as load_scenario

ROLECALL = Path(sys.executable).parent / "rolecall"
PROPERTY = "assume_role_trust_and_identity"


def rolecall(*args, cwd=None, env=None):
    return subprocess.run([str(ROLECALL), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def delegation_property():
    from rolecall.conformance import CATALOGUE

    return next(p for p in CATALOGUE if p.name == PROPERTY)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """One real run, shared by pytest-xdist workers (each would otherwise make its own)."""
    import fcntl

    from rolecall.engine import Profile
    from rolecall.session import run

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this session's folder
    cache = shared / "test_reports-run.pickle"
    with open(shared / "test_reports-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return pickle.loads(cache.read_bytes())
        # at `code`: at the default, `facts`, moto passes no AssumeRole (an extra PackedPolicySize),
        # and these tests are about the report, not about that
        res = run([delegation_property()], ["moto", "moto+auth"],
                  profile=Profile("test", max_examples=12, rounds=1, seed=0), strictness="code")
        assert {c.target for c in res.cells if c.divergences} == {"moto", "moto+auth"}, "the run should find divergences"
        cache.write_bytes(pickle.dumps(res))
        return res


@pytest.fixture(scope="module")
def report(result, tmp_path_factory) -> Path:
    return write_report(result, tmp_path_factory.mktemp("reports"))


def test_report_folder_holds_every_artifact(result, report):
    assert report.name == result.run_id
    assert (report.parent / "latest").resolve() == report.resolve()
    names = {p.name for p in report.iterdir()}
    assert {"results.jsonl", "summary.json", "divergences.json", "findings.json", "junit.xml", "summary.md",
            "index.html", "divergences", "findings", "passed"} <= names
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    assert {(r["property"], r["target"]) for r in records} == {(c.property, c.target) for c in result.cells}
    for r in records:
        cell = next(c for c in result.cells if (c.property, c.target) == (r["property"], r["target"]))
        assert r["verdict"] == cell.verdict == "diverge"
        assert r["divergences"] == sorted(cell.divergences)
        assert r["examples"] == cell.examples and r["agreeing"] == cell.agreeing
    summary = json.loads((report / "summary.json").read_text())
    assert summary["run_id"] == result.run_id and summary["complete"] is True and summary["gate"] is None
    assert summary["examples"] == sum(c.examples for c in result.cells)
    # one definition of each total: a divergence (or finding) counts once per target it is on
    assert summary["divergences"] == sum(len(c.divergences) for c in result.cells)
    findings = json.loads((report / "findings.json").read_text())
    assert summary["findings"] == len(findings) == sum(summary["findings_by_target"].values())
    assert sum(n for per in summary["coverage"].values() for n in per.values()) == \
        sum(sum(c.coverage.values()) for c in result.cells)


def test_each_divergence_has_a_folder_with_scenario_divergence_and_repro(result, report):
    for cell in result.cells:
        for div_id, finding in cell.divergences.items():
            folder = report / "divergences" / cell.target.replace("+", "-") / div_id
            scenario = load_scenario(folder / "scenario.json")
            assert scenario.to_dict() == finding.divergence.scenario.to_dict()
            record = json.loads((folder / "divergence.json").read_text())
            assert record["id"] == div_id and record["target"] == cell.target
            assert record["rule"] == finding.divergence.expected.reason
            assert record["source"].startswith("https://docs.aws.amazon.com/")
            assert os.access(folder / "repro.py", os.X_OK)


def test_divergences_json_carries_what_explain_needs(result, report):
    divs = json.loads((report / "divergences.json").read_text())
    assert len(divs) == sum(len(c.divergences) for c in result.cells)
    for d in divs:
        assert d["scenario"]["format"] == "rolecall/scenario@1"
        last = d["trace"][-1]
        assert last["rule"] == d["rule"] and last["source"] == d["source"]
        assert d["repro_kind"] == "boto3" and "import boto3" in d["repro"]


def test_junit_has_a_testcase_per_property_and_target_with_divergence_ids(result, report):
    xml = junitparser.JUnitXml.fromfile(str(report / "junit.xml"))
    cases = {(case.classname, case.name): case for suite in xml for case in suite}
    assert set(cases) == {(f"rolecall.{c.target}", c.property) for c in result.cells}
    for cell in result.cells:
        case = cases[(f"rolecall.{cell.target}", cell.property)]
        props = [(prop.name, prop.value) for group in case.iterchildren(junitparser.Properties) for prop in group]
        assert sorted(v for n, v in props if n == "divergence") == sorted(cell.divergences)
        assert ("examples", str(cell.examples)) in props
        (failure,) = case.result
        assert isinstance(failure, junitparser.Failure)
        assert all(i in failure.message for i in cell.divergences)
    assert xml.failures == len(result.cells) and xml.errors == 0


def test_gated_report_passes_known_findings_in_junit_and_markdown(result, report, tmp_path):
    """Accept moto's findings only: moto's testcase passes, moto+auth's still fails on its new ones."""
    from rolecall.reports import load_report

    baseline = Baseline(tmp_path / "baselines")
    import datetime as dt

    moto_findings = [f for f in load_report(report, report.parent).findings if f["target"] == "moto"]
    baseline.update(moto_findings, reason=None, day=dt.date.today())
    from rolecall.reports.records import build

    verdicts = Baseline.load(tmp_path / "baselines").judge(build(result)["findings"])
    path = write_report(dataclasses.replace(result, run_id=result.run_id + "-gated"), tmp_path / "r",
                        verdicts=verdicts)
    xml = junitparser.JUnitXml.fromfile(str(path / "junit.xml"))
    cases = {case.classname: case for suite in xml for case in suite}
    assert cases["rolecall.moto"].is_passed
    assert "known divergences" in cases["rolecall.moto"].system_out
    assert cases["rolecall.moto+auth"].result and isinstance(cases["rolecall.moto+auth"].result[0], junitparser.Failure)
    md = (path / "summary.md").read_text()
    assert md.startswith("## rolecall: ❌ gate failed")
    row = next(line for line in md.splitlines() if line.startswith(f"| `{result.cells[0].property}`"))
    assert "🟠 diverge" in row and "known" in row and "❌ diverge" in row
    summary = json.loads((path / "summary.json").read_text())
    assert {p["id"] for p in summary["gate"]["known"] if p["target"] == "moto"} == {f["id"] for f in moto_findings}


def _table(md: str, header_start: str) -> list[list[str]]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def test_summary_md_is_a_step_summary_with_matrix_divergences_and_coverage(result, report):
    md = (report / "summary.md").read_text()
    assert md.startswith("## rolecall: ❌")
    matrix = _table(md, "| property |")
    assert matrix[0] == ["property", "`moto`", "`moto+auth`"]
    assert matrix[1] == ["---"] * 3
    prop_row = next(r for r in matrix if r[0] == f"`{result.cells[0].property}`")
    for cell, text in zip(result.cells, prop_row[1:]):
        assert text == f"❌ diverge {len(cell.divergences)}"
    findings = _table(md, "| finding |")
    assert len(findings) - 2 == len(json.loads((report / "findings.json").read_text()))
    divs = _table(md, "| id |")
    assert {(r[0].strip("`"), r[1].strip("`")) for r in divs[2:]} == \
        {(i, c.target) for c in result.cells for i in c.divergences}
    cov = _table(md, "| reason |")
    reasons = {re.sub(r"^\[(.*?)\]\(.*\)$", r"\1", r[0]) for r in cov[2:]}
    assert reasons == {k for c in result.cells for k in c.coverage}
    assert "<details>" in md and "</details>" in md


def test_the_report_shows_which_features_the_run_reached_per_target(result, report):
    from rolecall.features import FEATURES

    md = (report / "summary.md").read_text()
    rows = _table(md, "| feature |")
    assert rows[0] == ["feature", "`moto`", "`moto+auth`"]
    shown = {r[0].strip("`"): r[1:] for r in rows[2:]}
    assert list(shown) == list(FEATURES)  # every catalogued feature, a hole too
    for i, target in enumerate(["moto", "moto+auth"]):
        cells = [c for c in result.cells if c.target == target]
        for feature in FEATURES:
            n = sum(c.features.get(feature, 0) for c in cells)
            assert shown[feature][i] == (str(n) if n else "**0**"), (feature, target)
    summary = json.loads((report / "summary.json").read_text())
    reached = {t: sum(1 for f in FEATURES if any(c.features.get(f) for c in result.cells if c.target == t))
               for t in ("moto", "moto+auth")}
    assert summary["features_reached"] == reached and 0 < reached["moto"] < len(FEATURES)
    assert f"moto {reached['moto']}/{len(FEATURES)}" in md
    page = (report / "index.html").read_text()
    assert 'id="feature-table"' in page and '"features_reached"' in page


def test_html_is_one_self_contained_file(report):
    page = (report / "index.html").read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page), "no external assets"
    data = re.search(r'<script type="application/json" id="rolecall-data">(.*?)</script>', page, re.S).group(1)
    doc = json.loads(data)
    assert doc["summary"]["run_id"] == report.name and doc["divergences"]


# ----------------------------------------------------------------------------- repro scripts

def test_repro_scripts_are_standalone_boto3_and_reproduce(result, report, tmp_path):
    """Run one repro.py per target with plain Python, outside the project: it makes the world with
    boto3, prints the diverging step's outcome, and exits 1 because moto still diverges."""
    for cell in result.cells:
        finding = next(iter(cell.divergences.values()))
        d = finding.divergence
        script = report / "divergences" / cell.target.replace("+", "-") / d.id / "repro.py"
        text = script.read_text()
        assert not re.search(r"^\s*(import|from)\s+rolecall", text, re.M)
        assert "mock_aws" in text and "x-moto-account-id" in text
        # run it where rolecall cannot be imported at all
        blocked = (f"import runpy, sys; sys.modules['rolecall'] = None; sys.argv = [{str(script)!r}]; "
                   f"runpy.run_path({str(script)!r}, run_name='__main__')")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MOTO_ACCOUNT_ID")}
        p = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, cwd=tmp_path,
                           env=env, timeout=300)
        assert p.returncode == 1, p.stdout + p.stderr
        printed = json.loads(re.search(rf"step '{d.step_id}': (\{{.*?^\}})", p.stdout, re.S | re.M).group(1))
        assert printed["outcome"] == d.observed.outcome
        assert printed.get("code") == d.observed.code
        assert f"still differs from AWS at step '{d.step_id}'" in p.stdout


PLANTED = (Path(__file__).parent / "renamed_target.py").read_text()


def test_repro_for_a_target_outside_boto_replays_through_rolecall(tmp_path, monkeypatch):
    from rolecall.engine import Profile, explore
    from rolecall.reports import repro
    from rolecall.session import make_target

    (tmp_path / "reports_planted.py").write_text(PLANTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    target, oracle = make_target("reports_planted:factory", {}), make_target("reference", {})
    cell = explore(delegation_property(), target, oracle, profile=Profile("t", max_examples=30, rounds=1, seed=0))
    d = next(iter(cell.divergences.values())).divergence
    assert d.level == "code" and repro.kind(d) == "rolecall"
    (tmp_path / "repro.py").write_text(repro.script(d))
    p = subprocess.run([sys.executable, str(tmp_path / "repro.py")], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert '"code": "AccessDeniedException"' in p.stdout


# ----------------------------------------------------------------------------- atomic writes

def test_a_failing_writer_leaves_the_previous_report_untouched(result, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    first = write_report(result, reports)
    before = snapshot(reports)
    from rolecall.reports import markdown

    def broken(data):
        raise RuntimeError("disk full (simulated) while writing summary.md")

    monkeypatch.setattr(markdown, "render", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(dataclasses.replace(result, run_id=result.run_id + "-2"), reports)
    assert snapshot(reports) == before
    assert sorted(p.name for p in reports.iterdir()) == sorted([first.name, "latest"])
    assert load_report("latest", reports).run_id == first.name


def test_a_killed_writer_leaves_no_report_and_its_leftover_is_swept(result, tmp_path):
    """SIGKILL in the middle of writing (no cleanup can run): the previous report and `latest`
    stay as they were, the half-built folder is hidden, and the next write removes it."""
    reports = tmp_path / "reports"
    first = write_report(result, reports)
    before = snapshot(reports)
    pickled = tmp_path / "result.pkl"
    pickled.write_bytes(pickle.dumps(dataclasses.replace(result, run_id=result.run_id + "-killed")))
    code = textwrap.dedent(f"""
        import os, pickle, signal
        from rolecall.reports import html, write_report
        html.render = lambda data: os.kill(os.getpid(), signal.SIGKILL)
        write_report(pickle.load(open({str(pickled)!r}, "rb")), {str(reports)!r})
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == -9, p.stderr
    leftovers = [x.name for x in reports.iterdir() if x.name not in (first.name, "latest")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".") and leftovers[0].endswith(".partial")
    assert {k: v for k, v in snapshot(reports).items() if not k.startswith(".")} == before
    assert load_report("latest", reports).run_id == first.name
    third = write_report(dataclasses.replace(result, run_id=result.run_id + "-3"), reports)
    assert sorted(x.name for x in reports.iterdir()) == sorted([first.name, third.name, "latest"])
    assert load_report("latest", reports).run_id == third.name


def test_a_leftover_of_a_running_writer_is_kept_and_of_an_exited_one_swept(result, tmp_path):
    """Another run still writing (its pid runs) keeps its hidden folder; one whose process has
    exited (here: exited and not yet reaped, a zombie) loses it at the next write."""
    reports = tmp_path / "reports"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    if not stat.exists():  # no /proc: reap it (a pid that no longer exists)
        child.wait()
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        os.sched_yield()
    running = reports / f".other-run.{os.getppid()}.partial"
    exited = reports / f".dead-run.{child.pid}.partial"
    for folder in (running, exited):
        folder.mkdir(parents=True)
    write_report(result, reports)
    child.wait()
    assert running.is_dir() and not exited.exists()


def test_latest_can_be_a_file_naming_the_folder(result, tmp_path):
    """Where symlinks are not allowed, `latest` is a file holding the folder's name."""
    reports = tmp_path / "reports"
    first = write_report(result, reports)
    (reports / "latest").unlink()
    (reports / "latest").write_text(first.name + "\n")
    assert load_report("latest", reports).run_id == first.name
    assert load_report(reports, reports).run_id == first.name


# ----------------------------------------------------------------------------- commands on reports

def test_baseline_update_accepts_every_finding_with_its_pinned_scenario(result, report, tmp_path):
    bl = tmp_path / "baselines"
    p = rolecall("baseline", "update", "--from", report, "--baseline", bl, "--reason", "moto lacks trust checks",
                 "--upstream", "https://github.com/getmoto/moto/issues/1")
    assert p.returncode == 0, p.stderr
    ledger = Baseline.load(bl)
    findings = load_report(report, report.parent).findings
    for cell in result.cells:
        entries = ledger.entries[cell.target]
        mine = {f["id"]: f for f in findings if f["target"] == cell.target}
        assert set(entries) == set(mine)
        # every divergence of the run is a symptom of exactly one accepted finding
        assert sorted(d for e in entries.values() for d in e["divergences"]) == sorted(cell.divergences)
        for fid, entry in entries.items():
            assert entry["reason"] == "moto lacks trust checks" and entry["upstream"].endswith("/1")
            assert entry["status"] == "reported" and entry["source"].startswith("https://docs.aws.amazon.com/")
            pinned = load_scenario(bl / entry["scenario"])
            assert pinned.to_dict() == mine[fid]["scenario"]
        assert ledger.passed[cell.target], "the scenarios the target passed are kept"
    first = (bl / "moto.json").read_text()
    again = rolecall("baseline", "update", "--from", report, "--baseline", bl)
    assert again.returncode == 0 and "0 added" in again.stdout
    assert (bl / "moto.json").read_text() == first  # same day: nothing to refresh, nothing duplicated


@pytest.mark.slow
def test_baseline_commands_refuse_bad_input_in_one_line(report, tmp_path):
    bl = tmp_path / "baselines"
    bl.mkdir()
    corrupted = bl / "moto.json"
    corrupted.write_text('{"format": "rolecall/baseline@2", "target": "moto", "findings": [')
    before = corrupted.read_bytes()
    for args in (["baseline", "update", "--from", report, "--baseline", bl],
                 ["baseline", "prune", "--baseline", bl],
                 ["baseline", "update", "--from", tmp_path / "nope", "--baseline", tmp_path / "b2"],
                 ["explain", "RC-zzz"]):
        p = rolecall(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr
        assert p.stderr.startswith("rolecall: error: ")
    assert corrupted.read_bytes() == before
    assert "moto.json" in rolecall("baseline", "update", "--from", report, "--baseline", bl).stderr


def test_compare_puts_targets_side_by_side_by_finding(result, report):
    p = rolecall("compare", report, "--json")
    assert p.returncode == 0, p.stderr
    cmp = json.loads(p.stdout)
    findings = load_report(report, report.parent).findings
    on = {}
    for f in findings:
        on.setdefault(f["id"], set()).add(f["target"])
    assert {e["id"] for e in cmp["shared"]} == {i for i, ts in on.items() if len(ts) > 1}
    assert {e["id"] for e in cmp["unique"]["moto"]} == {i for i, ts in on.items() if ts == {"moto"}}
    (row,) = cmp["behaviours"]
    assert row["targets"]["moto"]["divergences"] == sorted(next(c for c in result.cells if c.target == "moto").divergences)
    text = rolecall("compare", report)
    assert text.returncode == 0
    flowed = " ".join(text.stdout.split())  # titles are wrapped at 80 columns
    for f in findings:
        assert " ".join(f["behaviour"].split())[:40] in flowed


def test_findings_command_prints_one_line_per_finding_side_by_side(report):
    p = rolecall("findings", report, env={"NO_COLOR": "1", "COLUMNS": "80"})
    assert p.returncode == 0, p.stderr
    findings = load_report(report, report.parent).findings
    assert p.stdout.startswith(f"findings: {len(findings)} (")
    header = p.stdout.splitlines()[1]
    assert header.split()[:3] == ["finding", "moto", "moto+auth"]
    assert all(len(line) <= 80 for line in p.stdout.splitlines())
    as_json = json.loads(rolecall("findings", report, "--json").stdout)
    assert [f["id"] for f in as_json] == [f["id"] for f in findings]


def test_explain_tells_the_story_of_a_divergence(result, report):
    d = next(f.divergence for c in result.cells for f in c.divergences.values())
    p = rolecall("explain", d.id, "--report", report)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert d.signature in out and d.property in out
    rule = d.expected.trace[-1]
    assert f"AWS rule:   {rule['rule']}" in out and f"AWS source: {rule['source']}" in out
    assert "Decision trace of the reference model:" in out
    scenario_text = out.split("Minimal scenario:\n", 1)[1].split("\n\n", 1)[0]
    assert json.loads(scenario_text) == d.scenario.to_dict()
    assert "repro.py" in out


def test_explain_works_from_the_baseline_alone(result, report, tmp_path):
    """Without the report, the pinned scenario is replayed on the reference model for the trace."""
    bl = tmp_path / "baselines"
    assert rolecall("baseline", "update", "--from", report, "--baseline", bl).returncode == 0
    d = next(f.divergence for c in result.cells for f in c.divergences.values())
    p = rolecall("explain", d.id, "--report", tmp_path / "gone", "--baseline", bl)
    assert p.returncode == 0, p.stderr
    assert "in the baseline" in p.stdout and "a symptom of F-" in p.stdout
    assert "Decision trace of the reference model:" in p.stdout


# ----------------------------------------------------------------------------- progress

def test_progress_follows_each_property_on_each_target():
    from io import StringIO

    from rich.console import Console

    from rolecall.engine import Profile, explore
    from rolecall.reports.progress import Progress
    from rolecall.session import make_target

    prop = delegation_property()
    seen: list[int] = []
    live = StringIO()
    with make_target("reference", {}) as target, make_target("reference", {}) as oracle:
        with Progress(1, console=Console(file=live, force_terminal=True, width=160)) as progress:
            progress.start(f"{prop.name} on {target.name}")

            def advance(cell):
                seen.append(cell.examples)
                progress.advance(cell)

            cell = explore(prop, target, oracle, profile=Profile("t", 5, 1, 0), on_example=advance)
            progress.finish(cell)
    assert seen == list(range(1, cell.examples + 1))
    text = live.getvalue()
    assert prop.name in text and "reference" in text and f"{cell.examples} examples, 0 divergences" in text

    log = StringIO()  # not a terminal (a CI log): one line per finished cell
    progress = Progress(1, console=Console(file=log, force_terminal=False, width=200))
    progress.start(f"{prop.name} on reference")
    progress.advance(cell)
    progress.finish(cell)
    (line,) = log.getvalue().splitlines()
    assert line.startswith(f"agree       {prop.name} on reference: {cell.examples} examples, 0 divergences")


def test_repro_of_a_web_identity_divergence_replays_through_rolecall_which_mints_the_token(tmp_path):
    """A token is minted by rolecall when the step runs (with keys only rolecall holds), so the
    repro of a web identity divergence on moto replays through rolecall, and reproduces."""
    from rolecall.conformance import CATALOGUE
    from rolecall.engine import Profile, explore
    from rolecall.reports import repro
    from rolecall.session import make_target

    prop = next(p for p in CATALOGUE if p.name == "web_identity_tokens_and_trust")
    cell = explore(prop, make_target("moto", {}), make_target("reference", {}),
                   profile=Profile("t", max_examples=40, rounds=1, seed=0))
    d = next(c.divergence for c in cell.divergences.values() if "$token" in c.divergence.scenario.dumps())
    assert repro.kind(d) == "rolecall"
    (tmp_path / "repro.py").write_text(repro.script(d))
    p = subprocess.run([sys.executable, str(tmp_path / "repro.py")], capture_output=True, text=True, cwd=tmp_path,
                       timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
