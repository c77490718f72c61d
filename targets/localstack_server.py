"""Provision and run a real LocalStack server in host mode (no Docker).

LocalStack (``localstack-core``) needs Python 3.13 and pins versions of boto3/botocore that
clash with moto and boto3 in rolecall's own environment, so each version lives in a virtual
environment of its own under the rolecall cache folder, ``<cache>/localstack-<version>/venv``
(see emulator_server.py for the venv, the port, the health check and the stop by pid). What is
LocalStack's own is here: what to install, its environment in host mode, its health document.

Versions: 4.14.0 (the default) is the last free Docker image's version; ``localstack-core``
2026.3.0 on PyPI (Apache-2.0) starts in host mode without an auth token and runs IAM and STS
on its own providers, not on moto.

Command line (``./dev`` pre-installs the venv with it)::

    python -m rolecall.targets.localstack_server install [--version V]
    python -m rolecall.targets.localstack_server start [--port N] [--pid-file PATH]
    python -m rolecall.targets.localstack_server stop [--pid-file PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from rolecall.targets import emulator_server as es
from rolecall.processes import pid_alive, pid_runs
from rolecall.targets.emulator_server import EmulatorServer, ServerUnavailable, cache_dir, find_python313, poll_health

__all__ = [
    "DEFAULT_VERSION",
    "LocalStackServer",
    "LocalStackUnavailable",
    "REQUIRED_SERVICES",
    "cache_dir",
    "ensure_venv",
    "find_python313",
    "venv_dir",
    "wait_healthy",
]

DEFAULT_VERSION = "4.14.0"
REQUIRED_SERVICES = ("iam", "sts", "s3")
_READY_STATES = ("available", "running")

# `[runtime]` brings rolo, moto-ext, hypercorn, twisted...: without it the server exits with
# "No module named 'rolo'". The other pins keep it importable on Python 3.13, 2026.3.0 too:
# with cbor2 6 its runtime components do not load ("No module named 'cbor2._decoder'"), and
# with pyOpenSSL 24.3 its TLS certificate cannot be made ("'X509' object has no attribute
# 'add_extensions'").
_EXTRA_PINS = ("cbor2<6", "pyopenssl<24.3", "cryptography<44", "service_identity")
_MODULE = "localstack.runtime.main"

#: LocalStack's errors are the emulator servers' (one line); the old name stays for callers
LocalStackUnavailable = ServerUnavailable


def _requirements(version: str) -> list[str]:
    return [f"localstack-core[runtime]=={version}", *_EXTRA_PINS]


def _not_ready(doc: dict, services: tuple[str, ...] = REQUIRED_SERVICES) -> dict[str, str]:
    states = doc.get("services") or {}
    return {s: str(states.get(s, "missing")) for s in services if states.get(s) not in _READY_STATES}


def venv_dir(version: str = DEFAULT_VERSION) -> Path:
    return es.venv_dir("localstack", version)


def install_info(version: str = DEFAULT_VERSION) -> dict | None:
    """What the install recorded (``install_seconds``, ``python``, ``requirements``...), or None."""
    return es.read_marker(venv_dir(version))


def ensure_venv(version: str = DEFAULT_VERSION) -> Path:
    """Return the python of LocalStack's own venv, creating the venv first if it is missing."""
    return LocalStackServer(version=version).ensure_venv()


def wait_healthy(endpoint: str, timeout: float) -> None:
    """Poll ``<endpoint>/_localstack/health`` until iam, sts and s3 are available/running.

    Raises :class:`LocalStackUnavailable` (one-line message) when nothing answers, or when
    what answers is not a LocalStack with those services ready, within ``timeout`` seconds.
    """
    poll_health(endpoint, timeout, label="LocalStack", path="/_localstack/health", not_ready=_not_ready)


def server_env(port: int, workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment LocalStack runs with (host mode, offline, isolated under ``workdir``)."""
    env = es.base_env()
    env.update({
        # /.dockerenv exists on this kind of machine: without this LocalStack thinks it runs in
        # its own container (dirs under /var/lib/localstack, binds 0.0.0.0)
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        # the default server (twisted) ignores the host of GATEWAY_LISTEN and binds 0.0.0.0;
        # hypercorn binds 127.0.0.1 only (and answered faster: ~12 ms vs ~16 ms per call)
        "GATEWAY_SERVER": "hypercorn",
        # URLs LocalStack hands back (S3 Location...) point at this server, not at
        # localhost.localstack.cloud (which needs public DNS)
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        "SERVICES": ",".join(REQUIRED_SERVICES),
        "EAGER_SERVICE_LOADING": "1",  # load iam/sts/s3 before "Ready", not on the first call
        # host-mode folders (state, cache, logs, tmp) under FILESYSTEM_ROOT, per server.
        # (LOCALSTACK_VOLUME_DIR only matters to the CLI's container mount; TMPDIR is a
        # deprecated LocalStack setting and warns)
        "FILESYSTEM_ROOT": str(workdir / "filesystem"),
        "PERSISTENCE": "0",
        "DNS_ADDRESS": "0",  # no DNS server (would bind port 53)
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # no download of the signed TLS cert
        "DISABLE_EVENTS": "1",  # no analytics events
    })
    if extra:
        env.update(extra)
    return env


class LocalStackServer(EmulatorServer):
    """One LocalStack server process in host mode, on 127.0.0.1.

    ``start()`` installs the venv if needed, starts ``python -m localstack.runtime.main``
    directly (its pid is ``self.pid``) and waits until iam, sts and s3 are healthy.
    """

    product = "localstack"
    label = "LocalStack"
    default_version = DEFAULT_VERSION
    module = _MODULE
    health_path = "/_localstack/health"
    # INFO line logged when LocalStack's shutdown hooks run (the DEBUG-only "[shutdown]
    # Completed, bye!" follows ~20 ms later); after it only interpreter teardown is left, which
    # takes seconds (sometimes more than 15). With PERSISTENCE=0 nothing is left to save.
    done_marker = b"[shutdown] Stopping all services"

    def requirements(self) -> list[str]:
        return _requirements(self.version)

    def import_check(self) -> str:
        # the runtime's components (what the missing pins broke) and the TLS API it uses
        return ("import rolo, localstack.config, localstack.runtime.main, localstack.aws.components; "
                "from OpenSSL.crypto import X509; X509.add_extensions")

    def env(self, port: int, workdir: Path) -> dict[str, str]:
        return server_env(port, workdir)

    def not_ready(self, doc: dict) -> dict[str, str]:
        return _not_ready(doc)


# --------------------------------------------------------------------------- CLI


def _default_pid_file(version: str) -> Path:
    return cache_dir() / f"localstack-{version}" / "server.pid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rolecall.targets.localstack_server",
        description="Install, start or stop a host-mode LocalStack server for rolecall.",
    )
    parser.add_argument("command", choices=("install", "start", "stop"))
    parser.add_argument("--version", default=DEFAULT_VERSION, help="localstack-core version")
    parser.add_argument("--port", type=int, default=None, help="port (start; default: a free one)")
    parser.add_argument("--pid-file", type=Path, default=None,
                        help="pid file (default: <cache>/localstack-<version>/server.pid)")
    parser.add_argument("--timeout", type=float, default=120.0, help="start-up timeout, seconds")
    args = parser.parse_args(argv)
    pid_file = args.pid_file or _default_pid_file(args.version)
    try:
        if args.command == "install":
            started = time.monotonic()
            python = ensure_venv(args.version)
            print(f"localstack-core {args.version}: {python} ({time.monotonic() - started:.1f}s)")
            return 0
        if args.command == "start":
            if pid_file.exists():
                old = json.loads(pid_file.read_text())
                if pid_alive(old["pid"]) and pid_runs(old["pid"], _MODULE.encode()):
                    print(f"{old['endpoint']} {old['pid']}")
                    return 0
            log_dir = pid_file.parent / "logs"
            server = LocalStackServer(version=args.version, port=args.port, log_dir=log_dir,
                                      startup_timeout=args.timeout, detached=True)
            endpoint = server.start()
            pid_file.parent.mkdir(parents=True, exist_ok=True)
            pid_file.write_text(json.dumps({
                "pid": server.pid, "endpoint": endpoint, "log": str(server.log_path),
                "workdir": str(server.workdir), "version": args.version,
            }) + "\n")
            print(f"{endpoint} {server.pid}")
            return 0
        # stop
        if not pid_file.exists():
            print(f"no pid file {pid_file}: nothing to stop")
            return 0
        info = json.loads(pid_file.read_text())
        pid = int(info["pid"])
        if pid_alive(pid) and pid_runs(pid, _MODULE.encode()):
            es.terminate(pid, None, log_path=info.get("log"), done_marker=LocalStackServer.done_marker)
            print(f"stopped {pid}")
        else:
            print(f"pid {pid} is not running LocalStack: nothing to stop")
        pid_file.unlink(missing_ok=True)
        if info.get("workdir"):
            shutil.rmtree(Path(info["workdir"]), ignore_errors=True)
        return 0
    except ServerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
