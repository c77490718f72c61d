"""Calls through boto3, for every target that speaks AWS's wire protocol.

Clients are built with `Config(parameter_validation=False)` so that every target sees the
same requests, invalid ones included. A client costs 10-20 ms to build and every example
brings fresh accounts and sessions, so a target keeps one client per service and signs each
call with its caller's credentials through botocore's per-request signing context
(`context["signing"]["request_credentials"]`, honoured by `RequestSigner.sign`), rather than
a client per credentials. A target whose clients carry their own credential chain (real AWS
profiles) sets `share_clients = False`.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import boto3
import botocore
import botocore.credentials
import botocore.exceptions
from botocore.config import Config

from rolecall.targets.base import CallFailed, CallResult, Credentials, Target, TargetUnavailable

_CAMEL = re.compile(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])")


def snake_case(action: str) -> str:
    return _CAMEL.sub("_", action).lower()


class Boto3Target(Target):
    region = "us-east-1"
    endpoint_url: str | None = None
    #: TLS verification of the endpoint: None (the default CA bundle) or a CA bundle's path
    verify: str | None = None
    connect_timeout = 5
    read_timeout = 30

    def __init__(self) -> None:
        super().__init__()
        self._session = None  # made on first use: an in-process mock must be started before it
        self._clients: dict[tuple, Any] = {}
        self._config = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"},
                              connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                              s3={"addressing_style": "path"})

    share_clients = True

    def client(self, service: str, creds: Credentials):
        """The client to call `service` with as `creds`. Shared clients sign as `creds` until the
        next `client()` call: use it for the call at hand."""
        if self._session is None:
            self._session = boto3.session.Session()
        self._signing_as = creds
        if self.share_clients:
            key: tuple = (service,)
        else:
            key = (service, creds.access_key_id, creds.secret_access_key, creds.session_token, creds.account)
        client = self._clients.get(key)
        if client is None:
            client = self._session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, config=self._config, verify=self.verify,
                aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
                aws_session_token=creds.session_token)
            if self.share_clients:
                client.meta.events.register("before-parameter-build.*.*", self._sign_as_caller)
            self.customise_client(client, creds)
            self._clients[key] = client
        return client

    def _sign_as_caller(self, context, **_):
        c = self._signing_as
        context.setdefault("signing", {})["request_credentials"] = botocore.credentials.Credentials(
            c.access_key_id, c.secret_access_key, c.session_token)

    def customise_client(self, client, creds: Credentials) -> None:
        """Hook: e.g. add a header that names the administrator's account (with shared clients,
        read the caller from `self._signing_as` at call time, not from `creds`)."""

    def unsigned_client(self, service: str):
        """A client that sends requests unsigned (`as: anonymous`)."""
        key = (service, "unsigned")
        client = self._clients.get(key)
        if client is None:
            if self._session is None:
                self._session = boto3.session.Session()
            client = self._session.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                                          config=self._config.merge(Config(signature_version=botocore.UNSIGNED)))
            self._clients[key] = client
        return client

    def call(self, credentials: Credentials, service: str, action: str, params: Mapping[str, Any]) -> CallResult:
        client = self.unsigned_client(service) if credentials.anonymous else self.client(service, credentials)
        method = getattr(client, snake_case(action), None)
        if method is None:
            from rolecall.targets.base import Unsupported
            raise Unsupported(f"boto3 has no {service}:{action}")
        try:
            response = method(**params)
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise CallFailed(str(err.get("Code", "Unknown")), status, str(err.get("Message") or "")) from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
            raise TargetUnavailable(f"{self.name}: cannot reach {self.endpoint_url or 'AWS'}: {exc}") from None
        except botocore.exceptions.ReadTimeoutError as exc:
            raise CallFailed("rolecall.Timeout", None, f"no answer within {self.read_timeout}s: {exc}") from None
        except botocore.exceptions.BotoCoreError as exc:
            # e.g. a response botocore cannot parse: the target's answer, not a rolecall crash
            raise CallFailed(f"rolecall.ClientError:{type(exc).__name__}", None, str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - an in-process emulator raising is its outcome
            raise CallFailed(f"rolecall.TargetCrash:{type(exc).__name__}", 500, str(exc)) from None
        return CallResult(self.clean(response))

    @staticmethod
    def clean(response: dict) -> dict:
        out = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        body = out.get("Body")
        if body is not None and hasattr(body, "read"):
            out["Body"] = body.read().decode("utf-8", "replace")
        return out
