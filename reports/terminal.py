"""The terminal matrix printed at the end of a run."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

STYLE = {"agree": "green", "diverge": "red", "error": "yellow", "unsupported": "cyan"}


def print_summary(result, *, verdicts=None, report_path=None, console: Console | None = None) -> None:
    console = console or Console(stderr=False, highlight=False)
    targets = list(dict.fromkeys(c.target for c in result.cells))
    table = Table(title=f"rolecall {result.run_id} ({result.profile}, strictness {result.strictness})")
    table.add_column("behaviour")
    table.add_column("property")
    for t in targets:
        table.add_column(t)
    cells = {(c.property, c.target): c for c in result.cells}
    seen = []
    for c in result.cells:
        if (c.property, c.behaviour) not in seen:
            seen.append((c.property, c.behaviour))
    for prop, behaviour in seen:
        row = []
        for t in targets:
            c = cells.get((prop, t))
            if c is None:
                row.append("")
                continue
            text = c.verdict
            if c.findings:
                new = sum(1 for i in c.findings if verdicts is not None and verdicts.is_new_id(i))
                text += f" {len(c.findings)}" + (f" ({new} new)" if new else "")
            row.append(f"[{STYLE[c.verdict]}]{text}[/]")
        table.add_row(behaviour, prop, *row)
    console.print(table)
    for t, err in result.target_errors.items():
        console.print(f"[yellow]target {t} unavailable:[/] {err}")
    for c in result.cells:
        for f in c.findings.values():
            tag = ""
            if verdicts is not None:
                tag = "[red]new[/] " if verdicts.is_new(f.divergence) else "[dim]known[/] "
            console.print(f"{tag}{f.divergence.summary()}", markup=True, highlight=False)
    coverage = {}
    for c in result.cells:
        for k, v in c.coverage.items():
            coverage[k] = coverage.get(k, 0) + v
    if coverage:
        cov = Table(title="behaviour coverage (oracle decisions reached)")
        cov.add_column("reason")
        cov.add_column("steps", justify="right")
        for k, v in sorted(coverage.items()):
            cov.add_row(k, str(v))
        console.print(cov)
    if verdicts is not None:
        console.print(verdicts.text())
    if report_path is not None:
        console.print(f"report: {report_path}/index.html")
