"""A run (and its gate verdicts) as the plain JSON records every report format is made from.

summary.json, results.jsonl and divergences.json are these records as written; HTML,
Markdown, JUnit and the terminal render them, and `compare`, `explain` and `baseline`
read them back from a report folder.
"""
from __future__ import annotations

from collections import Counter

REPORT_FORMAT = "rolecall/report@1"
VERDICTS = ("agree", "diverge", "not tested", "unsupported", "error")
# A cell's status in the matrix: a diverging cell is "new" when any of its divergences
# fails the gate (new or expired), "known" when all are in the baseline.
STATUSES = ("agree", "new", "known", "not tested", "unsupported", "error")


def slug(target: str) -> str:
    from rolecall.ledger import slug as _slug

    return _slug(target)


def property_meta(name: str, behaviour: str = "") -> dict:
    """What the catalogue says about a property (a property outside it gets its name only)."""
    try:
        from rolecall.conformance import CATALOGUE
    except Exception:  # noqa: BLE001 - a report can be written without the catalogue
        CATALOGUE = []
    for p in CATALOGUE:
        if p.name == name:
            return {"name": p.name, "behaviour": p.behaviour, "feature": p.feature,
                    "description": p.description, "source": p.source}
    return {"name": name, "behaviour": behaviour or "other", "feature": behaviour or "other",
            "description": "", "source": ""}


def reason_sources() -> dict[str, str]:
    """The oracle's reason labels -> the AWS page behind each."""
    try:
        from rolecall.rules import REASONS
    except Exception:  # noqa: BLE001 - only used to link labels
        return {}
    return dict(REASONS)


def rule_and_source(expected: dict, meta: dict, scenario: dict | None) -> tuple[str | None, str]:
    """The rule the reference model decided with and the AWS page behind it: the last trace
    entry names both; otherwise the reason label, then the property's or scenario's page."""
    for entry in reversed(expected.get("trace") or []):
        if isinstance(entry, dict) and "rule" in entry:
            return entry["rule"], entry.get("source") or reason_sources().get(entry["rule"], "")
    rule = expected.get("reason")
    source = reason_sources().get(rule or "", "") or meta.get("source") or (scenario or {}).get("source") or ""
    return rule, source


def build(result, verdicts=None) -> dict:
    """{"summary": {...}, "cells": [...], "divergences": [...]} for one run."""
    from rolecall.reports import repro

    metas: dict[str, dict] = {}
    for c in result.cells:
        metas.setdefault(c.property, property_meta(c.property, c.behaviour))
    replayed = {(r.target, r.divergence.id) for r in (verdicts.replays if verdicts is not None else [])
                if r.divergence is not None}

    from rolecall.findings import group, symptom_cause

    divergences: list[dict] = []
    seen_on: dict[str, list[str]] = {}
    for cell in result.cells:
        for div_id, record in sorted(cell.divergences.items()):
            d = record.divergence
            rec = d.to_dict()
            scenario = d.scenario.to_dict()
            rule, source = rule_and_source(rec["expected"], metas[cell.property], scenario)
            # a divergence that was not explained by replaying (a pinned baseline replay) gets its symptom's cause
            cause = (record.cause or symptom_cause(d, source)).to_dict()
            folder = f"divergences/{slug(d.target)}/{d.id}"
            rec.update({
                "behaviour": cell.behaviour, "feature": metas[cell.property]["feature"],
                "summary": d.summary(), "status": "new",
                "confirmed": record.confirmed, "reproduced": record.reproduced,
                "replayed": (d.target, d.id) in replayed, "rule": rule, "source": source,
                "trace": rec["expected"].get("trace", []), "scenario": scenario, "folder": folder,
                "repro": repro.script(d), "repro_kind": repro.kind(d), "cause": cause,
            })
            divergences.append(rec)
            seen_on.setdefault(d.id, []).append(d.target)
    for rec in divergences:
        rec["shared_with"] = [t for t in seen_on[rec["id"]] if t != rec["target"]]

    findings = group(divergences)
    finding_of = {(f["target"], i): f["id"] for f in findings for i in f["divergences"]}
    for f in findings:
        f["gate"] = _finding_status(verdicts, f)
        f["folder"] = f"findings/{slug(f['target'])}/{f['id']}"
    gate_of = {(f["target"], f["id"]): f["gate"] for f in findings}
    for rec in divergences:
        rec["finding"] = finding_of[(rec["target"], rec["id"])]
        # a divergence is as new as the finding it is a symptom of
        rec["status"] = gate_of[(rec["target"], rec["finding"])] or "new"
    by_key = {(r["target"], r["id"]): r for r in divergences}
    cells = [_cell_record(c, metas[c.property], by_key) for c in result.cells]
    cells += _unreachable_cells(result, metas)
    passed: dict[str, list[dict]] = {}
    for c in result.cells:
        for key, scenario in sorted(getattr(c, "passed", {}).items()):
            passed.setdefault(c.target, []).append({"property": c.property, "key": key, "scenario": scenario})
    return {"summary": _summary(result, verdicts, cells, divergences, metas, findings), "cells": cells,
            "divergences": divergences, "findings": findings, "passed": passed}


def _finding_status(verdicts, finding: dict) -> str | None:
    """new / known against the baseline's findings; None when the run was not gated."""
    if verdicts is None:
        return None
    status = getattr(verdicts, "finding_status", None)
    return status(finding["target"], finding["id"]) if status else None


def _cell_record(cell, meta: dict, by_key: dict) -> dict:
    statuses = {i: by_key[(cell.target, i)]["status"] for i in sorted(cell.divergences)}
    verdict = cell.verdict
    compared = cell.compared if hasattr(cell, "compared") else 1.0
    if verdict == "diverge":
        status = "new" if any(s != "known" for s in statuses.values()) else "known"
    else:
        status = verdict
    return {
        "property": cell.property, "behaviour": cell.behaviour, "feature": meta["feature"], "target": cell.target,
        "verdict": verdict, "status": status, "divergences": sorted(cell.divergences),
        "new": sorted(i for i, s in statuses.items() if s == "new"),
        "known": sorted(i for i, s in statuses.items() if s == "known"),
        "expired": sorted(i for i, s in statuses.items() if s == "expired"),
        "flaky": sorted(cell.flaky), "examples": cell.examples, "agreeing": cell.agreeing,
        "setup_errors": cell.setup_errors, "unsupported_steps": cell.unsupported_steps, "error": cell.error,
        "steps": getattr(cell, "steps", 0), "compared": round(compared, 3),
        "seconds": round(cell.seconds, 3), "coverage": dict(sorted(cell.coverage.items())),
        "features": dict(sorted(getattr(cell, "features", {}).items())),
        "decisions": dict(sorted(cell.decisions.items())),
    }


def _unreachable_cells(result, metas: dict) -> list[dict]:
    """A target that could not be opened has no cells: give it error cells for the properties
    the others ran, so the matrix, JUnit and CI summaries show it."""
    with_cells = {c.target for c in result.cells}
    out = []
    for spec, error in result.target_errors.items():
        if spec in with_cells:
            continue
        for name, meta in (metas.items() or [("(target unavailable)", property_meta("(target unavailable)"))]):
            out.append({"property": name, "behaviour": meta["behaviour"], "feature": meta["feature"], "target": spec,
                        "verdict": "error", "status": "error", "divergences": [], "new": [], "known": [],
                        "expired": [], "flaky": [], "examples": 0, "agreeing": 0, "setup_errors": 0,
                        "unsupported_steps": 0, "steps": 0, "compared": 0.0, "error": error, "seconds": 0.0,
                        "coverage": {}, "features": {}, "decisions": {}})
    return out


def _summary(result, verdicts, cells: list[dict], divergences: list[dict], metas: dict, findings: list[dict]) -> dict:
    targets = list(dict.fromkeys([c["target"] for c in cells]))
    coverage: dict[str, dict[str, int]] = {}
    for c in cells:
        for reason, n in c["coverage"].items():
            per = coverage.setdefault(reason, {})
            per[c["target"]] = per.get(c["target"], 0) + n
    sources = reason_sources()
    features = feature_coverage(cells, targets)
    status_counts = Counter(d["status"] for d in divergences)
    return {
        "format": REPORT_FORMAT, "run_id": result.run_id, "started": result.started, "finished": result.finished,
        "profile": result.profile, "strictness": result.strictness, "oracle": result.oracle,
        "targets": targets, "target_specs": list(result.targets), "seed": result.seed,
        "complete": result.complete, "interrupted": result.interrupted,
        "target_errors": dict(result.target_errors),
        "cells": len(cells), "examples": sum(c["examples"] for c in cells),
        # one definition of each total: a divergence or a finding counts once per target it is on
        "divergences": len(divergences),
        "findings": len(findings),
        "findings_by_target": {t: sum(1 for f in findings if f["target"] == t) for t in targets},
        "finding_statuses": dict(Counter(f["gate"] for f in findings if f.get("gate"))),
        "verdicts": {v: sum(1 for c in cells if c["verdict"] == v) for v in VERDICTS},
        "statuses": {s: status_counts.get(s, 0) for s in ("new", "known", "expired")},
        "by_target": {t: sorted({d["id"] for d in divergences if d["target"] == t}) for t in targets},
        "per_target": {t: {"examples": sum(c["examples"] for c in cells if c["target"] == t),
                           "verdicts": {v: sum(1 for c in cells if c["target"] == t and c["verdict"] == v)
                                        for v in VERDICTS}}
                       for t in targets},
        "properties": [metas[p] for p in metas],
        "coverage": dict(sorted(coverage.items())),
        "coverage_sources": {r: sources.get(r, "") for r in sorted(coverage)},
        "features": features,
        "features_reached": {t: sum(1 for per in features.values() if per.get(t)) for t in targets},
        "gate": verdicts.to_dict() if verdicts is not None else None,
    }


def feature_coverage(cells: list[dict], targets: list[str]) -> dict[str, dict[str, int]]:
    """Catalogued feature (rolecall.features.FEATURES, in its order) -> target -> the examples
    that reached it; a feature no example reached is there with zeros, so a hole shows."""
    try:
        from rolecall.features import FEATURES
    except Exception:  # noqa: BLE001 - a report can be written without the catalogue
        FEATURES = ()
    out: dict[str, dict[str, int]] = {f: {t: 0 for t in targets} for f in FEATURES}
    for c in cells:
        for feature, n in (c.get("features") or {}).items():
            if feature in out:
                out[feature][c["target"]] = out[feature].get(c["target"], 0) + n
    return out


def group_by_behaviour(cells: list[dict]) -> list[tuple[str, list[str]]]:
    """[(behaviour, [property, ...])] in the order the run met them."""
    groups: dict[str, list[str]] = {}
    for c in cells:
        props = groups.setdefault(c["behaviour"], [])
        if c["property"] not in props:
            props.append(c["property"])
    return list(groups.items())


def cell_text(c: dict, gated: bool) -> str:
    """A cell in a few words: `agree`, `diverge 3 (1 new)`, `diverge 2 known`, `error`."""
    if c["verdict"] != "diverge":
        return c["verdict"]
    n = len(c["divergences"])
    if not gated:
        return f"diverge {n}"
    failing = len(c["new"]) + len(c["expired"])
    return f"diverge {n} ({failing} new)" if failing else f"diverge {n} known"


def target_columns(summary: dict, cells: list[dict]) -> list[str]:
    return list(dict.fromkeys([*summary.get("targets", []), *(c["target"] for c in cells)]))
