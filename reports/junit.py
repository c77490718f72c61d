"""JUnit XML: one testcase per property x target, divergence ids as properties."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def write(result, path: Path, verdicts=None) -> None:
    suites = ET.Element("testsuites", name="rolecall")
    by_target: dict[str, list] = {}
    for cell in result.cells:
        by_target.setdefault(cell.target, []).append(cell)
    for target, cells in by_target.items():
        failures = sum(1 for c in cells if c.findings and (verdicts is None or any(verdicts.is_new_id(i) for i in c.findings)))
        errors = sum(1 for c in cells if c.error)
        suite = ET.SubElement(suites, "testsuite", name=f"rolecall.{target}", tests=str(len(cells)),
                              failures=str(failures), errors=str(errors), skipped="0",
                              time=f"{sum(c.seconds for c in cells):.3f}")
        for cell in cells:
            case = ET.SubElement(suite, "testcase", classname=f"rolecall.{target}", name=cell.property,
                                 time=f"{cell.seconds:.3f}")
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="examples", value=str(cell.examples))
            for div_id in sorted(cell.findings):
                ET.SubElement(props, "property", name="divergence", value=div_id)
            if cell.error:
                ET.SubElement(case, "error", message=cell.error[:500], type="TargetError").text = cell.error
            elif cell.findings:
                new = [i for i in sorted(cell.findings) if verdicts is None or verdicts.is_new_id(i)]
                if new:
                    text = "\n".join(cell.findings[i].divergence.summary() for i in new)
                    ET.SubElement(case, "failure", message=f"{len(new)} divergence(s): {', '.join(new)}",
                                  type="Divergence").text = text
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
