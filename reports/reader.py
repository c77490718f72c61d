"""Read a report folder back: for `baseline update/prune`, `compare` and `explain`.

A report is named by its folder, by `latest` (`reports/latest`), or by a reports folder
holding a `latest`. Problems are one line naming the path, for the CLI to print.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rolecall.reports.records import REPORT_FORMAT, slug


class ReportError(ValueError):
    pass


@dataclass
class Report:
    path: Path
    summary: dict
    cells: list[dict]
    divergences: list[dict]
    findings: list[dict] = field(default_factory=list)
    passed: dict[str, list[dict]] = field(default_factory=dict)  # target -> scenarios it passed

    @property
    def run_id(self) -> str:
        return self.summary.get("run_id", self.path.name)

    @property
    def complete(self) -> bool:
        return bool(self.summary.get("complete"))

    def tested(self) -> set[tuple[str, str]]:
        """(target, property) pairs this run actually explored."""
        return {(c["target"], c["property"]) for c in self.cells if c.get("examples", 0) > 0}

    def observed(self) -> set[tuple[str, str]]:
        return {(d["target"], d["id"]) for d in self.divergences}

    def find(self, div_id: str) -> list[dict]:
        return [d for d in self.divergences if d["id"] == div_id]


def resolve(spec: str | Path, reports_root: Path = Path("reports")) -> Path:
    """The report folder a user means by `spec`."""
    path = Path(spec)
    if str(spec) == "latest" and not path.exists():
        path = reports_root / "latest"
    if path.is_dir() and not (path / "summary.json").exists() and (path / "latest").exists():
        path = path / "latest"
    if path.is_file() and path.name == "latest":  # where symlinks are not allowed, a file names the folder
        try:
            path = path.parent / path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"{spec}: cannot read: {exc}") from None
    if not path.exists():
        raise ReportError(f"{spec}: no such report folder" + (
            f" (no {reports_root / 'latest'}: run `rolecall run` first)" if str(spec) == "latest" else ""))
    if not path.is_dir() or not (path / "summary.json").is_file():
        raise ReportError(f"{spec}: not a rolecall report folder (it has no summary.json)")
    return path.resolve()


def load(spec: str | Path, reports_root: Path = Path("reports")) -> Report:
    path = resolve(spec, reports_root)
    summary = _json(path / "summary.json")
    if not isinstance(summary, dict) or summary.get("format") != REPORT_FORMAT:
        raise ReportError(f"{path / 'summary.json'}: $.format: expected {REPORT_FORMAT!r} "
                          f"(a report from another rolecall version?)")
    divergences = _json(path / "divergences.json")
    if not isinstance(divergences, list):
        raise ReportError(f"{path / 'divergences.json'}: expected an array of divergences")
    cells = []
    try:
        lines = (path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReportError(f"{path / 'results.jsonl'}: cannot read: {exc}") from None
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                cells.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ReportError(f"{path / 'results.jsonl'}: line {n}: invalid JSON: {exc.msg}") from None
    findings = _json(path / "findings.json") if (path / "findings.json").exists() else []
    if not isinstance(findings, list):
        raise ReportError(f"{path / 'findings.json'}: expected an array of findings")
    passed = {}
    for target in summary.get("targets", []):
        f = path / "passed" / f"{slug(target)}.json"
        if f.exists():
            passed[target] = _json(f)
    return Report(path, summary, cells, divergences, findings, passed)


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: missing from the report") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
