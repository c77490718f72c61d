"""How close each target's API answers are to AWS's recorded ones: scenarios/aws-recorded/
(LocalStack's AWS-validated IAM/STS recordings, one file per test) replayed on each target,
every expectation checked, in one run.

    .venv/bin/python benchmarks/recorded_answers.py [--target reference --target moto ...] [FILES...]

Per target: files whose every step agrees, files with a disagreeing step, files that only
fall short on unsupported steps; and steps that agree / disagree / are unsupported (a step
is unsupported when the target cannot express it: a call it lacks, a value from a step it
could not make). A step without an expectation is not counted. Targets default to
reference, moto, moto+auth and localstack (LocalStack is started and stopped by rolecall).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from _common import header
from rolecall.outcome import matches_expectation
from rolecall.scenario import ScenarioError, load
from rolecall.targets import TargetUnavailable, UnknownTarget, load_target

CORPUS = Path(__file__).resolve().parent.parent / "scenarios" / "aws-recorded"
TARGETS = ("reference", "moto", "moto+auth", "localstack")


def replay(target, scenarios) -> tuple[Counter, Counter, dict[str, Counter]]:
    files, steps, by_call = Counter(), Counter(), {}
    for scenario in scenarios:
        run = target.run(scenario)
        verdicts = []
        for step in scenario.steps:
            if step.expect is None:
                continue
            if run.setup_error is not None:
                verdict = "unsupported"
            else:
                o = run.outcome(step.id)
                if o.outcome == "unsupported":
                    verdict = "unsupported"
                else:
                    verdict = "agree" if matches_expectation(dict(step.expect), o.to_dict()) else "disagree"
            verdicts.append(verdict)
            steps[verdict] += 1
            by_call.setdefault(step.call, Counter())[verdict] += 1
        if "disagree" in verdicts:
            files["disagree"] += 1
        elif "unsupported" in verdicts:
            files["unsupported only"] += 1
        else:
            files["agree"] += 1
    return files, steps, by_call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", help="a target (repeatable); default: " + ", ".join(TARGETS))
    parser.add_argument("--by-call", action="store_true", help="also print steps per call and target")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.files or sorted(CORPUS.glob("*.json"))
    try:
        scenarios = [load(p) for p in paths]
        targets = [(name, load_target(name)) for name in (args.target or TARGETS)]
    except (ScenarioError, UnknownTarget) as exc:
        print(f"recorded_answers: {exc}", file=sys.stderr)
        return 2
    header("AWS's recorded answers (scenarios/aws-recorded/) replayed per target")
    print(f"{len(scenarios)} files of recorded answers, "
          f"{sum(1 for s in scenarios for st in s.steps if st.expect is not None)} steps with an expectation\n")
    print("| target | files agree | files disagree | files short only on unsupported steps "
          "| steps agree / disagree / unsupported | steps agreeing | time |")
    print("|---|---|---|---|---|---|---|")
    details = {}
    for name, target in targets:
        started = time.monotonic()
        try:
            with target:
                files, steps, by_call = replay(target, scenarios)
        except TargetUnavailable as exc:
            print(f"| {name} | could not start: {exc} | | | | | |")
            continue
        total = sum(steps.values())
        details[name] = by_call
        print(f"| {name} | {files['agree']} | {files['disagree']} | {files['unsupported only']} "
              f"| {steps['agree']} / {steps['disagree']} / {steps['unsupported']} "
              f"| {100 * steps['agree'] / total:.1f}% | {time.monotonic() - started:.0f} s |", flush=True)
    if args.by_call:
        for name, by_call in details.items():
            print(f"\n{name}: steps per call (agree/disagree/unsupported)")
            for call, c in sorted(by_call.items()):
                print(f"  {call:40s} {c['agree']:4d} {c['disagree']:4d} {c['unsupported']:4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
