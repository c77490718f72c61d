"""The documented-behaviour corpus (scenarios/<topic>/*.json): every file replays on the
reference model with all its expectations holding, and every file says where the behaviour
is documented. A failure here means the model and an AWS page disagree (or the file is wrong).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolecall.outcome import matches_expectation
from rolecall.scenario import load
from rolecall.targets.reference import reference

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


# Recorded answers the reference model does not reproduce, each with its reason (and listed in
# docs/recorded-answers.md). A step listed here must still disagree: once the model reproduces
# it, the entry goes.
KNOWN_DISAGREEMENTS = {
    ("aws-recorded/sts-assume-role-with-policy.json", "s02"):
        "PackedPolicySize: AWS's packing of session policies is not published; the model omits the field",
    **{(f"aws-recorded/iam_policies-create-policy-{case}.json", "s01"):
       "IAM's date grammar for Date conditions is more lenient than W3C ISO 8601 and not published; "
       "the model refuses what it cannot read" for case in ("valid-030", "valid-036", "valid-037")},
    ("aws-recorded/iam_policies-create-policy-invalid-075.json", "s01"):
        "an epoch date past 2^63: AWS fails legacy parsing, the model reads it as a number",
}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_corpus_file_holds_on_reference(path: Path) -> None:
    scenario = load(path)
    run = reference().run(scenario)
    assert run.setup_error is None, f"world could not be created: {run.setup_error.to_dict()}"
    failures = []
    for step in scenario.steps:
        outcome = run.outcome(step.id).to_dict()
        holds = step.expect is None or matches_expectation(dict(step.expect), outcome)
        if path.parent.name == "aws-recorded" and outcome["outcome"] == "unsupported":
            continue  # a recorded step the model cannot express: counted by test_recorded_steps_the_model_cannot_express
        known = KNOWN_DISAGREEMENTS.get((_id(path), step.id))
        if known and holds:
            failures.append(f"step {step.id}: now agrees with AWS's recording; remove it from KNOWN_DISAGREEMENTS ({known})")
        elif not holds and not known:
            failures.append(f"step {step.id}: expected {json.dumps(dict(step.expect))}, got {json.dumps(outcome)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_corpus_file_is_documented(path: Path) -> None:
    scenario = load(path)
    assert scenario.description, "a corpus file says what behaviour it pins (description)"
    assert scenario.source and scenario.source.startswith("https://"), "a corpus file names its source page"
    assert any(step.expect is not None for step in scenario.steps), "a corpus file checks at least one step"


def test_corpus_covers_every_topic() -> None:
    topics = {p.parent.name for p in FILES}
    wanted = {"same-account", "cross-account", "chaining", "durations", "names", "conditions", "variables",
              "boundaries", "session-policies", "service-linked-roles", "instance-profiles", "s3", "validation",
              "identity", "deny-precedence"}
    assert wanted <= topics, f"topics without a corpus file: {sorted(wanted - topics)}"
    assert len(FILES) >= 150


RECORDED = sorted(p for p in FILES if p.parent.name == "aws-recorded")


@pytest.mark.parametrize("path", RECORDED, ids=_id)
def test_recorded_file_names_its_recording(path: Path) -> None:
    """A file of scenarios/aws-recorded/ says which AWS-validated recording it replays."""
    rec = load(path).extra.get("recorded")
    assert isinstance(rec, dict), "an aws-recorded file carries 'recorded' (test, snapshot keys, dates, commit)"
    assert rec["test"].startswith("tests/aws/services/") and "::" in rec["test"]
    assert rec["snapshot_keys"] and rec["recorded_date"] and len(rec["commit"]) == 40


def test_recorded_corpus_is_there() -> None:
    assert len(RECORDED) >= 200


def test_recorded_steps_the_model_cannot_express_stay_under_5_percent() -> None:
    """Of the recorded steps with an expectation, the reference answers `unsupported` to under 5%
    (a call or an input it does not model); every other one agrees (test above)."""
    total = unsupported = 0
    for path in RECORDED:
        scenario = load(path)
        run = reference().run(scenario)
        for step in scenario.steps:
            if step.expect is not None:
                total += 1
                unsupported += run.outcome(step.id).outcome == "unsupported"
    assert total >= 900
    assert unsupported / total < 0.05, f"{unsupported} of {total} recorded steps are unsupported on reference"
