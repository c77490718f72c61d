"""What a run prints when it is done: its findings, side by side per target, and the gate; with
`verbose`, the property matrix, every divergence and the coverage too. 80 columns; colour
only where the terminal has it (rich honours NO_COLOR)."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolecall.reports.records import build, cell_text, group_by_behaviour, target_columns

WIDTH = 80
STYLE = {"not tested": "cyan", "agree": "green", "new": "bold red", "expired": "bold red", "known": "dark_orange", "unsupported": "cyan",
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


def findings_table(data: dict, *, width: int = WIDTH) -> Table | None:
    """One row per finding, a column per target: which targets behave so ("new" where the gate says so)."""
    findings = data.get("findings") or []
    if not findings:
        return None
    targets = [t for t in target_columns(data["summary"], data["cells"]) if any(f["target"] == t for f in findings)]
    rows: dict[str, dict] = {}
    for f in findings:
        row = rows.setdefault(f["id"], {"behaviour": f["behaviour"], "direction": f["direction"], "on": {}})
        row["on"][f["target"]] = f.get("gate") or "yes"
    table = Table(box=None, pad_edge=False, show_edge=False, width=width, padding=(0, 1))
    table.add_column("finding", overflow="fold", ratio=1)
    for t in targets:
        table.add_column(t, no_wrap=True, justify="center", overflow="ellipsis", max_width=max(6, len(t)))
    first = {t: i for i, t in enumerate(targets)}

    def order(item):
        fid, row = item
        return (min(first[t] for t in row["on"]), -len(row["on"]), row["behaviour"])
    for fid, row in sorted(rows.items(), key=order):
        cells = []
        for t in targets:
            mark = row["on"].get(t)
            if mark is None:
                cells.append(Text("·", style="dim"))
            elif mark == "new":
                cells.append(Text("new", style="bold red"))
            elif mark == "known":
                cells.append(Text("known", style="dark_orange"))
            else:
                cells.append(Text("●", style="red"))
        table.add_row(Text(row["behaviour"]), *cells)
    return table


def headline(data: dict) -> Text:
    s = data["summary"]
    per = s.get("findings_by_target") or {}
    counts = ", ".join(f"{t} {n}" for t, n in per.items())
    text = Text("findings: ", style="bold")
    text.append(f"{s.get('findings', 0)}" + (f" ({counts})" if counts else "")
                + f"; {s['divergences']} divergences, {s['examples']} examples")
    return text


def not_tested_lines(data: dict) -> list[str]:
    return [f"not tested: {c['property']} on {c['target']} (it could run {c['compared']:.0%} of the steps)"
            for c in data["cells"] if c["verdict"] == "not tested"]


def print_summary(result, *, verdicts=None, report_path=None, console: Console | None = None,
                  data: dict | None = None, verbose: bool = False) -> None:
    console = console or Console(highlight=False)
    data = data or build(result, verdicts)
    s = data["summary"]
    width = min(console.width, WIDTH)
    if verbose:
        console.print(matrix(data))
        lines = divergence_lines(data)
        if lines:
            console.print(Text(f"divergences ({len(lines)}; `rolecall explain ID` tells the story of one)",
                               style="bold"))
            for line in lines:
                console.print(line)
        table = coverage_table(data)
        if table is not None:
            console.print(table)
    for t, err in s["target_errors"].items():
        console.print(f"[yellow]target {t} could not be tested:[/] {err}", highlight=False)
    if s["interrupted"]:
        console.print("[yellow]interrupted: these are the results until the run was stopped[/]")
    for line in not_tested_lines(data):
        console.print(Text(line, style="cyan"))
    console.print(headline(data))
    table = findings_table(data, width=width)
    if table is not None:
        console.print(table)
    if verdicts is not None:
        style = "bold red" if verdicts.failing else "green"
        console.print(Text(verdicts.text(), style=style))
        for line in verdicts.lines(verbose=verbose):
            console.print(line, highlight=False)
    if report_path is not None:
        console.print(f"report: {report_path}/index.html", highlight=False)
