"""Any emulator reachable only by URL (Floci, fakecloud, robotocore, AWS's own emulator, a
LocalStack image...): rolecall does not start it, it only calls it (docs/targets.md).

Options (`--target-option KEY=VALUE`, or keyword arguments of `endpoint()`):

- `url`: the emulator's endpoint, e.g. `http://127.0.0.1:4566` (required).
- `accounts`: how the emulator tells accounts apart. `access-key` (the default): a 12-digit
  access key id is that account (LocalStack's and MiniStack's convention); `header:NAME`:
  the administrator's requests carry the account id in header NAME (moto's server reads
  `x-moto-account-id`), everyone else is known by the keys the emulator issued;
  `single:ACCOUNT_ID`: the emulator has one account, so only single-account scenarios run
  (others are unsupported, never silently folded into one account).
- `admin`: the credentials that administer an account, `ACCESS_KEY_ID:SECRET`, where
  `{account}` stands for the account id (default `{account}:test`).
- `authorization`: what the emulator claims: `enforced`, `not-enforced`, or `unknown`
  (the default; rolecall's enforcement canary finds out).
- `name`: the name results carry (default `endpoint`), e.g. `floci`.
- `ca_bundle`: a CA certificate file to verify an https endpoint with (AWS's emulator
  writes its own `ca.pem`).
"""
from __future__ import annotations

import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

from rolecall.outcome import UNSUPPORTED, Outcome, Run
from rolecall.scenario import Scenario
from rolecall.targets.base import ENFORCED, NOT_ENFORCED, Credentials, TargetUnavailable
from rolecall.targets.boto import Boto3Target

ACCOUNT_ID = re.compile(r"\d{12}")
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
AUTHORIZATION = {"enforced": ENFORCED, "not-enforced": NOT_ENFORCED, "unknown": None}


class EndpointOptionError(ValueError):
    """A bad option value (one line: which option, what it was, what was expected)."""


class EndpointTarget(Boto3Target):
    name = "endpoint"
    # nothing is known about its cost: a server-backed emulator is assumed as slow as the
    # slowest server rolecall starts (LocalStack 4.x, LocalEmu: about 5x moto per example with
    # accounts reused, docs/performance.md), which get half of moto's budget
    budget_scale = 0.5
    minimise_replays = 10
    explain_replays = 12

    def __init__(self, url: str, accounts: str = "access-key", admin: str = "{account}:test",
                 authorization: str = "unknown", name: str | None = None, ca_bundle: str | None = None) -> None:
        super().__init__()
        parsed = urllib.parse.urlsplit(url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise EndpointOptionError(f"url={url!r}: expected an http(s) URL, e.g. http://127.0.0.1:4566")
        self.endpoint_url = url.rstrip("/")
        kind, _, arg = accounts.partition(":")
        if kind == "access-key" and not arg:
            self.header = self.single = None
        elif kind == "header" and HEADER_NAME.fullmatch(arg):
            self.header, self.single = arg, None
        elif kind == "single" and ACCOUNT_ID.fullmatch(arg):
            self.header, self.single = None, arg
        else:
            raise EndpointOptionError(f"accounts={accounts!r}: expected access-key, header:NAME or "
                                      f"single:ACCOUNT_ID (12 digits)")
        key, sep, secret = admin.partition(":")
        if not sep or not key or not secret:
            raise EndpointOptionError(f"admin={admin!r}: expected ACCESS_KEY_ID:SECRET ({{account}} "
                                      f"stands for the account id)")
        self.admin_key, self.admin_secret = key, secret
        if authorization not in AUTHORIZATION:
            raise EndpointOptionError(f"authorization={authorization!r}: expected one of "
                                      f"{', '.join(AUTHORIZATION)}")
        self.authorization = AUTHORIZATION[authorization]
        if name:
            self.name = name
        if ca_bundle is not None and not os.path.isfile(os.path.expanduser(ca_bundle)):
            raise EndpointOptionError(f"ca_bundle={ca_bundle!r}: no such file")
        self.verify = os.path.expanduser(ca_bundle) if ca_bundle else None
        self._reachable = False

    def open(self) -> None:
        if self._reachable:
            return
        try:  # any HTTP answer will do: what answers is checked by the calls themselves
            context = ssl.create_default_context(cafile=self.verify) if self.verify else None
            urllib.request.urlopen(self.endpoint_url + "/", timeout=self.connect_timeout, context=context).close()
        except urllib.error.HTTPError:
            pass
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TargetUnavailable(f"{self.name}: nothing answers at {self.endpoint_url}: {reason}") from None
        self._reachable = True

    def run(self, scenario: Scenario) -> Run:
        if self.single is not None:
            pinned = {w.get("id") for w in scenario.accounts.values()} - {None, self.single}
            if len(scenario.accounts) > 1 or pinned:
                reason = f"{self.name} has the one account {self.single}"
                return Run(self.name, tuple(Outcome(id=s.id, outcome=UNSUPPORTED, reason=reason)
                                            for s in scenario.steps))
        return super().run(scenario)

    def allocate_account(self, logical: str, pinned: str | None) -> str:
        return self.single or super().allocate_account(logical, pinned)

    def admin(self, account_id: str) -> Credentials:
        return Credentials(self.admin_key.replace("{account}", account_id),
                           self.admin_secret.replace("{account}", account_id),
                           account=account_id, label=f"admin:{account_id}")

    def customise_client(self, client, creds: Credentials) -> None:
        if self.header:
            client.meta.events.register("before-sign.*.*", self._account_header)

    def _account_header(self, request, **_):
        if self._signing_as.account:  # administrators only
            request.headers[self.header] = self._signing_as.account


def endpoint(url: str | None = None, accounts: str = "access-key", admin: str = "{account}:test",
             authorization: str = "unknown", name: str | None = None, ca_bundle: str | None = None) -> EndpointTarget:
    if not url:
        raise EndpointOptionError("the endpoint target needs --target-option url=URL (the emulator's endpoint)")
    return EndpointTarget(url, accounts, admin, authorization, name, ca_bundle)
