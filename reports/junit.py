"""junit.xml: a testsuite per target, a testcase per property x target.

Divergence ids are testcase properties (`divergence`, and `new_divergence` for those that
fail the gate). A cell fails when it has a divergence that fails the gate (without a
baseline: any divergence); known ones are listed in system-out. An unsupported cell is
skipped, a target error is an error.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from rolecall.reports.records import group_by_behaviour


def render(data: dict) -> bytes:
    summary, cells = data["summary"], data["cells"]
    divs = {(d["target"], d["id"]): d for d in data["divergences"]}
    order = {p: i for i, (_, props) in enumerate(group_by_behaviour(cells)) for p in props}
    root = ET.Element("testsuites", name=f"rolecall {summary['run_id']}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time_total = 0.0
    targets = list(dict.fromkeys(c["target"] for c in cells))
    for target in targets:
        mine = sorted((c for c in cells if c["target"] == target), key=lambda c: order.get(c["property"], 0))
        counts = {"tests": len(mine), "failures": 0, "errors": 0, "skipped": 0}
        seconds = sum(c["seconds"] for c in mine)
        suite = ET.SubElement(root, "testsuite", name=f"rolecall.{target}", timestamp=summary.get("started") or "")
        props = ET.SubElement(suite, "properties")
        for key in ("run_id", "profile", "strictness", "oracle", "seed"):
            ET.SubElement(props, "property", name=key, value=str(summary.get(key)))
        for c in mine:
            case = ET.SubElement(suite, "testcase", classname=f"rolecall.{target}", name=c["property"],
                                 time=f"{c['seconds']:.3f}")
            cp = ET.SubElement(case, "properties")
            for key in ("behaviour", "feature", "verdict", "examples", "agreeing", "unsupported_steps",
                        "setup_errors"):
                ET.SubElement(cp, "property", name=key, value=str(c[key]))
            for div_id in c["divergences"]:
                ET.SubElement(cp, "property", name="divergence", value=div_id)
            failing = sorted(c["new"] + c["expired"])
            for div_id in failing:
                ET.SubElement(cp, "property", name="new_divergence", value=div_id)
            if c["verdict"] == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", type="TargetError", message=_one_line(c["error"] or "error")).text = \
                    c["error"]
            elif failing:
                counts["failures"] += 1
                text = "\n\n".join(_describe(divs[(target, i)]) for i in failing)
                what = "new" if summary.get("gate") else "divergence(s)"
                ET.SubElement(case, "failure", type="Divergence",
                              message=f"{len(failing)} {what}: {', '.join(failing)}").text = text
            elif c["verdict"] in ("unsupported", "not tested"):
                counts["skipped"] += 1
                why = (f"{target} could run only {c.get('compared', 0):.0%} of the steps of {c['property']}"
                       if c["verdict"] == "not tested" else
                       f"{target} could not run any example of {c['property']} ({c['setup_errors']} setup errors)")
                ET.SubElement(case, "skipped", message=why)
            known = [i for i in c["divergences"] if i not in failing]
            if known:
                ET.SubElement(case, "system-out").text = "known divergences (in the baseline):\n" + "\n".join(
                    divs[(target, i)]["summary"] for i in known)
        suite.set("tests", str(counts["tests"]))
        for key in ("failures", "errors", "skipped"):
            suite.set(key, str(counts[key]))
        suite.set("time", f"{seconds:.3f}")
        for key in totals:
            totals[key] += counts[key]
        time_total += seconds
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time_total:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _describe(d: dict) -> str:
    lines = [d["summary"]]
    if d.get("rule"):
        lines.append(f"AWS rule {d['rule']}: {d.get('source', '')}")
    lines.append(f"repro: {d['folder']}/repro.py (scenario: {d['folder']}/scenario.json)")
    return "\n".join(lines)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
