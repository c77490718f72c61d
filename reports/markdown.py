"""summary.md: the run in GitHub-flavoured Markdown, for a CI step summary or a PR comment."""
from __future__ import annotations

from rolecall.reports.records import group_by_behaviour, target_columns

ICON = {"not tested": "➖", "agree": "✅", "new": "❌", "known": "🟠", "unsupported": "➖", "error": "⚠️"}


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def headline(data: dict) -> str:
    s = data["summary"]
    gate = s.get("gate")
    if not s["complete"] or s["verdicts"]["error"]:
        return "⚠️ could not test everything"
    if gate is not None:
        if gate["failing"]:
            return (f"❌ gate failed: {len(gate['new'])} new finding(s), {len(gate['regressions'])} regression(s), "
                    f"{len(gate['expired'])} expired" + (f", {len(gate['fixed'])} fixed (strict)" if gate["strict"] else ""))
        return f"✅ gate passed: {len(gate['known'])} known finding(s), nothing new"
    if s["findings"]:
        return f"❌ {s['findings']} finding(s) ({s['divergences']} divergences) from {s['oracle']}"
    return f"✅ every target agrees with {s['oracle']}"


def cell_markdown(c: dict, gated: bool) -> str:
    if c["verdict"] == "agree":
        return f"{ICON['agree']} agree"
    if c["verdict"] == "not tested":
        return f"{ICON['not tested']} not tested ({c.get('compared', 0):.0%} of steps compared)"
    if c["verdict"] == "unsupported":
        return f"{ICON['unsupported']} unsupported"
    if c["verdict"] == "error":
        return f"{ICON['error']} error"
    n, failing = len(c["divergences"]), len(c["new"]) + len(c["expired"])
    if not gated:
        return f"{ICON['new']} diverge {n}"
    if failing:
        return f"{ICON['new']} diverge {n} ({failing} new)"
    return f"{ICON['known']} diverge {n} known"


def render(data: dict) -> str:
    s, cells, divs = data["summary"], data["cells"], data["divergences"]
    gate = s.get("gate")
    targets = target_columns(s, cells)
    by_key = {(c["property"], c["target"]): c for c in cells}
    out: list[str] = [f"## rolecall: {headline(data)}", ""]
    facts = [f"run `{s['run_id']}`", f"profile `{s['profile']}`", f"strictness `{s['strictness']}`",
             f"oracle `{s['oracle']}`", f"{s['examples']} examples",
             f"{s['findings']} finding(s)", f"{s['divergences']} divergence(s)"]
    out.append(" · ".join(facts))
    if gate is not None:
        out += ["", f"Baseline `{gate['baseline']}`: {len(gate['new'])} new, {len(gate['regressions'])} regressed, "
                    f"{len(gate['expired'])} expired, {len(gate['known'])} known, {len(gate['fixed'])} fixed"
                    + (" (strict: fixed fails)" if gate["strict"] else "")
                    + f", {len(gate['unobserved'])} unobserved."]
    if s["interrupted"]:
        out += ["", "> ⚠️ **Interrupted**: these are the results until the run was stopped."]
    for target, error in s["target_errors"].items():
        out += ["", f"> ⚠️ target `{target}`: {_esc(error)}"]

    findings = data.get("findings") or []
    if findings:
        out += ["", "### Findings", "", "One line per target behaviour that differs from AWS; its symptoms "
                "(divergences) are listed below.", "",
                "| finding | target | direction | AWS rule | status | divergences |", "|---|---|---|---|---|---|"]
        for f in findings:
            rule = f"[{_esc(f['rule'])}]({f['source']})" if f.get("source") else _esc(f.get("rule") or "")
            out.append(f"| `{f['id']}` {_esc(f['behaviour'])} | `{_esc(f['target'])}` | {f['direction']} | {rule} "
                       f"| {f.get('gate') or '—'} | {len(f['divergences'])} |")
    out += ["", "### Results by seed behaviour", ""]
    out.append("| property | " + " | ".join(f"`{_esc(t)}`" for t in targets) + " |")
    out.append("|---|" + "---|" * len(targets))
    for behaviour, props in group_by_behaviour(cells):
        out.append(f"| **{_esc(behaviour)}** |" + " |" * len(targets))
        for prop in props:
            row = [cell_markdown(by_key[(prop, t)], gate is not None) if (prop, t) in by_key else "" for t in targets]
            out.append(f"| `{_esc(prop)}` | " + " | ".join(row) + " |")
    out += ["", "✅ agree · ❌ diverges (new) · 🟠 diverges (known, in the baseline) · ➖ unsupported · ⚠️ error"]

    if divs:
        out += ["", "### Divergences", "",
                "| id | target | property | call | level | AWS says (rule) | target says | status |",
                "|---|---|---|---|---|---|---|---|"]
        order = {"new": 0, "expired": 1, "known": 2}
        for d in sorted(divs, key=lambda d: (order.get(d["status"], 3), d["target"], d["id"])):
            rule = f"[{d['rule']}]({d['source']})" if d.get("rule") and d.get("source") else (d.get("rule") or "")
            status = d["status"] if gate is not None else "—"
            out.append(f"| `{d['id']}` | `{_esc(d['target'])}` | `{_esc(d['property'])}` | {d['call']} | {d['level']} "
                       f"| {_outcome(d['expected'])} ({rule}) | {_outcome(d['observed'])} | {status} |")
        out += ["", "Each divergence has a folder in the report (`divergences/<target>/<id>/`) with its minimal "
                    "`scenario.json` and a standalone `repro.py`; `rolecall explain <id>` tells the story."]
    if gate is not None and (gate["fixed"] or gate["unobserved"] or gate["regressions"]):
        out += ["", "### Baseline entries", ""]
        for r in gate["regressions"]:
            out.append(f"- `{r['id']}` on `{_esc(r['target'])}`: **regressed**: {_esc(r['detail'])}")
        for p in gate["fixed"]:
            out.append(f"- `{p['id']}` on `{_esc(p['target'])}`: **fixed** (its pinned scenario agrees with AWS now)")
        for p in gate["unobserved"]:
            out.append(f"- `{p['id']}` on `{_esc(p['target'])}`: unobserved by this run's search")
    cov = s.get("coverage") or {}
    if cov:
        cov_targets = [t for t in targets if any(t in per for per in cov.values())]
        out += ["", f"<details><summary>Coverage: the oracle's decisions reached ({len(cov)} reasons)</summary>", "",
                "| reason | " + " | ".join(f"`{_esc(t)}`" for t in cov_targets) + " | total |",
                "|---|" + "---:|" * (len(cov_targets) + 1)]
        sources = s.get("coverage_sources", {})
        for reason, per in cov.items():
            label = f"[{reason}]({sources[reason]})" if sources.get(reason) else reason
            out.append(f"| {label} | " + " | ".join(str(per.get(t, 0)) for t in cov_targets)
                       + f" | {sum(per.values())} |")
        out += ["", "</details>"]
    out += feature_table(s, targets)
    return "\n".join(out) + "\n"


def feature_table(s: dict, targets: list[str]) -> list[str]:
    """The catalogued features of the policy language and the API (rolecall/features.py), the
    examples that reached each per target; a feature no example reached is marked."""
    feats = s.get("features") or {}
    if not feats:
        return []
    reached = s.get("features_reached") or {}
    cols = [t for t in targets if t in reached] or targets
    head = ", ".join(f"{_esc(t)} {reached.get(t, 0)}/{len(feats)}" for t in cols)
    out = ["", f"<details><summary>Feature coverage: features reached ({head})</summary>", "",
           "| feature | " + " | ".join(f"`{_esc(t)}`" for t in cols) + " |", "|---|" + "---:|" * len(cols)]
    for feature, per in feats.items():
        out.append(f"| `{_esc(feature)}` | " + " | ".join(str(per.get(t, 0)) if per.get(t) else "**0**"
                                                         for t in cols) + " |")
    return out + ["", "</details>"]


def _outcome(o: dict) -> str:
    return f"error `{_esc(o.get('code') or '')}`" if o["outcome"] == "error" else o["outcome"]
