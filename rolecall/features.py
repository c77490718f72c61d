"""The policy-language and API features a scenario exercises, beyond the oracle's reason labels:
`features(scenario) -> set[str]`, a pure function of the scenario file (no target runs it).

Names are `family:detail`: `condition:StringNotEquals:missing` (an operator, with its
qualifiers as written, on a key the requests it applies to lack or carry), `qualifier:...`,
`condition-key-case:variant`, `action-case:variant`, `action-wildcard:...`,
`resource-wildcard:...`, `principal:...` (the forms a Principal element takes),
`principal-near-miss:<direction>`, `duration:...` (sts:AssumeRole's DurationSeconds class),
`expiry:...`, `chain:<hops>`, `caller:...`, `name-case:variant`, `policy:...`.
`FEATURES` is the catalogue the strategies aim at: the quality tests require the ci budget to
reach each. Whether a key is present is judged per request the policy can apply to, from what
the scenario declares (the caller's kind and tags, the AssumeRole parameters): the context
keys of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

from rolecall.scenario import CALLER, REFERENCE, Scenario, Step

# ----------------------------------------------------------------------------- vocabulary

#: condition operators, as the condition-operators page spells them
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
             "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
             "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
             "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
             "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null")
QUALIFIERS = ("IfExists", "ForAllValues", "ForAnyValue")
PRESENCE = ("present", "missing")

#: condition keys as AWS's documentation spells them (the keys rolecall's requests carry or lack)
CANONICAL_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:userid", "aws:username",
                  "aws:SourceIdentity", "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport",
                  "aws:PrincipalServiceName", "aws:TagKeys", "aws:VpcSourceIp", "aws:PrincipalOrgID",
                  "aws:SourceVpce", "aws:MultiFactorAuthAge", "aws:SourceIp", "sts:RoleSessionName",
                  "sts:ExternalId", "sts:SourceIdentity", "sts:TransitiveTagKeys")
CANONICAL_PREFIXES = ("aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/")
#: the actions rolecall's policies name, as the Service Authorization Reference spells them
CANONICAL_ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:AssumeRoleWithWebIdentity",
                     "sts:AssumeRoleWithSAML", "sts:GetCallerIdentity", "sts:GetSessionToken", "s3:GetObject",
                     "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:ListAllMyBuckets", "s3:ListGetObject")

# Keys every request of an IAM principal carries; keys no request in rolecall's worlds carries.
_ALWAYS = frozenset({"aws:currenttime", "aws:epochtime", "aws:securetransport", "aws:principalarn",
                     "aws:principalaccount", "aws:principaltype", "aws:userid"})
_NEVER = frozenset({"aws:vpcsourceip", "aws:principalorgid", "aws:sourcevpce", "aws:multifactorauthage"})

NEAR_MISS_DIRECTIONS = ("longer", "shorter", "prefixed", "suffix")
DURATIONS = ("default", "below-minimum", "minimum", "under-hour", "hour", "over-hour", "over-maximum")


def _catalogue() -> tuple[str, ...]:
    out: list[str] = []
    for op in OPERATORS:
        for presence in PRESENCE:
            # rolecall's worlds carry no source IP (the reference model populates none)
            if not (op.endswith("IpAddress") and presence == "present"):
                out.append(f"condition:{op}:{presence}")
    out += [f"qualifier:{q}:{p}" for q in QUALIFIERS for p in PRESENCE]
    out += ["condition-key-case:as-documented", "condition-key-case:variant", "variable:condition",
            "variable:default", "variable:resource", "action-case:as-documented", "action-case:variant",
            "action-wildcard:all", "action-wildcard:service", "action-wildcard:partial", "action-wildcard:question",
            "resource-wildcard:all", "resource-wildcard:partial", "resource-wildcard:question",
            "resource-wildcard:account", "element:NotAction", "element:NotResource", "effect:Deny",
            "principal:star", "principal:aws-star", "principal:account-id", "principal:account-root",
            "principal:user", "principal:role", "principal:session", "principal:service", "principal:list",
            *(f"principal-near-miss:{d}" for d in NEAR_MISS_DIRECTIONS),
            *(f"duration:{d}" for d in DURATIONS),
            "expiry:used-before-expiry", "expiry:used-after-expiry", "expiry:default-duration-used-after-hour",
            "chain:1", "chain:2", "chain:3+", "caller:user", "caller:session", "caller:admin", "caller:service", "name-case:variant", "policy:managed", "policy:boundary", "policy:session-inline",
            "policy:session-managed", "policy:bucket", "policy:version-2008-10-17"]
    return tuple(out)


FEATURES: tuple[str, ...] = _catalogue()

# ----------------------------------------------------------------------------- the scenario's policies

_POLICY_PARAMS = {  # call -> (parameter, policy kind)
    "iam:CreateRole": ("AssumeRolePolicyDocument", "trust"), "iam:UpdateAssumeRolePolicy": ("PolicyDocument", "trust"),
    "iam:PutRolePolicy": ("PolicyDocument", "identity"), "iam:PutUserPolicy": ("PolicyDocument", "identity"),
    "iam:CreatePolicy": ("PolicyDocument", "identity"), "s3:PutBucketPolicy": ("Policy", "bucket"),
    "sts:AssumeRole": ("Policy", "session"),
}


def _load(document: Any) -> dict | None:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    return document if isinstance(document, dict) else None


def _statements(document: dict) -> list[dict]:
    st = document.get("Statement")
    st = st if isinstance(st, list) else [st]
    return [s for s in st if isinstance(s, dict)]


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


class _World:
    """What the features need to know about a scenario: its entities, tags and sessions."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.steps = {s.id: s for s in scenario.steps}
        self.tags: dict[tuple[str, str, str], set[str]] = {}  # (account, kind, lower name) -> lower tag keys
        self.names: dict[tuple[str, str], set[str]] = {}  # (account, kind) -> names as declared
        for acct, world in scenario.accounts.items():
            for kind, table in (("user", world.get("users") or {}), ("role", world.get("roles") or {})):
                for name, entity in table.items():
                    self.names.setdefault((acct, kind), set()).add(name)
                    tags = (entity or {}).get("tags") or {}
                    self.tags[(acct, kind, name.lower())] = {str(k).lower() for k in tags}
        for s in scenario.steps:
            if s.call == "iam:CreateRole" and isinstance(s.params.get("RoleName"), str):
                self.names.setdefault(("A", "role"), set()).add(s.params["RoleName"])

    def role_of(self, step: Step) -> tuple[str, str] | None:
        """(account, role name) an sts:AssumeRole step names in its RoleArn."""
        arn = str(step.params.get("RoleArn", ""))
        m = REFERENCE.fullmatch(arn)
        if m and ":role/" in m.group(1):
            acct, _, name = m.group(1).partition(":role/")
            return acct, name
        m = re.fullmatch(r"arn:aws:iam::\{\{([A-Z][A-Z0-9]*)\}\}:role/(?:.*/)?([^/]+)", arn)
        return (m.group(1), m.group(2)) if m else None

    def caller_kind(self, step: Step) -> str:
        if step.caller in self.steps:
            return "session"
        if step.caller.startswith("service:"):
            return "service"
        m = CALLER.fullmatch(step.caller)
        if m is None:
            return "other"
        return "user" if m["user"] else m["kind"]

    def hops(self, step: Step) -> int:
        """How many role sessions stand behind the caller of `step` (0: a long-term principal)."""
        n, seen = 0, set()
        while step.caller in self.steps and step.caller not in seen:
            seen.add(step.caller)
            step = self.steps[step.caller]
            n += 1
        return n

    def context(self, step: Step) -> set[str]:
        """The lower-case condition keys `step`'s request carries."""
        keys = set(_ALWAYS)
        kind = self.caller_kind(step)
        if kind == "user":
            m = CALLER.fullmatch(step.caller)
            keys.add("aws:username")
            keys |= {f"aws:principaltag/{t}" for t in self.tags.get((m["account"], "user", m["user"].lower()), ())}
        elif kind == "session":
            assume = self.steps[step.caller]
            role = self.role_of(assume)
            if role:
                keys |= {f"aws:principaltag/{t}" for t in self.tags.get((role[0], "role", role[1].lower()), ())}
            keys |= {f"aws:principaltag/{str(t.get('Key', '')).lower()}" for t in assume.params.get("Tags") or []
                     if isinstance(t, dict)}
            if any("SourceIdentity" in self.steps[s].params for s in self._chain(step)):
                keys.add("aws:sourceidentity")
        elif kind in ("service", "other"):
            keys = {"aws:currenttime", "aws:epochtime", "aws:securetransport"}
        if step.call == "sts:AssumeRole":
            p = step.params
            keys.add("sts:rolesessionname")
            for param, key in (("ExternalId", "sts:externalid"), ("SourceIdentity", "sts:sourceidentity"),
                               ("TransitiveTagKeys", "sts:transitivetagkeys")):
                if param in p:
                    keys.add(key)
            tags = [t for t in p.get("Tags") or [] if isinstance(t, dict)]
            if tags:
                keys.add("aws:tagkeys")
                keys |= {f"aws:requesttag/{str(t.get('Key', '')).lower()}" for t in tags}
        return keys

    def _chain(self, step: Step) -> Iterator[str]:
        seen = set()
        while step.caller in self.steps and step.caller not in seen:
            seen.add(step.caller)
            yield step.caller
            step = self.steps[step.caller]

    def requests(self, kind: str, holder: tuple[str, str, str] | None, step: Step | None) -> list[Step]:
        """The steps a policy of `kind`, held by `holder` (account, user|role|bucket, name) or
        passed in `step`, can apply to."""
        out = []
        for s in self.scenario.steps:
            if kind == "session":
                if step is not None and step.id in self._chain(s):
                    out.append(s)
            elif kind == "trust":
                role = self.role_of(s) if s.call == "sts:AssumeRole" else None
                if holder and role and (role[0], role[1].lower()) == (holder[0], holder[2].lower()):
                    out.append(s)
            elif kind == "bucket":
                bucket = str(s.params.get("Bucket", ""))
                if holder and s.service == "s3" and bucket == f"{{{{{holder[0]}:bucket/{holder[2]}}}}}":
                    out.append(s)
            elif holder is not None:
                acct, what, name = holder
                if what == "user" and s.caller == f"{acct}:user/{name}":
                    out.append(s)
                elif what == "role" and self.caller_kind(s) == "session":
                    role = self.role_of(self.steps[s.caller])
                    if role and (role[0], role[1].lower()) == (acct, name.lower()):
                        out.append(s)
        return out


def _policies(world: _World) -> Iterator[tuple[str, tuple | None, Step | None, Any]]:
    """(kind, holder, step that passes it, document) for every policy the scenario holds."""
    for acct, w in world.scenario.accounts.items():
        managed = w.get("managed_policies") or {}
        for what, table in (("user", w.get("users") or {}), ("role", w.get("roles") or {})):
            for name, entity in table.items():
                entity = entity or {}
                holder = (acct, what, name)
                if what == "role" and "trust" in entity:
                    yield "trust", holder, None, entity["trust"]
                for document in (entity.get("policies") or {}).values():
                    yield "identity", holder, None, document
                for m in entity.get("managed") or []:
                    if m in managed:
                        yield "managed", holder, None, managed[m]
                if entity.get("boundary") in managed:
                    yield "boundary", holder, None, managed[entity["boundary"]]
        for name, bucket in (w.get("buckets") or {}).items():
            if (bucket or {}).get("policy") is not None:
                yield "bucket", (acct, "bucket", name), None, bucket["policy"]
    for s in world.scenario.steps:
        param, kind = _POLICY_PARAMS.get(s.call, (None, None))
        if param and param in s.params:
            holder = None
            if kind == "trust":
                holder = ("A", "role", str(s.params.get("RoleName", "")))
            yield kind, holder, s, s.params[param]
        if s.call == "sts:AssumeRole" and s.params.get("PolicyArns"):
            yield "session-managed", None, s, None


# ----------------------------------------------------------------------------- per element

def canonical_key(key: str) -> str | None:
    """`key` as AWS's documentation spells it, or None when the key is not one rolecall knows."""
    low = key.lower()
    for k in CANONICAL_KEYS:
        if k.lower() == low:
            return k
    for prefix in CANONICAL_PREFIXES:
        if low.startswith(prefix.lower()):
            return prefix + key[len(prefix):]
    return None


def _parse_operator(op: str) -> tuple[str, str | None, bool] | None:
    qualifier = None
    for q in ("ForAllValues:", "ForAnyValue:"):
        if op.startswith(q):
            qualifier, op = q[:-1], op[len(q):]
    if_exists = op.endswith("IfExists")
    base = op[:-len("IfExists")] if if_exists else op
    return (base, qualifier, if_exists) if base in OPERATORS else None


def _condition_features(condition: Any, contexts: list[set[str]]) -> set[str]:
    out: set[str] = set()
    if not isinstance(condition, dict):
        return out
    for op, block in condition.items():
        parsed = _parse_operator(str(op))
        if parsed is None or not isinstance(block, dict):
            continue
        base, qualifier, if_exists = parsed
        for key, values in block.items():
            canonical = canonical_key(str(key))
            if canonical is not None:
                out.add("condition-key-case:" + ("as-documented" if canonical == key else "variant"))
            presence = {("present" if str(key).lower() in ctx else "missing") for ctx in contexts}
            if str(key).lower() in _NEVER:
                presence = {"missing"}
            for p in presence:
                out.add(f"condition:{base}:{p}")
                if if_exists:
                    out.add(f"qualifier:IfExists:{p}")
                if qualifier:
                    out.add(f"qualifier:{qualifier}:{p}")
            texts = [str(v) for v in _as_list(values)]
            if any("${" in t for t in texts):
                out.add("variable:condition")
                if any(re.search(r"\$\{[^}]*,\s*'", t) for t in texts):
                    out.add("variable:default")
    return out


def _action_features(actions: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    canonical = {a.lower(): a for a in CANONICAL_ACTIONS}
    for a in actions:
        a = str(a)
        if a == "*":
            out.add("action-wildcard:all")
            continue
        vendor, _, name = a.partition(":")
        if name == "*":
            out.add("action-wildcard:service")
        elif "*" in name:
            out.add("action-wildcard:partial")
        if "?" in name:
            out.add("action-wildcard:question")
        if "*" not in name and "?" not in name and a.lower() in canonical:
            out.add("action-case:" + ("as-documented" if canonical[a.lower()] == a else "variant"))
        elif vendor != vendor.lower():
            out.add("action-case:variant")
    return out


def _resource_features(resources: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for r in resources:
        r = str(r)
        if r == "*":
            out.add("resource-wildcard:all")
            continue
        parts = r.split(":", 5)
        if len(parts) == 6 and parts[4] == "*":
            out.add("resource-wildcard:account")
        tail = parts[-1]
        if "*" in tail:
            out.add("resource-wildcard:partial")
        if "?" in tail:
            out.add("resource-wildcard:question")
        if "${" in r:
            out.add("variable:resource")
    return out


def _principal_name(value: str) -> tuple[str, str, str] | None:
    m = REFERENCE.fullmatch(value)
    if m:
        body = m.group(1)
        for kind in ("user", "role"):
            if f":{kind}/" in body:
                acct, _, name = body.partition(f":{kind}/")
                return acct, kind, name
    return None


def _principal_features(principal: Any) -> set[str]:
    if principal == "*":
        return {"principal:star"}
    out: set[str] = set()
    if not isinstance(principal, dict):
        return out
    for typ, values in principal.items():
        values = _as_list(values)
        if len(values) > 1:
            out.add("principal:list")
        for v in map(str, values):
            if typ == "Service":
                out.add("principal:service")
            elif typ != "AWS":
                continue
            elif v == "*":
                out.add("principal:aws-star")
            elif re.fullmatch(r"\d{12}|\{\{[A-Z][A-Z0-9]*\}\}", v):
                out.add("principal:account-id")
            elif v.endswith(":root"):
                out.add("principal:account-root")
            elif ":assumed-role/" in v:
                out.add("principal:session")
            elif ":user/" in v:
                out.add("principal:user")
            elif ":role/" in v:
                out.add("principal:role")
    return out


def near_miss_direction(named: str, caller: str) -> str | None:
    """How a name in a policy differs from the caller's: NEAR_MISS_DIRECTIONS, "case", or None."""
    if named == caller:
        return None
    if named.lower() == caller.lower():
        return "case"
    if named.startswith(caller):
        return "longer"
    if caller.startswith(named):
        return "shorter"
    if named.endswith(caller):
        return "prefixed"
    if caller.endswith(named):
        return "suffix"
    return None


def _near_misses(principal: Any, callers: list[tuple[str, str, str]]) -> set[str]:
    out: set[str] = set()
    if not isinstance(principal, dict):
        return out
    for v in map(str, _as_list(principal.get("AWS", []))):
        named = _principal_name(v)
        for caller in callers:
            if named and named[:2] == caller[:2]:
                d = near_miss_direction(named[2], caller[2])
                if d in NEAR_MISS_DIRECTIONS:
                    out.add(f"principal-near-miss:{d}")
    return out


def _callers_of(world: _World, requests: list[Step]) -> list[tuple[str, str, str]]:
    """(account, user|role, name) of the principals making `requests` (a session: its role)."""
    out = []
    for s in requests:
        m = CALLER.fullmatch(s.caller)
        if m and m["user"]:
            out.append((m["account"], "user", m["user"]))
        elif s.caller in world.steps:
            role = world.role_of(world.steps[s.caller])
            if role:
                out.append((role[0], "role", role[1]))
    return out


# ----------------------------------------------------------------------------- API features

def _duration_class(seconds: Any) -> str:
    if seconds is None:
        return "default"
    try:
        s = int(seconds)
    except (TypeError, ValueError):
        return "below-minimum"
    if s < 900:
        return "below-minimum"
    if s == 900:
        return "minimum"
    if s < 3600:
        return "under-hour"
    if s == 3600:
        return "hour"
    return "over-hour" if s <= 43200 else "over-maximum"


def _api_features(world: _World) -> set[str]:
    out: set[str] = set()
    clock = 0.0
    issued: dict[str, tuple[float, Any]] = {}  # AssumeRole step id -> (issued at, DurationSeconds)
    known_roles = {n.lower(): n for (acct, kind), names in world.names.items() if kind == "role" for n in names}
    for s in world.scenario.steps:
        if s.at is not None:
            clock = max(clock, float(s.at))
        kind = world.caller_kind(s)
        if kind in ("user", "session", "admin", "root", "service"):
            out.add(f"caller:{kind}")
        if s.call == "sts:AssumeRole":
            seconds = s.params.get("DurationSeconds")
            out.add(f"duration:{_duration_class(seconds)}")
            issued[s.id] = (clock, seconds)
            hops = world.hops(s) + 1
            out.add(f"chain:{hops}" if hops < 3 else "chain:3+")
            if s.params.get("PolicyArns"):
                out.add("policy:session-managed")
        if s.caller in issued and s.at is not None:
            at, seconds = issued[s.caller]
            life = 3600 if seconds is None else int(seconds) if str(seconds).lstrip("-").isdigit() else 3600
            if float(s.at) >= at + life:
                out.add("expiry:used-after-expiry")
                if seconds is None:
                    out.add("expiry:default-duration-used-after-hour")
            else:
                out.add("expiry:used-before-expiry")
        name = s.params.get("RoleName")
        if isinstance(name, str) and s.service == "iam":
            if name.lower() in known_roles and known_roles[name.lower()] != name:
                out.add("name-case:variant")
            if s.call == "iam:CreateRole":
                known_roles.setdefault(name.lower(), name)
    return out


# ----------------------------------------------------------------------------- the function

#: the feature a policy of these kinds counts as, whatever it says (every kind counts by its content too)
_POLICY_FEATURES = {"managed": "policy:managed", "boundary": "policy:boundary", "session": "policy:session-inline",
                    "bucket": "policy:bucket"}


def features(scenario: Scenario) -> set[str]:
    """Every feature of `FEATURES` (and a few beyond it) that `scenario` exercises."""
    world = _World(scenario)
    out = _api_features(world)
    for kind, holder, step, document in _policies(world):
        if kind in _POLICY_FEATURES:
            out.add(_POLICY_FEATURES[kind])
        doc = _load(document)
        if doc is None:
            continue
        if doc.get("Version") == "2008-10-17":
            out.add("policy:version-2008-10-17")
        lookup = "identity" if kind in ("managed", "boundary") else kind
        requests = world.requests(lookup, holder, step)
        contexts = [world.context(r) for r in requests]
        callers = _callers_of(world, requests) if kind in ("trust", "bucket") else []
        for st in _statements(doc):
            if str(st.get("Effect")) == "Deny":
                out.add("effect:Deny")
            for element in ("NotAction", "NotResource"):
                if element in st:
                    out.add(f"element:{element}")
            out |= _action_features(_as_list(st.get("Action", st.get("NotAction", []))))
            out |= _resource_features(_as_list(st.get("Resource", st.get("NotResource", []))))
            if "Principal" in st:
                out |= _principal_features(st["Principal"])
                out |= _near_misses(st["Principal"], callers)
            if contexts:
                out |= _condition_features(st.get("Condition"), contexts)
    return out
