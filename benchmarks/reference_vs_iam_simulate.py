"""The reference model's policy decisions per second next to cloud-copilot's iam-simulate, on
the same seeded requests, in one run; and how often the two agree.

    .venv/bin/python benchmarks/reference_vs_iam_simulate.py [--requests 2000] [--repeats 5] [--seed S]

Each request is a caller (an IAM user or a role session, in the resource's account or
another), an action on a resource (s3 object or bucket; sts:AssumeRole on a role) with a
request context, the caller's identity policies, maybe a permissions boundary, and maybe a
resource policy (bucket policy, or the role's trust policy). Both sides get the same JSON.
Only the decision loops are timed (medians of `--repeats` passes after a warm-up pass),
never process start or imports. Tiers, like with like:
  from documents  reference: parse_policy of every document + authorize, per request;
                  iam-simulate: runSimulation (validates and loads every policy, per request)
  parsed once     reference: authorize on policies parsed up front (IAM parses on save);
                  iam-simulate: runSimulation on ValidatedPolicy objects made up front, and
                  runUnsafeSimulation (no validation)
iam-simulate is installed into benchmarks/node/ with `npm install` when missing (node 20+).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import SEED, header, median
from rolecall.targets.reference.evaluation import PolicySet, authorize
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, Principal, Request, parse_policy

NODE_DIR = Path(__file__).resolve().parent / "node"
A, B = "111111111111", "222222222222"
USERS = ("alice", "bob")
ROLE = f"arn:aws:iam::{A}:role/team/reader"
BUCKET = "data-a"


def _user(acct: str, name: str) -> str:
    return f"arn:aws:iam::{acct}:user/{name}"


def _cond(rng: random.Random, kind: str) -> dict | None:
    roll = rng.random()
    if roll < 0.15:
        return {"Bool": {"aws:SecureTransport": "true"}}
    if roll < 0.3:
        return {"StringEquals": {"aws:PrincipalTag/team": rng.sample(["red", "blue", "green"], 2)}}
    if roll < 0.4:
        return {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}
    if roll < 0.45:
        return {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
    if roll < 0.5:
        return {"StringNotEqualsIfExists": {"aws:username": "root"}}
    if kind != "identity" and roll < 0.6:
        return {"StringEquals": {"aws:PrincipalAccount": rng.choice((A, B))}}
    if kind == "trust" and roll < 0.7:
        return {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{rng.choice((A, B))}:*"}}
    return None


def _principal_element(rng: random.Random) -> dict | str:
    choices = [_user(A, "alice"), _user(B, "alice"), _user(A, "bob"), f"arn:aws:iam::{B}:root",
               f"arn:aws:iam::{A}:root", B, ROLE, f"arn:aws:iam::{B}:role/team/writer"]
    if rng.random() < 0.1:
        return "*"
    picked = rng.sample(choices, rng.randint(1, 2))
    return {"AWS": picked[0] if len(picked) == 1 else picked}


def _identity_statement(rng: random.Random) -> dict:
    st: dict = {"Effect": rng.choice(("Allow", "Allow", "Allow", "Deny"))}
    action = rng.choice((["s3:Get*", "s3:List*"], "s3:*", "sts:AssumeRole", "*", ["s3:PutObject"],
                         "s3:GetObject", ["sts:AssumeRole", "s3:GetObject"]))
    st["NotAction" if rng.random() < 0.08 else "Action"] = action
    resource = rng.choice(("*", f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*",
                           "arn:aws:iam::*:role/team/*", f"arn:aws:s3:::{BUCKET}", ROLE))
    st["NotResource" if rng.random() < 0.08 else "Resource"] = resource
    cond = _cond(rng, "identity")
    if cond:
        st["Condition"] = cond
    return st


def _doc(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def _bucket_policy(rng: random.Random) -> dict:
    out = []
    for _ in range(rng.randint(1, 3)):
        st = {"Effect": rng.choice(("Allow", "Allow", "Deny")), "Principal": _principal_element(rng),
              "Action": rng.choice(("s3:GetObject", "s3:*", ["s3:GetObject", "s3:PutObject"], "s3:ListBucket")),
              "Resource": rng.choice((f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}",
                                      [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]))}
        cond = _cond(rng, "bucket")
        if cond:
            st["Condition"] = cond
        out.append(st)
    return _doc(out)


def _trust_policy(rng: random.Random) -> dict:
    out = []
    for _ in range(rng.randint(1, 2)):
        st = {"Effect": rng.choice(("Allow", "Allow", "Allow", "Deny")), "Principal": _principal_element(rng),
              "Action": "sts:AssumeRole"}
        cond = _cond(rng, "trust")
        if cond:
            st["Condition"] = cond
        out.append(st)
    return _doc(out)


def make_case(rng: random.Random) -> dict:
    acct = rng.choice((A, A, B))
    session = rng.random() < 0.3
    context: dict[str, object] = {
        "aws:SecureTransport": rng.choice(("true", "false")),
        "aws:SourceIp": rng.choice(("10.1.2.3", "198.51.100.7")),
        "aws:CurrentTime": "2026-11-27T12:00:00Z",
        "aws:PrincipalAccount": acct,
    }
    if session:
        role = "reader" if acct == A else "writer"
        principal = f"arn:aws:sts::{acct}:assumed-role/{role}/s1"
        context.update({"aws:PrincipalArn": f"arn:aws:iam::{acct}:role/team/{role}",
                        "aws:PrincipalType": "AssumedRole", "aws:userid": "AROAEXAMPLEROLEID0001:s1"})
    else:
        user = rng.choice(USERS)
        principal = _user(acct, user)
        context.update({"aws:PrincipalArn": principal, "aws:PrincipalType": "User", "aws:username": user,
                        "aws:userid": f"AIDA{user.upper():0<17}"})
    if rng.random() < 0.7:
        context["aws:PrincipalTag/team"] = rng.choice(("red", "blue", "yellow"))
    if rng.random() < 0.25:
        action, resource = "sts:AssumeRole", ROLE
        resource_policy = _trust_policy(rng)  # a role always has one
    else:
        action = rng.choice(("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"))
        user_part = context.get("aws:username", "s1")
        resource = (f"arn:aws:s3:::{BUCKET}" if action == "s3:ListBucket"
                    else f"arn:aws:s3:::{BUCKET}/" + rng.choice((f"home/{user_part}/notes.txt", "x/y")))
        resource_policy = _bucket_policy(rng) if rng.random() < 0.6 else None
    identity = [_doc([_identity_statement(rng) for _ in range(rng.randint(1, 4))])
                for _ in range(rng.choice((0, 1, 1, 2)))]
    boundary = _doc([_identity_statement(rng) for _ in range(rng.randint(1, 2))]) if rng.random() < 0.2 else None
    return {"principal": principal, "principalAccount": acct, "session": session, "action": action,
            "resource": resource, "resourceAccount": A, "context": context, "identity": identity,
            "boundary": boundary, "resourcePolicy": resource_policy}


# ---------------------------------------------------------------- the reference side

def _parsed(case: dict) -> dict:
    kind = "trust" if case["action"] == "sts:AssumeRole" else "bucket"
    return {"identity": [parse_policy(d, "identity") for d in case["identity"]],
            "boundary": parse_policy(case["boundary"], "boundary") if case["boundary"] else None,
            "resource": parse_policy(case["resourcePolicy"], kind) if case["resourcePolicy"] else None}


def _request(case: dict) -> Request:
    if case["session"]:
        role_arn = case["context"]["aws:PrincipalArn"]
        principal = Principal(arn=case["principal"], account=case["principalAccount"],
                              unique_id="AROAEXAMPLEROLEID0001", role_arn=role_arn)
    else:
        principal = Principal(arn=case["principal"], account=case["principalAccount"],
                              unique_id=case["context"]["aws:userid"])
    ctx = {k.lower(): (v if isinstance(v, list) else [v]) for k, v in case["context"].items()}
    return Request(action=case["action"], resource=case["resource"], principal=principal, context=ctx)


def decide(case: dict, request: Request, parsed: dict) -> bool:
    identity = PolicySet("identity", [(f"identity{i}", p) for i, p in enumerate(parsed["identity"])])
    boundary = PolicySet("boundary", [("boundary", parsed["boundary"])] if parsed["boundary"] else [])
    resource = PolicySet("resource", [("resource", parsed["resource"])] if parsed["resource"] else [])
    return authorize(request, principal_account=case["principalAccount"], resource_account=case["resourceAccount"],
                     identity=identity, boundary=boundary, session=PolicySet("session"), resource=resource,
                     is_trust=case["action"] == "sts:AssumeRole",
                     principal_kind="session" if case["session"] else "user").allowed


def cases_for(n: int, seed: int) -> tuple[list[dict], Counter]:
    """`n` cases the reference model can decide (it refuses keys it does not model)."""
    rng = random.Random(seed)
    out: list[dict] = []
    dropped: Counter = Counter()
    while len(out) < n:
        case = make_case(rng)
        try:
            _parsed(case)
        except (MalformedPolicy, NotModelled) as exc:
            dropped[type(exc).__name__] += 1
            continue
        out.append(case)
    return out, dropped


def time_reference(cases: list[dict], repeats: int) -> dict[str, list[float]]:
    requests = [_request(c) for c in cases]
    parsed = [_parsed(c) for c in cases]

    def from_documents() -> None:
        for c, r in zip(cases, requests):
            decide(c, r, _parsed(c))

    def parsed_once() -> None:
        for c, r, p in zip(cases, requests, parsed):
            decide(c, r, p)

    out: dict[str, list[float]] = {}
    for label, fn in (("from documents", from_documents), ("parsed once", parsed_once)):
        fn()  # warm-up
        passes = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            passes.append(time.perf_counter() - t0)
        out[label] = passes
    return out


# ---------------------------------------------------------------- the node side

def ensure_iam_simulate() -> None:
    if (NODE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        sys.exit("reference_vs_iam_simulate: node and npm are needed (node 20+)")
    print(f"# installing iam-simulate into {NODE_DIR} (npm install)", flush=True)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"reference_vs_iam_simulate: npm install failed: {done.stderr.strip().splitlines()[-1:]}")


def run_node(cases: list[dict], repeats: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(cases, fh)
        path = fh.name
    try:
        done = subprocess.run(["node", str(NODE_DIR / "iam_simulate_bench.mjs"), path, str(repeats)],
                              cwd=NODE_DIR, capture_output=True, text=True)
    finally:
        Path(path).unlink(missing_ok=True)
    if done.returncode != 0:
        sys.exit(f"reference_vs_iam_simulate: node failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _summary(case: dict) -> str:
    who = case["principal"].replace(f"arn:aws:iam::{A}:", "A:").replace(f"arn:aws:iam::{B}:", "B:")
    who = who.replace(f"arn:aws:sts::{A}:", "A:").replace(f"arn:aws:sts::{B}:", "B:")
    return f"{who} {case['action']} {case['resource']}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--show", type=int, default=3, help="disagreements to print in full")
    args = ap.parse_args(argv)
    if args.requests < 1 or args.repeats < 1:
        ap.error("--requests and --repeats must be at least 1")
    ensure_iam_simulate()
    header("reference model vs iam-simulate: policy decisions per second on the same requests")
    cases, dropped = cases_for(args.requests, args.seed)
    print(f"# {len(cases)} requests (seed {args.seed}; {sum(dropped.values())} drawn cases the reference refuses "
          f"were redrawn: {dict(dropped)}); medians of {args.repeats} passes after a warm-up pass")
    ref = time_reference(cases, args.repeats)
    node = run_node(cases, args.repeats)
    rates = {f"reference: {k}": len(cases) / median(v) for k, v in ref.items()}
    rates.update({f"iam-simulate {node['version']}: {k}": len(cases) / median(v) for k, v in node["timings"].items()})
    for label, rate in rates.items():
        print(f"{label:<48}{rate:>10,.0f} decisions/s  {1e6 / rate:>8.1f} us/decision")
    ref_docs, ref_parsed = rates["reference: from documents"], rates["reference: parsed once"]
    sim = {k.split(": ", 1)[1]: v for k, v in rates.items() if k.startswith("iam-simulate")}
    print(f"ratio, from documents (reference / runSimulation):          {ref_docs / sim['runSimulation']:.2f}x")
    print(f"ratio, parsed once (reference / runSimulation on validated): {ref_parsed / sim['runSimulation/pre']:.2f}x")
    print(f"ratio, parsed once (reference / runUnsafeSimulation):        {ref_parsed / sim['runUnsafeSimulation']:.2f}x")
    print("# goal: the reference at least as fast (ratio >= 1)")

    requests = [_request(c) for c in cases]
    ours = ["Allowed" if decide(c, r, _parsed(c)) else "Denied" for c, r in zip(cases, requests)]
    theirs = node["decisions"]
    agree = sum((o == "Allowed") == (t == "Allowed") for o, t in zip(ours, theirs) if t != "error")
    errors = sum(t == "error" for t in theirs)
    decided = len(cases) - errors
    print(f"agreement on allow/deny: {agree}/{decided} ({agree / decided:.1%}) of the requests iam-simulate "
          f"decided; {errors} it refused (resultType error); reference allowed {ours.count('Allowed')}, "
          f"iam-simulate allowed {theirs.count('Allowed')}")
    if node["errors"]:
        msgs = Counter(e["message"] for e in node["errors"])
        print(f"iam-simulate errors (first {len(node['errors'])}): {dict(msgs)}")
    kinds: Counter = Counter()
    shown = 0
    for c, o, t in zip(cases, ours, theirs):
        if t == "error" or (o == "Allowed") == (t == "Allowed"):
            continue
        kinds[(c["action"], "session" if c["session"] else "user",
               "same account" if c["principalAccount"] == c["resourceAccount"] else "cross account",
               f"reference {o}, iam-simulate {t}")] += 1
        if shown < args.show:
            shown += 1
            print(f"- disagreement: {_summary(c)}: reference {o}, iam-simulate {t}")
            print("  " + json.dumps({k: c[k] for k in ("context", "identity", "boundary", "resourcePolicy")}))
    for kind, count in kinds.most_common():
        print(f"  {count:>5} x {' / '.join(kind)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
