"""A version of moto other than rolecall's own (`moto@5.1.0`): moto's server (`moto_server`,
`python -m moto.server`) from a venv of its own, IAM enforcement off (moto's default).

Accounts as in process (targets/moto.py): administrators send the `x-moto-account-id` header
("Multi-account support", https://docs.getmoto.org/en/latest/docs/multi_account.html),
everyone else is known by the keys moto issued.
"""
from __future__ import annotations

import sys
from pathlib import Path

from rolecall.targets.base import NOT_ENFORCED, Credentials
from rolecall.targets.emulator_server import EmulatorServer, base_env
from rolecall.targets.served import ServedTarget


class MotoServer(EmulatorServer):
    product = "moto"
    label = "moto server"
    module = "moto.server"
    # a JSON document of moto's models: answers once the server serves requests
    health_path = "/moto-api/data.json"

    def requirements(self) -> list[str]:
        return [f"moto[server]=={self.version}"]

    def import_check(self) -> str:
        return "import moto.server, flask"

    def python(self) -> str:
        return sys.executable  # moto supports the Python rolecall runs on

    def argv(self, python: Path, port: int) -> list[str]:
        return [str(python), "-m", self.module, "-H", "127.0.0.1", "-p", str(port)]

    def env(self, port: int, workdir: Path) -> dict[str, str]:
        # moto's default config loads no AWS managed policies (moto/core/config.py), as in process
        return base_env()


class MotoServerTarget(ServedTarget):
    name = "moto"
    server_class = MotoServer
    authorization = NOT_ENFORCED  # moto's default: "IAM authorization is not enforced" (moto docs, IAM)
    organization_members = "create"  # no handshakes in moto's Organizations (targets/moto.py)
    # each call crosses HTTP to another process: about twice an in-process call
    budget_scale = 0.5

    def admin(self, account_id: str) -> Credentials:
        return Credentials("ADMINKEY" + account_id, "admin-secret", account=account_id, label=f"admin:{account_id}")

    def customise_client(self, client, creds: Credentials) -> None:
        client.meta.events.register("before-sign.*.*", self._account_header)

    def _account_header(self, request, **_):
        if self._signing_as.account:  # administrators only
            request.headers["x-moto-account-id"] = self._signing_as.account
