"""An independent policy evaluator to cross-check the reference model with: cloud-copilot's
iam-simulate (https://github.com/cloud-copilot/iam-simulate), run out of process in node.

It is AGPL, so it is never vendored: the pinned version (targets/node/package-lock.json) is
installed from npm into the rolecall cache folder, once, like the emulators' environments::

    ${ROLECALL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/rolecall}/iam-simulate-<version>/node_modules

and ``IamSimulate`` keeps one node process deciding requests, one JSON line each way.
A request ("case") is plain JSON: principal ARN and account, action, resource and its account,
request context (condition keys as AWS names them), identity policies, and optionally a
permissions boundary, a session policy and a resource policy. Command line (``./dev test``
runs it)::

    python -m rolecall.targets.iam_simulate install
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rolecall.targets.emulator_server import cache_dir, one_line

NODE_SOURCE = Path(__file__).resolve().parent / "node"
_LOCK = json.loads((NODE_SOURCE / "package-lock.json").read_text())
#: the pinned iam-simulate version (package-lock.json holds its dependencies' versions too)
VERSION = _LOCK["packages"]["node_modules/@cloud-copilot/iam-simulate"]["version"]
_NPM_TIMEOUT = 600.0


class IamSimulateUnavailable(Exception):
    """node or npm is missing, or the package cannot be installed or started. One line."""

    def __init__(self, message: str):
        super().__init__(one_line(message))


def install_dir() -> Path:
    return cache_dir() / f"iam-simulate-{VERSION}"


def _installed(folder: Path) -> bool:
    return (folder / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json").is_file()


def ensure_installed() -> Path:
    """The folder holding node_modules with the pinned iam-simulate; `npm ci` into a temporary
    sibling and renamed into place on first use (under a lock: xdist workers install it once)."""
    folder = install_dir()
    if _installed(folder):
        return folder
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise IamSimulateUnavailable("node and npm are needed to run iam-simulate (node 20 or later)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".iam-simulate-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(folder):
            return folder
        tmp = Path(tempfile.mkdtemp(prefix=f".iam-simulate-{VERSION}-", dir=folder.parent))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(NODE_SOURCE / name, tmp / name)
            try:
                done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=tmp,
                                      capture_output=True, text=True, timeout=_NPM_TIMEOUT)
            except (OSError, subprocess.SubprocessError) as exc:
                raise IamSimulateUnavailable(f"npm ci failed: {exc}") from None
            if done.returncode != 0 or not _installed(tmp):
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise IamSimulateUnavailable(f"npm ci of iam-simulate {VERSION} failed: {tail}")
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


class IamSimulate:
    """One node process running iam-simulate; `decide(case)` is "Allowed", "ImplicitlyDenied",
    "ExplicitlyDenied", or "error: <message>" when iam-simulate refuses the input."""

    def __init__(self) -> None:
        folder = ensure_installed()
        script = (NODE_SOURCE / "iam_simulate.mjs").read_text()
        self._stderr = tempfile.TemporaryFile("w+")
        try:
            # --eval resolves the package from the working folder, the cache's node_modules
            self._proc = subprocess.Popen(["node", "--input-type=module", "--eval", script], cwd=folder,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                          text=True, bufsize=1)
        except OSError as exc:
            raise IamSimulateUnavailable(f"cannot start node: {exc}") from None

    def decide(self, case: dict) -> str:
        try:
            self._proc.stdin.write(json.dumps(case) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self._stderr.seek(0)
            raise IamSimulateUnavailable(f"iam-simulate stopped: {self._stderr.read()[-400:] or 'no output'}")
        answer = json.loads(line)
        return answer["decision"] if "decision" in answer else f"error: {answer['error']}"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def __enter__(self) -> "IamSimulate":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def reference_decision(case: dict) -> str:
    """The same request decided by the reference model's evaluator, in iam-simulate's words;
    "error: <message>" when the model refuses a policy (malformed, or not modelled)."""
    from rolecall.targets.reference import evaluation
    from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, Principal, Request, parse_policy

    trust = case["action"] == "sts:AssumeRole"
    try:
        identity = [(f"identity{i}", parse_policy(d, "identity")) for i, d in enumerate(case["identity"])]
        boundary = [("boundary", parse_policy(case["boundary"], "boundary"))] if case.get("boundary") else []
        session = [("session", parse_policy(case["sessionPolicy"], "session"))] if case.get("sessionPolicy") else []
        resource = ([("resource", parse_policy(case["resourcePolicy"], "trust" if trust else "bucket"))]
                    if case.get("resourcePolicy") else [])
    except (MalformedPolicy, NotModelled) as exc:
        return f"error: {exc}"
    ctx = case["context"]
    if case["principal"] == "anonymous":
        request = Request(action=case["action"], resource=case["resource"], principal=None,
                          context={k.lower(): [v] for k, v in ctx.items()})
        decision = evaluation.authorize(request, principal_account=None, resource_account=case["resourceAccount"],
                                        identity=evaluation.PolicySet("identity"),
                                        boundary=evaluation.PolicySet("boundary"),
                                        session=evaluation.PolicySet("session"),
                                        resource=evaluation.PolicySet("resource", resource), principal_kind="anonymous")
        return "Allowed" if decision.allowed else "ExplicitlyDenied" if decision.explicit else "ImplicitlyDenied"
    principal = Principal(arn=case["principal"], account=case["principalAccount"],
                          unique_id=str(ctx["aws:userid"]).split(":")[0],
                          role_arn=ctx["aws:PrincipalArn"] if case["session"] else None, bounded=bool(boundary))
    request = Request(action=case["action"], resource=case["resource"], principal=principal,
                      context={k.lower(): (v if isinstance(v, list) else [v]) for k, v in ctx.items()})
    decision = evaluation.authorize(request, principal_account=case["principalAccount"], resource_account=case["resourceAccount"],
                         identity=evaluation.PolicySet("identity", identity), boundary=evaluation.PolicySet("boundary", boundary),
                         session=evaluation.PolicySet("session", session), resource=evaluation.PolicySet("resource", resource),
                         is_trust=trust, principal_kind="session" if case["session"] else "user")
    if decision.allowed:
        return "Allowed"
    return "ExplicitlyDenied" if decision.explicit else "ImplicitlyDenied"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rolecall.targets.iam_simulate",
                                     description="Install the pinned iam-simulate into the rolecall cache folder.")
    parser.add_argument("command", choices=("install",))
    parser.parse_args(argv)
    try:
        print(f"iam-simulate {VERSION}: {ensure_installed()}")
    except IamSimulateUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
