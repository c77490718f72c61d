"""Provision and run a real LocalStack server in host mode (no Docker).

LocalStack (``localstack-core``) needs Python 3.13 and pins versions of boto3/botocore
that clash with moto and boto3 in rolecall's own environment, so it lives in a virtual
environment of its own under the rolecall cache folder::

    ${ROLECALL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/rolecall}/localstack-<version>/venv

That venv is built on first use in a temporary sibling folder and renamed into place only
once ``pip install`` and an import check succeeded, under an ``fcntl`` lock so concurrent
processes (pytest-xdist workers) install it once. Nothing here imports ``localstack``: the
server runs as ``<venv>/bin/python -m localstack.runtime.main`` and is talked to over HTTP.

Command line (used by ``.ci/run`` to pre-install the venv)::

    python -m rolecall.targets.localstack_server install
    python -m rolecall.targets.localstack_server start [--port N] [--pid-file PATH]
    python -m rolecall.targets.localstack_server stop [--pid-file PATH]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

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
# "No module named 'rolo'". The other pins keep 4.14.0 importable on Python 3.13.
_EXTRA_PINS = ("cbor2<6", "pyopenssl<24.3", "cryptography<44", "service_identity")
_COMPLETE_MARKER = ".rolecall-install.json"
_PIP_TIMEOUT = 1800.0
_STOP_TIMEOUT = 15.0  # SIGTERM -> SIGKILL; see _terminate for the usual early SIGKILL


class LocalStackUnavailable(Exception):
    """LocalStack cannot be installed, started or reached. The message is one line."""

    def __init__(self, message: str):
        super().__init__(_one_line(message))


class _ServerExited(LocalStackUnavailable):
    """The server process ended while we waited for it to become healthy."""


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """``$ROLECALL_CACHE``, else ``$XDG_CACHE_HOME/rolecall``, else ``~/.cache/rolecall``."""
    explicit = os.environ.get("ROLECALL_CACHE", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rolecall"


def venv_dir(version: str = DEFAULT_VERSION) -> Path:
    return cache_dir() / f"localstack-{version}" / "venv"


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        major, minor = out.stdout.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        return None


def _pyenv_roots() -> list[Path]:
    roots: list[Path] = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    pyenv = shutil.which("pyenv")
    if pyenv:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                roots.append(Path(out.stdout.strip()))
    roots += [Path.home() / ".pyenv", Path("/root/.pyenv")]
    return roots


def find_python313() -> str:
    """Path of a Python 3.13 interpreter.

    Looked for in order: ``$ROLECALL_PYTHON313``, ``python3.13`` on PATH, then pyenv
    installs (``$PYENV_ROOT``, ``pyenv root``, ``~/.pyenv``) ``versions/3.13*/bin/python3.13``.
    """
    candidates: list[str] = []
    if os.environ.get("ROLECALL_PYTHON313"):
        candidates.append(os.environ["ROLECALL_PYTHON313"])
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(on_path)
    for root in _pyenv_roots():
        versions = root / "versions"
        if versions.is_dir():
            for d in sorted(versions.glob("3.13*"), reverse=True):
                candidates.append(str(d / "bin" / "python3.13"))
    seen: set[str] = set()
    for cand in candidates:
        if cand in seen:
            continue
        seen.add(cand)
        if os.path.isfile(cand) and os.access(cand, os.X_OK) and _python_version(cand) == (3, 13):
            return cand
    raise LocalStackUnavailable(
        "no python3.13 found: install one (pyenv install 3.13) or pass --localstack-endpoint URL"
    )


# --------------------------------------------------------------------------- install


def _read_marker(venv: Path) -> dict | None:
    try:
        return json.loads((venv / _COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None


def _venv_is_complete(venv: Path) -> bool:
    return _venv_python(venv).exists() and _read_marker(venv) is not None


def install_info(version: str = DEFAULT_VERSION) -> dict | None:
    """What the install recorded (``install_seconds``, ``python``, ``requirements``...), or None."""
    return _read_marker(venv_dir(version))


def _rewrite_bin_paths(bin_dir: Path, old: str, new: str) -> None:
    """Point shebangs / activate scripts written for the temp folder at the final folder."""
    for f in bin_dir.iterdir():
        if f.is_symlink() or not f.is_file():
            continue
        try:
            data = f.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:1024] or old.encode() not in data:
            continue
        f.write_bytes(data.replace(old.encode(), new.encode()))


def ensure_venv(version: str = DEFAULT_VERSION) -> Path:
    """Return the python of LocalStack's own venv, creating the venv first if it is missing.

    Safe against concurrent callers (fcntl lock) and interruptions (built in a temporary
    sibling folder, renamed into place only after a successful install and import check).
    """
    venv = venv_dir(version)
    if _venv_is_complete(venv):
        return _venv_python(venv)
    parent = venv.parent
    parent.mkdir(parents=True, exist_ok=True)
    with open(parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _venv_is_complete(venv):  # another process finished while we waited
            return _venv_python(venv)
        # leftovers of interrupted installs (we hold the lock, so none is in progress)
        for stale in parent.glob("venv.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if venv.exists():  # a venv without the completion marker is not trusted
            shutil.rmtree(venv, ignore_errors=True)
        python313 = find_python313()
        tmp = Path(tempfile.mkdtemp(prefix="venv.tmp-", dir=parent))
        log_path = parent / "install.log"
        requirements = [f"localstack-core[runtime]=={version}", *_EXTRA_PINS]
        started = time.monotonic()
        try:
            with open(log_path, "w") as log:
                steps = [
                    ("venv", [python313, "-m", "venv", str(tmp)]),
                    ("pip install", [str(_venv_python(tmp)), "-m", "pip", "install",
                                     "--disable-pip-version-check", "--no-input", *requirements]),
                    # the server must be importable, not just installed
                    ("import check", [str(_venv_python(tmp)), "-c",
                                      "import rolo, moto, localstack.config, localstack.runtime.main"]),
                ]
                for step, cmd in steps:
                    log.write(f"$ {' '.join(cmd)}\n")
                    log.flush()
                    try:
                        rc = subprocess.run(
                            cmd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, timeout=_PIP_TIMEOUT,
                            env={**os.environ, "PIP_NO_INPUT": "1"},
                            # if we are killed, pip must not go on writing into the temp folder
                            preexec_fn=_die_with_parent,
                        ).returncode
                    except subprocess.TimeoutExpired:
                        rc = "timeout"
                    if rc != 0:
                        raise LocalStackUnavailable(
                            f"installing localstack-core {version} failed at {step} (exit {rc});"
                            f" see {log_path}: {_last_line(log_path)}"
                        )
            _rewrite_bin_paths(tmp / "bin", str(tmp), str(venv))
            marker = {
                "version": version,
                "python": python313,
                "requirements": requirements,
                "install_seconds": round(time.monotonic() - started, 2),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / _COMPLETE_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
            os.rename(tmp, venv)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return _venv_python(venv)


# --------------------------------------------------------------------------- health


def _last_line(path: Path | str | None, limit: int = 200) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 8192))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    lines = [ln for ln in lines if ln]
    return _one_line(lines[-1], limit) if lines else "(empty log)"


def _get_health(endpoint: str, timeout: float) -> dict | None:
    """The health document, or None when nothing answered (connection refused, timeout)."""
    url = endpoint.rstrip("/") + "/_localstack/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:  # something answered, but not a healthy LocalStack
        return {"_http_status": exc.code}
    except (urllib.error.URLError, OSError, ValueError):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return {"_http_status": 200, "_not_json": True}
    return doc if isinstance(doc, dict) else {"_http_status": 200, "_not_json": True}


def _not_ready(doc: dict, services: tuple[str, ...]) -> dict[str, str]:
    states = doc.get("services") or {}
    return {s: str(states.get(s, "missing")) for s in services if states.get(s) not in _READY_STATES}


def _poll_health(endpoint, timeout, services=REQUIRED_SERVICES, alive=None, on_dead=None):
    deadline = time.monotonic() + timeout
    last: dict | None = None
    delay = 0.05
    while True:
        if alive is not None and not alive():
            on_dead()
        remaining = deadline - time.monotonic()
        doc = _get_health(endpoint, timeout=max(0.05, min(2.0, remaining)))
        if doc is not None:
            last = doc
            if "_http_status" not in doc and not _not_ready(doc, services):
                return doc
        if time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)
    if last is None:
        raise LocalStackUnavailable(f"LocalStack at {endpoint} did not answer within {timeout:.0f}s")
    if "_http_status" in last:
        what = "non-JSON reply" if last.get("_not_json") else f"HTTP {last['_http_status']}"
        raise LocalStackUnavailable(
            f"{endpoint} answered /_localstack/health with {what}, not LocalStack health,"
            f" within {timeout:.0f}s"
        )
    states = ", ".join(f"{k}={v}" for k, v in _not_ready(last, services).items())
    raise LocalStackUnavailable(
        f"LocalStack at {endpoint} answered but {states} not available within {timeout:.0f}s"
    )


def wait_healthy(endpoint: str, timeout: float) -> None:
    """Poll ``<endpoint>/_localstack/health`` until iam, sts and s3 are available/running.

    Raises :class:`LocalStackUnavailable` (one-line message) when nothing answers, or when
    what answers is not a LocalStack with those services ready, within ``timeout`` seconds.
    """
    _poll_health(endpoint, timeout)


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise LocalStackUnavailable(
                f"cannot start LocalStack on 127.0.0.1:{port}: {exc.strerror or exc}"
            ) from None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); treat it as gone
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    return True


def _is_localstack_pid(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"localstack.runtime.main" in f.read()
    except OSError:
        return False


# Variables passed through from the caller's environment; everything else LocalStack reads
# (DEBUG, PERSISTENCE, SERVICES, AWS_*, ...) is left out so runs are reproducible.
_PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SSL_CERT_FILE",
                    "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def server_env(port: int, workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment LocalStack runs with (host mode, offline, isolated under ``workdir``)."""
    env = {k: os.environ[k] for k in _PASSTHROUGH_ENV if k in os.environ}
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
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if extra:
        env.update(extra)
    return env


class LocalStackServer:
    """One LocalStack server process in host mode, on 127.0.0.1.

    ``start()`` installs the venv if needed, starts ``python -m localstack.runtime.main``
    directly (its pid is ``self.pid``) and waits until iam, sts and s3 are healthy.
    ``stop()`` sends SIGTERM to that pid, then SIGKILL after a timeout. Unless ``detached``,
    the server is stopped at interpreter exit (atexit) and, on Linux, also when the process
    that started it dies (PR_SET_PDEATHSIG, only when started from the main thread).
    """

    def __init__(self, *, version: str = DEFAULT_VERSION, port: int | None = None,
                 log_dir: Path | None = None, startup_timeout: float = 120.0,
                 extra_env: dict[str, str] | None = None, detached: bool = False):
        self.version = version
        self.port = port
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.startup_timeout = startup_timeout
        self.extra_env = dict(extra_env or {})
        self.detached = detached
        self.pid: int | None = None
        self.endpoint: str | None = None
        self.startup_seconds: float | None = None
        self.log_path: Path | None = None
        self.workdir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._start_failed = False
        self._lock = threading.RLock()

    # context manager
    def __enter__(self) -> LocalStackServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalStackServer(version={self.version!r}, endpoint={self.endpoint!r}, pid={self.pid})"

    def start(self) -> str:
        with self._lock:
            if self.endpoint is not None and self.pid is not None and _pid_alive(self.pid):
                return self.endpoint
            if self.pid is not None:  # died since: clean up before starting again
                self.stop()
            python = ensure_venv(self.version)
            if self.port:
                _check_port_free(self.port)
            port = self.port or _free_port()
            self._start_failed = False
            self.workdir = Path(tempfile.mkdtemp(prefix=f"rolecall-localstack-{port}-"))
            log_dir = self.log_dir or self.workdir
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log_path = log_dir / f"localstack-{self.version}-{port}.log"
            env = server_env(port, self.workdir, self.extra_env)
            endpoint = f"http://127.0.0.1:{port}"
            tie = not self.detached and threading.current_thread() is threading.main_thread()
            started = time.monotonic()
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [str(python), "-m", "localstack.runtime.main"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=env, cwd=str(self.workdir), start_new_session=True,
                    preexec_fn=_die_with_parent if tie else None,
                )
            self.pid = self._proc.pid
            if not self.detached:
                atexit.register(self.stop)
            try:
                _poll_health(endpoint, self.startup_timeout, alive=self._alive, on_dead=self._died)
            except _ServerExited:
                self._start_failed = True
                self.stop()
                raise
            except LocalStackUnavailable as exc:
                self._start_failed = True
                self.stop()
                raise LocalStackUnavailable(
                    f"LocalStack {self.version} did not become healthy within "
                    f"{self.startup_timeout:.0f}s ({exc}); log {self.log_path}: {_last_line(self.log_path)}"
                ) from None
            self.startup_seconds = time.monotonic() - started
            self.endpoint = endpoint
            self.port = port
            return endpoint

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _died(self):
        rc = self._proc.returncode if self._proc is not None else None
        raise _ServerExited(
            f"LocalStack {self.version} exited with code {rc} while starting; "
            f"log {self.log_path}: {_last_line(self.log_path)}"
        )

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        with self._lock:
            pid, proc = self.pid, self._proc
            if pid is not None:
                _terminate(pid, proc, timeout, self.log_path)
            self.pid = None
            self._proc = None
            self.endpoint = None
            if not self.detached:
                atexit.unregister(self.stop)
            if self.workdir is not None:
                if self._start_failed and self.log_dir is None:
                    # the error message names the log inside workdir: keep just that
                    shutil.rmtree(self.workdir / "filesystem", ignore_errors=True)
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None


# INFO line logged when LocalStack's shutdown hooks run (the DEBUG-only "[shutdown] Completed,
# bye!" follows ~20 ms later); after it only interpreter teardown is left.
_SHUTDOWN_MARKER = b"[shutdown] Stopping all services"
_SHUTDOWN_GRACE = 1.0


def _terminate(pid: int, proc: subprocess.Popen | None, timeout: float,
               log_path: Path | str | None = None) -> None:
    """SIGTERM ``pid``, wait up to ``timeout``, then SIGKILL and wait (reaping our own child).

    LocalStack runs its shutdown hooks in well under a second, then spends seconds (sometimes
    more than 15) tearing the interpreter down. With PERSISTENCE=0 nothing is left to save
    once it logged "[shutdown] Stopping all services", so after that line it gets
    ``_SHUTDOWN_GRACE`` seconds before SIGKILL.
    """

    def gone() -> bool:
        if proc is not None:
            return proc.poll() is not None
        return not _pid_alive(pid)

    if gone():
        return
    offset = 0
    if log_path:
        with contextlib.suppress(OSError):
            offset = os.path.getsize(log_path)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    seen_done = False
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.05)
        if log_path and not seen_done:
            with contextlib.suppress(OSError):
                with open(log_path, "rb") as f:
                    f.seek(offset)
                    if _SHUTDOWN_MARKER in f.read():
                        seen_done = True
                        deadline = min(deadline, time.monotonic() + _SHUTDOWN_GRACE)
    if not gone():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.05)


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
                if _pid_alive(old["pid"]) and _is_localstack_pid(old["pid"]):
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
        if _pid_alive(pid) and _is_localstack_pid(pid):
            _terminate(pid, None, _STOP_TIMEOUT, info.get("log"))
            print(f"stopped {pid}")
        else:
            print(f"pid {pid} is not running LocalStack: nothing to stop")
        pid_file.unlink(missing_ok=True)
        if info.get("workdir"):
            shutil.rmtree(Path(info["workdir"]), ignore_errors=True)
        return 0
    except LocalStackUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
