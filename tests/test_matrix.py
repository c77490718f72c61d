"""`rolecall matrix`: findings x product-versions, the history folder, and changes confirmed by replay.

The end-to-end tests run three versions of one emulator (tests/quality/matrix_builds.py: the
reference model with planted bugs, as a product would be at three releases): the Action-case bug
is in 1.0 and 2.0 and gone in 3.0; the NotAction bug comes in 2.0. The search alone may miss a
finding on a version (it does miss NotAction on 2.0); the replay of its scenario finds it there.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rolecall import matrix as mx
from rolecall.reports import matrix as m

ROLECALL = Path(sys.executable).parent / "rolecall"
BUILDS = Path(__file__).resolve().parent / "quality"
ACTION_CASE = "matches Action names case-sensitively"
NOT_ACTION = "mishandles NotAction"


def rolecall(cwd: Path, *args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(BUILDS), "NO_COLOR": "1"}
    return subprocess.run([str(ROLECALL), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def builds_matrix(cwd: Path, history: Path, *versions: str):
    targets = [a for v in versions for a in ("--target", f"matrix_builds:{v}")]
    # a small seeded search: it misses findings on some versions, which the replays find there
    return rolecall(cwd, "matrix", *targets, "--property", "policy_evaluation", "--profile", "ci",
                    "--max-examples", "10", "--history", history)


# ----------------------------------------------------------------------------- the table (pure)

def _summary(product, version, findings, tested=("p",), run_id=None, mode=""):
    return {"format": m.SUMMARY_FORMAT, "product": mx.product_string(product, version, mode), "name": product,
            "version": version, "mode": mode, "target": f"{product}@{version}", "tested": list(tested),
            "run": {"run_id": run_id or f"run-{version}"}, "examples": 10, "divergences": len(findings),
            "findings": [{"id": f, "behaviour": f"does {f}", "direction": "too permissive", "properties": ["p"],
                          "scenario": {"from": version}} for f in findings]}


def _history(*summaries):
    return {s["product"]: s for s in summaries}


@pytest.mark.fast
def test_product_strings_name_product_version_and_mode():
    assert mx.product_string("moto", "5.2.5") == "moto-5.2.5"
    assert mx.product_string("moto", "5.2.5", "auth") == "moto-5.2.5-auth"
    assert mx.product_string("localstack", "2026.3.0", "host") == "localstack-2026.3.0-host"
    assert mx.product_string("emulator", "") == "emulator"


@pytest.mark.fast
def test_versions_are_ordered_as_releases_not_as_text():
    versions = ["5.10.0", "2026.3.0", "5.1.0", "5.0.28", "5.1.0rc1", "4.14.0"]
    assert sorted(versions, key=mx.version_key) == ["4.14.0", "5.0.28", "5.1.0rc1", "5.1.0", "5.10.0", "2026.3.0"]


@pytest.mark.fast
def test_a_finding_appears_and_disappears_within_one_product_line_only():
    history = _history(_summary("moto", "5.0.28", ["F-a"]), _summary("moto", "5.1.0", ["F-a", "F-b"]),
                       _summary("moto", "5.2.5", ["F-b"]), _summary("ministack", "1.5.33", []))
    tab = mx.table(history)
    assert tab["products"] == ["ministack-1.5.33", "moto-5.0.28", "moto-5.1.0", "moto-5.2.5"]
    cells = {r["id"]: r["cells"] for r in tab["findings"]}
    assert cells["F-a"] == {"ministack-1.5.33": mx.ABSENT, "moto-5.0.28": mx.PRESENT, "moto-5.1.0": mx.PRESENT,
                            "moto-5.2.5": mx.ABSENT}
    changes = {(c["finding"], c["change"], c["from"], c["to"]) for c in tab["changes"]}
    # a product's first version is no change, nor is another product's absence
    assert changes == {("F-a", mx.DISAPPEARS, "moto-5.1.0", "moto-5.2.5"),
                       ("F-b", mx.APPEARS, "moto-5.0.28", "moto-5.1.0")}


@pytest.mark.fast
def test_a_version_that_did_not_search_the_findings_properties_is_not_tested_and_is_skipped():
    history = _history(_summary("moto", "1", ["F-a"]), _summary("moto", "2", [], tested=("other",)),
                       _summary("moto", "3", ["F-a"]))
    tab = mx.table(history)
    assert tab["findings"][0]["cells"]["moto-2"] == mx.NOT_TESTED
    assert tab["changes"] == []  # 1 -> 3: present both times; 2 says nothing
    assert "not tested" in m.to_csv(m.document(history, tab))


@pytest.mark.fast
def test_a_replay_that_reproduces_a_finding_the_search_missed_makes_it_present_there():
    history = _history(_summary("moto", "1", []), _summary("moto", "2", []), _summary("moto", "3", ["F-a"]))
    before = mx.table(history)
    assert [(c["from"], c["to"]) for c in before["changes"]] == [("moto-2", "moto-3")]
    after = mx.table(history, {("F-a", "moto-2"): {"result": "reproduced"}, ("F-a", "moto-1"): {"result": "agrees"}})
    assert after["findings"][0]["cells"]["moto-2"] == mx.PRESENT_REPLAY
    assert [(c["from"], c["to"], c["change"]) for c in after["changes"]] == [("moto-1", "moto-2", mx.APPEARS)]


@pytest.mark.fast
def test_the_history_refuses_a_file_that_is_not_a_summary(tmp_path):
    (tmp_path / m.SUMMARIES).mkdir()
    (tmp_path / m.SUMMARIES / "notes.json").write_text('{"mine": true}')
    with pytest.raises(m.HistoryError, match="notes.json: not a rolecall matrix summary"):
        m.load_history(tmp_path)
    assert (tmp_path / m.SUMMARIES / "notes.json").read_text() == '{"mine": true}'


# ----------------------------------------------------------------------------- end to end

@pytest.mark.slow
def test_matrix_over_three_versions_confirms_each_change_by_replay_and_keeps_history(tmp_path):
    history = tmp_path / "matrix"
    first = builds_matrix(tmp_path, history, "v1", "v2", "v3")
    assert first.returncode == 0, first.stdout + first.stderr
    summaries = sorted(p.name for p in (history / "summaries").iterdir())
    assert summaries == ["emulator-1.0.json", "emulator-2.0.json", "emulator-3.0.json"]

    doc = json.loads((history / "matrix.json").read_text())
    assert [p["product"] for p in doc["products"]] == ["emulator-1.0", "emulator-2.0", "emulator-3.0"]
    row = {f["behaviour"]: f for f in doc["findings"]}
    present = {"present", "present (replay)"}
    assert row[ACTION_CASE]["cells"]["emulator-1.0"] in present
    assert row[ACTION_CASE]["cells"]["emulator-2.0"] in present
    assert row[ACTION_CASE]["cells"]["emulator-3.0"] == "absent"
    assert row[NOT_ACTION]["cells"]["emulator-1.0"] == "absent"
    assert row[NOT_ACTION]["cells"]["emulator-2.0"] in present
    assert row[NOT_ACTION]["cells"]["emulator-3.0"] in present
    # the search alone missed a finding somewhere; the replays put it where it is
    assert "present (replay)" in {c for r in row.values() for c in r["cells"].values()}
    changes = {(c["behaviour"], c["change"]): c for c in doc["changes"]}
    assert set(changes) == {(ACTION_CASE, "disappears"), (NOT_ACTION, "appears")}
    gone = changes[(ACTION_CASE, "disappears")]
    assert (gone["from"], gone["to"], gone["confirmed"]) == ("emulator-2.0", "emulator-3.0", True)
    assert (gone["replay"]["from"]["result"], gone["replay"]["to"]["result"]) == ("reproduced", "agrees")
    came = changes[(NOT_ACTION, "appears")]
    assert (came["from"], came["to"], came["confirmed"]) == ("emulator-1.0", "emulator-2.0", True)
    assert (came["replay"]["from"]["result"], came["replay"]["to"]["result"]) == ("agrees", "reproduced")
    assert f"{came['finding']} appears emulator-1.0 -> emulator-2.0: confirmed" in first.stdout

    with open(history / "matrix.csv", newline="") as f:
        rows = {r["behaviour"]: r for r in csv.DictReader(f)}
    assert rows[ACTION_CASE]["emulator-3.0"] == "absent" and rows[ACTION_CASE]["emulator-1.0"] in present
    page = (history / "index.html").read_text()
    assert ACTION_CASE in page and "disappears" in page and "emulator-2.0" in page

    # one product-version again: only its summary changes; the others are history
    kept = {n: (history / "summaries" / n).read_bytes() for n in summaries}
    again = builds_matrix(tmp_path, history, "v3")
    assert again.returncode == 0, again.stdout + again.stderr
    assert (history / "summaries" / "emulator-1.0.json").read_bytes() == kept["emulator-1.0.json"]
    assert (history / "summaries" / "emulator-2.0.json").read_bytes() == kept["emulator-2.0.json"]
    assert (history / "summaries" / "emulator-3.0.json").read_bytes() != kept["emulator-3.0.json"]
    doc2 = json.loads((history / "matrix.json").read_text())
    assert [p["product"] for p in doc2["products"]] == ["emulator-1.0", "emulator-2.0", "emulator-3.0"]
    assert {(c["behaviour"], c["change"], c["confirmed"]) for c in doc2["changes"]} == \
        {(ACTION_CASE, "disappears", True), (NOT_ACTION, "appears", True)}
    # replays are kept while the runs they replayed are: the table again, with no run, replays nothing
    table_only = rolecall(tmp_path, "matrix", "--no-run", "--history", history)
    assert table_only.returncode == 0, table_only.stdout + table_only.stderr
    assert "replaying" not in table_only.stdout + table_only.stderr
    assert json.loads((history / "matrix.json").read_text())["changes"] == doc2["changes"]


def test_matrix_names_real_moto_versions_from_the_running_product(tmp_path):
    from importlib.metadata import version

    # a property with nothing to find on moto: what is checked is the names, not the findings
    out = rolecall(tmp_path, "matrix", "--target", "moto@5.1.0", "--target", "moto", "--property",
                   "ec2_instance_profile_to_s3", "--max-examples", "2", "--history", tmp_path / "h")
    assert out.returncode == 0, out.stdout + out.stderr
    summaries = sorted(p.stem for p in (tmp_path / "h" / "summaries").iterdir())
    assert summaries == sorted(["moto-5.1.0", f"moto-{version('moto')}"])
    doc = json.loads((tmp_path / "h" / "matrix.json").read_text())
    assert {p["target"] for p in doc["products"]} == {"moto@5.1.0", "moto"}


@pytest.mark.parametrize("setup, args, message", [
    (None, ["--target", "nosuch"], "unknown target 'nosuch'"),
    (None, ["--target", "moto+auth@5.1.0"], "has no versions"),
    ("file", ["--target", "moto"], "cannot write the matrix history there"),
    ("foreign-summary", ["--target", "moto"], "not a rolecall matrix summary"),
    ("foreign-page", ["--target", "moto"], "not written by rolecall matrix"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_run(tmp_path, setup, args, message):
    history = tmp_path / "h"
    if setup == "file":
        history.write_text("a file, not a folder")
    elif setup == "foreign-summary":
        (history / "summaries").mkdir(parents=True)
        (history / "summaries" / "moto-5.2.5.json").write_text("{}")
    elif setup == "foreign-page":
        history.mkdir()
        (history / "index.html").write_text("<p>my own page</p>")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    out = rolecall(tmp_path, "matrix", *args, "--property", "input_validation", "--history", history, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    # nothing ran, nothing of the user's was touched
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.fast
def test_the_matrix_takes_its_grid_and_history_folder_from_the_settings(tmp_path):
    from rolecall import settings

    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.rolecall]\ntargets = ["moto@5.1.0", "moto"]\nmatrix-dir = "history"\n')
    defaults = settings.default_map(settings.load(path, {"ROLECALL_PROFILE": "dev"}))["matrix"]
    assert defaults == {"targets": ["moto@5.1.0", "moto"], "history": tmp_path / "history", "profile": "dev"}
    assert settings.load(path, {"ROLECALL_MATRIX_DIR": "/elsewhere"})["matrix-dir"] == Path("/elsewhere")


@pytest.mark.fast
def test_targets_name_the_product_version_they_run():
    from importlib.metadata import version

    from rolecall.targets.localstack import localstack
    from rolecall.targets.moto import moto, moto_auth

    assert moto().product_version() == ("moto", version("moto"), "")
    assert moto_auth().product_version() == ("moto", version("moto"), "auth")
    given = localstack(endpoint="http://127.0.0.1:9")  # a server given by URL: nothing is started
    assert given.product_version() == ("localstack", "4.14.0", "host")
    given._health = {"version": "4.14.1"}  # what its health document said when it was opened
    assert given.product_version() == ("localstack", "4.14.1", "host")


@pytest.mark.fast
def test_a_change_is_confirmed_only_when_the_version_with_the_finding_reproduces_it_and_the_other_does_not():
    def change(kind, before, after):
        return {"change": kind, "replay": {"from": {"result": before}, "to": {"result": after}}}

    assert mx.confirmed(change(mx.APPEARS, mx.AGREES, mx.REPRODUCED)) is True
    assert mx.confirmed(change(mx.DISAPPEARS, mx.REPRODUCED, mx.OTHER)) is True  # gone, another bug in its place
    assert mx.confirmed(change(mx.APPEARS, mx.REPRODUCED, mx.REPRODUCED)) is False  # there before: the search missed it
    assert mx.confirmed(change(mx.DISAPPEARS, mx.AGREES, mx.AGREES)) is False
    assert mx.confirmed(change(mx.APPEARS, mx.UNAVAILABLE, mx.REPRODUCED)) is None  # not replayed is no verdict


@pytest.mark.fast
def test_a_replay_is_reused_only_while_both_runs_it_depends_on_are_the_same():
    history = _history(_summary("moto", "1", [], run_id="a"), _summary("moto", "2", ["F-a"], run_id="b"))
    kept = {"format": m.MATRIX_FORMAT, "replays": [
        {"finding": "F-a", "product": "moto-1", "result": "agrees", "run_id": "a", "scenario_from": "moto-2",
         "scenario_run": "b"}]}
    assert mx.previous_replays(kept, history) == {("F-a", "moto-1"): {"result": "agrees", "run_id": "a",
                                                                      "scenario_from": "moto-2", "scenario_run": "b"}}
    history["moto-2"]["run"]["run_id"] = "b2"  # the scenario's version ran again: its scenario may differ
    assert mx.previous_replays(kept, history) == {}
