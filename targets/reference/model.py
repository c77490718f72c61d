"""The reference model's state: accounts, principals, credentials and a virtual clock.

Pure Python, nothing about boto3 or scenarios (the target adapter translates). API calls
are dispatched to the IAM, STS and S3 modules, which raise `AwsError` with AWS's code,
HTTP status and message.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from rolecall.targets.reference.evaluation import REASONS, Decision
from rolecall.targets.reference.policy import Policy

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# Expired temporary credentials, per service, as AWS answers them (code, HTTP status, message).
# IAM and STS (query protocol): ExpiredToken, 403, raw XML pasted in
# https://github.com/cfn-sphere/cfn-sphere/issues/55; the status is the common-errors table's
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
# S3: ExpiredToken, 400, "The provided token has expired." (raw S3 XML pasted in
# https://github.com/craftcms/aws-s3/issues/182 and https://github.com/romange/helio/issues/15).
EXPIRED_TOKEN = {
    "sts": ("ExpiredToken", 403, "The security token included in the request is expired"),
    "iam": ("ExpiredToken", 403, "The security token included in the request is expired"),
    "s3": ("ExpiredToken", 400, "The provided token has expired."),
}
# An access key AWS does not know (or, for IAM, GetSessionToken credentials without MFA):
# STS ends its sentence with a period, IAM does not (raw XML in
# https://github.com/aws/aws-cli/issues/8918 and https://github.com/aws/aws-sdk-php/issues/1622).
INVALID_TOKEN = {
    "sts": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
    "iam": ("InvalidClientTokenId", 403, "The security token included in the request is invalid"),
    "s3": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
}
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# STS calls that need no AWS credentials (the token is the proof): "Calling AssumeRoleWithWebIdentity
# does not require the use of AWS security credentials"
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
UNSIGNED_CALLS = frozenset({"AssumeRoleWithWebIdentity"})


class AwsError(Exception):
    def __init__(self, code: str, http_status: int, message: str, *, decision: Decision | None = None,
                 reason: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.http_status, self.message = code, http_status, message
        self.decision = decision
        self.reason = reason or (decision.reason if decision else None)


@dataclass
class ManagedPolicy:
    name: str
    arn: str
    id: str
    path: str
    document: str
    policy: Policy
    attachments: int = 0
    create_date: dt.datetime = EPOCH


@dataclass
class User:
    account: str
    name: str
    path: str
    id: str
    arn: str
    inline: dict[str, tuple[str, Policy]] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)  # policy ARNs
    boundary: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    create_date: dt.datetime = EPOCH
    groups: list[str] = field(default_factory=list)  # names of the groups the user is a member of
    access_keys: list[str] = field(default_factory=list)  # access key ids


@dataclass
class Group:
    account: str
    name: str
    path: str
    id: str
    arn: str
    inline: dict[str, tuple[str, Policy]] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)  # policy ARNs
    members: list[str] = field(default_factory=list)  # user names
    create_date: dt.datetime = EPOCH


@dataclass
class Role:
    account: str
    name: str
    path: str
    id: str
    arn: str
    trust_document: str
    trust: Policy
    max_session_duration: int = 3600
    description: str | None = None
    inline: dict[str, tuple[str, Policy]] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)
    boundary: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    service_linked: str | None = None  # the service, for a service-linked role
    instance_profiles: list[str] = field(default_factory=list)
    create_date: dt.datetime = EPOCH


@dataclass
class InstanceProfile:
    account: str
    name: str
    path: str
    id: str
    arn: str
    roles: list[str] = field(default_factory=list)
    create_date: dt.datetime = EPOCH
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Bucket:
    name: str
    account: str
    policy_document: str | None = None
    policy: Policy | None = None
    objects: dict[str, bytes] = field(default_factory=dict)


@dataclass
class OidcProvider:
    """An IAM OIDC identity provider: which issuer's tokens the account accepts, for which audiences.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html"""

    account: str
    url: str  # the issuer without https://, as the ARN names it
    arn: str
    client_ids: list[str] = field(default_factory=list)
    thumbprints: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    create_date: dt.datetime = EPOCH


@dataclass
class Account:
    id: str
    users: dict[str, User] = field(default_factory=dict)  # lower-cased name -> user (names are unique without regard to case)
    groups: dict[str, Group] = field(default_factory=dict)  # lower-cased name -> group
    roles: dict[str, Role] = field(default_factory=dict)
    policies: dict[str, ManagedPolicy] = field(default_factory=dict)  # ARN -> policy
    instance_profiles: dict[str, InstanceProfile] = field(default_factory=dict)
    deletion_tasks: dict[str, str] = field(default_factory=dict)
    oidc_providers: dict[str, OidcProvider] = field(default_factory=dict)  # ARN -> provider


@dataclass
class Session:
    """A role session: who it is, what limits it, when it expires."""

    role_account: str
    role_name: str
    role_id: str
    role_arn: str
    session_name: str
    expires: dt.datetime
    chained: bool
    session_policies: list[tuple[str, Policy]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    transitive_tag_keys: frozenset[str] = frozenset()
    source_identity: str | None = None
    by_service: str | None = None
    web_identity: str | None = None  # the OIDC provider's ARN, for a session from AssumeRoleWithWebIdentity

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.role_account}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def user_id(self) -> str:
        return f"{self.role_id}:{self.session_name}"


@dataclass
class Federation:
    """A federated user session from GetFederationToken: the IAM user (or root) behind it, the
    name it was given and the session policies passed (none passed: no permissions).
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html"""

    name: str
    session_policies: list = field(default_factory=list)

    def arn(self, account: str) -> str:
        return f"arn:aws:sts::{account}:federated-user/{self.name}"


@dataclass
class Caller:
    """Who holds the credentials a request was signed with."""

    kind: str  # admin | root | user | session | service | anonymous | federated
    account: str | None
    user: User | None = None
    session: Session | None = None
    service: str | None = None
    # Temporary credentials of a user or the root user from GetSessionToken: the same
    # principal, with the restrictions of such credentials, until `expires`.
    session_token: bool = False
    expires: dt.datetime | None = None
    federation: Federation | None = None  # kind "federated": GetFederationToken's session

    @property
    def arn(self) -> str:
        if self.kind == "anonymous":
            return "anonymous"
        if self.kind in ("admin", "root"):
            return f"arn:aws:iam::{self.account}:root"
        if self.kind == "user":
            return self.user.arn
        if self.kind == "session":
            return self.session.arn
        if self.kind == "federated":
            return self.federation.arn(self.account)
        return self.service or ""


class Model:
    """All accounts of one scenario run. Unique ids are derived from a counter, so the same
    scenario gives the same ids every time (repeatable traces and reports)."""

    def __init__(self, start: dt.datetime = EPOCH):
        self.accounts: dict[str, Account] = {}
        self.buckets: dict[str, Bucket] = {}
        self.keys: dict[str, tuple[str, Caller]] = {}  # access key id -> (secret, caller)
        self.key_status: dict[str, str] = {}  # access key id -> Active | Inactive, once updated
        self.issuers: dict[str, dict] = {}  # OIDC issuer URL -> its JWKS (public keys), as it would publish them
        self.start = start
        self.elapsed = 0.0
        self._ids = itertools.count(1)
        self._time_context: tuple[float, dict[str, list[str]]] | None = None
        self.organization = None  # an organizations.Organization, once CreateOrganization ran

    # ---- clock
    @property
    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def set_clock(self, seconds: float) -> None:
        self.elapsed = max(self.elapsed, float(seconds))

    def time_context(self) -> dict[str, list[str]]:
        """aws:CurrentTime and aws:EpochTime for the current virtual time (cached: it only
        changes when the clock moves)."""
        cached = self._time_context
        if cached is None or cached[0] != self.elapsed:
            now = self.now
            cached = (self.elapsed, {"aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
                                     "aws:epochtime": [str(int(now.timestamp()))]})
            self._time_context = cached
        return cached[1]

    # ---- ids
    def new_id(self, prefix: str, length: int = 21) -> str:
        digest = hashlib.sha256(f"{prefix}{next(self._ids)}".encode()).digest()
        body = "".join(_ALPHABET[b % 32] for b in digest)
        return prefix + body[: length - len(prefix)]

    def new_secret(self) -> str:
        digest = hashlib.sha256(f"secret{next(self._ids)}".encode()).hexdigest()
        return (digest + digest)[:40]

    def account(self, account_id: str) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = self.accounts[account_id] = Account(account_id)
        return acct

    def register_key(self, access_key: str, secret: str, caller: Caller) -> None:
        self.keys[access_key] = (secret, caller)

    def caller(self, access_key: str, service: str = "sts") -> Caller:
        entry = self.keys.get(access_key)
        if entry is None:
            raise AwsError(*INVALID_TOKEN.get(service, INVALID_TOKEN["sts"]))
        caller = entry[1]
        if self.key_status.get(access_key) == "Inactive":
            from rolecall.targets.reference.policy import NotModelled

            raise NotModelled("a request signed with an inactive access key (AWS's answer is not sourced)")
        expires = caller.session.expires if caller.kind == "session" else caller.expires
        if expires is not None and self.now >= expires:
            code, status, message = EXPIRED_TOKEN.get(service, EXPIRED_TOKEN["sts"])
            raise AwsError(code, status, message, reason="deny-expired-token")
        return caller

    # ---- dispatch
    def call(self, access_key: str, service: str, action: str, params: dict[str, Any]) -> tuple[Any, Decision | None]:
        from rolecall.targets.reference import iam, organizations, s3, sts

        if action in UNSIGNED_CALLS and service == "sts" and access_key not in self.keys:
            access_key = "ANONYMOUS"  # the caller's signature, if any, plays no part
            self.keys.setdefault(access_key, ("-", Caller("anonymous", None)))
        module = {"iam": iam, "sts": sts, "s3": s3, "organizations": organizations}.get(service)
        handler: Callable | None = getattr(module, action, None) if module else None
        if handler is None or not getattr(handler, "is_operation", False):
            from rolecall.targets.reference.policy import NotModelled

            raise NotModelled(f"the reference model does not implement {service}:{action}")
        caller = self.caller(access_key, service)
        if caller.kind == "federated":
            from rolecall.targets.reference.federation import federated_user_may_call

            federated_user_may_call(service, action)
        if caller.kind == "anonymous" and service in ("iam", "sts") and action not in UNSIGNED_CALLS:
            # IAM and STS take no unsigned requests (STS's web-identity and SAML calls aside,
            # which the model does not implement): MissingAuthenticationToken, 403
            # (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
            raise AwsError("MissingAuthenticationToken", 403, "Request is missing Authentication Token")
        if service == "iam" and caller.session_token:
            # GetSessionToken credentials "cannot call IAM API operations unless MFA information
            # is included with the request"; IAM answers as for an unknown token
            # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison;
            # the code as users report it: https://github.com/99designs/aws-vault/issues/15).
            raise AwsError(*INVALID_TOKEN["iam"], reason="deny-session-token-calls-iam")
        try:
            return handler(self, caller, params)
        except AwsError as exc:
            if service == "iam" and exc.code == "NoSuchEntity":
                # AWS authorizes a request before it acts on it: a caller who may not perform
                # the action on the entity it names learns AccessDenied, not that the entity
                # is missing (docs/decisions.md 28).
                iam.authorize_missing(self, caller, action, params)
            raise


def operation(fn):
    """Mark a module function as an API operation the model implements."""
    fn.is_operation = True
    return fn


__all__ = ["AwsError", "Model", "Caller", "Session", "Federation", "OidcProvider", "User", "Group", "Role", "Account", "Bucket", "ManagedPolicy",
           "InstanceProfile", "operation", "REASONS"]
