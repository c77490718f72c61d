"""A standalone boto3 script that replays a divergence's minimal scenario on its target."""
from __future__ import annotations

import json


def script(divergence) -> str:
    scenario_json = json.dumps(divergence.scenario.to_dict(), indent=2)
    return f'''#!/usr/bin/env python3
"""Reproduce {divergence.id} on {divergence.target}.

{divergence.summary()}

Runs the minimal scenario below with rolecall's target adapter (which makes the boto3
calls shown by `rolecall replay --target {divergence.target} scenario.json`), and prints
what the target answered at step {divergence.step_id!r}.
"""
import json
import sys

from rolecall.scenario import from_dict
from rolecall.targets import load_target

SCENARIO = json.loads(r"""{scenario_json}""")

target = load_target({divergence.target!r})
target.open()
try:
    run = target.run(from_dict(SCENARIO, origin="{divergence.id}"))
finally:
    target.close()
outcome = run.outcome({divergence.step_id!r})
print(json.dumps(outcome.to_dict() if outcome else run.to_dict(), indent=2, default=str))
expected = {json.dumps(divergence.expected.to_dict())}
print("AWS (per the reference model):", json.dumps(expected))
sys.exit(0 if outcome and outcome.outcome == expected["outcome"] and outcome.code == expected.get("code") else 1)
'''
