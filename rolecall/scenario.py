"""Scenario files: load, validate, resolve references, write back out.

A scenario is plain data (see docs/scenario-format.md, which extends the shared contract).
This module knows the file format and nothing about targets; errors name the file, the
JSON path and what is wrong, so the CLI can print them on one line.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from rolecall import aws, operations, organization
from rolecall.outcome import MATCHERS

FORMAT = "rolecall/scenario@1"

WORLD_KEYS = ("id", "users", "groups", "roles", "managed_policies", "buckets", "instance_profiles",
              "service_linked_roles", "oidc_providers")
ROLE_KEYS = ("trust", "policies", "managed", "boundary", "max_session_duration", "path", "tags", "description")
USER_KEYS = ("policies", "managed", "boundary", "path", "tags", "groups")
GROUP_KEYS = ("policies", "managed", "path")
BUCKET_KEYS = ("policy", "objects")
INSTANCE_PROFILE_KEYS = ("role", "path")
OIDC_PROVIDER_KEYS = ("client_ids", "thumbprints")
ISSUER_KEYS = ("keys",)
STEP_KEYS = ("id", "as", "call", "params", "at", "expect", "note")
EXPECT_KEYS = ("outcome", "code", "http_status", "message", "result")
OUTCOMES = ("ok", "error", "unsupported")

ACCOUNT_NAME = re.compile(r"[A-Z][A-Z0-9]{0,7}")
ENTITY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
BUCKET_LOGICAL = re.compile(r"[a-z0-9][a-z0-9.-]{0,40}")
STEP_ID = re.compile(r"[A-Za-z_][\w-]{0,63}", re.ASCII)
CALL = re.compile(r"(iam|sts|s3):[A-Z][A-Za-z0-9]+")
REFERENCE = re.compile(r"\{\{([^{}]*)\}\}")
REFERENCE_BODY = re.compile(
    r"(?P<account>[A-Z][A-Z0-9]{0,7})(?::(?P<kind>user|group|role|policy|instance-profile|oidc-provider|bucket)/(?P<name>[^{}]+))?")
CALLER = re.compile(r"(?P<account>[A-Z][A-Z0-9]{0,7}):(?P<kind>admin|root|user/(?P<user>.+))")
ANONYMOUS = "anonymous"  # an unsigned request
ORG = "org"  # {{org}}: the id of the scenario's organization (rolecall.organization)
# {"$from": "STEP.Field.List[0].Field"}: a value from an earlier step's result (in params).
FROM_PATH = re.compile(r"(?P<step>[A-Za-z_][\w-]{0,63})(?P<rest>(?:\.[A-Za-z0-9_]+|\[\d+\])*)", re.ASCII)
FROM_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", re.ASCII)


class ScenarioError(ValueError):
    """A scenario file is not valid; `str()` is one line naming file and place."""

    def __init__(self, origin: str, path: str, problem: str):
        self.origin, self.path, self.problem = origin, path, problem
        super().__init__(f"{origin}: {path}: {problem}" if path else f"{origin}: {problem}")


@dataclass(frozen=True)
class Step:
    id: str
    caller: str  # the file's "as"
    call: str
    params: Mapping[str, Any] = field(default_factory=dict)
    at: float | None = None
    expect: Mapping[str, Any] | None = None
    note: str | None = None

    @property
    def service(self) -> str:
        return self.call.split(":", 1)[0]

    @property
    def action(self) -> str:
        return self.call.split(":", 1)[1]

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "as": self.caller, "call": self.call, "params": dict(self.params)}
        if self.at is not None:
            d["at"] = self.at
        if self.expect is not None:
            d["expect"] = dict(self.expect)
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class Scenario:
    """One conformance case: accounts (the world) and steps. Immutable plain data."""

    accounts: Mapping[str, Mapping[str, Any]]
    steps: tuple[Step, ...]
    description: str = ""
    source: str | None = None
    origin: str = "<scenario>"
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept on save

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"format": FORMAT}
        if self.description:
            d["description"] = self.description
        if self.source:
            d["source"] = self.source
        d.update(self.extra)
        d["accounts"] = json.loads(json.dumps(self.accounts))
        d["steps"] = [s.to_dict() for s in self.steps]
        return d

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically: a reader never sees half a file."""
        return write_atomic(Path(path), self.dumps())

    @property
    def issuers(self) -> Mapping[str, Any]:
        """OIDC issuers the scenario's tokens come from: URL -> {"keys": [key ids]}."""
        return self.extra.get("issuers", {})

    @property
    def organization(self) -> Mapping[str, Any] | None:
        """The top-level `organization` (rolecall.organization), or None."""
        return self.extra.get("organization")

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


# ----------------------------------------------------------------------------- loading

def load(path: str | os.PathLike) -> Scenario:
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(origin, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(origin, "", "is a directory, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(origin, "", f"cannot read: {exc}") from None
    return loads(text, origin=origin, yaml_ok=origin.endswith((".yaml", ".yml")))


def loads(text: str, *, origin: str = "<scenario>", yaml_ok: bool = False) -> Scenario:
    if yaml_ok:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ScenarioError(origin, where, f"invalid YAML: {problem}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(origin, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    scenario = from_dict(data, origin=origin)
    unknown = operations.unknown_name(scenario.steps)  # a file's names against botocore's models
    if unknown:
        raise ScenarioError(origin, *unknown)
    return scenario


def _type_name(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(v), type(v).__name__)


class _Checker:
    def __init__(self, origin: str):
        self.origin = origin

    def fail(self, path: str, problem: str):
        raise ScenarioError(self.origin, path, problem)

    def obj(self, v: Any, path: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(v, dict):
            self.fail(path, f"expected an object, got {_type_name(v)}")
        if allowed is not None:
            for k in v:
                if k not in allowed:
                    self.fail(f"{path}.{k}", f"unknown field {k!r} (expected one of: {', '.join(allowed)})")
        return v

    def string(self, v: Any, path: str) -> str:
        if not isinstance(v, str):
            self.fail(path, f"expected a string, got {_type_name(v)}")
        return v

    def policy(self, v: Any, path: str) -> None:
        # Policy documents are given as objects (or as JSON text, to test invalid JSON on purpose).
        if not isinstance(v, (dict, str)):
            self.fail(path, f"expected a policy document (object or JSON string), got {_type_name(v)}")

    def names(self, v: Any, path: str) -> dict:
        self.obj(v, path)
        for k in v:
            if not ENTITY_NAME.fullmatch(k):
                self.fail(f"{path}.{k}", f"invalid name {k!r}")
        return v


def from_dict(data: Any, *, origin: str = "<scenario>") -> Scenario:
    c = _Checker(origin)
    c.obj(data, "$")
    fmt = data.get("format")
    if fmt != FORMAT:
        c.fail("$.format", f"expected {FORMAT!r}, got {fmt!r}")
    for key in ("accounts", "steps"):
        if key not in data:
            c.fail(f"$.{key}", "missing required field")
    accounts = c.obj(data["accounts"], "$.accounts")
    if not accounts:
        c.fail("$.accounts", "at least one account is required")
    for name, world in accounts.items():
        p = f"$.accounts.{name}"
        if not ACCOUNT_NAME.fullmatch(name):
            c.fail(p, f"account names are A, B, C, ... (capital letter, then capitals or digits), got {name!r}")
        c.obj(world, p, WORLD_KEYS)
        _check_world(c, world, p)
    issuers = _check_issuers(c, data.get("issuers", {}))
    steps_raw = data["steps"]
    if not isinstance(steps_raw, list):
        c.fail("$.steps", f"expected an array, got {_type_name(steps_raw)}")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(steps_raw):
        p = f"$.steps[{i}]"
        c.obj(raw, p, STEP_KEYS)
        for key in ("id", "as", "call"):
            if key not in raw:
                c.fail(f"{p}.{key}", "missing required field")
        sid = c.string(raw["id"], f"{p}.id")
        if not STEP_ID.fullmatch(sid):
            c.fail(f"{p}.id", f"invalid step id {sid!r} (letters, digits, '_' and '-')")
        if sid in seen:
            c.fail(f"{p}.id", f"duplicate step id {sid!r}")
        call = c.string(raw["call"], f"{p}.call")
        if not CALL.fullmatch(call):
            c.fail(f"{p}.call", f"expected 'service:Action' with service iam, sts or s3, got {call!r}")
        caller = c.string(raw["as"], f"{p}.as")
        _check_caller(c, caller, accounts, seen, f"{p}.as")
        params = raw.get("params", {})
        c.obj(params, f"{p}.params")
        at = raw.get("at")
        if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0):
            c.fail(f"{p}.at", f"expected seconds since the scenario started (a number >= 0), got {at!r}")
        _check_from(c, params, f"{p}.params", seen, issuers)
        expect = raw.get("expect")
        if expect is not None:
            c.obj(expect, f"{p}.expect", EXPECT_KEYS)
            if "outcome" in expect and expect["outcome"] not in OUTCOMES:
                c.fail(f"{p}.expect.outcome", f"expected one of {', '.join(OUTCOMES)}, got {expect['outcome']!r}")
            _check_matchers(c, expect, f"{p}.expect")
        seen.add(sid)
        steps.append(Step(id=sid, caller=caller, call=call, params=params, at=at, expect=expect,
                          note=raw.get("note")))
    if "organization" in data:
        organization.check(data["organization"], accounts, c.fail, c.policy)
    extra = {k: v for k, v in data.items() if k not in ("format", "description", "source", "accounts", "steps")}
    scenario = Scenario(accounts=accounts, steps=tuple(steps), description=str(data.get("description", "")),
                        source=data.get("source"), origin=origin, extra=extra)
    check_references(scenario)
    return _expectations_resolved(scenario)


def _check_world(c: _Checker, world: dict, p: str) -> None:
    if "id" in world:
        if not (isinstance(world["id"], str) and re.fullmatch(r"\d{12}", world["id"])):
            c.fail(f"{p}.id", f"expected a 12-digit account id string, got {world['id']!r}")
    groups = c.names(world.get("groups", {}), f"{p}.groups")
    for gname, group in groups.items():
        gp = f"{p}.groups.{gname}"
        c.obj(group, gp, GROUP_KEYS)
        for pname, doc in c.obj(group.get("policies", {}), f"{gp}.policies").items():
            c.policy(doc, f"{gp}.policies.{pname}")
    for uname, user in c.names(world.get("users", {}), f"{p}.users").items():
        up = f"{p}.users.{uname}"
        c.obj(user, up, USER_KEYS)
        for pname, doc in c.obj(user.get("policies", {}), f"{up}.policies").items():
            c.policy(doc, f"{up}.policies.{pname}")
        member_of = user.get("groups", [])
        if not isinstance(member_of, list):
            c.fail(f"{up}.groups", f"expected an array of group names, got {_type_name(member_of)}")
        for i, gname in enumerate(member_of):
            if gname not in groups:
                c.fail(f"{up}.groups[{i}]", f"no group {gname!r} in this account")
    for rname, role in c.names(world.get("roles", {}), f"{p}.roles").items():
        rp = f"{p}.roles.{rname}"
        c.obj(role, rp, ROLE_KEYS)
        if "trust" not in role:
            c.fail(f"{rp}.trust", "missing required field (every role needs a trust policy)")
        c.policy(role["trust"], f"{rp}.trust")
        for pname, doc in c.obj(role.get("policies", {}), f"{rp}.policies").items():
            c.policy(doc, f"{rp}.policies.{pname}")
        msd = role.get("max_session_duration")
        if msd is not None and (isinstance(msd, bool) or not isinstance(msd, int)):
            c.fail(f"{rp}.max_session_duration", f"expected whole seconds, got {msd!r}")
    for mname, doc in c.names(world.get("managed_policies", {}), f"{p}.managed_policies").items():
        c.policy(doc, f"{p}.managed_policies.{mname}")
    for bname, bucket in c.obj(world.get("buckets", {}), f"{p}.buckets").items():
        bp = f"{p}.buckets.{bname}"
        if not BUCKET_LOGICAL.fullmatch(bname):
            c.fail(bp, f"invalid bucket name {bname!r} (lower-case letters, digits, '.', '-'; at most 41)")
        c.obj(bucket, bp, BUCKET_KEYS)
        if "policy" in bucket:
            c.policy(bucket["policy"], f"{bp}.policy")
        for key, body in c.obj(bucket.get("objects", {}), f"{bp}.objects").items():
            c.string(body, f"{bp}.objects.{key}")
    for iname, ip in c.names(world.get("instance_profiles", {}), f"{p}.instance_profiles").items():
        c.obj(ip, f"{p}.instance_profiles.{iname}", INSTANCE_PROFILE_KEYS)
        if "role" in ip and ip["role"] not in world.get("roles", {}):
            c.fail(f"{p}.instance_profiles.{iname}.role", f"no role {ip['role']!r} in this account")
    for name, provider in c.obj(world.get("oidc_providers", {}), f"{p}.oidc_providers").items():
        pp = f"{p}.oidc_providers.{name}"
        if not re.fullmatch(r"[^\s/:]+(?:/[^\s]*)?", name):
            c.fail(pp, f"an OIDC provider is named by its URL without https:// (as its ARN is), got {name!r}")
        c.obj(provider, pp, OIDC_PROVIDER_KEYS)
        for field_name in OIDC_PROVIDER_KEYS:
            values = provider.get(field_name, [])
            if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
                c.fail(f"{pp}.{field_name}", "expected an array of strings")
    slrs = world.get("service_linked_roles", [])
    if not isinstance(slrs, list):
        c.fail(f"{p}.service_linked_roles", f"expected an array, got {_type_name(slrs)}")
    for i, slr in enumerate(slrs):
        sp = f"{p}.service_linked_roles[{i}]"
        if isinstance(slr, str):
            continue
        c.obj(slr, sp, ("service", "suffix", "description"))
        if "service" not in slr:
            c.fail(f"{sp}.service", "missing required field")


def _check_caller(c: _Checker, caller: str, accounts: Mapping, earlier: set[str], path: str) -> None:
    if caller == ANONYMOUS:
        return
    if caller.startswith("service:"):
        if not re.fullmatch(r"service:[a-z0-9.-]+\.amazonaws\.com", caller):
            c.fail(path, f"expected service:<name>.amazonaws.com, got {caller!r}")
        return
    m = CALLER.fullmatch(caller)
    if m:
        acct = m["account"]
        if acct not in accounts:
            c.fail(path, f"unknown account {acct!r}")
        if m["user"] is not None and m["user"] not in accounts[acct].get("users", {}):
            c.fail(path, f"no user {m['user']!r} in account {acct}")
        return
    if caller in earlier:
        return
    c.fail(path, f"expected A:admin, A:root, A:user/NAME, service:NAME, anonymous or the id of an earlier step, "
                 f"got {caller!r}")


def _check_matchers(c: _Checker, v: Any, path: str) -> None:
    """Matchers in an expectation: an object with one `$` key, a known one, with a valid argument."""
    if isinstance(v, list):
        for i, x in enumerate(v):
            _check_matchers(c, x, f"{path}[{i}]")
        return
    if not isinstance(v, dict):
        return
    dollars = [k for k in v if isinstance(k, str) and k.startswith("$")]
    if not dollars:
        for k, x in v.items():
            _check_matchers(c, x, f"{path}.{k}")
        return
    op = dollars[0]
    if len(v) > 1:
        c.fail(f"{path}.{op}", f"a matcher is an object with one key, got {len(v)} keys: {', '.join(v)}")
    arg = v[op]
    if op == "$from":
        c.fail(f"{path}.{op}", "$from takes a value from an earlier step into params; an expectation "
                               "compares normalised outcomes (use $any, $match, or the placeholder)")
    if op not in MATCHERS:
        c.fail(f"{path}.{op}", f"unknown matcher {op!r} (expected one of: {', '.join(MATCHERS)})")
    if op in ("$absent", "$any") and not isinstance(arg, bool):
        c.fail(f"{path}.{op}", f"expected true or false, got {_type_name(arg)}")
    if op == "$any" and arg is not True:
        c.fail(f"{path}.{op}", "expected true ({\"$any\": true}: present, with any value)")
    if op == "$match":
        c.string(arg, f"{path}.{op}")
        try:
            re.compile(arg)
        except re.error as exc:
            c.fail(f"{path}.{op}", f"invalid regular expression {arg!r}: {exc}")
    if op == "$contains" and not isinstance(arg, (str, list)):
        c.fail(f"{path}.{op}", f"expected a string (a substring) or an array (items), got {_type_name(arg)}")
    if op == "$unordered" and not isinstance(arg, list):
        c.fail(f"{path}.{op}", f"expected an array, got {_type_name(arg)}")
    if isinstance(arg, (list, dict)):
        _check_matchers(c, arg, f"{path}.{op}")


def _check_from(c: _Checker, v: Any, path: str, earlier: set[str], issuers: Mapping[str, Any] | None = None) -> None:
    """`{"$from": "STEP.Path"}` in params names an earlier step, `{"$token": {...}}` is a web
    identity token (rolecall.tokens); no other matcher belongs there."""
    if isinstance(v, list):
        for i, x in enumerate(v):
            _check_from(c, x, f"{path}[{i}]", earlier, issuers)
    elif isinstance(v, dict):
        dollars = [k for k in v if isinstance(k, str) and k.startswith("$")]
        if not dollars:
            for k, x in v.items():
                _check_from(c, x, f"{path}.{k}", earlier, issuers)
            return
        op = dollars[0]
        if op == "$token" and len(v) == 1:
            _check_token(c, v[op], f"{path}.$token", issuers or {})
            return
        if op != "$from" or len(v) > 1:
            c.fail(f"{path}.{op}", "params take only {\"$from\": \"STEP.Path\"} or {\"$token\": {...}} "
                                   "(matchers belong in expect)")
        ref = c.string(v[op], f"{path}.$from")
        m = FROM_PATH.fullmatch(ref)
        if not m:
            c.fail(f"{path}.$from", f"expected STEP.Field.List[0].Field, got {ref!r}")
        if m["step"] not in earlier:
            c.fail(f"{path}.$from", f"no earlier step {m['step']!r}")


def _check_issuers(c: _Checker, issuers: Any) -> dict:
    """`issuers`: OIDC issuer URL -> {"keys": [key ids]}, the keys rolecall signs its tokens with."""
    c.obj(issuers, "$.issuers")
    for url, issuer in issuers.items():
        ip = f"$.issuers.{url}"
        if not re.fullmatch(r"https://[^\s/]+(?:/[^\s]*)?", url):
            c.fail(ip, f"an issuer is its https:// URL (the tokens' iss), got {url!r}")
        c.obj(issuer, ip, ISSUER_KEYS)
        keys = issuer.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            c.fail(f"{ip}.keys", "expected a non-empty array of key ids")
    return issuers


def _check_token(c: _Checker, spec: Any, path: str, issuers: Mapping[str, Any]) -> None:
    from rolecall.tokens import TIME_CLAIMS, TOKEN_FIELDS

    c.obj(spec, path, TOKEN_FIELDS)
    for name in ("iss", "sub", "azp", "key", "kid", "alg"):
        if name in spec:
            c.string(spec[name], f"{path}.{name}")
    for name in ("aud", "amr"):
        if name in spec and not (isinstance(spec[name], str) or (
                isinstance(spec[name], list) and all(isinstance(x, str) for x in spec[name]))):
            c.fail(f"{path}.{name}", f"expected a string or an array of strings, got {_type_name(spec[name])}")
    for name in TIME_CLAIMS:
        if name in spec and (isinstance(spec[name], bool) or not isinstance(spec[name], (int, float))):
            c.fail(f"{path}.{name}", f"expected seconds since the scenario started, got {spec[name]!r}")
    if spec.get("alg", "RS256") not in ("RS256", "none"):
        c.fail(f"{path}.alg", f"expected RS256 or none, got {spec['alg']!r}")
    if "key" not in spec and spec.get("iss") not in issuers:
        c.fail(f"{path}.key", "a token whose iss is not a declared issuer must name the key it is signed with")


def from_value(ref: str, results: Mapping[str, Any]) -> Any:
    """The value `{"$from": ref}` names in earlier steps' raw results; LookupError if there is none."""
    m = FROM_PATH.fullmatch(ref)
    if m is None or m["step"] not in results:
        raise LookupError(ref)
    value = results[m["step"]]
    for part in FROM_PART.finditer(m["rest"]):
        key, index = part.group(1), part.group(2)
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                raise LookupError(ref)
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise LookupError(ref)
            value = value[int(index)]
    return value


def resolve_from(obj: Any, results: Mapping[str, Any]) -> Any:
    """Replace every `{"$from": ...}` in params with the earlier step's value."""
    if isinstance(obj, dict):
        if len(obj) == 1 and "$from" in obj:
            return from_value(obj["$from"], results)
        return {k: resolve_from(v, results) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_from(v, results) for v in obj]
    return obj


def _expectations_resolved(scenario: Scenario) -> Scenario:
    """Outcomes name accounts as {{A}} (concrete ids map back), so an ARN reference written in
    an expectation, {{A:role/reader}}, is spelt out as the outcome spells it:
    arn:aws:iam::{{A}}:role/reader (path included). Bucket references stay: outcomes use them."""
    declared = declared_names(scenario)

    def arn(body: str) -> str | None:
        rm = REFERENCE_BODY.fullmatch(body)
        if rm is None or not rm["kind"] or rm["kind"] == "bucket":
            return None
        path = declared[rm["account"]].get((rm["kind"], rm["name"]), "/")
        return f"arn:aws:iam::{{{{{rm['account']}}}}}:{rm['kind']}{path}{rm['name']}"

    def text(s: str, pattern: bool) -> str:
        def sub(m: re.Match) -> str:
            full = arn(m.group(1))
            if full is None:
                return re.escape(m.group(0)) if pattern else m.group(0)
            return re.escape(full) if pattern else full
        if "{{" not in s:
            return s
        if pattern:
            # a reference inside a regular expression stands for its literal text
            out, last = [], 0
            for m in REFERENCE.finditer(s):
                out.append(s[last:m.start()])
                out.append(sub(m))
                last = m.end()
            return "".join(out) + s[last:]
        return REFERENCE.sub(sub, s)

    def walk(v: Any, pattern: bool = False) -> Any:
        if isinstance(v, str):
            return text(v, pattern)
        if isinstance(v, dict):
            return {k: walk(x, pattern or k == "$match") for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, pattern) for x in v]
        return v

    steps = tuple(step if step.expect is None else replace(step, expect=walk(dict(step.expect)))
                  for step in scenario.steps)
    return replace(scenario, steps=steps)


def walk_strings(obj: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk_strings(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk_strings(v, f"{path}[{i}]")


def check_references(scenario: Scenario) -> None:
    """Every {{...}} must name an account or a declared entity."""
    declared = declared_names(scenario)
    for path, text in walk_strings({"accounts": scenario.accounts, "steps": [s.to_dict() for s in scenario.steps],
                                    "organization": scenario.organization or {}}):
        for m in REFERENCE.finditer(text):
            body = m.group(1)
            if body == ORG:
                if scenario.organization is None:
                    raise ScenarioError(scenario.origin, path, "{{org}} names the organization's id: "
                                                               "the scenario has no `organization`")
                continue
            rm = REFERENCE_BODY.fullmatch(body)
            if not rm:
                raise ScenarioError(scenario.origin, path, f"malformed reference {{{{{body}}}}}")
            if rm["account"] not in scenario.accounts:
                raise ScenarioError(scenario.origin, path, f"unknown account in reference {{{{{body}}}}}")
            if rm["kind"] and (rm["kind"], rm["name"]) not in declared[rm["account"]]:
                raise ScenarioError(scenario.origin, path,
                                    f"unknown reference {{{{{body}}}}}: no {rm['kind']} {rm['name']!r} in account {rm['account']}")


def declared_names(scenario: Scenario) -> dict[str, dict[tuple[str, str], str]]:
    """(kind, name) -> IAM path for everything the world declares, per account."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for acct, world in scenario.accounts.items():
        d: dict[tuple[str, str], str] = {}
        for n, u in world.get("users", {}).items():
            d[("user", n)] = u.get("path", "/")
        for n, g in world.get("groups", {}).items():
            d[("group", n)] = g.get("path", "/")
        for n, r in world.get("roles", {}).items():
            d[("role", n)] = r.get("path", "/")
        for n in world.get("managed_policies", {}):
            d[("policy", n)] = "/"
        for n, ip in world.get("instance_profiles", {}).items():
            d[("instance-profile", n)] = ip.get("path", "/")
        for n in world.get("buckets", {}):
            d[("bucket", n)] = ""
        for n in world.get("oidc_providers", {}):
            d[("oidc-provider", n)] = "/"
        for slr in world.get("service_linked_roles", []):
            service, suffix = slr_fields(slr)
            name = aws.service_linked_role_name(service, suffix)
            d[("role", name)] = aws.service_linked_role_path(service)
        out[acct] = d
    return out


def slr_fields(slr: str | Mapping[str, Any]) -> tuple[str, str | None]:
    if isinstance(slr, str):
        return slr, None
    return slr["service"], slr.get("suffix")


# ----------------------------------------------------------------------------- resolving

@dataclass(frozen=True)
class Names:
    """The concrete names one target gave to one scenario's logical accounts and buckets."""

    account_ids: Mapping[str, str]
    bucket_names: Mapping[tuple[str, str], str]
    paths: Mapping[str, Mapping[tuple[str, str], str]]
    org_id: str | None = None  # {{org}}: the organization's id, once the target created it

    def arn(self, account: str, kind: str, name: str) -> str:
        acct = self.account_ids[account]
        if kind == "bucket":
            return self.bucket_names[(account, name)]
        path = self.paths[account].get((kind, name), "/")
        return f"arn:aws:iam::{acct}:{kind}{path}{name}"

    def resolve(self, obj: Any) -> Any:
        """Replace every {{...}} in every string of obj with its concrete value."""
        if isinstance(obj, str):
            if "{{" not in obj:
                return obj
            return REFERENCE.sub(self._sub, obj)
        if isinstance(obj, dict):
            return {k: self.resolve(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.resolve(v) for v in obj]
        return obj

    def _sub(self, m: re.Match) -> str:
        if m.group(1) == ORG and self.org_id:
            return self.org_id
        rm = REFERENCE_BODY.fullmatch(m.group(1))
        if rm is None:
            raise KeyError(m.group(0))
        if not rm["kind"]:
            return self.account_ids[rm["account"]]
        return self.arn(rm["account"], rm["kind"], rm["name"])

    def symbols(self) -> dict[str, str]:
        """Concrete value -> reference text, for turning outputs back into references."""
        out: dict[str, str] = {}
        for acct, id_ in self.account_ids.items():
            out[id_] = f"{{{{{acct}}}}}"
        for (acct, name), bucket in self.bucket_names.items():
            out[bucket] = f"{{{{{acct}:bucket/{name}}}}}"
        if self.org_id:
            out[self.org_id] = "{{org}}"
        return out
