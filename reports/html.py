"""index.html: a self-contained report, in the spirit of wpt.fyi: findings first, then the matrix.

Findings (rows: target behaviours that differ from AWS) x targets come first; then seed behaviours and their properties (rows) x targets (columns); a cell opens its
divergences (scenario, repro script, the reference model's decision trace, the AWS page).
One file: the CSS, the viewer script (viewer.css, viewer.js) and the data (the report's
records as JSON) are inlined, so it opens from a CI artifact without a server or network.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).parent

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rolecall {run_id}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>rolecall <code id="run-id">{run_id}</code></h1>
<p id="headline"></p>
<dl id="facts"></dl>
</header>
<section id="banners"></section>
<section id="controls" aria-label="filters">
<fieldset id="target-filter"><legend>targets</legend></fieldset>
<label>feature <select id="feature-filter"><option value="">all</option></select></label>
<label>show <select id="status-filter">
<option value="">every cell</option><option value="diverge">diverging</option><option value="new">new divergences</option>
<option value="unsupported">unsupported</option><option value="error">errors</option></select></label>
</section>
<main>
<section id="findings"><h2>Findings</h2>
<p class="legend">One row per target behaviour that differs from AWS (its cause, told by replaying twins of the
minimal scenario that differ in one feature); a column per target. A mark: the target behaves so.</p>
<table id="findings-table" aria-label="findings: behaviours by target"></table></section>
<h2>Properties</h2>
<noscript><p class="banner">This report draws its matrix with JavaScript; the data are in summary.json,
results.jsonl and divergences.json next to this file.</p></noscript>
<table id="matrix" aria-label="results: properties by target"></table>
<p class="legend"><span class="badge st-agree">agree</span> behaves as the oracle
<span class="badge st-new">diverge (new)</span> not in the baseline, or expired
<span class="badge st-known">diverge (known)</span> accepted in the baseline
<span class="badge st-unsupported">unsupported</span> the target cannot express it
<span class="badge st-error">error</span> the target could not be tested. Click a cell for its details.</p>
<section id="details" hidden aria-live="polite"></section>
<section id="coverage"><h2>Coverage: the oracle's decisions reached</h2>
<p class="legend">How many steps of the examples each rule of the reference model decided, per target run.</p>
<table id="coverage-table"></table></section>
<section id="feature-coverage"><h2>Feature coverage: the policy language and the API reached</h2>
<p class="legend">How many examples reached each catalogued feature (rolecall/features.py), per target run;
a feature no example reached is marked 0.</p>
<table id="feature-table"></table></section>
</main>
<footer>rolecall report {run_id}: summary.json, results.jsonl, divergences.json and junit.xml are next to this file.</footer>
<script type="application/json" id="rolecall-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""


def _embed(data: dict) -> str:
    # Inside <script>, "</" could end the element and "<!--" change how it is parsed.
    text = json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def render(data: dict) -> str:
    return TEMPLATE.format(run_id=html.escape(data["summary"]["run_id"]),
                           css=(HERE / "viewer.css").read_text(encoding="utf-8"),
                           js=(HERE / "viewer.js").read_text(encoding="utf-8"),
                           data=_embed(data))
