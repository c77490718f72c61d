"""The matrix's history folder and what is made of it: finding x product-version.

One summary per product-version (`summaries/moto-5.2.5-auth.json`: the findings of one run on it,
and which properties it tested), kept across runs; from all of them, a table of each finding on
each product-version (present, absent, not tested), the changes between consecutive versions of
one product line (a finding appears, or disappears), and the page, CSV and JSON that show them.
The table and the replays that confirm a change are the spine's (rolecall.matrix); this module
reads and writes files.
Nothing here deletes a file of the history folder: it is the user's data.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

from rolecall.matrix import ABSENT, NOT_TESTED, PRESENT, PRESENT_REPLAY, line_of, product_string
from rolecall.scenario import write_atomic

SUMMARY_FORMAT = "rolecall/matrix-summary@1"
MATRIX_FORMAT = "rolecall/matrix@1"
SUMMARIES = "summaries"


class HistoryError(ValueError):
    """A history folder rolecall cannot use as it is: one line naming the file."""


# ----------------------------------------------------------------------------- history folder

def summary_path(folder: Path, product: str) -> Path:
    return Path(folder) / SUMMARIES / f"{product}.json"


def load_history(folder: Path) -> dict[str, dict]:
    """Every summary in the history folder, by product string. A file in `summaries/` that is not a
    rolecall matrix summary is an error (never overwritten, never deleted): HistoryError."""
    out: dict[str, dict] = {}
    where = Path(folder) / SUMMARIES
    if not where.is_dir():
        return out
    for path in sorted(where.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise HistoryError(f"{path}: not a rolecall matrix summary ({exc}); move it out of {where}") from None
        if not isinstance(doc, dict) or doc.get("format") != SUMMARY_FORMAT or not isinstance(doc.get("findings"), list):
            raise HistoryError(f"{path}: not a rolecall matrix summary (format {SUMMARY_FORMAT}); "
                               f"move it out of {where}")
        if doc.get("product") != path.stem:
            raise HistoryError(f"{path}: it says it is {doc.get('product')!r}, not {path.stem!r}; rename or move it")
        out[path.stem] = doc
    return out


def write_summary(folder: Path, summary: dict) -> Path:
    """Write one product-version's summary, replacing only its own file (the others are history)."""
    return write_atomic(summary_path(folder, summary["product"]),
                        json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def summary_of(product: tuple[str, str, str], spec: str, result, data: dict, *, max_examples: int | None = None) -> dict:
    """A product-version's summary from one run (a RunResult) and its report records (reports.records.build).
    A property counts as tested where its cell searched (it agreed or diverged; not where it errored,
    or could run too few steps)."""
    name, version, mode = product
    tested = sorted({c["property"] for c in data["cells"] if c["verdict"] in ("agree", "diverge")})
    findings = [{k: f.get(k) for k in ("id", "behaviour", "title", "direction", "rule", "source", "how", "feature",
                                        "properties", "calls", "step", "call", "expected", "observed", "scenario")}
                | {"divergences": len(f["divergences"])} for f in data["findings"]]
    run = {"run_id": result.run_id, "started": result.started, "finished": result.finished,
           "profile": result.profile, "seed": result.seed, "strictness": result.strictness, "oracle": result.oracle,
           "max_examples": max_examples, "properties": sorted({c["property"] for c in data["cells"]}),
           "errors": {c["property"]: c["error"] for c in data["cells"] if c.get("error")}}
    return {"format": SUMMARY_FORMAT, "product": product_string(name, version, mode), "name": name,
            "version": version, "mode": mode, "target": spec, "run": run, "tested": tested,
            "examples": sum(c.get("examples", 0) for c in data["cells"]),
            "divergences": len(data["divergences"]), "findings": sorted(findings, key=lambda f: f["id"])}


# ----------------------------------------------------------------------------- output

def document(history: dict[str, dict], tab: dict) -> dict:
    """matrix.json: the table, each product-version's run, and the changes with their replays."""
    return {
        "format": MATRIX_FORMAT,
        "products": [{"product": p, "name": history[p]["name"], "version": history[p]["version"],
                      "mode": history[p].get("mode", ""), "target": history[p]["target"],
                      "line": line_of(history[p]), "run": history[p]["run"], "examples": history[p]["examples"],
                      "divergences": history[p]["divergences"], "findings": len(history[p]["findings"])}
                     for p in tab["products"]],
        "findings": [{k: v for k, v in r.items() if k != "scenarios"} for r in tab["findings"]],
        "replays": [{"finding": f, "product": p, **r} for (f, p), r in sorted(tab.get("replays", {}).items())],
        "changes": tab["changes"],
    }


def to_csv(doc: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    products = [p["product"] for p in doc["products"]]
    w.writerow(["finding", "behaviour", "direction", *products])
    for f in doc["findings"]:
        w.writerow([f["id"], f["behaviour"], f["direction"], *(f["cells"][p] for p in products)])
    return out.getvalue()


MARK = {PRESENT: "●", PRESENT_REPLAY: "◐", ABSENT: "·", NOT_TESTED: "–"}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rolecall matrix: findings x product-versions</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; }}
th.product {{ writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: normal; }}
td.cell {{ text-align: center; }}
td.present, td.present-replay {{ background: #fde2e1; }}
td.absent {{ background: #e6f4e6; }}
td.not-tested {{ color: #999; }}
td.appears {{ outline: 3px solid #c0392b; outline-offset: -3px; }}
td.disappears {{ outline: 3px solid #27ae60; outline-offset: -3px; }}
th.line {{ background: #f4f4f4; }}
code {{ font-size: 12px; }}
</style>
</head>
<body>
<h1>Findings x product-versions</h1>
<p>{headline}</p>
<p>● the finding is present (the search found it) ◐ present (the search did not meet it, a replay of its
scenario reproduced it) · absent (its properties were searched and it did not come up) – not tested.
A red frame: it appears in this version (it was absent in the previous tested version of the same product);
a green frame: it disappears. Each change is replayed on both versions (below).</p>
<table id="matrix">
<thead>
<tr><th></th>{line_heads}</tr>
<tr><th>finding</th>{product_heads}</tr>
</thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Changes between versions, replayed</h2>
{changes}
<h2>Runs</h2>
<table id="runs">
<thead><tr><th>product-version</th><th>target</th><th>profile</th><th>seed</th><th>examples</th><th>divergences</th><th>findings</th><th>run</th></tr></thead>
<tbody>
{runs}
</tbody>
</table>
</body>
</html>
"""


def _e(v) -> str:
    return html.escape(str(v), quote=True)


def _replay_text(r: dict | None) -> str:
    if not r:
        return "not replayed"
    return r["result"] + (f" ({r['detail']})" if r.get("detail") else "")


def to_html(doc: dict) -> str:
    products = [p["product"] for p in doc["products"]]
    lines: dict[str, int] = {}
    for p in doc["products"]:
        lines[p["line"]] = lines.get(p["line"], 0) + 1
    marked = {(c["finding"], c["to"]): c["change"] for c in doc["changes"]}
    rows = []
    for f in doc["findings"]:
        cells = []
        for p in products:
            st = f["cells"][p]
            change = marked.get((f["id"], p))
            cls = f"cell {re.sub('[^a-z]+', '-', st).strip('-')}" + (f" {change}" if change else "")
            cells.append(f'<td class="{cls}" title="{_e(p)}: {_e(st)}{" (" + change + ")" if change else ""}">'
                         f'{MARK[st]}</td>')
        rows.append(f'<tr id="{_e(f["id"])}"><td><code>{_e(f["id"])}</code> {_e(f["behaviour"])} '
                    f'<small>({_e(f["direction"])})</small></td>{"".join(cells)}</tr>')
    changes = ["<table id=\"changes\"><thead><tr><th>finding</th><th>change</th><th>from</th><th>to</th>"
               "<th>replay on from</th><th>replay on to</th><th>confirmed</th></tr></thead><tbody>"]
    for c in doc["changes"]:
        rp = c.get("replay") or {}
        confirmed = {True: "yes", False: "no"}.get(c.get("confirmed"), "not replayed")
        changes.append(f'<tr><td><code>{_e(c["finding"])}</code> {_e(c["behaviour"])}</td><td>{_e(c["change"])}</td>'
                       f'<td>{_e(c["from"])}</td><td>{_e(c["to"])}</td><td>{_e(_replay_text(rp.get("from")))}</td>'
                       f'<td>{_e(_replay_text(rp.get("to")))}</td><td>{confirmed}</td></tr>')
    changes.append("</tbody></table>")
    if not doc["changes"]:
        changes = ["<p>No finding appears or disappears between two tested versions of one product.</p>"]
    runs = [f'<tr><td>{_e(p["product"])}</td><td><code>{_e(p["target"])}</code></td><td>{_e(p["run"].get("profile"))}</td>'
            f'<td>{_e(p["run"].get("seed"))}</td><td>{p["examples"]}</td><td>{p["divergences"]}</td>'
            f'<td>{p["findings"]}</td><td>{_e(p["run"].get("started", ""))}</td></tr>' for p in doc["products"]]
    confirmed = sum(1 for c in doc["changes"] if c.get("confirmed"))
    headline = (f"{len(doc['findings'])} findings on {len(products)} product-versions; "
                f"{len(doc['changes'])} changes between versions, {confirmed} confirmed by replay.")
    return PAGE.format(headline=_e(headline),
                       line_heads="".join(f'<th class="line" colspan="{n}">{_e(line)}</th>' for line, n in lines.items()),
                       product_heads="".join(f'<th class="product">{_e(p)}</th>' for p in products),
                       rows="\n".join(rows), changes="\n".join(changes), runs="\n".join(runs))


def write_outputs(folder: Path, doc: dict) -> dict[str, Path]:
    """matrix.json, matrix.csv and index.html in the history folder, each replaced whole."""
    folder = Path(folder)
    return {
        "json": write_atomic(folder / "matrix.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n"),
        "csv": write_atomic(folder / "matrix.csv", to_csv(doc)),
        "html": write_atomic(folder / "index.html", to_html(doc)),
    }


def read_previous(folder: Path) -> dict | None:
    """The matrix.json an earlier run wrote (its replays are reused when both runs are unchanged)."""
    try:
        doc = json.loads((Path(folder) / "matrix.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == MATRIX_FORMAT else None
