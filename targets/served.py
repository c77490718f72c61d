"""A target served by an emulator server that rolecall starts (or that a URL names).

With no endpoint, one server per product, version and settings is started per process on a
free loopback port, from the product's own virtual environment (emulator_server.py), and
stopped at exit; targets of the same process share it. Accounts: these emulators take the
account from a 12-digit access key id, and each target picks its ids from a random base, so
targets sharing one server never share an account; the administrator of an account calls
with that account id as its key (the account's root user on these emulators).

Memory: an emulator keeps every account it has seen. A server rolecall started is restarted
between scenarios once its resident memory passes ROLECALL_<PRODUCT>_MAX_RSS_MB (default
3072); scenarios are self-contained, so nothing is lost but the restart's few seconds. A
server given by endpoint is left alone.
"""
from __future__ import annotations

import os
import threading

from rolecall.targets import account_pool
from rolecall.targets.base import CallFailed, CallResult, Credentials, TargetUnavailable
from rolecall.targets.boto import Boto3Target
from rolecall.targets.emulator_server import EmulatorServer, ServerUnavailable

#: scenarios between two looks at the server's memory
CHECK_EVERY = 20

_shared: dict[tuple, EmulatorServer] = {}
_shared_lock = threading.Lock()


def shared_server(server_class: type[EmulatorServer], version: str | None = None,
                  extra_env: dict[str, str] | None = None) -> EmulatorServer:
    """The one server of this product, version and settings this process starts (on first use)."""
    key = (server_class, version or server_class.default_version, tuple(sorted((extra_env or {}).items())))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = server_class(version=version, extra_env=extra_env)
        return _shared[key]


def stop_shared() -> None:
    """Stop every server this process started (each is started again on its next use): a caller that
    runs servers one after another (`rolecall matrix`) keeps one running at a time."""
    with _shared_lock:
        servers = list(_shared.values())
    for server in servers:
        server.stop()
        server.port = None


def resident_mb(pid: int) -> float:
    """A process's resident memory in MiB (Linux /proc; 0 where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


#: how long a server given by URL has to answer its health check (it may still be starting)
ENDPOINT_WAIT_ENV, ENDPOINT_WAIT_S = "ROLECALL_ENDPOINT_WAIT", 15.0


def endpoint_wait() -> float:
    """Seconds a given endpoint has to answer: ROLECALL_ENDPOINT_WAIT, else 15."""
    value = os.environ.get(ENDPOINT_WAIT_ENV, "").strip()
    try:
        seconds = float(value) if value else ENDPOINT_WAIT_S
    except ValueError:
        seconds = -1.0
    if not seconds > 0:  # a bad setting: one line, exit 2, before any work (the CLI builds targets first)
        raise ValueError(f"{ENDPOINT_WAIT_ENV} must be a number of seconds above 0, not {value!r}")
    return seconds


class ServedTarget(Boto3Target):
    """A Boto3Target whose endpoint is a server of `server_class` (see the module docstring)."""

    server_class: type[EmulatorServer] = EmulatorServer
    #: settings the server runs with for this target (e.g. AUTH=true)
    server_settings: dict[str, str] = {}
    #: an environment variable naming a running server to use instead of starting one
    endpoint_env: str | None = None
    max_rss_env = ""
    #: how the product runs for this target, in its product string: "host", "auth", or ""
    mode = ""
    #: give scenarios accounts that earlier scenarios used, emptied first (account_pool.py): for
    #: servers whose fresh account costs more than deleting what a scenario made
    reuse_accounts = False
    #: a lane of a run that is done with its own cells may take this target's: it starts a
    #: server of its own (two servers for two lanes; seconds to start against minutes of cells)
    movable = True

    def __init__(self, endpoint: str | None = None, version: str | None = None) -> None:
        super().__init__()
        self.version = version or self.server_class.default_version
        self._given = endpoint or (os.environ.get(self.endpoint_env) if self.endpoint_env else None) or None
        self._wait = endpoint_wait() if self._given else None
        self._runs = 0
        self.restarts = 0
        self.spare_accounts = account_pool.AccountPool()
        self._journal: account_pool.Journal | None = None
        self._fresh: set[str] = set()
        env = self.max_rss_env or f"ROLECALL_{self.server_class.product.upper()}_MAX_RSS_MB"
        try:
            self.max_rss_mb = int(os.environ.get(env, "3072"))
        except ValueError:
            raise TargetUnavailable(f"{self.name}: {env} must be a number of MiB, not {os.environ[env]!r}") from None

    def server(self) -> EmulatorServer:
        return shared_server(self.server_class, self.version, self.settings())

    def settings(self) -> dict[str, str]:
        return dict(self.server_settings)

    def provision(self) -> None:
        """Install this version's environment now if it is missing (nothing is started)."""
        if self._given:
            return
        try:
            self.server().ensure_venv()
        except ServerUnavailable as exc:
            raise TargetUnavailable(f"{self.name}: {exc}") from None

    def open(self) -> None:
        if self.endpoint_url is not None:
            return
        try:
            if self._given:
                self._health = self.server_class(version=self.version).wait_healthy(self._given, timeout=self._wait)
                self.endpoint_url = self._given.rstrip("/")
            else:
                self.endpoint_url = self.server().start()
        except ServerUnavailable as exc:
            raise TargetUnavailable(f"{self.name}: {exc}") from None

    def product_version(self) -> tuple[str, str, str]:
        """The version the server's venv holds; a server given by URL, the version its health
        document states (LocalStack's does), else its spec's."""
        if self._given:
            stated = (getattr(self, "_health", None) or {}).get("version")
            return self.server_class.product, str(stated or self.version), self.mode
        try:
            return self.server_class.product, self.server().installed_version(), self.mode
        except ServerUnavailable as exc:
            raise TargetUnavailable(f"{self.name}: {exc}") from None

    def allocate_account(self, logical: str, pinned: str | None) -> str:
        if pinned or not self.reuse_accounts:
            return pinned or self.fresh_account()
        reused = self.spare_accounts.take()
        if reused is not None:
            return reused
        account = self.fresh_account()
        self._fresh.add(account)
        return account

    def fresh_account(self) -> str:
        """An account id no scenario has used on this server."""
        return super().allocate_account("", None)

    def call(self, credentials: Credentials, service: str, action: str, params) -> CallResult:
        if self._journal is None:
            return super().call(credentials, service, action, params)
        self._journal.record(credentials.access_key_id, credentials.account, service, action, params)
        result = super().call(credentials, service, action, params)
        self._journal.entries[-1].result = result.result
        return result

    def begin(self, names) -> None:
        if self.reuse_accounts:
            self._journal = account_pool.Journal()
        self._runs += 1
        if self._given or self._runs % CHECK_EVERY:
            return
        server = self.server()
        if server.pid is None or resident_mb(server.pid) <= self.max_rss_mb:
            return
        self.restart(f"restart after {self.max_rss_mb} MiB")

    def end(self, names) -> None:
        journal, self._journal = self._journal, None
        if journal is None:
            return
        # pinned accounts are the scenario's own: only the ones this target gave are reused
        ours = {a for a in names.account_ids.values() if a in self._fresh}
        made, retire = account_pool.plan(journal, ours)
        clean = account_pool.undo(self._undo_call, {a: m for a, m in made.items() if a not in retire})
        self.spare_accounts.retired += len(ours - clean)
        self.spare_accounts.give_back(a for a in names.account_ids.values() if a in clean)

    def _undo_call(self, account: str, service: str, action: str, params: dict, results: list | None = None) -> str | None:
        self.spare_accounts.undo_calls += 1
        try:
            done = super().call(self.admin(account), service, action, params)
            if results is not None:
                results.append(done.result)
        except CallFailed as exc:
            return exc.code
        except Exception as exc:  # noqa: BLE001 - a server gone: the account is retired, the run goes on
            return type(exc).__name__
        return None

    def restart(self, why: str) -> None:
        """Stop the server this process started and start a fresh one (empty state)."""
        server = self.server()
        server.stop()
        server.port = None  # a fresh port: the old one may linger in TIME_WAIT
        try:
            self.endpoint_url = server.start()
        except ServerUnavailable as exc:
            raise TargetUnavailable(f"{self.name}: {why}: {exc}") from None
        self._clients.clear()
        self.spare_accounts.clear()  # a fresh server knows none of them
        self.restarts += 1

    def close(self) -> None:
        # The shared server lives until the process exits (other targets may still use it).
        self._clients.clear()

    def admin(self, account_id: str) -> Credentials:
        return Credentials(account_id, "test", account=account_id, label=f"admin:{account_id}")
