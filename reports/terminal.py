"""What a run prints when it is done: the matrix, the divergences, the coverage and the gate."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolecall.reports.records import build, cell_text, group_by_behaviour, target_columns

STYLE = {"agree": "green", "new": "bold red", "expired": "bold red", "known": "dark_orange", "unsupported": "cyan",
         "error": "yellow", "none": "dim"}


def _outcome(o: dict) -> str:
    return f"error {o.get('code')}" if o["outcome"] == "error" else o["outcome"]


def matrix(data: dict) -> Table:
    s, cells = data["summary"], data["cells"]
    gated = s.get("gate") is not None
    targets = target_columns(s, cells)
    by_key = {(c["property"], c["target"]): c for c in cells}
    table = Table(title=f"rolecall {s['run_id']}: profile {s['profile']}, strictness {s['strictness']}, "
                        f"oracle {s['oracle']}", title_justify="left")
    table.add_column("behaviour / property")
    for t in targets:
        table.add_column(t)
    for i, (behaviour, props) in enumerate(group_by_behaviour(cells)):
        if i:
            table.add_section()
        table.add_row(Text(behaviour, style="bold"), *[""] * len(targets))
        for prop in props:
            row = []
            for t in targets:
                c = by_key.get((prop, t))
                if c is None:
                    row.append(Text("—", style="dim"))
                else:
                    row.append(Text(cell_text(c, gated), style=STYLE[c["status"]]))
            table.add_row(f"  {prop}", *row)
    return table


def divergence_lines(data: dict) -> list[Text]:
    """Each divergence on each target: the call, what the oracle and the target said, its status."""
    gated = data["summary"].get("gate") is not None
    oracle = data["summary"]["oracle"]
    order = {"new": 0, "expired": 1, "known": 2}
    lines = []
    for d in sorted(data["divergences"], key=lambda d: (order.get(d["status"], 3), d["target"], d["id"])):
        rule = f" ({d['rule']})" if d.get("rule") else ""
        line = Text("  ")
        line.append(d["id"], style="bold")
        line.append(f" {d['target']} {d['call']} at step {d['step']!r} [{d['level']}]")
        if gated:
            line.append(f" {d['status']}", style=STYLE.get(d["status"], ""))
        if d.get("shared_with"):
            line.append(f" (also on {', '.join(d['shared_with'])})", style="dim")
        width = max(len(oracle), len(d["target"])) + 1
        line.append(f"\n      {oracle + ':':<{width}} {_outcome(d['expected'])}{rule}"
                    f"\n      {d['target'] + ':':<{width}} {_outcome(d['observed'])}")
        lines.append(line)
    return lines


def coverage_table(data: dict) -> Table | None:
    cov = data["summary"].get("coverage") or {}
    if not cov:
        return None
    targets = [t for t in target_columns(data["summary"], data["cells"]) if any(t in per for per in cov.values())]
    table = Table(title="coverage: the oracle's decisions reached (steps)", title_justify="left")
    table.add_column("reason", no_wrap=True)
    for t in targets:
        table.add_column(t, justify="right", overflow="fold")
    table.add_column("total", justify="right")
    for reason, per in cov.items():
        table.add_row(reason, *[str(per.get(t, 0)) for t in targets], str(sum(per.values())))
    return table


def print_summary(result, *, verdicts=None, report_path=None, console: Console | None = None,
                  data: dict | None = None) -> None:
    console = console or Console(highlight=False)
    data = data or build(result, verdicts)
    s = data["summary"]
    console.print(matrix(data))
    for t, err in s["target_errors"].items():
        console.print(f"[yellow]target {t} could not be tested:[/] {err}", highlight=False)
    if s["interrupted"]:
        console.print("[yellow]interrupted: these are the results until the run was stopped[/]")
    lines = divergence_lines(data)
    if lines:
        console.print(Text(f"divergences ({len(lines)}; `rolecall explain ID` tells the story of one)", style="bold"))
        for line in lines:
            console.print(line)
    table = coverage_table(data)
    if table is not None:
        console.print(table)
    if verdicts is not None:
        style = "bold red" if verdicts.failing else "green"
        console.print(Text(verdicts.text(), style=style))
        for target, div_id in verdicts.stale:
            console.print(f"  stale: {div_id} on {target}: its pinned scenario no longer diverges"
                          + (" (fails: strict)" if verdicts.strict else ""), highlight=False)
        for target, div_id in verdicts.unobserved:
            console.print(f"  unobserved: {div_id} on {target}", style="dim", highlight=False)
    if report_path is not None:
        console.print(f"report: {report_path}/index.html", highlight=False)
