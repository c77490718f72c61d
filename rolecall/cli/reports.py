"""Commands that read reports and keep the baseline: `baseline update|prune`, `compare`, `explain`.

rolecall.cli adds them to the `rolecall` group. Errors are one line and exit 2 (UserError).
"""
from __future__ import annotations

import datetime as dt
import json
import re
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
    """Accept findings into the baseline, or drop the ones fixed upstream.

    \b
    The baseline is a folder of ledgers, baselines/<target>.json: per target the findings a
    maintainer accepted, each with its smallest scenario (baselines/<target>/<id>.json) and
    a scenario the target passed (<id>.passes.json). `rolecall run --baseline baselines`
    fails (exit 1) on a new finding, or when a scenario the target passed now fails.
    """


@baseline.command("update")
@FROM
@BASELINE
@REPORTS
@click.option("--reason", help="Why these findings are accepted (for new entries). Default: the finding's title.")
@click.option("--upstream", metavar="URL", help="The upstream issue tracking them (new entries: status 'reported').")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="After this day the new entries fail the gate again.")
@click.option("--target", "only_targets", multiple=True, metavar="NAME", help="Only these targets' findings.")
def baseline_update(source, baseline_dir, reports_root, reason, upstream, expires, only_targets) -> None:
    """Accept every finding of a report: add new ones, refresh the known ones."""
    from rolecall.ledger import Baseline, LedgerError

    try:
        ledger = Baseline.load(baseline_dir, must_exist=False)  # update may start a baseline
    except LedgerError as exc:
        raise UserError(str(exc)) from None
    report = _report(source, reports_root)
    if only_targets and not any(c["target"] in only_targets for c in report.cells):
        raise UserError(f"{report.path}: no target {', '.join(only_targets)} in this report "
                        f"(it has: {', '.join(report.summary.get('targets', []))})")
    if not report.findings and report.divergences:
        raise UserError(f"{report.path}: the report has divergences but no findings.json "
                        f"(written by an older rolecall); run again")
    records = [f for f in report.findings if not only_targets or f["target"] in only_targets]
    passed = {t: items for t, items in report.passed.items() if not only_targets or t in only_targets}
    changes = ledger.update(records, reason=reason, day=_run_day(report), upstream=upstream,
                            expires=expires.date() if expires else None, passed=passed)
    if not changes:
        click.echo(f"baseline {baseline_dir}: report {report.run_id} has no finding; nothing to accept")
        return
    titles = {(f["target"], f["id"]): f["title"] for f in records}
    for target, change in sorted(changes.items()):
        click.echo(f"baseline {baseline_dir}: {target}: {len(change['added'])} added, "
                   f"{len(change['refreshed'])} refreshed, {len(change.get('passed', []))} passed scenarios kept")
        for fid in change["added"]:
            click.echo(f"  + {fid} {titles.get((target, fid), '')}")


@baseline.command("prune")
@BASELINE
@click.option("--target", "only_targets", multiple=True, metavar="NAME", help="Only these targets' entries.")
@click.option("--oracle", default="reference", show_default=True, help="The target others are compared with.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; change nothing.")
def baseline_prune(baseline_dir, only_targets, oracle, localstack_endpoint, dry_run) -> None:
    """Drop the entries that are fixed: replay each entry's pinned scenario on its target and drop it
    only when the target now agrees with AWS (three replays). Prints what it dropped and why."""
    from rolecall.ledger import FIXED, replay_baseline
    from rolecall.targets import TargetUnavailable, UnknownTarget

    ledger = _baseline(baseline_dir)
    targets = [t for t in sorted(ledger.entries) if not only_targets or t in only_targets]
    unknown = sorted(set(only_targets) - set(ledger.entries))
    if unknown:
        raise UserError(f"baseline {baseline_dir}: no entries for {', '.join(unknown)} "
                        f"(it has: {', '.join(sorted(ledger.entries)) or 'none'})")
    fixed = []
    for target in targets:
        try:
            replays = replay_baseline(ledger, target, oracle, options={"endpoint": localstack_endpoint})
        except (TargetUnavailable, UnknownTarget) as exc:
            raise UserError(str(exc)) from None
        for r in replays:
            if r.kind == "pinned" and r.status == FIXED:
                fixed.append((r.target, r.id))
                click.echo(f"baseline {baseline_dir}: {target}: - {r.id} {ledger.entry(target, r.id).get('title', '')}"
                           f" ({r.detail}, {r.attempts} replays)")
    if not fixed:
        click.echo(f"baseline {baseline_dir}: every pinned scenario still diverges; nothing pruned")
        return
    if dry_run:
        click.echo(f"baseline {baseline_dir}: dry run: {len(fixed)} entries would be dropped")
        return
    ledger.drop(fixed)
    click.echo(f"baseline {baseline_dir}: {len(fixed)} entries dropped")


# ----------------------------------------------------------------------------- findings

@click.command("findings")
@click.argument("source", metavar="REPORT_DIR|latest", default="latest")
@REPORTS
@click.option("--target", "only_targets", multiple=True, metavar="NAME", help="Only these targets' findings.")
@click.option("--json", "as_json", is_flag=True, help="Print findings.json.")
@click.option("-v", "--verbose", is_flag=True, help="Also list each finding's symptoms and where its files are.")
def findings_cmd(source, reports_root, only_targets, as_json, verbose) -> None:
    """The findings of a report: one line per target behaviour that differs from AWS, targets side by side."""
    from rolecall.reports.terminal import findings_table, headline

    report = _report(source, reports_root)
    findings = [f for f in report.findings if not only_targets or f["target"] in only_targets]
    if as_json:
        click.echo(json.dumps(findings, indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False)
    data = {"summary": report.summary, "cells": report.cells, "findings": findings}
    console.print(headline(data))
    table = findings_table(data, width=min(console.width, 80))
    if table is None:
        console.print("no findings: every target agrees with the oracle")
        return
    console.print(table)
    if verbose:
        for f in findings:
            console.print(Text(f"{f['id']} {f['title']}", style="bold"))
            console.print(f"  {f['direction']}; AWS: {f['rule']} {f['source']}; evidence: {f['evidence']}")
            console.print(f"  symptoms: {' '.join(f['divergences'])}")
            console.print(f"  files: {report.path / f['folder']}/ (issue.md, scenario.json, repro.py)")


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
    by_finding: dict[str, dict] = {}
    for f in report.findings:
        e = by_finding.setdefault(f["id"], {"id": f["id"], "behaviour": f["behaviour"], "direction": f["direction"],
                                            "rule": f.get("rule"), "targets": []})
        e["targets"].append(f["target"])
    return {"run_id": s["run_id"], "oracle": s["oracle"], "targets": targets, "behaviours": behaviours,
            "rules": dict(sorted(rules.items())),
            "shared": sorted((e for e in by_finding.values() if len(e["targets"]) > 1), key=lambda e: e["behaviour"]),
            "unique": {t: sorted((e for e in by_finding.values() if e["targets"] == [t]), key=lambda e: e["behaviour"])
                       for t in targets}}


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
    """Put the emulators of one report side by side: what each gets right, which findings they share.

    Two targets share a finding when replaying tells the same cause on both (its id is a hash of the
    cause, not of the symptom).
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
        t3 = Table(title="findings shared by several targets (the same cause, told by replaying)", title_justify="left")
        for col in ("finding", "direction", "targets"):
            t3.add_column(col)
        for e in cmp["shared"]:
            t3.add_row(f"{e['id']} {e['behaviour']}", e["direction"], ", ".join(e["targets"]))
        console.print(t3)
    else:
        console.print("no finding is shared by two targets")
    for t in targets:
        for e in cmp["unique"][t]:
            console.print(f"only on {t}: {e['id']} {e['behaviour']}")


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
    DIVERGENCE_ID = re.compile(r"RC-[0-9a-f]{10}")

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
    entries = {t: e for t, table in (ledger.entries.items() if ledger else []) for e in table.values()
               if div_id in e.get("divergences", [])}
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
    call = next((st.call for st in scenario.steps if st.expect), "") if scenario else ""
    rec = {"id": entry["id"], "target": target, "property": entry.get("property", ""), "call": call,
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
        extra = "".join(f", {k} {entry[k]}" for k in ("status", "upstream", "expires") if entry.get(k))
        out(f"Baseline: a symptom of {entry['id']} ({entry.get('title', '')}), accepted on {target} since "
            f"{entry.get('first_seen', '?')}, last seen {entry.get('last_seen', '?')}{extra}")


def _said(o: dict) -> str:
    if o["outcome"] == "error":
        return f"error {o.get('code')} ({o.get('http_status')}): {o.get('message') or ''}".rstrip(": ")
    if o["outcome"] == "ok":
        return "ok " + json.dumps(o.get("result"), default=str, ensure_ascii=False)
    return f"unsupported: {o.get('reason', '')}"
