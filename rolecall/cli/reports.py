"""Commands that read reports and keep the baseline: `baseline update|prune`, `compare`, `explain`.

rolecall.cli adds them to the `rolecall` group. Errors are one line and exit 2 (UserError).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolecall.cli.common import UserError


def _report(spec: str, reports_root: Path):
    from rolecall.reports.reader import ReportError, load

    try:
        return load(spec, reports_root)
    except ReportError as exc:
        raise UserError(str(exc)) from None


def _baseline(folder: Path):
    from rolecall.ledger import Baseline, LedgerError

    try:
        return Baseline.load(folder)
    except LedgerError as exc:
        raise UserError(str(exc)) from None


def _run_day(report) -> dt.date:
    try:
        return dt.datetime.fromisoformat(report.summary["started"]).date()
    except (KeyError, TypeError, ValueError):
        return dt.date.today()


FROM = click.option("--from", "source", required=True, metavar="REPORT_DIR|latest",
                    help="A report folder, `latest`, or a reports folder (its `latest` is used).")
BASELINE = click.option("--baseline", "baseline_dir", type=click.Path(path_type=Path), default=Path("baselines"),
                        show_default=True, help="The baseline folder (one <target>.json per target).")
REPORTS = click.option("--reports", "reports_root", type=click.Path(path_type=Path), default=Path("reports"),
                       show_default=True, help="Where `latest` is looked up.")


# ----------------------------------------------------------------------------- baseline

@click.group()
def baseline() -> None:
    """Accept divergences into the baseline, or drop the ones no longer seen.

    \b
    The baseline is a folder of ledgers, baselines/<target>.json, with each entry's minimal
    scenario pinned in baselines/<target>/<id>.json. `rolecall run --baseline baselines`
    fails (exit 1) only on divergences that are not in it, or whose entry has expired.
    """


@baseline.command("update")
@FROM
@BASELINE
@REPORTS
@click.option("--reason", help="Why these divergences are accepted (for new entries). Default: a line per "
                                "divergence saying what the target does and which AWS rule it breaks.")
@click.option("--ticket", help="An issue tracking them (for new entries).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="After this day the new entries fail the gate again.")
@click.option("--target", "only_targets", multiple=True, metavar="NAME", help="Only these targets' divergences.")
def baseline_update(source, baseline_dir, reports_root, reason, ticket, expires, only_targets) -> None:
    """Accept every divergence of a report: add new ones, refresh last_seen of known ones."""
    ledger = _baseline(baseline_dir)
    report = _report(source, reports_root)
    records = [d for d in report.divergences if not only_targets or d["target"] in only_targets]
    if only_targets and not any(c["target"] in only_targets for c in report.cells):
        raise UserError(f"{report.path}: no target {', '.join(only_targets)} in this report "
                        f"(it has: {', '.join(report.summary.get('targets', []))})")
    changes = ledger.update(records, reason=reason, day=_run_day(report), ticket=ticket,
                            expires=expires.date() if expires else None)
    if not changes:
        click.echo(f"baseline {baseline_dir}: report {report.run_id} has no divergence; nothing to accept")
        return
    for target, change in sorted(changes.items()):
        click.echo(f"baseline {baseline_dir}: {target}: {len(change['added'])} added, "
                   f"{len(change['refreshed'])} refreshed")
        for div_id in change["added"]:
            click.echo(f"  + {div_id}")


@baseline.command("prune")
@FROM
@BASELINE
@REPORTS
def baseline_prune(source, baseline_dir, reports_root) -> None:
    """Drop entries a complete report did not observe (for the targets and properties it tested)."""
    ledger = _baseline(baseline_dir)
    report = _report(source, reports_root)
    if not report.complete:
        raise UserError(f"{report.path}: the run was incomplete (interrupted or a target could not be tested); "
                        f"prune needs a complete run")
    removed = ledger.prune(report.tested(), report.observed())
    if not removed:
        click.echo(f"baseline {baseline_dir}: every entry tested by report {report.run_id} was observed; "
                   f"nothing pruned")
    for target, div_id in removed:
        click.echo(f"baseline {baseline_dir}: {target}: - {div_id} (not observed by report {report.run_id})")


# ----------------------------------------------------------------------------- compare

def comparison(report) -> dict:
    """Targets side by side: per seed behaviour, per oracle rule, and the divergences they share."""
    from rolecall.reports.records import group_by_behaviour, target_columns

    cells, divs, s = report.cells, report.divergences, report.summary
    targets = target_columns(s, cells)
    behaviours = []
    for behaviour, props in group_by_behaviour(cells):
        row = {"behaviour": behaviour, "properties": props, "targets": {}}
        for t in targets:
            mine = [c for c in cells if c["target"] == t and c["property"] in props]
            row["targets"][t] = {
                "agree": sum(c["verdict"] == "agree" for c in mine), "tested": len(mine),
                "diverge": sum(c["verdict"] == "diverge" for c in mine),
                "unsupported": sum(c["verdict"] == "unsupported" for c in mine),
                "error": sum(c["verdict"] == "error" for c in mine),
                "divergences": sorted({i for c in mine for i in c["divergences"]})}
        behaviours.append(row)
    rules: dict[str, dict] = {}
    for reason, per in (s.get("coverage") or {}).items():
        rules[reason] = {t: {"steps": per.get(t, 0), "divergences": []} for t in targets}
    for d in divs:
        rule = d.get("rule") or "(no rule)"
        rules.setdefault(rule, {t: {"steps": 0, "divergences": []} for t in targets})
        rules[rule].setdefault(d["target"], {"steps": 0, "divergences": []})["divergences"].append(d["id"])
    by_id: dict[str, dict] = {}
    for d in divs:
        e = by_id.setdefault(d["id"], {"id": d["id"], "property": d["property"], "call": d["call"],
                                       "level": d["level"], "rule": d.get("rule"), "summary": _short(d),
                                       "targets": []})
        e["targets"].append(d["target"])
    return {"run_id": s["run_id"], "oracle": s["oracle"], "targets": targets, "behaviours": behaviours,
            "rules": dict(sorted(rules.items())),
            "shared": sorted((e for e in by_id.values() if len(e["targets"]) > 1), key=lambda e: e["id"]),
            "unique": {t: sorted(e["id"] for e in by_id.values() if e["targets"] == [t]) for t in targets}}


def _short(d: dict) -> str:
    e, o = d["expected"], d["observed"]

    def said(x):
        return f"error {x.get('code')}" if x["outcome"] == "error" else x["outcome"]

    return f"{d['call']}: AWS {said(e)}, target {said(o)}"


@click.command("compare")
@click.argument("source", metavar="REPORT_DIR|latest", default="latest")
@REPORTS
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_cmd(source, reports_root, as_json) -> None:
    """Put the emulators of one report side by side: what each gets right, which divergences they share.

    A divergence id is a hash of (property, signature): the same id on two targets is
    the same divergence.
    """
    report = _report(source, reports_root)
    cmp = comparison(report)
    if as_json:
        click.echo(json.dumps(cmp, indent=2))
        return
    console = Console(highlight=False)
    targets = cmp["targets"]
    console.print(Text(f"rolecall compare: run {cmp['run_id']}, each target against {cmp['oracle']}", style="bold"))
    t1 = Table(title="by seed behaviour: properties that agree, and distinct divergences", title_justify="left")
    t1.add_column("behaviour")
    for t in targets:
        t1.add_column(t)
    for row in cmp["behaviours"]:
        cols = []
        for t in targets:
            x = row["targets"][t]
            style = "green" if x["tested"] and x["agree"] == x["tested"] else ("red" if x["diverge"] else "yellow")
            text = f"{x['agree']}/{x['tested']} agree"
            if x["divergences"]:
                text += f", {len(x['divergences'])} divergences"
            if x["error"]:
                text += f", {x['error']} errors"
            cols.append(Text(text, style=style))
        t1.add_row(row["behaviour"], *cols)
    console.print(t1)
    if cmp["rules"]:
        t2 = Table(title=f"by rule of {cmp['oracle']} (what each target gets right: ✓ steps decided as AWS)",
                   title_justify="left")
        t2.add_column("rule", no_wrap=True)
        for t in targets:
            t2.add_column(t)
        for rule, per in cmp["rules"].items():
            cols = []
            for t in targets:
                x = per.get(t, {"steps": 0, "divergences": []})
                if x["divergences"]:
                    cols.append(Text("✗ " + " ".join(x["divergences"]), style="red"))
                elif x["steps"]:
                    cols.append(Text(f"✓ {x['steps']} step" + ("s" if x["steps"] != 1 else ""), style="green"))
                else:
                    cols.append(Text("— not reached", style="dim"))
            t2.add_row(rule, *cols)
        console.print(t2)
    if cmp["shared"]:
        t3 = Table(title="divergences shared by several targets (same id: same divergence)", title_justify="left")
        for col in ("id", "rule", "what", "targets"):
            t3.add_column(col)
        for e in cmp["shared"]:
            t3.add_row(e["id"], e["rule"] or "", e["summary"], ", ".join(e["targets"]))
        console.print(t3)
    else:
        console.print("no divergence is shared by two targets")
    for t in targets:
        if cmp["unique"][t]:
            console.print(f"only on {t}: {' '.join(cmp['unique'][t])}")


# ----------------------------------------------------------------------------- explain

@click.command("explain")
@click.argument("div_id", metavar="ID")
@click.option("--report", "source", default="latest", show_default=True, metavar="REPORT_DIR|latest",
              help="The report to look the divergence up in.")
@REPORTS
@click.option("--baseline", "baseline_dir", type=click.Path(path_type=Path), default=Path("baselines"),
              show_default=True, help="Also say what the baseline knows (and look there if the report does not).")
@click.option("--json", "as_json", is_flag=True, help="Print the divergence records as JSON.")
def explain_cmd(div_id, source, reports_root, baseline_dir, as_json) -> None:
    """What a divergence id means: the rule, the minimal scenario, the decision trace, the AWS source."""
    from rolecall.ledger import DIVERGENCE_ID

    div_id = div_id.strip()
    if not DIVERGENCE_ID.fullmatch(div_id):
        raise UserError(f"{div_id!r} is not a divergence id (they look like RC-0123456789)")
    report = None
    records: list[dict] = []
    try:
        from rolecall.reports.reader import ReportError, load

        report = load(source, reports_root)
        records = report.find(div_id)
    except ReportError as exc:
        report_problem = str(exc)
    else:
        report_problem = f"not in report {report.run_id}"
    ledger = None
    if baseline_dir.exists():
        ledger = _baseline(baseline_dir)
    entries = {t: table[div_id] for t, table in (ledger.entries.items() if ledger else []) if div_id in table}
    if not records and entries:
        records = [_record_from_baseline(ledger, t, entry) for t, entry in sorted(entries.items())]
    if not records:
        raise UserError(f"{div_id}: {report_problem}" + (f", nor in baseline {baseline_dir}" if ledger else ""))
    if as_json:
        click.echo(json.dumps({"id": div_id, "records": records, "baseline": entries}, indent=2, default=str,
                              ensure_ascii=False))
        return
    _print_explanation(div_id, records, entries, report)


def _record_from_baseline(ledger, target: str, entry: dict) -> dict:
    """A divergence record rebuilt from a baseline entry: the pinned scenario, replayed on the
    reference model for its outcome and decision trace."""
    from rolecall.reports.records import property_meta, rule_and_source
    from rolecall.targets.reference import reference

    scenario = ledger.scenarios.get((target, entry["id"]))
    rec = {"id": entry["id"], "target": target, "property": entry.get("property", ""), "call": entry.get("call", ""),
           "level": entry.get("level", ""), "signature": entry.get("signature", ""),
           "summary": entry.get("summary", ""), "scenario": scenario.to_dict() if scenario else None,
           "expected": None, "observed": None, "trace": [], "rule": None, "source": entry.get("source", ""),
           "status": "baseline", "folder": None, "step": None}
    if scenario is not None:
        oracle = reference()
        with oracle:
            run = oracle.run(scenario)
        step = next((s for s in scenario.steps if s.call == rec["call"]), None)
        outcome = run.outcome(step.id) if step else None
        if outcome is not None:
            rec["step"] = step.id
            rec["expected"] = outcome.to_dict(trace=True)
            rec["trace"] = rec["expected"].get("trace", [])
            rule, source = rule_and_source(rec["expected"], property_meta(rec["property"]), rec["scenario"])
            rec["rule"], rec["source"] = rule, source or rec["source"]
    return rec


def _print_explanation(div_id: str, records: list[dict], entries: dict, report) -> None:
    from rolecall.reports.records import property_meta

    d = records[0]
    meta = property_meta(d["property"])
    out = click.echo
    out(click.style(f"{div_id}: {d['call']} diverges from the oracle at the {d['level']} level", bold=True))
    about = f" ({meta['behaviour']}): {meta['description']}" if meta["description"] else ""
    out(f"  property   {d['property']}{about}")
    out(f"  signature  {d['signature']}")
    out("             (the id is a hash of property and signature: the same id on two targets is the same divergence)")
    if records[0].get("folder") and report is not None:
        gated = report.summary.get("gate") is not None
        seen = ", ".join(r["target"] + (f" ({r['status']})" if gated else "") for r in records)
        out(f"  seen on    {seen}, in report {report.run_id}")
    else:
        out(f"  accepted   on {', '.join(r['target'] for r in records)}, in the baseline (not in the report)")
    scenario = d.get("scenario") or {}
    step = next((s for s in scenario.get("steps", []) if s.get("id") == d.get("step")), None)
    if step:
        out(f"  step       {step['id']!r}: {step['as']} calls {step['call']} {json.dumps(step.get('params', {}))}")
    out("")
    if d.get("expected"):
        out(f"AWS (the reference model) says: {_said(d['expected'])}")
    for r in records:
        if r.get("observed"):
            out(f"{r['target']} says: {_said(r['observed'])}")
    out("")
    out(f"AWS rule:   {d.get('rule') or '(none recorded)'}")
    out(f"AWS source: {d.get('source') or meta.get('source') or '(none recorded)'}")
    if d.get("trace"):
        out("")
        out("Decision trace of the reference model:")
        for i, entry in enumerate(d["trace"], 1):
            out(f"  {i}. " + ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in entry.items()))
    if scenario:
        out("")
        out("Minimal scenario:")
        out(json.dumps(scenario, indent=2))
    out("")
    for r in records:
        if r.get("folder") and report is not None:
            folder = report.path / r["folder"]
            out(f"Reproduce on {r['target']}: python {folder / 'repro.py'}")
            out(f"    or: rolecall replay {folder / 'scenario.json'} --target {r['target']} --explain")
    for target, entry in sorted(entries.items()):
        extra = "".join(f", {k} {entry[k]}" for k in ("ticket", "expires") if k in entry)
        out(f"Baseline: accepted on {target} since {entry.get('first_seen', '?')}, last seen "
            f"{entry.get('last_seen', '?')}: {entry.get('reason', '')}{extra}")


def _said(o: dict) -> str:
    if o["outcome"] == "error":
        return f"error {o.get('code')} ({o.get('http_status')}): {o.get('message') or ''}".rstrip(": ")
    if o["outcome"] == "ok":
        return "ok " + json.dumps(o.get("result"), default=str, ensure_ascii=False)
    return f"unsupported: {o.get('reason', '')}"
