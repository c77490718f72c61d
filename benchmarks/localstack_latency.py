"""Start-up time and per-call latency of a host-mode LocalStack server.

    .venv/bin/python benchmarks/localstack_latency.py [--calls 200] [--starts 1] [--lazy]

Prints: the venv install time (measured now if the venv was missing, otherwise the time
recorded when it was installed), the start-up time of each start (process spawn until iam,
sts and s3 report healthy; the venv install is not included), and the median / p90 latency
of ``--calls`` boto3 calls each of sts:GetCallerIdentity, iam:GetRole and s3:GetObject,
with clients reused and one warm-up call each that is not counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import boto3
from botocore.config import Config

from rolecall.targets import localstack_server as ls


def _client(service: str, endpoint: str):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="000000000001", aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def _measure(fn, calls: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--starts", type=int, default=1, help="start/stop cycles to time")
    parser.add_argument("--lazy", action="store_true",
                        help="EAGER_SERVICE_LOADING=0 (services load on their first call)")
    parser.add_argument("--version", default=ls.DEFAULT_VERSION)
    args = parser.parse_args(argv)

    had_venv = ls.install_info(args.version) is not None
    t0 = time.monotonic()
    ls.ensure_venv(args.version)
    info = ls.install_info(args.version) or {}
    if had_venv:
        print(f"venv install: {info.get('install_seconds')}s"
              f" (recorded at install, {info.get('installed_at')})")
    else:
        print(f"venv install: {time.monotonic() - t0:.1f}s (measured now)")

    extra = {"EAGER_SERVICE_LOADING": "0"} if args.lazy else {}
    results: dict[str, object] = {"version": args.version, "lazy": args.lazy,
                                  "venv_install_seconds": info.get("install_seconds")}
    startups, stops = [], []
    for i in range(args.starts):
        server = ls.LocalStackServer(version=args.version, extra_env=extra)
        endpoint = server.start()
        startups.append(server.startup_seconds)
        print(f"start-up #{i + 1}: {server.startup_seconds:.2f}s (pid {server.pid}, {endpoint})")
        last = i == args.starts - 1
        if last:
            break
        t = time.monotonic()
        server.stop()
        stops.append(time.monotonic() - t)

    try:
        iam, sts, s3 = (_client(s, endpoint) for s in ("iam", "sts", "s3"))
        first = {}
        t = time.perf_counter()
        iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"AWS": "arn:aws:iam::000000000001:root"}}]}))
        first["iam:CreateRole (first iam call)"] = time.perf_counter() - t
        t = time.perf_counter()
        s3.create_bucket(Bucket="bench-bucket")
        first["s3:CreateBucket (first s3 call)"] = time.perf_counter() - t
        s3.put_object(Bucket="bench-bucket", Key="k", Body=b"x" * 1024)

        ops = {
            "sts:GetCallerIdentity": sts.get_caller_identity,
            "iam:GetRole": lambda: iam.get_role(RoleName="bench-role"),
            "s3:GetObject": lambda: s3.get_object(Bucket="bench-bucket", Key="k")["Body"].read(),
        }
        for label, secs in first.items():
            print(f"{label}: {secs * 1000:.0f} ms")
        print(f"{'operation':<24}{'calls':>6}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}")
        lat = {}
        for name, fn in ops.items():
            samples = _measure(fn, args.calls)
            lat[name] = {"median_ms": round(statistics.median(samples) * 1000, 2),
                         "p90_ms": round(_pct(samples, 90) * 1000, 2),
                         "max_ms": round(max(samples) * 1000, 2)}
            print(f"{name:<24}{args.calls:>6}{lat[name]['median_ms']:>11.2f}"
                  f"{lat[name]['p90_ms']:>9.2f}{lat[name]['max_ms']:>9.2f}")
    finally:
        t = time.monotonic()
        server.stop()
        stops.append(time.monotonic() - t)
    print(f"stop: {', '.join(f'{s:.2f}s' for s in stops)}")
    results.update(startup_seconds=[round(s, 2) for s in startups],
                   stop_seconds=[round(s, 2) for s in stops], latency=lat)
    print("json:", json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
