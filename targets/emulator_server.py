"""Provision and run an emulator server that rolecall starts itself: its own virtual
environment, a free loopback port, a health check, a pid, and a stop by that pid.

Emulators pin versions of boto3/botocore that clash with moto and boto3 in rolecall's own
environment (and with each other), so each product and version lives in a virtual
environment of its own under the rolecall cache folder::

    ${ROLECALL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/rolecall}/<product>-<version>/venv

A venv is built on first use in a temporary sibling folder and renamed into place only once
``pip install`` and an import check succeeded, under an ``fcntl`` lock so concurrent
processes (pytest-xdist workers) install it once. Nothing here imports an emulator: the
server runs as ``<venv>/bin/python -m <module>`` and is talked to over HTTP.

A product is an `EmulatorServer` subclass (what to install, how to start it, where its
health is); `localstack_server.py` and the target modules hold theirs. Command line (``./dev``
pre-installs the venvs with it)::

    python -m rolecall.targets.emulator_server install [PRODUCT[@VERSION] ...]
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
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
from typing import Any, Callable

from rolecall.processes import die_with_parent, pid_alive

_COMPLETE_MARKER = ".rolecall-install.json"
_PIP_TIMEOUT = 1800.0
_STOP_TIMEOUT = 15.0  # SIGTERM -> SIGKILL

#: the products `install` prepares when none is named (what `./dev test` needs), by import path
PRODUCTS = {
    "localstack": "rolecall.targets.localstack_server:LocalStackServer",
    "ministack": "rolecall.targets.ministack:MiniStackServer",
    "localemu": "rolecall.targets.localemu:LocalEmuServer",
    "moto": "rolecall.targets.moto_server:MotoServer",
}
#: what `install` prepares with no argument: the default version of each server product
#: that CI starts, and moto 5.1.0 (moto's own version runs in process and needs no venv)
INSTALL_DEFAULT = ("localstack", "localstack@2026.3.0", "ministack", "localemu", "moto@5.1.0")


class ServerUnavailable(Exception):
    """An emulator cannot be installed, started or reached. The message is one line."""

    def __init__(self, message: str):
        super().__init__(one_line(message))


class ServerExited(ServerUnavailable):
    """The server process ended while we waited for it to become healthy."""


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def last_line_of(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return one_line(lines[-1], 200) if lines else "(empty)"


def last_line(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return one_line(lines[-1], 200) if lines else "(empty)"


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """``$ROLECALL_CACHE``, else ``$XDG_CACHE_HOME/rolecall``, else ``~/.cache/rolecall``."""
    explicit = os.environ.get("ROLECALL_CACHE", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rolecall"


def venv_dir(product: str, version: str) -> Path:
    return cache_dir() / f"{product}-{version}" / "venv"


def venv_python(venv: Path) -> Path:
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
    roots.append(Path.home() / ".pyenv")
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
    raise ServerUnavailable(
        "no python3.13 found: install one (pyenv install 3.13) or point rolecall at a running server"
    )


# --------------------------------------------------------------------------- install


def read_marker(venv: Path) -> dict | None:
    try:
        return json.loads((venv / _COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None


def venv_is_complete(venv: Path) -> bool:
    return venv_python(venv).exists() and read_marker(venv) is not None


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


def ensure_venv(product: str, version: str, requirements: list[str], import_check: str,
                python: Callable[[], str] = find_python313) -> Path:
    """Return the python of ``product``'s own venv for ``version``, creating it first if missing.

    Safe against concurrent callers (fcntl lock) and interruptions (built in a temporary
    sibling folder, renamed into place only after a successful install and import check).
    """
    venv = venv_dir(product, version)
    if venv_is_complete(venv):
        return venv_python(venv)
    parent = venv.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServerUnavailable(f"cannot create {parent}: {exc.strerror or exc}") from None
    with open(parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if venv_is_complete(venv):  # another process finished while we waited
            return venv_python(venv)
        # leftovers of interrupted installs (we hold the lock, so none is in progress)
        for stale in parent.glob("venv.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if venv.exists():  # a venv without the completion marker is not trusted
            shutil.rmtree(venv, ignore_errors=True)
        interpreter = python()
        tmp = Path(tempfile.mkdtemp(prefix="venv.tmp-", dir=parent))
        log_path = parent / "install.log"
        started = time.monotonic()
        try:
            with open(log_path, "w") as log:
                steps = [
                    ("venv", [interpreter, "-m", "venv", str(tmp)]),
                    ("pip install", [str(venv_python(tmp)), "-m", "pip", "install",
                                     "--disable-pip-version-check", "--no-input", *requirements]),
                    # the server must be importable, not just installed
                    ("import check", [str(venv_python(tmp)), "-c", import_check]),
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
                            preexec_fn=die_with_parent,
                        ).returncode
                    except subprocess.TimeoutExpired:
                        rc = "timeout"
                    if rc != 0:
                        raise ServerUnavailable(
                            f"installing {' '.join(requirements[:1])} failed at {step} (exit {rc});"
                            f" see {log_path}: {_pip_reason(log_path)}"
                        )
            _rewrite_bin_paths(tmp / "bin", str(tmp), str(venv))
            marker = {
                "product": product,
                "version": version,
                "python": interpreter,
                "requirements": requirements,
                "install_seconds": round(time.monotonic() - started, 2),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / _COMPLETE_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
            os.rename(tmp, venv)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return venv_python(venv)


def _pip_reason(log_path: Path) -> str:
    """pip's own reason (its ERROR: line) when there is one, else the log's last line."""
    with contextlib.suppress(OSError):
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("ERROR: "):
                return one_line(line, 200)
    return last_line(log_path)


# --------------------------------------------------------------------------- health


def get_json(url: str, timeout: float) -> dict | None:
    """The JSON document at ``url``, None when nothing answered (refused, timeout), or a dict
    with ``_http_status`` (and ``_not_json``) when something else answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:  # something answered, but not a healthy server
        return {"_http_status": exc.code}
    except (urllib.error.URLError, OSError, ValueError):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return {"_http_status": 200, "_not_json": True}
    return doc if isinstance(doc, dict) else {"_http_status": 200, "_not_json": True}


def poll_health(endpoint: str, timeout: float, *, label: str, path: str,
                not_ready: Callable[[dict], dict[str, str]] = lambda doc: {},
                alive: Callable[[], bool] | None = None, on_dead: Callable[[], Any] | None = None) -> dict:
    """Poll ``<endpoint><path>`` until it answers a JSON document with nothing `not_ready`.

    Raises :class:`ServerUnavailable` (one line) when nothing answers, when what answers is
    not this product's health, or when it stays not ready, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: dict | None = None
    delay = 0.05
    url = endpoint.rstrip("/") + path
    while True:
        if alive is not None and on_dead is not None and not alive():
            on_dead()
        remaining = deadline - time.monotonic()
        doc = get_json(url, timeout=max(0.05, min(2.0, remaining)))
        if doc is not None:
            last = doc
            if "_http_status" not in doc and not not_ready(doc):
                return doc
        if time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)
    if last is None:
        raise ServerUnavailable(f"{label} at {endpoint} did not answer within {timeout:.0f}s")
    if "_http_status" in last:
        what = "non-JSON reply" if last.get("_not_json") else f"HTTP {last['_http_status']}"
        raise ServerUnavailable(f"{endpoint} answered {path} with {what}, not {label} health, within {timeout:.0f}s")
    states = ", ".join(f"{k}={v}" for k, v in not_ready(last).items())
    raise ServerUnavailable(f"{label} at {endpoint} answered but {states} not available within {timeout:.0f}s")


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port: int, label: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ServerUnavailable(f"cannot start {label} on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def terminate(pid: int, proc: subprocess.Popen | None, timeout: float = _STOP_TIMEOUT,
              log_path: Path | str | None = None, done_marker: bytes | None = None,
              grace: float = 1.0) -> None:
    """SIGTERM ``pid``, wait up to ``timeout``, then SIGKILL and wait (reaping our own child).

    A server that logs ``done_marker`` once nothing is left to save gets only ``grace``
    seconds after that line before SIGKILL (LocalStack spends seconds tearing down its
    interpreter after its shutdown hooks ran)."""

    def gone() -> bool:
        if proc is not None:
            return proc.poll() is not None
        return not pid_alive(pid)

    if gone():
        return
    offset = 0
    if log_path and done_marker:
        with contextlib.suppress(OSError):
            offset = os.path.getsize(log_path)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    seen_done = False
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.05)
        if log_path and done_marker and not seen_done:
            with contextlib.suppress(OSError):
                with open(log_path, "rb") as f:
                    f.seek(offset)
                    if done_marker in f.read():
                        seen_done = True
                        deadline = min(deadline, time.monotonic() + grace)
    if not gone():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.05)


# Variables passed through from the caller's environment; everything else an emulator reads
# (DEBUG, PERSISTENCE, SERVICES, AWS_*, AUTH, ...) is left out so runs are reproducible.
PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SSL_CERT_FILE",
                   "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def base_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


# --------------------------------------------------------------------------- server


class EmulatorServer:
    """One emulator server process on 127.0.0.1, from its product's own venv.

    ``start()`` installs the venv if needed, starts the server (its pid is ``self.pid``) and
    waits until its health check passes. ``stop()`` sends SIGTERM to that pid, then SIGKILL
    after a timeout. Unless ``detached``, the server is stopped at interpreter exit (atexit)
    and, on Linux, also when the process that started it dies (PR_SET_PDEATHSIG, only when
    started from the main thread). A subclass says what to install and how to run it.
    """

    #: the folder prefix in the cache and the name in messages
    product = "emulator"
    label = "emulator"
    default_version = ""
    #: the module run as `python -m <module>`; its name marks our pid in /proc/<pid>/cmdline
    module = ""
    health_path = "/health"
    #: a line the server logs once its shutdown hooks ran (then SIGKILL after a second)
    done_marker: bytes | None = None

    def __init__(self, *, version: str | None = None, port: int | None = None,
                 log_dir: Path | None = None, startup_timeout: float = 120.0,
                 extra_env: dict[str, str] | None = None, detached: bool = False):
        self.version = version or self.default_version
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

    # ---- what a product says
    def requirements(self) -> list[str]:
        raise NotImplementedError

    def import_check(self) -> str:
        return f"import {self.module}"

    def python(self) -> str:
        """The interpreter its venv is built from."""
        return find_python313()

    def env(self, port: int, workdir: Path) -> dict[str, str]:
        """The environment the server runs with (loopback only, offline, isolated in workdir)."""
        return base_env()

    def argv(self, python: Path, port: int) -> list[str]:
        return [str(python), "-m", self.module]

    def not_ready(self, doc: dict) -> dict[str, str]:
        """What the health document says is not ready yet (nothing: ready)."""
        return {}

    # ---- the rest is the same for every product
    def ensure_venv(self) -> Path:
        return ensure_venv(self.product, self.version, self.requirements(), self.import_check(), self.python)

    def installed_version(self) -> str:
        """The version of the product's distribution its venv holds, asked of the venv's own Python
        (the code the server runs), e.g. "2026.3.0" for `localstack-core[runtime]==2026.3.0`."""
        import re

        dist = re.split(r"[\[=<>!~ ;]", self.requirements()[0], maxsplit=1)[0]
        python = self.ensure_venv()
        try:
            out = subprocess.run([str(python), "-c", f"from importlib.metadata import version; print(version({dist!r}))"],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ServerUnavailable(f"{self.label} {self.version}: cannot ask its venv for {dist}'s version: {exc}") from None
        if out.returncode != 0 or not out.stdout.strip():
            raise ServerUnavailable(f"{self.label} {self.version}: its venv does not know {dist}'s version: "
                                    f"{last_line_of(out.stderr)}")
        return out.stdout.strip()

    def install_info(self) -> dict | None:
        return read_marker(venv_dir(self.product, self.version))

    def wait_healthy(self, endpoint: str, timeout: float, **kw) -> dict:
        return poll_health(endpoint, timeout, label=self.label, path=self.health_path, not_ready=self.not_ready, **kw)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(version={self.version!r}, endpoint={self.endpoint!r}, pid={self.pid})"

    def start(self) -> str:
        with self._lock:
            if self.endpoint is not None and self.pid is not None and pid_alive(self.pid):
                return self.endpoint
            if self.pid is not None:  # died since: clean up before starting again
                self.stop()
            python = self.ensure_venv()
            if self.port:
                check_port_free(self.port, self.label)
            port = self.port or free_port()
            self._start_failed = False
            self.workdir = Path(tempfile.mkdtemp(prefix=f"rolecall-{self.product}-{port}-"))
            log_dir = self.log_dir or self.workdir
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log_path = log_dir / f"{self.product}-{self.version}-{port}.log"
            env = {**self.env(port, self.workdir), **self.extra_env}
            endpoint = f"http://127.0.0.1:{port}"
            tie = not self.detached and threading.current_thread() is threading.main_thread()
            started = time.monotonic()
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self.argv(python, port),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=env, cwd=str(self.workdir), start_new_session=True,
                    preexec_fn=die_with_parent if tie else None,
                )
            self.pid = self._proc.pid
            if not self.detached:
                atexit.register(self.stop)
            try:
                self.wait_healthy(endpoint, self.startup_timeout, alive=self._alive, on_dead=self._died)
            except ServerExited:
                self._start_failed = True
                self.stop()
                raise
            except ServerUnavailable as exc:
                self._start_failed = True
                self.stop()
                raise ServerUnavailable(
                    f"{self.label} {self.version} did not become healthy within "
                    f"{self.startup_timeout:.0f}s ({exc}); log {self.log_path}: {last_line(self.log_path)}"
                ) from None
            self.startup_seconds = time.monotonic() - started
            self.endpoint = endpoint
            self.port = port
            return endpoint

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _died(self):
        rc = self._proc.returncode if self._proc is not None else None
        raise ServerExited(
            f"{self.label} {self.version} exited with code {rc} while starting; "
            f"log {self.log_path}: {last_line(self.log_path)}"
        )

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        with self._lock:
            pid, proc = self.pid, self._proc
            if pid is not None:
                terminate(pid, proc, timeout, self.log_path, self.done_marker)
            self.pid = None
            self._proc = None
            self.endpoint = None
            if not self.detached:
                atexit.unregister(self.stop)
            if self.workdir is not None:
                if self._start_failed and self.log_dir is None:
                    # the error message names the log inside workdir: keep just that
                    for child in self.workdir.iterdir():
                        if child != self.log_path:
                            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None


def server_class(product: str) -> type[EmulatorServer]:
    """The `EmulatorServer` subclass of a product named in `PRODUCTS`."""
    if product not in PRODUCTS:
        raise ServerUnavailable(f"unknown emulator {product!r} (known: {', '.join(PRODUCTS)})")
    module, _, attr = PRODUCTS[product].partition(":")
    return getattr(importlib.import_module(module), attr)


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"localstack@2026.3.0"`` -> ``("localstack", "2026.3.0")``; no ``@``: version None."""
    name, _, version = spec.partition("@")
    return name, (version or None)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rolecall.targets.emulator_server",
                                     description="Install the emulator servers rolecall starts.")
    parser.add_argument("command", choices=("install",))
    parser.add_argument("products", nargs="*", metavar="PRODUCT[@VERSION]",
                        help=f"default: {' '.join(INSTALL_DEFAULT)}")
    args = parser.parse_args(argv)
    try:
        for spec in args.products or INSTALL_DEFAULT:
            name, version = split_spec(spec)
            server = server_class(name)(version=version)
            started = time.monotonic()
            python = server.ensure_venv()
            print(f"{server.product} {server.version}: {python} ({time.monotonic() - started:.1f}s)")
    except ServerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
