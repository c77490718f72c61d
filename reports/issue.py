"""An upstream-ready issue draft per finding: title, emulator and version, what AWS does (the
rule and its page), what the emulator does, and a standalone reproduction (plus, for boto-based
emulators, a pytest in the emulator's own style: `@mock_aws` for moto, an endpoint for servers)."""
from __future__ import annotations

import json
import re


def product_version(target: str) -> str:
    """The emulator and version a target name runs, as far as this machine can tell."""
    from importlib.metadata import PackageNotFoundError, version

    base = target.split("@", 1)[0].split("+", 1)[0]
    if "@" in target:
        return f"{base} {target.split('@', 1)[1]}"
    try:
        if base == "moto":
            return f"moto {version('moto')}" + (" (IAM enforcement on)" if target == "moto+auth" else " (default mode)")
        if base == "localstack":
            from rolecall.targets.localstack_server import DEFAULT_VERSION

            return f"LocalStack {DEFAULT_VERSION} (community, host mode)"
    except (PackageNotFoundError, ImportError):
        pass
    return target


def _said(o: dict) -> str:
    if o.get("outcome") == "error":
        return f"error `{o.get('code')}`" + (f" (HTTP {o['http_status']})" if o.get("http_status") else "")
    return "success" if o.get("outcome") == "ok" else str(o.get("outcome"))


def _rule_text(rule: str) -> str:
    from rolecall.findings import _rule_text as text

    return text(rule)


def test_name(finding: dict) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", finding["behaviour"].lower()).strip("_")
    return "test_" + words[:60].rstrip("_")


def pytest_file(finding: dict, repro: str, repro_kind: str) -> str | None:
    """A pytest module in the emulator's own style that fails until the emulator answers as AWS does."""
    if repro_kind != "boto3" or "if __name__ == \"__main__\":" not in repro:
        return None
    head = repro.split("if __name__ == \"__main__\":", 1)[0]
    head = head.replace("#!/usr/bin/env python3\n", "", 1)
    name = test_name(finding)
    lines = [head.rstrip("\n"), "", ""]
    if finding["target"].startswith("moto"):
        lines += ["@mock_aws(config={\"iam\": {\"load_aws_managed_policies\": False}})",
                  f"def {name}():",
                  f"    \"\"\"{finding['behaviour']} (AWS: {finding['source']}).\"\"\"",
                  "    outcome = main()",
                  "    assert same_as_aws(outcome), (outcome, EXPECTED)"]
    else:
        lines += [f"def {name}():",
                  f"    \"\"\"{finding['behaviour']} (AWS: {finding['source']}). Set LOCALSTACK_ENDPOINT to the "
                  "emulator's URL.\"\"\"",
                  "    outcome = main()",
                  "    assert same_as_aws(outcome), (outcome, EXPECTED)"]
    return "\n".join(lines) + "\n"


def draft(finding: dict, repro: str) -> str:
    """The issue text a maintainer files upstream (Markdown)."""
    f = finding
    exp, obs = f["expected"], f["observed"]
    rule = _rule_text(f["rule"])
    out = [f"# {f['title']}", "",
           f"**Emulator:** {product_version(f['target'])}  ",
           f"**Found by:** rolecall, properties {', '.join(f['properties'])}; "
           f"{len(f['divergences'])} symptom(s) ({', '.join(f['divergences'])}), this one the smallest.  ",
           f"**Direction:** {f['direction']}  ",
           f"**Evidence for AWS's answer:** {f['evidence']}", "",
           "## What AWS does", ""]
    if rule:
        out.append(f"> {rule[0].upper() + rule[1:]}.")
        out.append("")
    out.append(f"Source: {f['source']}")
    out.append("")
    out.append(f"At step `{f['step']}` ({f['call']}), AWS answers {_said(exp)}"
               + (f": `{exp['message']}`" if exp.get("message") else "") + ".")
    out += ["", f"## What {f['target']} does", "",
            f"It answers {_said(obs)}" + (":" if obs.get("message") else ".")]
    if obs.get("message"):
        out += ["", "```", obs["message"].rstrip(), "```"]
    if f.get("feature"):
        outcome = "stop crashing" if f["direction"] == "crash" else "answer as AWS does"
        out += ["", f"Changing only this in the scenario makes {f['target']} {outcome}, while AWS's "
                    f"answer stays the same: `{f['feature']}` (the scenario it then passes is `passes.json`)."]
    out += ["", "## Reproduce", "", "The scenario (rolecall's format; `rolecall replay scenario.json --target "
            f"{f['target']}` exits 1 until fixed):", "", "```json", json.dumps(f["scenario"], indent=2), "```", "",
            "Standalone:", "", "```python", repro.rstrip(), "```", ""]
    return "\n".join(out)
