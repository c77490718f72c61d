"""Write one run's report folder, all or nothing.

The folder is built under a hidden temporary name (`.<run-id>.<pid>.partial`) and renamed
into place; only then does `latest` move to it (a symlink, or a file naming the folder
where symlinks are not allowed). An interrupted write removes its temporary folder; one
left by a killed process is swept by the next write, once that process is gone.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from rolecall.processes import pid_alive
from rolecall.scenario import write_atomic

PARTIAL = re.compile(r"\.(?P<run>.+)\.(?P<pid>\d+)\.partial")


def _dump(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")


def write_report(result, report_dir: Path, *, verdicts=None) -> Path:
    """Write `report_dir/<run-id>/` and point `report_dir/latest` at it; returns the folder."""
    from rolecall.reports import records

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    _sweep(report_dir)
    final = report_dir / result.run_id
    if final.exists():
        raise FileExistsError(f"{final}: a report with this run id exists already")
    data = records.build(result, verdicts)
    tmp = report_dir / f".{result.run_id}.{os.getpid()}.partial"
    tmp.mkdir()
    try:
        _write_folder(tmp, data)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_latest(report_dir, final.name)
    return final


def _write_folder(folder: Path, data: dict) -> None:
    from rolecall.reports import html, junit, markdown
    from rolecall.reports.records import slug

    summary, cells, divergences = data["summary"], data["cells"], data["divergences"]
    for rec in divergences:
        sub = folder / rec["folder"]
        sub.mkdir(parents=True, exist_ok=True)
        _dump(sub / "scenario.json", rec["scenario"])
        _dump(sub / "divergence.json", {k: v for k, v in rec.items() if k not in ("scenario", "repro")})
        (sub / "repro.py").write_text(rec["repro"], encoding="utf-8")
        (sub / "repro.py").chmod(0o755)
    _dump(folder / "divergences.json", divergences)
    _write_findings(folder, data)
    for target, scenarios in data.get("passed", {}).items():
        (folder / "passed").mkdir(exist_ok=True)
        _dump(folder / "passed" / f"{slug(target)}.json", scenarios)
    with open(folder / "results.jsonl", "w", encoding="utf-8") as fh:
        for rec in cells:
            fh.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")
    (folder / "junit.xml").write_bytes(junit.render(data))
    (folder / "summary.md").write_text(markdown.render(data), encoding="utf-8")
    (folder / "index.html").write_text(html.render(data), encoding="utf-8")
    # summary.json last: a folder that has it is a complete report
    _dump(folder / "summary.json", summary)


def _write_findings(folder: Path, data: dict) -> None:
    """findings.json, and per finding its smallest scenario, repro.py, an issue draft and (for boto-based
    emulators) a pytest in the emulator's own style."""
    from rolecall.reports import issue

    by_key = {(d["target"], d["id"]): d for d in data["divergences"]}
    for f in data["findings"]:
        sub = folder / f["folder"]
        sub.mkdir(parents=True, exist_ok=True)
        smallest = by_key[(f["target"], f["from"])]
        _dump(sub / "scenario.json", f["scenario"])
        (sub / "repro.py").write_text(smallest["repro"], encoding="utf-8")
        (sub / "repro.py").chmod(0o755)
        (sub / "issue.md").write_text(issue.draft(f, smallest["repro"]), encoding="utf-8")
        test = issue.pytest_file(f, smallest["repro"], smallest["repro_kind"])
        if test is not None:
            (sub / f"{issue.test_name(f)}.py").write_text(test, encoding="utf-8")
        if f.get("passes"):
            _dump(sub / "passes.json", f["passes"])
    _dump(folder / "findings.json", data["findings"])


def point_latest(report_dir: Path, name: str) -> None:
    """Make `report_dir/latest` name the folder `name`, replacing it in one step."""
    latest = report_dir / "latest"
    link_tmp = report_dir / f".latest.{os.getpid()}"
    try:
        if link_tmp.is_symlink() or link_tmp.exists():
            link_tmp.unlink()
        link_tmp.symlink_to(name, target_is_directory=True)
        os.replace(link_tmp, latest)
    except OSError:
        # no symlinks here (e.g. Windows without the privilege): a file naming the folder
        if link_tmp.is_symlink():
            link_tmp.unlink()
        if latest.is_dir() and not latest.is_symlink():
            raise
        write_atomic(latest, name + "\n")


def _sweep(report_dir: Path) -> None:
    """Remove temporary folders that processes which no longer run left behind."""
    for entry in report_dir.iterdir():
        m = PARTIAL.fullmatch(entry.name)
        if m and entry.is_dir() and not pid_alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
