"""Time the reference model's statement matching: decisions per second over a fixed set of
10,000 random (policy, request) pairs (seeded, so every run measures the same work).

    python benchmarks/policy_decisions.py [--pairs N] [--seed S]

Parsing is done up front (IAM parses a policy once, when it is saved); only
`matching_statements` plus the Deny/Allow/implicit-deny fold is timed.
"""

from __future__ import annotations

import argparse
import random
import time

from rolecall.targets.reference.policy import Principal, Request, matching_statements, parse_policy

ACCOUNTS = ("111111111111", "222222222222")
USERS = ("alice", "bob", "carol")
ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "sts:AssumeRole", "iam:CreateUser",
           "iam:ListAccessKeys", "kms:Decrypt")
BUCKETS = ("data", "logs")


def _statement(rng: random.Random, i: int) -> dict:
    st: dict = {"Sid": f"S{i}", "Effect": rng.choice(("Allow", "Allow", "Deny"))}
    action = rng.choice((["s3:Get*", "s3:List*"], "s3:*", "sts:AssumeRole", "iam:*AccessKey*", "*", ["s3:PutObject"]))
    st["NotAction" if rng.random() < 0.1 else "Action"] = action
    bucket = rng.choice(BUCKETS)
    resource = rng.choice(("*", f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*",
                           f"arn:aws:iam::{rng.choice(ACCOUNTS)}:role/team/*", f"arn:aws:s3:::{bucket}"))
    st["NotResource" if rng.random() < 0.1 else "Resource"] = resource
    conditions = {}
    roll = rng.random()
    if roll < 0.2:
        conditions["Bool"] = {"aws:SecureTransport": "true"}
    elif roll < 0.35:
        conditions["StringEquals"] = {"aws:PrincipalTag/team": rng.sample(["red", "blue", "green"], 2)}
    elif roll < 0.45:
        conditions["IpAddress"] = {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}
    elif roll < 0.55:
        conditions["ForAllValues:StringLike"] = {"aws:TagKeys": ["env", "team*"]}
    elif roll < 0.6:
        conditions["DateLessThan"] = {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
    elif roll < 0.65:
        conditions["StringNotEqualsIfExists"] = {"aws:username": "root"}
    if conditions:
        st["Condition"] = conditions
    return st


def _policy(rng: random.Random):
    doc = {"Version": "2012-10-17", "Statement": [_statement(rng, i) for i in range(rng.randint(1, 5))]}
    return parse_policy(doc, "identity")


def _request(rng: random.Random) -> Request:
    acct = rng.choice(ACCOUNTS)
    user = rng.choice(USERS)
    ctx = {"aws:username": [user], "aws:securetransport": [rng.choice(("true", "false"))],
           "aws:sourceip": [rng.choice(("10.1.2.3", "198.51.100.7", "2001:db8::1"))],
           "aws:currenttime": ["2026-11-27T12:00:00Z"]}
    if rng.random() < 0.7:
        ctx["aws:principaltag/team"] = [rng.choice(("red", "blue", "yellow"))]
    if rng.random() < 0.5:
        ctx["aws:tagkeys"] = rng.sample(["env", "team-a", "owner"], rng.randint(0, 2))
    bucket = rng.choice(BUCKETS)
    resource = rng.choice((f"arn:aws:s3:::{bucket}/home/{user}/notes.txt", f"arn:aws:s3:::{bucket}",
                           f"arn:aws:iam::{acct}:role/team/reader", f"arn:aws:s3:::{bucket}/x/y"))
    principal = Principal(arn=f"arn:aws:iam::{acct}:user/{user}", account=acct, unique_id=f"AIDA{user.upper():0<17}")
    return Request(action=rng.choice(ACTIONS), resource=resource, principal=principal, context=ctx)


def decide(policy, request) -> str:
    effects = {st.effect for st in matching_statements(policy, request)}
    return "Deny" if "Deny" in effects else ("Allow" if effects else "ImplicitDeny")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20121017)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    policies = [_policy(rng) for _ in range(500)]
    pairs = [(rng.choice(policies), _request(rng)) for _ in range(args.pairs)]

    tally: dict[str, int] = {}
    best = float("inf")
    for _ in range(5):  # best of five passes over the same pairs
        start = time.perf_counter()
        for policy, request in pairs:
            decide(policy, request)
        best = min(best, time.perf_counter() - start)
    for policy, request in pairs:
        d = decide(policy, request)
        tally[d] = tally.get(d, 0) + 1
    statements = sum(len(p.statements) for p, _ in pairs) / len(pairs)
    print(f"{len(pairs)} decisions in {best * 1e3:.1f} ms (best of 5): "
          f"{len(pairs) / best:,.0f} decisions/second, {best / len(pairs) * 1e6:.1f} us/decision, "
          f"{statements:.1f} statements/policy on average; outcomes {dict(sorted(tally.items()))}")


if __name__ == "__main__":
    main()
