"""The reference model's policy evaluator against an independent one, cloud-copilot's
iam-simulate (run out of process from npm: rolecall.targets.iam_simulate).

Random requests (strategies/evaluation_requests.py, a fixed seed, a bounded count) are decided
by both. Every disagreement must be a known one: a classifier below, named by a numbered entry
of docs/decisions.md (where the model follows AWS's pages and iam-simulate does not), which this
test reads as the list. Anything else fails with the shrunk request. The pinned iam-simulate is
installed into the rolecall cache folder by `./dev test`; without npm these tests are skipped.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from rolecall.strategies.evaluation_requests import A, BUCKET, TARGET_ROLE, evaluation_requests
from rolecall.targets.iam_simulate import VERSION, IamSimulate, reference_decision

DECISIONS = Path(__file__).resolve().parent.parent / "docs" / "decisions.md"
#: requests per run (about 6 s of CPU; 25 s wall at load 10 on 2 cores)
EXAMPLES = 1000
SEED = 20261201

pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="node and npm are needed to run iam-simulate (node 20 or later)")


@pytest.fixture(scope="module")
def simulate():
    with IamSimulate() as sim:
        yield sim


def allowed(decision: str) -> bool:
    return decision == "Allowed"


def _without(case: dict, *fields: str) -> dict:
    out = copy.deepcopy(case)
    for f in fields:
        out[f] = None
    return out


# ----------------------------------------------------------------------------- known disagreements
# Each: (reference's decision, iam-simulate's decision, request) -> whether this is that
# disagreement. Keyed by the name docs/decisions.md gives it.

def _trust_limited_by_boundary(ours: str, theirs: str, case: dict, sim: IamSimulate) -> bool:
    """decisions.md 4: a trust policy naming the caller in its own account; the model lets the
    caller's boundary and session policy limit it, iam-simulate does not."""
    return (case["action"] == "sts:AssumeRole" and case["principalAccount"] == case["resourceAccount"]
            and not allowed(ours) and allowed(theirs) and bool(case["boundary"] or case["sessionPolicy"])
            and allowed(reference_decision(_without(case, "boundary", "sessionPolicy"))))


def _limited_by_session_policy(ours: str, theirs: str, case: dict, sim: IamSimulate) -> bool:
    """The model allows through a same-account bucket policy; iam-simulate denies only because of
    the session policy."""
    return (case["action"] != "sts:AssumeRole" and case["session"] and bool(case["sessionPolicy"])
            and case["principalAccount"] == case["resourceAccount"] and allowed(ours) and not allowed(theirs)
            and allowed(sim.decide(_without(case, "sessionPolicy"))))


def _principals(case: dict) -> list:
    """Every Principal element of the resource policy's Allow statements."""
    return [st.get("Principal") for st in (case["resourcePolicy"] or {}).get("Statement", [])
            if st.get("Effect") == "Allow"]


def _session_arn_grant(ours: str, theirs: str, case: dict, sim: IamSimulate) -> bool:
    """decisions.md 1: a bucket policy naming the session ARN; the model does not let the session
    policy limit it, iam-simulate does."""
    return (case["principal"] in json.dumps(_principals(case))
            and _limited_by_session_policy(ours, theirs, case, sim))


def _star_grant(ours: str, theirs: str, case: dict, sim: IamSimulate) -> bool:
    """decisions.md 3: a bucket policy granting "*" in the caller's account; the model does not
    let the session policy limit it, iam-simulate does."""
    return (any(p in ("*", {"AWS": "*"}) for p in _principals(case))
            and _limited_by_session_policy(ours, theirs, case, sim))


KNOWN: dict[str, Callable[..., bool]] = {
    "trust-naming-caller-limited-by-boundary": _trust_limited_by_boundary,
    "session-arn-grant-not-limited-by-session-policy": _session_arn_grant,
    "star-grant-not-limited-by-session-policy": _star_grant,
}


def documented() -> dict[str, int]:
    """The known disagreements docs/decisions.md names, each with its entry's number."""
    out: dict[str, int] = {}
    for entry in re.split(r"\n(?=\*\*\d+\.)", DECISIONS.read_text())[1:]:
        number = int(re.match(r"\*\*(\d+)\.", entry).group(1))
        for name in re.findall(r"iam-simulate cross-check:\s+`([a-z0-9-]+)`", entry):
            out[name] = number
    return out


def test_every_known_disagreement_is_a_numbered_decision() -> None:
    assert documented().keys() == KNOWN.keys(), (
        "tests/test_iam_simulate.py KNOWN and docs/decisions.md ('Known to the iam-simulate cross-check: `name`') "
        f"must name the same disagreements: code {sorted(KNOWN)}, docs {sorted(documented())}")


@pytest.mark.slow
def test_reference_and_iam_simulate_agree_on_random_requests(simulate) -> None:
    """Every disagreement on the seeded requests is a documented one; iam-simulate decides most
    requests (it refuses some policies it considers invalid) and both allow and deny occur."""
    tally: Counter = Counter()

    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @seed(SEED)
    @given(evaluation_requests())
    def agree(case: dict) -> None:
        ours, theirs = reference_decision(case), simulate.decide(case)
        if ours.startswith("error") or theirs.startswith("error"):
            tally["refused"] += 1
            return
        if allowed(ours) == allowed(theirs):
            tally["agree, allowed" if allowed(ours) else "agree, denied"] += 1
            return
        known = [name for name, test in KNOWN.items() if test(ours, theirs, case, simulate)]
        assert known, (f"reference {ours}, iam-simulate {VERSION} {theirs}: fix the model (cited) or add a "
                       f"numbered entry to docs/decisions.md and a classifier here\n{json.dumps(case, indent=1)}")
        tally[known[0]] += 1

    agree()
    decided = sum(v for k, v in tally.items() if k != "refused")
    print(f"iam-simulate {VERSION} cross-check: {dict(tally)}")
    assert decided >= 0.9 * EXAMPLES, dict(tally)
    assert tally["agree, allowed"] >= 0.05 * EXAMPLES and tally["agree, denied"] >= 0.05 * EXAMPLES, dict(tally)


# ----------------------------------------------------------------------------- pinned examples

def _case(**over) -> dict:
    alice = f"arn:aws:iam::{A}:user/alice"
    base = {"principal": alice, "principalAccount": A, "session": False, "action": "s3:GetObject",
            "resource": f"arn:aws:s3:::{BUCKET}/x/y", "resourceAccount": A,
            "context": {"aws:PrincipalArn": alice, "aws:PrincipalAccount": A, "aws:PrincipalType": "User",
                        "aws:username": "alice", "aws:userid": "AIDAALICE000000000000", "aws:SecureTransport": "true"},
            "identity": [], "boundary": None, "sessionPolicy": None, "resourcePolicy": None}
    return {**base, **over}


def _policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


BOUNDARY_S3_ONLY = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
SESSION = f"arn:aws:sts::{A}:assumed-role/reader/s1"
SESSION_CONTEXT = {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/team/reader", "aws:PrincipalAccount": A,
                   "aws:PrincipalType": "AssumedRole", "aws:userid": "AROAEXAMPLEROLEID0001:s1"}

#: one request per known disagreement, on which the two still disagree
EXAMPLES_OF_KNOWN = {
    "trust-naming-caller-limited-by-boundary": _case(
        action="sts:AssumeRole", resource=TARGET_ROLE, boundary=BOUNDARY_S3_ONLY,
        resourcePolicy=_policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/alice"},
                                "Action": "sts:AssumeRole"})),
    "session-arn-grant-not-limited-by-session-policy": _case(
        principal=SESSION, session=True, context=SESSION_CONTEXT,
        sessionPolicy=_policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
        resourcePolicy=_policy({"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{BUCKET}/*"})),
    "star-grant-not-limited-by-session-policy": _case(
        principal=SESSION, session=True, context=SESSION_CONTEXT,
        sessionPolicy=_policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
        resourcePolicy=_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{BUCKET}/*"})),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES_OF_KNOWN))
def test_a_known_disagreement_still_disagrees(simulate, name: str) -> None:
    """Once iam-simulate or the model changes so that they agree, the entry goes (the list only shrinks)."""
    case = EXAMPLES_OF_KNOWN[name]
    ours, theirs = reference_decision(case), simulate.decide(case)
    assert allowed(ours) != allowed(theirs), f"{name}: both answer {ours} now; remove it from KNOWN and decisions.md"
    assert KNOWN[name](ours, theirs, case, simulate)


#: disagreements found by this cross-check and fixed in the model: both deny now
FIXED = {
    # A Deny with NotPrincipal applies to any caller with a permissions boundary
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
    "not-principal-deny-with-boundary": _case(
        boundary=BOUNDARY_S3_ONLY, identity=[BOUNDARY_S3_ONLY],
        resourcePolicy=_policy({"Effect": "Deny", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                                "NotPrincipal": {"AWS": [f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:root"]}})),
    # ForAnyValue on an absent key is false, IfExists or not (docs/decisions.md 26).
    "for-any-value-if-exists-on-absent-key": _case(
        identity=[_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                           "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}})]),
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_disagreements_stay_fixed(simulate, name: str) -> None:
    case = FIXED[name]
    assert reference_decision(case) != "Allowed"
    assert simulate.decide(case) != "Allowed"


def test_not_principal_deny_spares_the_named_caller_without_a_boundary(simulate) -> None:
    case = _without(FIXED["not-principal-deny-with-boundary"], "boundary")
    assert reference_decision(case) == simulate.decide(case) == "Allowed"
