"""index.html: a self-contained results matrix (replaced by the full viewer in a later change)."""
from __future__ import annotations

import html
import json


def render(result, summ: dict, divergences: list[dict]) -> str:
    data = json.dumps({"summary": summ, "divergences": divergences}, default=str).replace("</", "<\\/")
    rows = "".join(f"<tr><td>{html.escape(c.behaviour)}</td><td>{html.escape(c.property)}</td>"
                   f"<td>{html.escape(c.target)}</td><td class='{c.verdict}'>{c.verdict}</td>"
                   f"<td>{', '.join(sorted(c.findings))}</td></tr>" for c in result.cells)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>rolecall {html.escape(result.run_id)}</title>
<style>body{{font-family:sans-serif}}td,th{{padding:4px 8px;border-bottom:1px solid #ddd}}
.agree{{background:#dfd}}.diverge{{background:#fdd}}.error{{background:#ffd}}.unsupported{{background:#def}}</style>
</head><body><h1>rolecall {html.escape(result.run_id)}</h1>
<table><tr><th>behaviour</th><th>property</th><th>target</th><th>verdict</th><th>divergences</th></tr>{rows}</table>
<script type="application/json" id="data">{data}</script></body></html>
"""
