"""LocalStack (community, host mode): a real server process that rolecall starts and stops.
`localstack` is 4.14.0; `localstack@2026.3.0` (any `localstack@VERSION`) that version of
`localstack-core`, from a venv of its own.

With no endpoint, one server is started per process on a free loopback port, from its own
virtual environment (see localstack_server.py), and stopped at exit. `--localstack-endpoint
URL` (or ROLECALL_LOCALSTACK_ENDPOINT, which pytest-xdist workers inherit) uses a running one
instead, e.g. the Docker image. Accounts: LocalStack takes the account from a 12-digit
access key id; each target picks its ids from a random base, so workers sharing one server
never share an account.

Accounts are reused (4.x): emptied after each scenario and given to the next (account_pool.py),
since a fresh one costs LocalStack 4.x more than the deletions. Memory: LocalStack keeps every
account it has seen, each with every AWS managed policy loaded (about 11 MB an account), so a
server fed fresh accounts grew by about a gigabyte a minute; reused accounts bound it.
A server rolecall started is restarted between scenarios once its resident memory passes
ROLECALL_LOCALSTACK_MAX_RSS_MB (default 3072); scenarios are self-contained, so nothing is
lost but the restart's few seconds. A server given by endpoint is left alone.
"""
from __future__ import annotations

from rolecall.targets.base import KEYS_NOT_CHECKED, NOT_ENFORCED
from rolecall.targets.localstack_server import DEFAULT_VERSION, LocalStackServer
from rolecall.targets.served import CHECK_EVERY, ServedTarget, resident_mb
from rolecall.targets.served import shared_server as _shared_server

__all__ = ["CHECK_EVERY", "ENDPOINT_ENV", "LocalStackTarget", "localstack", "resident_mb", "shared_server"]

ENDPOINT_ENV = "ROLECALL_LOCALSTACK_ENDPOINT"
MAX_RSS_ENV = "ROLECALL_LOCALSTACK_MAX_RSS_MB"


def shared_server(version: str = DEFAULT_VERSION) -> LocalStackServer:
    """The one LocalStack server of this version this process starts (on first use)."""
    return _shared_server(LocalStackServer, version)


class LocalStackTarget(ServedTarget):
    name = "localstack"
    server_class = LocalStackServer
    max_rss_env = MAX_RSS_ENV
    # LocalStack 4.x loads every AWS managed policy into each new account (about 0.3 s on the
    # first call in an account: half of its server's time in a ci run with fresh accounts, see
    # docs/performance.md). Deleting what a scenario made costs less (account_pool.py): with
    # accounts reused an example costs it 4-5x what it costs moto instead of 10-12x, so it
    # searches with half of moto's budget (examples, shrinks), as LocalStack 2026.3.0 does.
    reuse_accounts = True
    budget_scale = 0.5
    minimise_replays = 10
    explain_replays = 12
    # LocalStack community does not enforce IAM (enforcement is a LocalStack Pro feature:
    # https://docs.localstack.cloud/aws/capabilities/security-testing/iam-policy-enforcement/)
    authorization = NOT_ENFORCED
    mode = "host"  # the product string says how it ran: localstack-4.14.0-host

    def __init__(self, endpoint: str | None = None, version: str | None = None) -> None:
        # ROLECALL_LOCALSTACK_ENDPOINT names a server of the default version only
        self.endpoint_env = ENDPOINT_ENV if (version or DEFAULT_VERSION) == DEFAULT_VERSION else None
        super().__init__(endpoint, version)
        if self.version != DEFAULT_VERSION and self.version.split(".")[0] not in ("3", "4"):
            # localstack-core 2026.x runs IAM and STS on its own providers (not moto), which
            # record an AWS managed policy in an account only once it is attached
            # (localstack/services/iam/provider.py): an example costs about what it costs moto,
            # a tenth of 4.x's with fresh accounts (docs/performance.md): fresh accounts cost it
            # less than emptying used ones
            self.reuse_accounts = False
        if self.version == DEFAULT_VERSION:
            # 4.14.0's STS provider leaves AssumeRoleWithWebIdentity to moto
            # (localstack/services/providers.py: MotoFallbackDispatcher; services/sts/provider.py
            # defines no assume_role_with_web_identity), and moto checks no token. Other versions
            # are undeclared: their web identity steps are unsupported until someone reads them.
            self.web_identity_keys = KEYS_NOT_CHECKED


def localstack(endpoint: str | None = None, version: str | None = None) -> LocalStackTarget:
    return LocalStackTarget(endpoint, version)
