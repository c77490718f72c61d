"""Per rule of the reference model, its evidence: the AWS page it cites (documentation) and the
committed scenarios that decide with it (the documented corpus, and AWS's recorded answers in
scenarios/aws-recorded/). Prints a markdown table for docs/aws.md.

    .venv/bin/python scripts/rule_evidence.py

A rule counts a scenario step when the reference model's answer to it carries the rule's reason
label and the step's expectation holds. "both": the rule's page and at least one recorded step.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rolecall.outcome import matches_expectation
from rolecall.rules import REASONS, RULES
from rolecall.scenario import load
from rolecall.targets.reference import reference

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"


def tally() -> tuple[Counter, Counter]:
    documented, recorded = Counter(), Counter()
    for path in sorted(p for p in CORPUS.rglob("*.json")):
        scenario = load(path)
        run = reference().run(scenario)
        if run.setup_error is not None:
            continue
        into = recorded if path.parent.name == "aws-recorded" else documented
        for step in scenario.steps:
            o = run.outcome(step.id)
            if o is None or not o.reason or step.expect is None:
                continue
            if matches_expectation(dict(step.expect), o.to_dict()):
                into[o.reason] += 1
    return documented, recorded


def main() -> int:
    documented, recorded = tally()
    print("| rule (reason label) | what AWS does | AWS page | documented corpus steps | recorded AWS answers | evidence |")
    print("|---|---|---|---|---|---|")
    for label, page in REASONS.items():
        evidence = "documentation and recording" if recorded[label] else "documentation"
        print(f"| `{label}` | {RULES.get(label, '')} | {page.rsplit('/', 1)[-1]} | {documented[label]} "
              f"| {recorded[label]} | {evidence} |")
    others = sorted((set(documented) | set(recorded)) - set(REASONS))
    for label in others:
        print(f"| `{label}` | (a labelled answer outside the policy-evaluation rules) | | {documented[label]} "
              f"| {recorded[label]} | {'recording' if recorded[label] else 'documentation'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
