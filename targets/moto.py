"""moto, in process (`mock_aws`), with its IAM enforcement off (`moto`) or on (`moto+auth`).

Accounts: moto takes the account from the access key it issued, and from the
`x-moto-account-id` header for requests that carry no key of its own; we send the header
for administrators only, and never set the process-wide MOTO_ACCOUNT_ID (it would
override both). With enforcement on, administrators act with enforcement suspended for
their calls (as moto's own fixtures do), everyone else with the keys moto issued.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from rolecall.targets.base import (ENFORCED, KEYS_NOT_CHECKED, NOT_ENFORCED, CallResult, Credentials,
                                   TargetUnavailable)
from rolecall.targets.boto import Boto3Target

# moto keeps every account's state for the life of the mock; reset it now and then so
# its per-call scans (moto looks through every access key on each request) stay short.
# moto also keeps every model object it ever made (for its dashboard), and its reset leaves
# them: rolecall drops them too, or a long run grows ~30 KiB an example (benchmarks/moto_memory.py).
# Every 20 runs: a cell of bucket_owner_delegates_through_role (20 examples, 534 runs with
# shrinking) took 36.3 s resetting every 200, 34.9 s every 50, 33.2 s every 20 (moto's
# get_account_id_from scans every key it issued, on each request).
RESET_EVERY = 20


class MotoTarget(Boto3Target):
    name = "moto"
    enforce_iam = False
    movable = True
    authorization = NOT_ENFORCED  # moto's default: "IAM authorization is not enforced" (moto docs, IAM)
    # moto checks no web identity token: its AssumeRoleWithWebIdentity is its AssumeRole
    # (moto/sts/models.py, `assume_role_with_web_identity`), so tokens are sent as minted.
    web_identity_keys = KEYS_NOT_CHECKED
    # moto's Organizations has no handshakes (InviteAccountToOrganization is not implemented):
    # members are created with CreateAccount, and get the account ids moto gives them.
    organization_members = "create"

    def __init__(self) -> None:
        super().__init__()
        self._mock = None
        self._runs = 0

    def open(self) -> None:
        if "MOTO_ACCOUNT_ID" in os.environ:
            raise TargetUnavailable("moto: MOTO_ACCOUNT_ID is set in the environment; it would put every "
                                    "account in one: unset it")
        if self._mock is not None:
            return
        from moto import mock_aws

        self._mock = mock_aws(config={"iam": {"load_aws_managed_policies": False}})
        self._mock.start()

    def close(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
            self._clients.clear()
            self._session = None

    def product_version(self) -> tuple[str, str, str]:
        from importlib.metadata import version

        return "moto", version("moto"), "auth" if self.enforce_iam else ""

    def begin(self, names) -> None:
        self._runs += 1
        if self._runs % RESET_EVERY == 0 and self._mock is not None:
            from moto.core.model_instances import reset_model_data

            self._mock.reset()
            reset_model_data()
            self._clients.clear()

    def admin(self, account_id: str) -> Credentials:
        return Credentials("ADMINKEY" + account_id, "admin-secret", account=account_id, label=f"admin:{account_id}")

    def customise_client(self, client, creds: Credentials) -> None:
        client.meta.events.register("before-sign.*.*", self._account_header)

    def _account_header(self, request, **_):
        if self._signing_as.account:  # administrators only: everyone else is known by the key moto issued
            request.headers["x-moto-account-id"] = self._signing_as.account

    def call(self, credentials: Credentials, service: str, action: str, params: Mapping[str, Any]) -> CallResult:
        self.open()
        from moto.core.authorization import disable_iam_authentication, enable_iam_authentication

        if self.enforce_iam and not credentials.account:
            with enable_iam_authentication():
                return super().call(credentials, service, action, params)
        with disable_iam_authentication():
            return super().call(credentials, service, action, params)


class MotoAuthTarget(MotoTarget):
    name = "moto+auth"
    enforce_iam = True
    authorization = ENFORCED


def moto(version: str | None = None):
    """moto in process; `moto@VERSION` of another version than rolecall's own runs as moto's
    server from an environment of its own (targets/moto_server.py)."""
    from importlib.metadata import version as installed

    if version is None or version == installed("moto"):
        return MotoTarget()
    from rolecall.targets.moto_server import MotoServerTarget

    return MotoServerTarget(version=version)


def moto_auth() -> MotoAuthTarget:
    return MotoAuthTarget()
