"""LocalStack (community, host mode): a real server process that rolecall starts and stops.

With no endpoint, one server is started per process on a free loopback port, from its own
virtual environment (see localstack_server.py), and stopped at exit. `--localstack-endpoint
URL` (or ROLECALL_LOCALSTACK_ENDPOINT, which pytest-xdist workers inherit) uses a running one
instead, e.g. the Docker image. Accounts: LocalStack takes the account from a 12-digit
access key id; each target picks its ids from a random base, so workers sharing one server
never share an account.

Memory: LocalStack keeps every account it has seen, each with every AWS managed policy loaded
(about 11 MB an account), so a server fed fresh accounts grows by about a gigabyte a minute.
A server rolecall started is restarted between scenarios once its resident memory passes
ROLECALL_LOCALSTACK_MAX_RSS_MB (default 3072); scenarios are self-contained, so nothing is
lost but the restart's few seconds. A server given by endpoint is left alone.
"""
from __future__ import annotations

import os
import threading

from rolecall.targets.base import NOT_ENFORCED, Credentials, TargetUnavailable
from rolecall.targets.boto import Boto3Target
from rolecall.targets.localstack_server import LocalStackServer, LocalStackUnavailable, wait_healthy

ENDPOINT_ENV = "ROLECALL_LOCALSTACK_ENDPOINT"
MAX_RSS_ENV = "ROLECALL_LOCALSTACK_MAX_RSS_MB"
#: scenarios between two looks at the server's memory
CHECK_EVERY = 20

_shared: LocalStackServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> LocalStackServer:
    """The one server this process starts (on first use) for every LocalStack target."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalStackServer()
        return _shared


class LocalStackTarget(Boto3Target):
    name = "localstack"
    # LocalStack loads every AWS managed policy into each new account (about 0.2-0.4 s on the
    # first call in an account: half of its server's time in a ci run, see
    # docs/performance.md); fresh accounts per example make an example cost it about twenty
    # times what it costs moto. Most of its divergences are moto's (it runs IAM and STS on
    # moto), so it gets a tenth of the budget (examples, shrinks): the ci profile then fits
    # its time; `--profile explore` searches LocalStack further.
    budget_scale = 0.1
    # for the same reasons, two minimising replays a divergence instead of forty
    minimise_replays = 2
    explain_replays = 6
    # LocalStack community does not enforce IAM (enforcement is a LocalStack Pro feature:
    # https://docs.localstack.cloud/aws/capabilities/security-testing/iam-policy-enforcement/)
    authorization = NOT_ENFORCED

    def __init__(self, endpoint: str | None = None) -> None:
        super().__init__()
        self._given = endpoint or os.environ.get(ENDPOINT_ENV) or None
        self._runs = 0
        self.restarts = 0
        try:
            self.max_rss_mb = int(os.environ.get(MAX_RSS_ENV, "3072"))
        except ValueError:
            raise TargetUnavailable(f"localstack: {MAX_RSS_ENV} must be a number of MiB, "
                                    f"not {os.environ[MAX_RSS_ENV]!r}") from None

    def open(self) -> None:
        if self.endpoint_url is not None:
            return
        try:
            if self._given:
                wait_healthy(self._given, timeout=15)
                self.endpoint_url = self._given.rstrip("/")
            else:
                self.endpoint_url = shared_server().start()
        except LocalStackUnavailable as exc:
            raise TargetUnavailable(f"localstack: {exc}") from None

    def begin(self, names) -> None:
        self._runs += 1
        if self._given or self._runs % CHECK_EVERY:
            return
        server = shared_server()
        if server.pid is None or resident_mb(server.pid) <= self.max_rss_mb:
            return
        server.stop()
        server.port = None  # a fresh port: the old one may linger in TIME_WAIT
        try:
            self.endpoint_url = server.start()
        except LocalStackUnavailable as exc:
            raise TargetUnavailable(f"localstack: restart after {self.max_rss_mb} MiB: {exc}") from None
        self._clients.clear()
        self.restarts += 1

    def close(self) -> None:
        # The shared server lives until the process exits (other targets may still use it).
        self._clients.clear()

    def admin(self, account_id: str) -> Credentials:
        return Credentials(account_id, "test", account=account_id, label=f"admin:{account_id}")


def localstack(endpoint: str | None = None) -> LocalStackTarget:
    return LocalStackTarget(endpoint)


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
