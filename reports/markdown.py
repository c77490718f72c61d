"""summary.md: a results matrix for CI step summaries."""
from __future__ import annotations

ICON = {"agree": "✅ agree", "diverge": "❌ diverge", "error": "⚠️ error", "unsupported": "➖ unsupported"}


def render(result, summ: dict, divergences: list[dict], verdicts=None) -> str:
    targets = sorted({c.target for c in result.cells})
    props = []
    for c in result.cells:
        if c.property not in [p for p, _ in props]:
            props.append((c.property, c.behaviour))
    cells = {(c.property, c.target): c for c in result.cells}
    lines = [f"# rolecall run {result.run_id}", "",
             f"Profile `{result.profile}`, strictness `{result.strictness}`, oracle `{result.oracle}`, "
             f"{summ['examples']} examples, {summ['divergences']} distinct divergences"
             + ("" if result.complete else " — **incomplete run**") + ".", ""]
    if result.target_errors:
        for t, e in result.target_errors.items():
            lines.append(f"- ⚠️ target `{t}`: {e}")
        lines.append("")
    lines.append("| behaviour | property | " + " | ".join(f"`{t}`" for t in targets) + " |")
    lines.append("|---|---|" + "---|" * len(targets))
    for prop, behaviour in props:
        row = []
        for t in targets:
            c = cells.get((prop, t))
            if c is None:
                row.append("")
                continue
            text = ICON[c.verdict]
            if c.findings:
                new = [i for i in c.findings if verdicts is not None and verdicts.is_new_id(i)]
                text += f" ({len(c.findings)}" + (f", {len(new)} new" if new else "") + ")"
            row.append(text)
        lines.append(f"| {behaviour} | `{prop}` | " + " | ".join(row) + " |")
    if divergences:
        lines += ["", "## Divergences", ""]
        for d in divergences:
            new = " **new**" if d.get("new") else ""
            lines.append(f"- `{d['id']}`{new} {d['summary'].split(' ', 1)[1]}")
    if verdicts is not None:
        lines += ["", "## Gate", "", verdicts.markdown()]
    return "\n".join(lines) + "\n"
