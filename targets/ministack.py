"""MiniStack (PyPI `ministack`, MIT): a real server that rolecall starts, with its IAM
enforcement off (`ministack`, its default) or on (`ministack+auth`, `AUTH=true`).

MiniStack pins its own botocore, so it runs from a venv of its own (emulator_server.py):
`python -m ministack`, bound by `BIND_HOST` and `GATEWAY_PORT`, healthy when
`/_ministack/health` answers. Accounts (ministack/core/responses.py,
`set_request_account_id`; ministack/core/iam_evaluator.py, `is_root_access_key`): a 12-digit
access key id is that account's root user, whose signature is not checked; a key it issued
belongs to the account that owns it; an STS session key to the account of its role. So an
account's administrator (and its root user) calls with the account id as its key, as on
LocalStack.
"""
from __future__ import annotations

from pathlib import Path

from rolecall.targets.base import ENFORCED, NOT_ENFORCED, ROOT_CREDENTIALS, Credentials
from rolecall.targets.emulator_server import EmulatorServer, base_env
from rolecall.targets.served import ServedTarget

DEFAULT_VERSION = "1.5.33"


class MiniStackServer(EmulatorServer):
    product = "ministack"
    label = "MiniStack"
    default_version = DEFAULT_VERSION
    module = "ministack"
    health_path = "/_ministack/health"

    def requirements(self) -> list[str]:
        return [f"ministack=={self.version}"]

    def import_check(self) -> str:
        return "import ministack.app"

    def env(self, port: int, workdir: Path) -> dict[str, str]:
        env = base_env()
        env.update({
            "BIND_HOST": "127.0.0.1",  # its default is 0.0.0.0
            "GATEWAY_PORT": str(port),
            "TMPDIR": str(workdir),  # its pid file and temporary files
            "PERSIST_STATE": "0",
            "STATE_DIR": str(workdir / "state"),
            "LOG_LEVEL": "WARNING",  # a line per request at INFO
            "SERVICES": "iam,sts,s3",
            # no listeners on fixed ports (IoT mTLS on 8883, SFTP): two servers would clash
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
        })
        return env

    def not_ready(self, doc: dict) -> dict[str, str]:
        states = doc.get("services") or {}
        return {s: str(states.get(s, "missing")) for s in ("iam", "sts", "s3") if states.get(s) != "available"}


class MiniStackTarget(ServedTarget):
    name = "ministack"
    server_class = MiniStackServer
    capabilities = frozenset({ROOT_CREDENTIALS})
    # AUTH defaults to false (ministack/app.py: `AUTH = os.environ.get("AUTH", "false")`): "With
    # AUTH=false any dummy key/secret works" (README, https://github.com/ministackorg/ministack)
    authorization = NOT_ENFORCED

    def root(self, account_id: str) -> Credentials:
        # a 12-digit key is the account's root user (is_root_access_key)
        return Credentials(account_id, "test", label=f"root:{account_id}")


class MiniStackAuthTarget(MiniStackTarget):
    name = "ministack+auth"
    server_settings = {"AUTH": "true"}
    # "To enforce IAM, start MiniStack with `AUTH=true`" (README, same page)
    authorization = ENFORCED
    mode = "auth"


def ministack(version: str | None = None) -> MiniStackTarget:
    return MiniStackTarget(version=version)


def ministack_auth(version: str | None = None) -> MiniStackAuthTarget:
    return MiniStackAuthTarget(version=version)
