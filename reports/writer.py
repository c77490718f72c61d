"""Write one run's report folder atomically."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from rolecall.scenario import write_atomic


def _cell_record(cell, verdicts=None) -> dict:
    rec = {
        "property": cell.property, "behaviour": cell.behaviour, "target": cell.target, "verdict": cell.verdict,
        "examples": cell.examples, "agreeing": cell.agreeing, "setup_errors": cell.setup_errors,
        "unsupported_steps": cell.unsupported_steps, "divergences": sorted(cell.findings), "flaky": sorted(cell.flaky),
        "error": cell.error, "seconds": round(cell.seconds, 3), "coverage": dict(sorted(cell.coverage.items())),
        "decisions": dict(cell.decisions),
    }
    if verdicts is not None:
        rec["new"] = sorted(d for d in cell.findings if d in verdicts.new_ids)
    return rec


def summary(result, verdicts=None) -> dict:
    findings = [f for c in result.cells for f in c.findings.values()]
    out = {
        "run_id": result.run_id, "started": result.started, "finished": result.finished,
        "profile": result.profile, "strictness": result.strictness, "oracle": result.oracle,
        "targets": result.targets, "seed": result.seed, "complete": result.complete,
        "interrupted": result.interrupted, "target_errors": result.target_errors,
        "cells": len(result.cells), "examples": sum(c.examples for c in result.cells),
        "divergences": len({f.divergence.id for f in findings}),
        "by_target": {t: sorted({f.divergence.id for c in result.cells if c.target == t for f in c.findings.values()})
                      for t in {c.target for c in result.cells}},
    }
    if verdicts is not None:
        out["gate"] = verdicts.to_dict()
    return out


def write_report(result, report_dir: Path, *, verdicts=None) -> Path:
    from rolecall.reports import html, junit, markdown, repro

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    final = report_dir / result.run_id
    tmp = Path(tempfile.mkdtemp(dir=report_dir, prefix=f".{result.run_id}."))
    try:
        summ = summary(result, verdicts)
        (tmp / "summary.json").write_text(json.dumps(summ, indent=2, default=str) + "\n")
        with open(tmp / "results.jsonl", "w") as fh:
            for cell in result.cells:
                fh.write(json.dumps(_cell_record(cell, verdicts), default=str) + "\n")
        divergences = []
        for cell in result.cells:
            for div_id, finding in cell.findings.items():
                d = finding.divergence
                folder = tmp / "divergences" / f"{d.target.replace('+', '-')}" / d.id
                folder.mkdir(parents=True, exist_ok=True)
                d.scenario.save(folder / "scenario.json")
                record = d.to_dict()
                record["confirmed"] = finding.confirmed
                record["reproduced"] = finding.reproduced
                record["summary"] = d.summary()
                record["new"] = verdicts.is_new(d) if verdicts is not None else None
                (folder / "divergence.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
                (folder / "repro.py").write_text(repro.script(d))
                record["folder"] = str(folder.relative_to(tmp))
                divergences.append(record)
        (tmp / "divergences.json").write_text(json.dumps(divergences, indent=2, default=str) + "\n")
        junit.write(result, tmp / "junit.xml", verdicts)
        (tmp / "summary.md").write_text(markdown.render(result, summ, divergences, verdicts))
        (tmp / "index.html").write_text(html.render(result, summ, divergences))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    latest = report_dir / "latest"
    link_tmp = report_dir / f".latest.{os.getpid()}"
    try:
        if link_tmp.is_symlink() or link_tmp.exists():
            link_tmp.unlink()
        link_tmp.symlink_to(final.name)
        os.replace(link_tmp, latest)
    except OSError:
        write_atomic(report_dir / "LATEST", final.name + "\n")
    return final
