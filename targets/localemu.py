"""LocalEmu (PyPI `localemu`, Apache-2.0, a LocalStack fork): a real server that rolecall starts,
with its IAM enforcement on (`IAM_ENFORCEMENT=1`).

LocalEmu runs like LocalStack in host mode (`python -m localemu.runtime.main`, health at
`/_localemu/health`), from a venv of its own. With enforcement on it evaluates every request
(localemu/services/iam_enforcement/enforcer.py), and only *root keys* bypass it: the set in
`ROOT_ACCESS_KEYS`, read from the server's environment (identity.py, `_get_root_access_keys`;
default `AKIAIOSFODNN7EXAMPLE,000000000000`). The account of a request is its 12-digit access
key id (localemu/aws/accounts.py), and a root key is the root user of that account. So a key
that names a fresh account is no root key, and every world-setup call in it would be denied.

Per-account root keys through its configuration: each server is started with a pool of
account ids (`POOL` of them) listed in `ROOT_ACCESS_KEYS`; the target gives scenarios
accounts from that pool, each id once per server, and when the pool is used up the server
is restarted (state empty, the same pool again). An account's administrator and its root
user call with the account id as their key. A scenario that pins an account id outside the
pool has no administrator there (its setup is denied): rolecall's generated scenarios pin none.
Accounts emptied after a scenario are given to the next ones first (account_pool.py), so the
pool lasts far longer than 2000 scenarios.
"""
from __future__ import annotations

import threading
from pathlib import Path

from rolecall.targets.base import ENFORCED, ROOT_CREDENTIALS, Credentials
from rolecall.targets.emulator_server import EmulatorServer, base_env
from rolecall.targets.served import ServedTarget

DEFAULT_VERSION = "1.3.2"
#: accounts a server knows root keys for: 13 bytes each in ROOT_ACCESS_KEYS (one environment
#: string may hold 128 KiB on Linux), which LocalEmu splits into a set on every request
POOL = 2000
POOL_BASE = 310_000_000_000


def pool_ids() -> list[str]:
    return [f"{POOL_BASE + i:012d}" for i in range(POOL)]


class LocalEmuServer(EmulatorServer):
    product = "localemu"
    label = "LocalEmu"
    default_version = DEFAULT_VERSION
    module = "localemu.runtime.main"
    health_path = "/_localemu/health"
    done_marker = b"[shutdown] Stopping all services"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.accounts_used = 0
        self.accounts_lock = threading.Lock()

    def requirements(self) -> list[str]:
        return [f"localemu=={self.version}"]

    def import_check(self) -> str:
        return "import localemu.config, localemu.runtime.main"

    def env(self, port: int, workdir: Path) -> dict[str, str]:
        env = base_env()
        env.update({  # as LocalStack's in host mode (localstack_server.server_env), LocalEmu's names
            "OVERRIDE_IN_DOCKER": "0",
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "GATEWAY_SERVER": "hypercorn",  # binds the host it is given (twisted binds 0.0.0.0)
            "LOCALEMU_HOST": f"127.0.0.1:{port}",
            "SERVICES": "iam,sts,s3",
            "EAGER_SERVICE_LOADING": "1",
            "FILESYSTEM_ROOT": str(workdir / "filesystem"),
            "PERSISTENCE": "0",
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "IAM_ENFORCEMENT": "1",
            "ROOT_ACCESS_KEYS": ",".join(pool_ids()),
        })
        return env

    def not_ready(self, doc: dict) -> dict[str, str]:
        states = doc.get("services") or {}
        return {s: str(states.get(s, "missing")) for s in ("iam", "sts", "s3")
                if states.get(s) not in ("available", "running")}


class LocalEmuTarget(ServedTarget):
    name = "localemu"
    server_class = LocalEmuServer
    capabilities = frozenset({ROOT_CREDENTIALS})
    # "Strict mode: deny unauthorized requests with 403 AccessDenied: IAM_ENFORCEMENT=1" (README,
    # IAM Policy Enforcement, https://github.com/localemu/localemu); it also says cross-account
    # calls "are currently treated as same-account"
    authorization = ENFORCED
    mode = "auth"  # IAM_ENFORCEMENT=1
    # a LocalStack fork: it builds every AWS managed policy in each new account too
    # (localemu/aws/patches.py, load_aws_managed_policies), so it reuses accounts as LocalStack
    # 4.x does (account_pool.py) and gets the same share
    reuse_accounts = True
    budget_scale = 0.5
    minimise_replays = 10
    explain_replays = 12

    def fresh_account(self) -> str:
        server = self.server()
        with server.accounts_lock:
            exhausted = server.accounts_used >= POOL
        if exhausted:
            self.restart(f"restart after {POOL} accounts")  # a fresh server: every pool id is unused again
            with server.accounts_lock:
                server.accounts_used = 0
        with server.accounts_lock:
            index = server.accounts_used
            server.accounts_used += 1
        return f"{POOL_BASE + index:012d}"

    def root(self, account_id: str) -> Credentials:
        return Credentials(account_id, "test", label=f"root:{account_id}")


def localemu(version: str | None = None) -> LocalEmuTarget:
    return LocalEmuTarget(version=version)
