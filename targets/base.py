"""The target seam: run a scenario (world, then steps) and return one outcome per step.

`Target.run` is the same for every target: it expands the world into the administrator's
setup calls, resolves references, keeps track of who holds which credentials, and
normalises what comes back. A target module only says how to name accounts and buckets,
whose credentials to use, and how to make one call.
"""
from __future__ import annotations

import abc
import datetime as dt
import itertools
import secrets
from dataclasses import dataclass, replace
from typing import Any, Mapping

from rolecall import tokens
from rolecall.outcome import ERROR, OK, UNSUPPORTED, Normaliser, Outcome, Run, TargetUnavailable  # noqa: F401
from rolecall.scenario import ANONYMOUS, CALLER, Names, Scenario, declared_names, resolve_from
from rolecall.world import setup_calls

ACT_AS_SERVICE = "act-as-service"
VIRTUAL_CLOCK = "virtual-clock"
ROOT_CREDENTIALS = "root-credentials"

# What a target declares about authorization (Target.authorization). A target that declares
# nothing is probed by the enforcement canary (rolecall.findings).
ENFORCED = "enforced"  # it evaluates IAM policies on requests
NOT_ENFORCED = "not-enforced"  # it authorizes nothing, by design in this mode

# How a target learns an OIDC issuer's signing keys, to verify the web identity tokens rolecall
# mints (Target.web_identity_keys; docs/targets.md):
KEYS_GIVEN = "given"  # rolecall hands it each issuer's public keys before the steps (Target.trust_issuer)
KEYS_NOT_CHECKED = "not-checked"  # it checks no token's signature (read in its source): tokens are sent as
#                                   they are, and one AWS would refuse that it accepts is a divergence
# None (not declared): it would fetch the keys from the issuer's URL, which rolecall's test issuers
# do not serve, so its answer would be a guess: AssumeRoleWithWebIdentity steps answer unsupported.
WEB_IDENTITY_CALLS = {"sts:AssumeRoleWithWebIdentity"}

# Calls whose successful result carries credentials a later step may act with (`as: <step id>`).
CREDENTIAL_CALLS = {"sts:AssumeRole", "sts:GetSessionToken", "sts:GetFederationToken", "sts:AssumeRoleWithWebIdentity"}
# Calls whose result is a user's new access key: a later step may sign with it (`as: <step id>`).
ACCESS_KEY_CALLS = {"iam:CreateAccessKey"}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    account: str | None = None  # for administrators: which account they administer
    label: str = ""  # who this is, for messages
    anonymous: bool = False  # an unsigned request (`as: anonymous`)


class CallFailed(Exception):
    """The target answered the call with an error (AWS's code, HTTP status and message)."""

    def __init__(self, code: str, http_status: int | None, message: str, *, trace: tuple = (), reason: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.http_status, self.message, self.trace, self.reason = code, http_status, message, trace, reason


class Unsupported(Exception):
    """The target cannot express this step (act as a service, move a clock, a call it lacks)."""


@dataclass
class CallResult:
    result: Any
    trace: tuple = ()
    reason: str | None = None
    unsure: tuple = ()  # returned facts the target cannot vouch for (an oracle says so)


class Target(abc.ABC):
    #: the name users pass to --target
    name: str = "target"
    #: what this target can do beyond plain calls: ACT_AS_SERVICE, VIRTUAL_CLOCK, ROOT_CREDENTIALS
    capabilities: frozenset[str] = frozenset()
    #: share of a profile's example budget this target gets (a slow target searches less)
    budget_scale: float = 1.0
    #: replays rolecall's minimiser may spend on each divergence Hypothesis shrank (a count, so
    #: seeded runs report the same minimal scenarios on any machine)
    minimise_replays: int = 40
    #: twins of a confirmed divergence's minimal scenario replayed to tell its cause apart
    #: (rolecall.findings; a count, for the same reason)
    explain_replays: int = 24
    #: its cells may run in any worker process of a run (an in-process target, or a server the
    #: process starts for itself: cheap to open against its cells); False keeps them in one (a
    #: target that holds real resources)
    movable: bool = False
    #: ENFORCED, NOT_ENFORCED, or None (not declared: the enforcement canary finds out). A target
    #: that authorizes nothing is reported as one finding, its denials folded into it.
    authorization: str | None = None
    #: KEYS_GIVEN, KEYS_NOT_CHECKED or None: how it could verify rolecall's web identity tokens
    web_identity_keys: str | None = None
    #: how a scenario's member accounts join its organization (targets/organization_setup.py):
    #: "invite" (InviteAccountToOrganization + AcceptHandshake, AWS's way for existing accounts)
    #: or "create" (CreateAccount: the target's Organizations API gives the member its id)
    organization_members: str = "invite"

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(3)
        self._counter = itertools.count(1)

    # ---- lifecycle
    def open(self) -> None:
        """Start what the target needs (a server, a mock). Called once per run."""

    def close(self) -> None:
        """Stop what open() started."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- hooks a target module implements
    def allocate_account(self, logical: str, pinned: str | None) -> str:
        """A concrete account id for a logical account, fresh for every scenario by default."""
        return pinned or f"{next(self._account_ids):012d}"

    @property
    def _account_ids(self):
        if not hasattr(self, "_account_iter"):
            base = 100_000_000_000 + secrets.randbelow(800_000_000_000)
            self._account_iter = itertools.count(base)
        return self._account_iter

    def bucket_name(self, logical_account: str, name: str, example: int) -> str:
        return f"rc-{self._nonce}-{example}-{logical_account.lower()}-{name}"[:63]

    @abc.abstractmethod
    def admin(self, account_id: str) -> Credentials:
        """Credentials of the account's administrator (who creates the world)."""

    def root(self, account_id: str) -> Credentials:
        raise Unsupported(f"{self.name} has no root-user credentials")

    def service(self, account_id: str, service: str) -> Credentials:
        raise Unsupported(f"{self.name} cannot act as a service")

    def anonymous(self) -> Credentials:
        """Credentials that mark a request to be sent unsigned (`as: anonymous`)."""
        return Credentials("", "", label=ANONYMOUS, anonymous=True)

    def set_clock(self, seconds: float) -> None:
        raise Unsupported(f"{self.name} has no controllable clock")

    def trust_issuer(self, url: str, jwks: Mapping[str, Any]) -> None:
        """Give the target an OIDC issuer's public keys (a JWKS) before the steps run; targets
        with web_identity_keys = KEYS_GIVEN implement it."""
        raise Unsupported(f"{self.name} cannot be given an issuer's keys")

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    @abc.abstractmethod
    def call(self, credentials: Credentials, service: str, action: str, params: Mapping[str, Any]) -> CallResult:
        """Make one API call; raise CallFailed for an AWS error, Unsupported when it cannot."""

    def product_version(self) -> tuple[str, str, str] | None:
        """(product, version, mode) of the emulator this target runs, read from the running product
        (e.g. ("moto", "5.2.5", "auth")); None when it has no versions to tell apart. Called after
        open(). `rolecall matrix` names a product-version by it: moto-5.2.5-auth."""
        return None

    def begin(self, names: Names) -> None:
        """A scenario is about to run in these accounts."""

    def end(self, names: Names) -> None:
        """The scenario is done (a real-AWS target cleans up here)."""

    # ---- the one way every target runs a scenario
    def run(self, scenario: Scenario) -> Run:
        example = next(self._counter)
        account_ids = {a: self.allocate_account(a, w.get("id")) for a, w in scenario.accounts.items()}
        org = scenario.organization
        names = Names(account_ids=account_ids,
                      bucket_names={(a, b): self.bucket_name(a, b, example)
                                    for a, w in scenario.accounts.items() for b in w.get("buckets", {})},
                      paths=declared_names(scenario))
        creds: dict[str, Credentials] = {}
        results: dict[str, Any] = {}  # raw results of earlier ok steps, for {"$from": ...}
        self.begin(names)
        self._scenario_start, self._issuers = self.now(), scenario.issuers
        try:
            setup_error = None
            if self.web_identity_keys == KEYS_GIVEN:
                for url, issuer in scenario.issuers.items():
                    self.trust_issuer(url, tokens.jwks(url, list(issuer["keys"])))
            if org:
                # members created by the target's Organizations API get their ids now
                org_ids, setup_error = self._organization("join", org, account_ids, names)
                names = replace(names, account_ids=dict(account_ids), org_id=(org_ids or {}).get("org"))
            norm = Normaliser(names.symbols())
            setup_error = setup_error or self._create_world(scenario, names, norm, creds)
            if setup_error is None and org:
                setup_error = self._organization("attach", org, account_ids, names, org_ids)[1]
            if setup_error is not None:
                return Run(self.name, (), setup_error)
            outcomes = [self._step(step, names, norm, creds, results) for step in scenario.steps]
            return Run(self.name, tuple(outcomes))
        finally:
            self.end(names)

    def _describe(self, names: Names):
        reverse = {v: k for k, v in names.account_ids.items()}

        def describe(entity: Mapping[str, Any]) -> str | None:
            arn = entity.get("Arn")
            if isinstance(arn, str) and arn.startswith("arn:aws:iam::"):
                acct, _, rest = arn[len("arn:aws:iam::"):].partition(":")
                kind, _, tail = rest.partition("/")
                return f"{reverse.get(acct, acct)}:{kind}/{tail.rsplit('/', 1)[-1]}"
            if "UserName" in entity and "AccessKeyId" in entity:
                return f"access-key/{entity['UserName']}"
            return None
        return describe

    def _create_world(self, scenario: Scenario, names: Names, norm: Normaliser,
                      creds: dict[str, Credentials]) -> Outcome | None:
        describe = self._describe(names)
        for sc in setup_calls(scenario):
            account_id = names.account_ids[sc.account]
            service, action = sc.call.split(":", 1)
            try:
                res = self.call(self.admin(account_id), service, action, names.resolve(dict(sc.params)))
            except (CallFailed, Unsupported) as exc:
                code = getattr(exc, "code", "Unsupported")
                return Outcome(id=f"setup:{sc.account}:{sc.what}", outcome=ERROR, code=code,
                               http_status=getattr(exc, "http_status", None),
                               message=norm.text(f"{sc.call} failed: {getattr(exc, 'message', str(exc))}"))
            norm.learn_ids(res.result, describe)
            if sc.keep:
                key = res.result["AccessKey"]
                creds[f"{sc.account}:{sc.what}"] = Credentials(key["AccessKeyId"], key["SecretAccessKey"],
                                                              label=f"{sc.account}:{sc.what}")
        return None

    def _organization(self, phase: str, org, account_ids: dict[str, str], names: Names,
                      ids: Mapping[str, str] | None = None) -> tuple[Any, Outcome | None]:
        """One phase of creating the scenario's organization (targets/organization_setup.py):
        (its result, None), or (None, the setup error)."""
        from rolecall.targets import organization_setup

        def call(account: str, service: str, action: str, params: Mapping[str, Any]) -> Any:
            return self.call(self.admin(account_ids[account]), service, action, params).result

        try:
            if phase == "join":
                return organization_setup.join(org, account_ids, call, self.organization_members), None
            organization_setup.attach(org, ids, call, names.resolve)
            return None, None
        except (CallFailed, Unsupported) as exc:
            code = getattr(exc, "code", "Unsupported")
            message = Normaliser(names.symbols()).text(
                f"organizations ({phase}) failed: {getattr(exc, 'message', str(exc))}")
            return None, Outcome(id=f"setup:organization:{phase}", outcome=ERROR, code=code,
                                 http_status=getattr(exc, "http_status", None), message=message)

    def _caller(self, caller: str, names: Names, creds: dict[str, Credentials | None]) -> Credentials:
        if caller == ANONYMOUS:
            return self.anonymous()
        if caller.startswith("service:"):
            if ACT_AS_SERVICE not in self.capabilities:
                raise Unsupported(f"{self.name} cannot act as a service")
            return self.service("", caller[len("service:"):])
        m = CALLER.fullmatch(caller)
        if m:
            account_id = names.account_ids[m["account"]]
            if m["kind"] == "admin":
                return self.admin(account_id)
            if m["kind"] == "root":
                return self.root(account_id)
            return creds[f"{m['account']}:user/{m['user']}"]
        if caller in creds:
            if creds[caller] is None:
                # the step that would have given these credentials was unsupported here
                raise Unsupported(f"step {caller!r} was unsupported on {self.name}")
            return creds[caller]
        raise CallFailed("NoCredentials", None, f"step {caller!r} gave no credentials on this target")

    def _step(self, step, names: Names, norm: Normaliser, creds: dict[str, Credentials],
              results: dict[str, Any] | None = None) -> Outcome:
        results = {} if results is None else results
        try:
            who = self._caller(step.caller, names, creds)
            if step.at is not None:
                if VIRTUAL_CLOCK not in self.capabilities:
                    raise Unsupported(f"{self.name} has no controllable clock")
                self.set_clock(step.at)
            params = names.resolve(dict(step.params))
            try:
                params = resolve_from(params, results)
            except LookupError as exc:
                missing = str(exc.args[0]).split(".", 1)[0].split("[", 1)[0]
                if results.get(missing, "") is None:
                    raise Unsupported(f"step {missing!r} was unsupported on {self.name}") from None
                raise CallFailed("NoValue", None, f"no value at {exc.args[0]} on this target") from None
            if step.call in WEB_IDENTITY_CALLS and self.web_identity_keys is None:
                raise Unsupported(f"{self.name} cannot be given an OIDC issuer's keys, and rolecall's issuers "
                                  f"serve none: it could not verify a token")
            if tokens.has_token(params):
                params = tokens.resolve_tokens(params, getattr(self, "_scenario_start", self.now()),
                                               getattr(self, "_issuers", {}))
            now = self.now()
            res = self.call(who, step.service, step.action, params)
        except Unsupported as exc:
            creds[step.id] = None
            results[step.id] = None
            return Outcome(id=step.id, outcome=UNSUPPORTED, reason=str(exc))
        except CallFailed as exc:
            return Outcome(id=step.id, outcome=ERROR, code=exc.code, http_status=exc.http_status,
                           message=norm.text(exc.message or ""), trace=exc.trace, reason=exc.reason)
        raw = res.result
        if step.call in CREDENTIAL_CALLS and isinstance(raw, dict) and "Credentials" in raw:
            c = raw["Credentials"]
            creds[step.id] = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c.get("SessionToken"),
                                         label=step.id)
        if step.call in ACCESS_KEY_CALLS and isinstance(raw, dict) and "AccessKey" in raw:
            k = raw["AccessKey"]
            creds[step.id] = Credentials(k["AccessKeyId"], k["SecretAccessKey"], label=step.id)
        results[step.id] = raw
        norm.learn_ids(raw, self._describe(names))
        return Outcome(id=step.id, outcome=OK, result=norm.value(raw, now=now), trace=res.trace, reason=res.reason,
                       unsure=res.unsure)
