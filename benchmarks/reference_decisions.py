"""Time the reference model's authorization decisions on a prepared model: AssumeRole calls
(trust + identity + boundary evaluation, session creation), S3 GetObject calls (identity +
bucket policy) and bare `access.decide` calls. Prints decisions per second and µs per decision.

    python benchmarks/reference_decisions.py [--calls N]

The world is created once (as an administrator would); only the calls are timed. The mix
alternates allowed and denied, same-account, cross-account and chained requests.
"""
from __future__ import annotations

import argparse
import json
import time

from rolecall.targets.reference import access, iam, s3, sts
from rolecall.targets.reference.model import Caller, Model

A, B = "111111111111", "222222222222"


def _doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def prepare() -> tuple[Model, dict[str, Caller]]:
    model = Model()
    admins = {acct: Caller("admin", acct) for acct in (A, B)}
    for acct, admin in admins.items():
        iam.CreatePolicy(model, admin, {"PolicyName": "boundary", "PolicyDocument": _doc(_allow(["sts:*", "s3:*"]))})
        for user in ("alice", "bob", "carol"):
            params = {"UserName": user}
            if user == "carol":
                params["PermissionsBoundary"] = f"arn:aws:iam::{acct}:policy/boundary"
            iam.CreateUser(model, admin, params)
            iam.PutUserPolicy(model, admin, {"UserName": user, "PolicyName": "p", "PolicyDocument": _doc(
                _allow("sts:AssumeRole", f"arn:aws:iam::*:role/team/*"),
                _allow("s3:GetObject", "arn:aws:s3:::data-*/*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})})
    a = admins[A]
    iam.CreateRole(model, a, {"RoleName": "reader", "Path": "/team/", "AssumeRolePolicyDocument": _doc(
        {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{B}:root"]},
         "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole",
         "Condition": {"StringLike": {"sts:RoleSessionName": "ci-*"}}})})
    iam.PutRolePolicy(model, a, {"RoleName": "reader", "PolicyName": "p", "PolicyDocument": _doc(
        _allow("sts:AssumeRole"), _allow("s3:GetObject", "arn:aws:s3:::data-a/*"))})
    iam.CreateRole(model, a, {"RoleName": "second", "Path": "/team/", "AssumeRolePolicyDocument": _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/team/reader"}, "Action": "sts:AssumeRole"})})
    s3.CreateBucket(model, a, {"Bucket": "data-a"})
    s3.PutBucketPolicy(model, a, {"Bucket": "data-a", "Policy": _doc(
        {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{B}:user/alice", f"arn:aws:iam::{A}:user/bob"]},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-a/*"})})
    s3.PutObject(model, a, {"Bucket": "data-a", "Key": "k", "Body": "v"})
    callers = {}
    for acct in (A, B):
        for user in ("alice", "bob", "carol"):
            callers[f"{acct}:{user}"] = Caller("user", acct, user=model.account(acct).users[user])
    session, _ = sts.AssumeRole(model, callers[f"{A}:alice"], {"RoleArn": f"arn:aws:iam::{A}:role/team/reader",
                                                               "RoleSessionName": "bench"})
    callers["session"] = model.caller(session["Credentials"]["AccessKeyId"])
    return model, callers


def _time(label: str, n: int, fn) -> None:
    start = time.perf_counter()
    allowed = 0
    for i in range(n):
        allowed += fn(i)
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {n:>7} decisions  {n / elapsed:>10,.0f}/s  {elapsed / n * 1e6:>8.1f} µs/decision"
          f"  ({allowed} allowed)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000, help="calls per kind (default 10000)")
    n = parser.parse_args(argv).calls
    if n < 1:
        parser.error("--calls must be at least 1")
    model, callers = prepare()
    role = f"arn:aws:iam::{A}:role/team/reader"
    second = f"arn:aws:iam::{A}:role/team/second"
    assume_mix = [(callers[f"{A}:alice"], role, "s1"), (callers[f"{A}:bob"], role, "s2"),
                  (callers[f"{A}:bob"], role, "ci-7"), (callers[f"{B}:alice"], role, "x1"),
                  (callers[f"{A}:carol"], second, "c1"), (callers["session"], second, "chain")]

    def assume(i: int) -> int:
        caller, arn, name = assume_mix[i % len(assume_mix)]
        try:
            sts.AssumeRole(model, caller, {"RoleArn": arn, "RoleSessionName": name})
            return 1
        except Exception:
            return 0

    get_mix = [callers[f"{A}:alice"], callers[f"{A}:bob"], callers[f"{B}:alice"], callers[f"{B}:bob"], callers["session"]]

    def get(i: int) -> int:
        try:
            s3.GetObject(model, get_mix[i % len(get_mix)], {"Bucket": "data-a", "Key": "k"})
            return 1
        except Exception:
            return 0

    bucket = model.buckets["data-a"]

    def decide(i: int) -> int:
        caller = get_mix[i % len(get_mix)]
        return int(access.decide(model, caller, "s3:GetObject", "arn:aws:s3:::data-a/k", resource_account=A,
                                 resource_policy=("bucket policy", bucket.policy)).allowed)

    print(f"reference model, {n} calls per kind")
    _time("sts:AssumeRole (full call)", n, assume)
    _time("s3:GetObject (full call)", n, get)
    _time("access.decide (policy evaluation)", n, decide)


if __name__ == "__main__":
    main()
