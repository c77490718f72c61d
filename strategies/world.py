"""Generated worlds: a few logical accounts whose principals come from small name pools, so
near misses happen (bob and bobby, the same name in another account, "/" and "/app/").

`WorldBuilder` collects what a family strategy declares, then declares whatever its
policies and steps still name (IAM rejects a trust or bucket policy that names a principal
that does not exist) and returns a `Scenario`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rolecall.scenario import FORMAT, REFERENCE, REFERENCE_BODY, Scenario, from_dict
from rolecall.strategies._draw import one_in, pick

V = "2012-10-17"
ACCOUNTS = ("A", "B", "C", "D")
USER_NAMES = ("bob", "bobby", "alice")
ROLE_NAMES = ("reader", "writer", "deployer")
PATHS = ("/", "/app/")
# name -> a name one edit away that also exists in worlds
NEAR_MISS = {"bob": "bobby", "bobby": "bob", "alice": "alicia", "alicia": "alice",
             "reader": "readers", "readers": "reader", "writer": "writers", "writers": "writer",
             "deployer": "deploy", "deploy": "deployer"}
SESSION_NAMES = ("s1", "bob", "app-session", "a.b@c")
#: how a near-miss name differs from the name it misses, in both directions: one that has the
#: name as a prefix or suffix (longer, prefixed) and one that is a prefix or suffix of it
#: (shorter, suffix), so a matcher that compares by prefix, suffix or substring admits one
NEAR_MISS_DIRECTIONS = ("longer", "shorter", "prefixed", "suffix")
TAG_VALUES = ("red", "blue")
BLOB = "cmVk"  # base64 of "red": a tag value BinaryEquals compares byte for byte
# A harmless managed policy for a name a world mentions but does not define.
_PLACEHOLDER_POLICY = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                                    "Resource": "*"}]}


def near_name(name: str, direction: str) -> str:
    """A valid IAM name one edit from `name`, in `direction` (NEAR_MISS_DIRECTIONS):
    "longer" bob -> bobby (a pool name when there is one), "shorter" bobby -> bob and
    alice -> alic (a prefix of it), "prefixed" bob -> xbob, "suffix" bob -> ob (a suffix of it)."""
    if direction == "longer":
        near = NEAR_MISS.get(name, name + "2")
        return near if len(near) > len(name) and near.startswith(name) else name + "2"
    if direction == "shorter":
        near = NEAR_MISS.get(name, "")
        return near if near and len(near) < len(name) and name.startswith(near) else name[:-1] or name + "2"
    if direction == "prefixed":
        return "x" + name
    if direction == "suffix":
        return name[1:] if len(name) > 1 else "x" + name
    raise ValueError(f"unknown near-miss direction {direction!r} (known: {', '.join(NEAR_MISS_DIRECTIONS)})")


def doc(*statements: dict, version: str | None = V) -> dict:
    """A policy document with these statements."""
    d: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        d = {"Version": version, **d}
    return d


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{{{{{account}}}}}:root"


def other_account(*taken: str) -> str:
    """The first logical account not in `taken` (a stranger to the ones involved)."""
    return next(a for a in ACCOUNTS if a not in taken)


@dataclass(frozen=True)
class Entity:
    """A user or role of a logical account, as the scenario file names it."""

    account: str
    kind: str  # "user" | "role"
    name: str
    path: str = "/"

    @property
    def ref(self) -> str:
        """The ARN, as a reference: `{{A:user/bob}}` (resolves with the declared path)."""
        return f"{{{{{self.account}:{self.kind}/{self.name}}}}}"

    @property
    def caller(self) -> str:
        return f"{self.account}:user/{self.name}"

    def arn(self, *, path: str | None = None, name: str | None = None, account: str | None = None) -> str:
        """The ARN spelled out, optionally with one part changed (for near misses)."""
        return (f"arn:aws:iam::{{{{{account or self.account}}}}}:{self.kind}"
                f"{self.path if path is None else path}{self.name if name is None else name}")


@dataclass(frozen=True)
class SessionOf:
    """A role session a step will hold: the role, the RoleSessionName, the AssumeRole step id."""

    role: Entity
    session_name: str
    step: str

    @property
    def account(self) -> str:
        return self.role.account

    @property
    def arn(self) -> str:
        # The session ARN carries no role path:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
        return f"arn:aws:sts::{{{{{self.role.account}}}}}:assumed-role/{self.role.name}/{self.session_name}"


@dataclass(frozen=True)
class Service:
    """An AWS service principal acting on its own (instance profiles, service-linked roles)."""

    name: str  # "ec2.amazonaws.com"

    @property
    def caller(self) -> str:
        return f"service:{self.name}"


class WorldBuilder:
    """Accounts and what they hold, as the scenario file's `accounts` object."""

    def __init__(self, *accounts: str):
        self.accounts: dict[str, dict[str, Any]] = {a: {} for a in accounts}

    def _table(self, account: str, kind: str) -> dict:
        return self.accounts.setdefault(account, {}).setdefault(kind, {})

    def user(self, account: str, name: str, *, path: str = "/", tags: dict | None = None,
             policies: dict | None = None, boundary: str | None = None) -> Entity:
        u: dict[str, Any] = {}
        if path != "/":
            u["path"] = path
        if tags:
            u["tags"] = dict(tags)
        if policies:
            u["policies"] = dict(policies)
        if boundary:
            u["boundary"] = boundary
        self._table(account, "users")[name] = u
        return Entity(account, "user", name, path)

    def role(self, account: str, name: str, trust: dict, *, path: str = "/", policies: dict | None = None,
             boundary: str | None = None, max_session_duration: int | None = None,
             tags: dict | None = None, managed: list | None = None) -> Entity:
        r: dict[str, Any] = {"trust": trust}
        if path != "/":
            r["path"] = path
        if policies:
            r["policies"] = dict(policies)
        if managed:
            r["managed"] = list(managed)
        if boundary:
            r["boundary"] = boundary
        if max_session_duration is not None:
            r["max_session_duration"] = max_session_duration
        if tags:
            r["tags"] = dict(tags)
        self._table(account, "roles")[name] = r
        return Entity(account, "role", name, path)

    def set_trust(self, role: Entity, trust: dict) -> None:
        self.accounts[role.account]["roles"][role.name]["trust"] = trust

    def add_policies(self, entity: Entity, policies: dict) -> None:
        """Add inline policies to a declared user or role (renaming any whose name is taken)."""
        table = self.accounts[entity.account]["users" if entity.kind == "user" else "roles"]
        held = table[entity.name].setdefault("policies", {})
        for name, document in policies.items():
            while name in held:
                name += "x"
            held[name] = document

    def managed_policy(self, account: str, name: str, document: dict) -> str:
        self._table(account, "managed_policies")[name] = document
        return name

    def bucket(self, account: str, name: str, *, objects: dict | None = None, policy: dict | None = None) -> str:
        b: dict[str, Any] = {}
        if objects:
            b["objects"] = dict(objects)
        if policy is not None:
            b["policy"] = policy
        self._table(account, "buckets")[name] = b
        return f"{{{{{account}:bucket/{name}}}}}"

    def instance_profile(self, account: str, name: str, role: str) -> None:
        self._table(account, "instance_profiles")[name] = {"role": role}

    def service_linked_role(self, account: str, service: str, suffix: str | None = None) -> None:
        entry: Any = {"service": service, "suffix": suffix} if suffix else service
        self.accounts.setdefault(account, {}).setdefault("service_linked_roles", []).append(entry)

    # ---- completion
    def _declare_named(self, steps: list[dict]) -> None:
        """Declare every account, user, role, bucket, policy and instance profile that a
        reference names but the world lacks: AWS would refuse the policies otherwise."""
        text = json.dumps([self.accounts, steps])
        for m in REFERENCE.finditer(text):
            rm = REFERENCE_BODY.fullmatch(m.group(1))
            if rm is None:
                continue
            acct, kind, name = rm["account"], rm["kind"], rm["name"]
            world = self.accounts.setdefault(acct, {})
            if kind is None:
                continue
            if kind == "user":
                world.setdefault("users", {}).setdefault(name, {})
            elif kind == "role":
                if name not in world.get("roles", {}) and not _is_service_linked(world, name):
                    self.role(acct, name, doc({"Effect": "Allow", "Principal": {"AWS": root_arn(acct)},
                                               "Action": "sts:AssumeRole"}))
            elif kind == "bucket":
                world.setdefault("buckets", {}).setdefault(name, {})
            elif kind == "policy":
                world.setdefault("managed_policies", {}).setdefault(name, _PLACEHOLDER_POLICY)

    def scenario(self, steps: list[dict], description: str, source: str | None = None, *,
                 issuers: dict | None = None, organization: dict | None = None) -> Scenario:
        """The finished scenario: the world, completed, and these steps (and the OIDC issuers
        whose tokens the steps carry, and the accounts' organization, rolecall.organization)."""
        self._declare_named(steps)
        data: dict[str, Any] = {"format": FORMAT, "description": description}
        if source:
            data["source"] = source
        if issuers:
            data["issuers"] = issuers
        if organization:
            data["organization"] = organization
        data["accounts"] = self.accounts
        data["steps"] = steps
        return from_dict(data, origin="<generated>")


def _is_service_linked(world: dict, name: str) -> bool:
    from rolecall import aws
    from rolecall.scenario import slr_fields

    return any(aws.service_linked_role_name(*slr_fields(s)) == name for s in world.get("service_linked_roles", []))


# ----------------------------------------------------------------------------- small pieces

def user_name(draw) -> str:
    """A user name from the pool (bob, bobby, alice): near misses of each other."""
    return pick(draw, USER_NAMES)


def role_name(draw) -> str:
    """A role name from the pool (reader, writer, deployer)."""
    return pick(draw, ROLE_NAMES)


def path(draw) -> str:
    """'/' three times in four, else '/app/' (a path changes the ARN, not the session ARN)."""
    return "/app/" if one_in(draw, 4) else "/"


def principal_tags(draw) -> dict:
    """Tags for a user or role: none, a team tag, or a team tag plus a numeric level or, once
    in eight draws, a base64 `blob` (the condition pieces compare against them)."""
    kind = pick(draw, ("none", "team", "team-level"))
    if kind == "none":
        return {}
    tags = {"team": pick(draw, TAG_VALUES)}
    if kind == "team-level":
        tags["level"] = pick(draw, ("3", "7"))
    if one_in(draw, 8):
        tags["blob"] = BLOB
    return tags


def session_name(draw) -> str:
    """A RoleSessionName from a small pool (one equals a user name, for ${aws:username})."""
    return pick(draw, SESSION_NAMES)
