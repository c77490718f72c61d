"""Findings: the target behaviours behind divergences, one line each, in a maintainer's words.

A divergence id names a symptom (property x call x rule x level); one emulator bug shows as
many. A finding names the cause. It is found by replaying twins of the minimal scenario that
differ from it in one feature (an Action's case, a Principal's form, one Condition, one
statement), on the oracle and on the target: a twin on which AWS's answer stays the same
(the oracle says so, step by step) and the target now agrees names the feature the target
gets wrong. A target that authorizes nothing (declared, or shown by the enforcement canary) is
one finding that folds every denial it explains. Nothing here knows a particular emulator.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from rolecall import facts
from rolecall.compare import LEVELS, Divergence, first_difference, level_of
from rolecall.outcome import ERROR, OK
from rolecall.rules import REASONS, RULES
from rolecall.scenario import Scenario, ScenarioError, from_dict

# Directions of a finding: which way the target is wrong.
TOO_PERMISSIVE, TOO_STRICT = "too permissive", "too strict"
WRONG_ERROR, WRONG_RESULT, CRASH = "wrong error", "wrong result", "crash"
DIRECTIONS = (TOO_PERMISSIVE, TOO_STRICT, WRONG_ERROR, WRONG_RESULT, CRASH)

# Where the evidence for AWS's side of a finding comes from.
EVIDENCE_DOCS, EVIDENCE_RECORDING, EVIDENCE_MODEL = "AWS documentation", "AWS recording", "model only"

AUTHORIZES_NOTHING = "authorizes-nothing"
CRASH_PREFIX = "rolecall.TargetCrash"
DENIAL_CODES = frozenset({"AccessDenied", "AccessDeniedException"})

DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVAL_DOC = DOC + "reference_policies_evaluation-logic.html"


def finding_id(key: str) -> str:
    return "F-" + hashlib.sha256(key.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Cause:
    """Why a target diverged: a key that is the same for every divergence one behaviour causes."""

    key: str
    title: str  # what the target does, without its name: "matches Action names case-sensitively"
    direction: str
    rule: str  # the oracle's reason label, or AWS's error code for rules without one
    source: str  # the AWS page behind the rule
    feature: str | None = None  # the feature a counterfactual twin isolated, if any
    how: str = "symptom"  # canary | counterfactual | symptom: how the cause was told apart
    # the twin on which the target agreed with AWS: a scenario it passes, kept by the baseline so a
    # second bug behind the same symptom turns the gate red
    passes: dict | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return finding_id(self.key)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Cause":
        return cls(**{k: d[k] for k in ("key", "title", "direction", "rule", "source", "feature", "how", "passes")
                      if k in d})


# ----------------------------------------------------------------------------- direction

def direction(expected, observed) -> str:
    """Which way the target is wrong: AWS's answer against the target's, on the diverging step."""
    if observed.outcome == ERROR and (observed.code or "").startswith(CRASH_PREFIX):
        return CRASH
    if expected.outcome == ERROR and observed.outcome == OK:
        return TOO_PERMISSIVE
    if expected.outcome == OK and observed.outcome == ERROR:
        return TOO_STRICT if observed.code in DENIAL_CODES or (observed.http_status == 403) else WRONG_ERROR
    if expected.outcome == ERROR and observed.outcome == ERROR:
        if expected.code in DENIAL_CODES and observed.code not in DENIAL_CODES:
            return TOO_PERMISSIVE  # the target got past authorization (e.g. NoSuchKey instead of AccessDenied)
        if observed.code in DENIAL_CODES and expected.code not in DENIAL_CODES:
            return TOO_STRICT
        return WRONG_ERROR
    return WRONG_RESULT


def is_denial(expected) -> bool:
    return expected.outcome == ERROR and expected.code in DENIAL_CODES


# ----------------------------------------------------------------------------- enforcement canary

def _canary_world() -> dict:
    """A world in which AWS must deny each canary step (IAM user guide, policy evaluation logic:
    "By default, all requests are implicitly denied"; an explicit Deny overrides every Allow; a role
    whose trust policy does not name the caller cannot be assumed)."""
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    deny_s3 = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    trust_other = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "{{A:user/trusted}}"}, "Action": "sts:AssumeRole"}]}
    return {
        "format": "rolecall/scenario@1",
        "description": "enforcement canary: AWS denies every step",
        "source": EVAL_DOC,
        "accounts": {"A": {
            "users": {"nobody": {}, "trusted": {}, "denied": {"policies": {"deny-s3": deny_s3}},
                      "untrusted": {"policies": {"all": allow_all}}},
            "roles": {"guarded": {"trust": trust_other}},
            "buckets": {"canary": {"objects": {"k": "v"}}},
        }, "B": {"users": {"outsider": {"policies": {"all": allow_all}}}}},
        "steps": [
            {"id": "s3-no-policy", "as": "A:user/nobody", "call": "s3:GetObject",
             "params": {"Bucket": "{{A:bucket/canary}}", "Key": "k"}},
            {"id": "iam-no-policy", "as": "A:user/nobody", "call": "iam:GetRole", "params": {"RoleName": "guarded"}},
            {"id": "s3-explicit-deny", "as": "A:user/denied", "call": "s3:GetObject",
             "params": {"Bucket": "{{A:bucket/canary}}", "Key": "k"}},
            {"id": "assume-untrusted", "as": "A:user/untrusted", "call": "sts:AssumeRole",
             "params": {"RoleArn": "{{A:role/guarded}}", "RoleSessionName": "canary"}},
            # across accounts: the resource's side must allow too (IAM user guide, cross-account policy
            # evaluation logic: reference_policies_evaluation-logic-cross-account.html)
            {"id": "s3-across-no-grant", "as": "B:user/outsider", "call": "s3:GetObject",
             "params": {"Bucket": "{{A:bucket/canary}}", "Key": "k"}},
            {"id": "assume-across-untrusted", "as": "B:user/outsider", "call": "sts:AssumeRole",
             "params": {"RoleArn": "{{A:role/guarded}}", "RoleSessionName": "canary"}},
        ],
    }


CANARY = from_dict(_canary_world(), origin="<enforcement canary>")


@dataclass(frozen=True)
class Enforcement:
    """What the canary showed of a target: per service (and, for calls on a role or a bucket, same
    account or across accounts), whether it denied what AWS denies."""

    target: str
    declared: str | None
    enforced: dict  # "s3", "iam", "sts", "s3 across accounts", "sts across accounts" -> denied its canary steps

    @property
    def authorizes_nothing(self) -> bool:
        return bool(self.enforced) and not any(self.enforced.values())

    @staticmethod
    def scope(service: str, where: str) -> str:
        return f"{service} across accounts" if where == "across accounts" else service

    def folds(self, service: str, where: str = "") -> bool:
        """A denial of this service (here) is explained by the target not enforcing authorization."""
        return self.enforced.get(self.scope(service, where)) is False

    def to_dict(self) -> dict:
        return {"target": self.target, "declared": self.declared, "enforced": dict(self.enforced)}


def probe_enforcement(target, oracle) -> Enforcement:
    """Run the canary: which services' denials the target enforces. A target that cannot make the
    canary's world is taken at its word (its declaration), or as enforcing."""
    declared = getattr(target, "authorization", None)
    expected, observed = oracle.run(CANARY), target.run(CANARY)
    enforced: dict[str, bool] = {}
    if expected.setup_error is None and observed.setup_error is None:
        for step in CANARY.steps:
            e, o = expected.outcome(step.id), observed.outcome(step.id)
            if e is None or o is None or o.outcome not in (OK, ERROR):
                continue
            denied = o.outcome == ERROR and (o.code in DENIAL_CODES or o.http_status == 403)
            scope = Enforcement.scope(step.service, context(CANARY, step.id))
            enforced[scope] = enforced.get(scope, False) or denied
    elif declared is not None:
        enforced = {s: declared != "not-enforced" for s in ("s3", "iam", "sts")}
    return Enforcement(target.name, declared, enforced)


# ----------------------------------------------------------------------------- twins

def _policies(d: dict) -> Iterator[tuple[str, Callable[[], Any], Callable[[Any], None]]]:
    """Every policy document in a scenario dict: (kind, get, set). Documents given as JSON text in
    a step's parameters are parsed and written back as text."""
    for acct, world in d.get("accounts", {}).items():
        for kind in ("users", "roles"):
            for name, entity in world.get(kind, {}).items():
                if kind == "roles" and isinstance(entity.get("trust"), dict):
                    yield "trust policy", (lambda e=entity: e["trust"]), (lambda v, e=entity: e.__setitem__("trust", v))
                for pname, doc in (entity.get("policies") or {}).items():
                    if isinstance(doc, dict):
                        pols = entity["policies"]
                        yield ("identity policy", (lambda p=pols, n=pname: p[n]),
                               (lambda v, p=pols, n=pname: p.__setitem__(n, v)))
        boundaries = {e.get("boundary") for k in ("users", "roles") for e in world.get(k, {}).values()}
        for pname, doc in (world.get("managed_policies") or {}).items():
            if isinstance(doc, dict):
                pols = world["managed_policies"]
                kind = "permissions boundary" if pname in boundaries else "managed policy"
                yield kind, (lambda p=pols, n=pname: p[n]), (lambda v, p=pols, n=pname: p.__setitem__(n, v))
        for bname, bucket in (world.get("buckets") or {}).items():
            if isinstance(bucket.get("policy"), dict):
                yield ("bucket policy", (lambda b=bucket: b["policy"]),
                       (lambda v, b=bucket: b.__setitem__("policy", v)))
    for step in d.get("steps", []):
        params = step.get("params") or {}
        for key, value in list(params.items()):
            if key in ("Policy", "PolicyDocument", "AssumeRolePolicyDocument") and isinstance(value, str):
                try:
                    doc = json.loads(value)
                except ValueError:
                    continue
                if isinstance(doc, dict) and "Statement" in doc:
                    kind = "session policy" if key == "Policy" and step.get("call", "").startswith("sts:") else "policy"
                    compact = "," not in value or ", " not in value
                    yield (kind, (lambda p=params, k=key: json.loads(p[k])),
                           (lambda v, p=params, k=key, c=compact: p.__setitem__(
                               k, json.dumps(v, separators=(",", ":")) if c else json.dumps(v))))


def _statements(doc: Any) -> list:
    s = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(s, dict):
        return [s]
    return [x for x in s if isinstance(x, dict)] if isinstance(s, list) else []


def _edit_statements(d: dict, edit: Callable[[str, dict], bool]) -> bool:
    """Apply `edit(kind, statement)` to every statement; True when any changed."""
    changed = False
    for kind, get, put in list(_policies(d)):
        doc = copy.deepcopy(get())
        hit = False
        for st in _statements(doc):
            hit |= bool(edit(kind, st))
        if hit:
            put(doc)
            changed = True
    return changed


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _map_strings(v: Any, f: Callable[[str], str]) -> Any:
    if isinstance(v, list):
        return [f(x) if isinstance(x, str) else x for x in v]
    return f(v) if isinstance(v, str) else v


def _called_actions(d: dict) -> list[str]:
    return sorted({s["call"] for s in d.get("steps", []) if isinstance(s.get("call"), str)})


def _glob(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


def _canonical_action(action: str, called: list[str]) -> str:
    """The action's case as AWS writes it, from the scenario's own calls ("S3:getobject" -> "s3:GetObject")."""
    if ":" not in action:
        return action
    vendor, _, name = action.partition(":")
    for c in called:
        if c.lower() == action.lower():
            return c
    if "*" in name or "?" in name:
        literal = re.split(r"([*?])", name)
        rx = re.compile("".join(f"({re.escape(p)})" if p not in "*?" or not p else (".*" if p == "*" else ".")
                                for p in literal if p != ""), re.IGNORECASE)
        for c in called:
            cv, _, cn = c.partition(":")
            m = rx.fullmatch(cn) if cv.lower() == vendor.lower() else None
            if m:
                groups = iter(m.groups())
                name = "".join(p if p in ("*", "?") else next(groups) for p in literal if p != "")
                break
    return f"{vendor.lower()}:{name}"


# Condition keys as AWS writes them (global keys: IAM user guide, reference_policies_condition-keys.html;
# sts: and s3: keys: the Service Authorization Reference).
CONDITION_KEYS = (
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime",
    "aws:FederatedProvider", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalTag", "aws:PrincipalType",
    "aws:Referer", "aws:RequestTag", "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID",
    "aws:ResourceOrgPaths", "aws:ResourceTag", "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceIdentity", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:TagKeys", "aws:TokenIssueTime",
    "aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSService", "aws:VpcSourceIp",
    "sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity", "sts:TransitiveTagKeys",
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:ExistingObjectTag", "s3:x-amz-acl",
)
_CANONICAL_KEYS = {k.lower(): k for k in CONDITION_KEYS}


def _canonical_key(key: str) -> str:
    head, slash, tail = key.partition("/")
    return _CANONICAL_KEYS.get(head.lower(), head) + slash + tail


@dataclass(frozen=True)
class Twin:
    """A one-feature variant of a scenario: the feature it takes away, and the scenario."""

    feature: str
    scenario: dict


def _twin(d: dict, feature: str, edit: Callable[[dict], bool]) -> Twin | None:
    t = copy.deepcopy(d)
    return Twin(feature, t) if edit(t) else None


def twins(d: dict) -> Iterator[Twin]:
    """One-feature variants of a minimal scenario, most specific first. Each takes away one construct
    in a way AWS gives the same meaning to; whether it did is checked on the oracle, not assumed."""
    called = _called_actions(d)

    def action_case(t):
        def edit(kind, st):
            hit = False
            for k in ("Action", "NotAction"):
                if k in st:
                    new = _map_strings(st[k], lambda a: _canonical_action(a, called))
                    hit |= new != st[k]
                    st[k] = new
            return hit
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "action-case", action_case)])

    def key_case(t):
        def edit(kind, st):
            cond = st.get("Condition")
            if not isinstance(cond, dict):
                return False
            hit = False
            for op, block in cond.items():
                if isinstance(block, dict):
                    new = {_canonical_key(k): v for k, v in block.items()}
                    hit |= list(new) != list(block)
                    cond[op] = new
            return hit
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "condition-key-case", key_case)])

    def wildcard_action(ch):
        def run(t):
            def edit(kind, st):
                if "Action" not in st:
                    return False
                out, hit = [], False
                for a in _as_list(st["Action"]):
                    if isinstance(a, str) and ch in a and a != "*":
                        named = [c for c in called if _glob(a).fullmatch(c)]
                        if named:
                            out += named
                            hit = True
                            continue
                    out.append(a)
                if hit:
                    st["Action"] = out
                return hit
            return _edit_statements(t, edit)
        return run
    for ch, name in (("?", "wildcard-?-in-action"), ("*", "wildcard-*-in-action")):
        yield from filter(None, [_twin(d, name, wildcard_action(ch))])

    def wildcard_resource(ch):
        def run(t):
            def edit(kind, st):
                if "Resource" not in st:
                    return False
                vals = _as_list(st["Resource"])
                if any(isinstance(r, str) and ch in r and r != "*" for r in vals):
                    st["Resource"] = "*"
                    return True
                return False
            return _edit_statements(t, edit)
        return run
    for ch, name in (("?", "wildcard-?-in-resource"), ("*", "wildcard-*-in-resource")):
        yield from filter(None, [_twin(d, name, wildcard_resource(ch))])

    def not_action(t):
        def edit(kind, st):
            if "NotAction" not in st:
                return False
            excluded = [a for a in _as_list(st.pop("NotAction")) if isinstance(a, str)]
            kept = [c for c in called if not any(_glob(x).fullmatch(c) for x in excluded)]
            st["Action"] = kept or _inert_action(kind)  # no call left: the statement applies to none
            return True
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "NotAction", not_action)])

    for element, feature in (("NotResource", "NotResource"), ("NotPrincipal", "NotPrincipal")):
        def as_star(t, element=element):
            def edit(kind, st):
                if element not in st:
                    return False
                st.pop(element)
                st["Resource" if element == "NotResource" else "Principal"] = "*"
                return True
            return _edit_statements(t, edit)
        yield from filter(None, [_twin(d, feature, as_star)])
        yield from filter(None, [_twin(d, feature, _drop_statements_with(element))])

    def bare_account(t):
        def edit(kind, st):
            p = st.get("Principal")
            if not isinstance(p, dict) or "AWS" not in p:
                return False
            new = _map_strings(p["AWS"], lambda v: f"arn:aws:iam::{v}:root" if re.fullmatch(r"\d{12}", v)
                               else re.sub(r"^\{\{([A-Z][A-Z0-9]*)\}\}$", r"{{\1:root}}", v))
            hit = new != p["AWS"]
            p["AWS"] = new
            return hit
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "principal-account-id", bare_account)])

    def principal_star(t):
        def edit(kind, st):
            if st.get("Principal") == "*":
                st["Principal"] = {"AWS": "*"}
                return True
            return False
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "principal-star", principal_star)])

    def no_service_principal(t):
        return _drop_statements_matching(t, lambda st: isinstance(st.get("Principal"), dict)
                                         and "Service" in st["Principal"])
    yield from filter(None, [_twin(d, "service-principal", no_service_principal)])

    def lists_to_strings(t):
        def edit(kind, st):
            hit = False
            for k in ("Action", "NotAction", "Resource", "NotResource"):
                if isinstance(st.get(k), list) and len(st[k]) == 1:
                    st[k] = st[k][0]
                    hit = True
            p = st.get("Principal")
            if isinstance(p, dict):
                for k, v in p.items():
                    if isinstance(v, list) and len(v) == 1:
                        p[k] = v[0]
                        hit = True
            return hit
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "one-element-list", lists_to_strings)])

    def strings_to_lists(t):
        def edit(kind, st):
            hit = False
            for k in ("Action", "NotAction", "Resource", "NotResource"):
                if isinstance(st.get(k), str) and st[k] != "*":
                    st[k] = [st[k]]
                    hit = True
            p = st.get("Principal")
            if isinstance(p, dict):
                for k, v in p.items():
                    if isinstance(v, str):
                        p[k] = [v]
                        hit = True
            return hit
        return _edit_statements(t, edit)
    yield from filter(None, [_twin(d, "single-string-value", strings_to_lists)])

    for op in sorted(_operators(d)):
        def drop_op(t, op=op):
            def edit(kind, st):
                cond = st.get("Condition")
                if not isinstance(cond, dict) or op not in cond:
                    return False
                cond.pop(op)
                if not cond:
                    st.pop("Condition")
                return True
            return _edit_statements(t, edit)
        yield from filter(None, [_twin(d, f"condition:{op}", drop_op)])
        yield from filter(None, [_twin(d, f"condition:{op}", _drop_statements_with("Condition", op))])

    def path_free(t):
        hit = False
        for world in t.get("accounts", {}).values():
            for kind in ("users", "roles"):
                for entity in world.get(kind, {}).values():
                    if entity.get("path") not in (None, "/"):
                        entity.pop("path")
                        hit = True
        return hit
    yield from filter(None, [_twin(d, "path", path_free)])


IDENTITY_ALLOW = "identity-allow"
_TWIN_POLICY = "rolecall-twin-allow"


def _step_resource(step: dict) -> str:
    """The resource a step's call acts on, written as a policy's Resource (the scenario's own
    references, resolved like every other policy's); `*` for calls without one."""
    params = step.get("params") or {}
    call = step.get("call", "")
    if call.startswith("sts:AssumeRole") and isinstance(params.get("RoleArn"), str):
        return params["RoleArn"]
    if call.startswith("s3:") and isinstance(params.get("Bucket"), str):
        bucket = params["Bucket"]
        bucket = bucket if bucket.startswith("arn:") else f"arn:aws:s3:::{bucket}"
        return f"{bucket}/{params['Key']}" if isinstance(params.get("Key"), str) else bucket
    return "*"


def _caller_entity(d: dict, step: dict) -> dict | None:
    """The world entry (user or role) whose identity policies apply to a step's caller."""
    steps = {s.get("id"): s for s in d.get("steps", [])}
    caller, seen = step.get("as", ""), set()
    while caller in steps and caller not in seen:  # credentials from an earlier AssumeRole
        seen.add(caller)
        earlier = steps[caller]
        if earlier.get("call") != "sts:AssumeRole":
            return None
        m = re.fullmatch(r"\{\{([A-Z][A-Z0-9]*):role/([^}]+)\}\}", str((earlier.get("params") or {}).get("RoleArn")))
        if not m:
            return None
        caller = f"{m.group(1)}:role/{m.group(2)}"
    m = re.fullmatch(r"([A-Z][A-Z0-9]*):(user|role)/(.+)", caller) if isinstance(caller, str) else None
    if not m:
        return None
    return ((d.get("accounts") or {}).get(m.group(1)) or {}).get(m.group(2) + "s", {}).get(m.group(3))


def identity_allow_twin(d: dict, step_id: str) -> Twin | None:
    """The scenario with an identity policy that allows the step's call on its resource, attached
    to its caller. AWS answers a call that a same-account trust or resource policy naming the
    caller already allows, or a call that needs no permission (GetSessionToken), the same either way;
    a target that then agrees was asking for an Allow that AWS does not need. (Tried last: every
    more specific twin is a better explanation.)"""
    t = copy.deepcopy(d)
    step = next((s for s in t.get("steps", []) if s.get("id") == step_id), None)
    entity = _caller_entity(t, step) if step else None
    if entity is None or not isinstance(step.get("call"), str):
        return None
    policies = entity.setdefault("policies", {})
    if not isinstance(policies, dict) or _TWIN_POLICY in policies:
        return None
    policies[_TWIN_POLICY] = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": step["call"], "Resource": _step_resource(step)}]}
    return Twin(IDENTITY_ALLOW, t)


def twin_features(d: dict) -> set[str]:
    """The policy-language features a twin can take away from a scenario (the catalogue of
    features a scenario exercises is rolecall.features)."""
    return {t.feature for t in twins(d)}


def _operators(d: dict) -> set[str]:
    ops: set[str] = set()

    def edit(kind, st):
        if isinstance(st.get("Condition"), dict):
            ops.update(st["Condition"])
        return False
    _edit_statements(d, edit)
    return ops


def _drop_statements_with(element: str, operator: str | None = None) -> Callable[[dict], bool]:
    """Remove the statements that carry `element` (or this Condition operator)."""
    return lambda t: _drop_statements_matching(
        t, lambda s: element in s and (operator is None or operator in (s.get(element) or {})))


def _inert_action(kind: str) -> str:
    """An action no scenario calls, valid in this kind of policy (a trust policy takes STS actions only)."""
    return "sts:AssumeRoleWithSAML" if kind == "trust policy" else "iam:GetAccountSummary"


def _drop_statements_matching(t: dict, matches: Callable[[dict], bool]) -> bool:
    """Remove the matching statements; a policy left without statements keeps an inert one."""
    changed = False
    for kind, get, put in list(_policies(t)):
        doc = copy.deepcopy(get())
        stmts = _statements(doc)
        keep = [s for s in stmts if not matches(s)]
        if len(keep) == len(stmts):
            continue
        if not keep:
            inert: dict = {"Effect": "Deny", "Action": _inert_action(kind)}
            if kind in ("trust policy", "bucket policy"):
                inert["Principal"] = {"AWS": "*"}
            if kind != "trust policy":
                inert["Resource"] = "*"
            keep = [inert]
        doc["Statement"] = keep
        put(doc)
        changed = True
    return changed


# ----------------------------------------------------------------------------- context

def _account_of(ref: Any) -> str | None:
    m = re.search(r"\{\{([A-Z][A-Z0-9]*)(?::|\}\})", ref) if isinstance(ref, str) else None
    return m.group(1) if m else None


def caller_account(scenario: Scenario, step_id: str) -> str | None:
    """The logical account of the principal making a step (following credentials from earlier steps)."""
    seen = set()
    step = scenario.step(step_id)
    while step.id not in seen:
        seen.add(step.id)
        caller = step.caller
        if ":" in caller and not caller.startswith("service:"):
            return caller.split(":", 1)[0]
        try:
            step = scenario.step(caller)
        except KeyError:
            return None
        if step.call in ("sts:AssumeRole",):
            return _account_of(step.params.get("RoleArn"))
    return None


def resource_account(scenario: Scenario, step_id: str) -> str | None:
    params = scenario.step(step_id).params
    for key in ("RoleArn", "Bucket"):
        if key in params:
            return _account_of(params[key])
    return None


def context(scenario: Scenario, step_id: str) -> str:
    """same account / across accounts, for a call on a role or bucket; empty for other calls."""
    a, b = caller_account(scenario, step_id), resource_account(scenario, step_id)
    if a is None or b is None:
        return ""
    return "same account" if a == b else "across accounts"


# ----------------------------------------------------------------------------- titles

ACTION_DOC = DOC + "reference_policies_elements_action.html"
RESOURCE_DOC = DOC + "reference_policies_elements_resource.html"
PRINCIPAL_DOC = DOC + "reference_policies_elements_principal.html"
GRAMMAR_DOC = DOC + "reference_policies_grammar.html"
FEATURES = {
    # feature -> (what the target does, the construct as a noun, the AWS page)
    "action-case": ("matches Action names case-sensitively", "an Action name in another case", ACTION_DOC),
    "condition-key-case": ("matches condition-key names case-sensitively", "a condition key in another case",
                           DOC + "reference_policies_elements_condition.html"),
    "wildcard-?-in-action": ("mishandles the ? wildcard in Action", "a ? wildcard in Action", ACTION_DOC),
    "wildcard-*-in-action": ("mishandles the * wildcard in Action", "a * wildcard in Action", ACTION_DOC),
    "wildcard-?-in-resource": ("mishandles the ? wildcard in Resource", "a ? wildcard in Resource", RESOURCE_DOC),
    "wildcard-*-in-resource": ("mishandles the * wildcard in Resource", "a * wildcard in Resource", RESOURCE_DOC),
    "NotAction": ("mishandles NotAction", "NotAction", DOC + "reference_policies_elements_notaction.html"),
    "NotResource": ("mishandles NotResource", "NotResource", DOC + "reference_policies_elements_notresource.html"),
    "NotPrincipal": ("mishandles NotPrincipal", "NotPrincipal", DOC + "reference_policies_elements_notprincipal.html"),
    "principal-account-id": ("mishandles a Principal given as a bare account id", "a bare account id as Principal",
                             PRINCIPAL_DOC),
    "principal-star": ('mishandles "Principal": "*"', '"Principal": "*"', PRINCIPAL_DOC),
    "service-principal": ("mishandles a statement with a Service principal", "a Service principal", PRINCIPAL_DOC),
    "one-element-list": ("mishandles a policy value written as a one-element list", "a one-element list",
                         GRAMMAR_DOC),
    "single-string-value": ("mishandles a policy value written as a single string", "a single-string value",
                            GRAMMAR_DOC),
    "path": ("mishandles a user or role with a path", "a path", DOC + "reference_identifiers.html"),
    IDENTITY_ALLOW: ("requires an identity-policy Allow where AWS does not (a same-account trust or resource "
                     "policy that names the caller, or a call that needs no permission)",
                     "a call without an identity-policy Allow", EVAL_DOC),
}


def _feature_title(feature: str) -> tuple[str, str, str]:
    if feature.startswith("condition:"):
        op = feature.split(":", 1)[1]
        return (f"mishandles the condition operator {op}", f"the condition operator {op}",
                DOC + "reference_policies_elements_condition_operators.html")
    return FEATURES.get(feature, (f"mishandles {feature}", feature, EVAL_DOC))


# What a target does wrong when it answers against a rule, by the oracle's reason label.
ALLOWS_AGAINST = {
    "deny-boundary": "does not apply permissions boundaries",
    "deny-explicit-identity": "ignores an explicit Deny in an identity policy",
    "deny-explicit-resource": "ignores an explicit Deny in a trust or resource policy",
    "deny-session-policy": "does not apply session policies",
    "deny-no-identity-allow": "allows calls that no policy allows",
    "deny-trust-no-match": "lets a principal that the trust policy does not name assume the role",
    "deny-trust-condition": "does not evaluate a trust policy's Condition",
    "deny-trust-account-without-identity": "lets an account-trusted principal assume without an identity-policy Allow",
    "deny-cross-account-no-resource-allow": "allows access across accounts that the resource's policy does not grant",
    "deny-cross-account-no-identity-allow": "allows access across accounts without the caller's identity-policy Allow",
    "deny-role-not-found": "lets a caller assume a role that does not exist",
    "deny-session-credentials": "lets temporary credentials call GetSessionToken",
    "deny-duration-exceeds-max": "accepts DurationSeconds above the role's MaxSessionDuration",
    "deny-chained-duration": "accepts a chained role session longer than one hour",
    "deny-expired-token": "accepts expired temporary credentials",
    "deny-root-cannot-assume": "lets the root user assume a role",
    "deny-session-token-calls-iam": "lets GetSessionToken credentials call IAM without MFA",
    "deny-explicit-scp": "ignores an explicit Deny in a service control policy (SCP)",
    "deny-scp-no-allow": "does not require an SCP Allow at every level from the root to the account",
    "deny-explicit-rcp": "ignores an explicit Deny in a resource control policy (RCP)",
    "deny-web-identity-invalid": "accepts a web identity token that is not a JWT",
    "deny-web-identity-no-provider": "accepts a web identity token whose issuer is not an OIDC provider of the account",
    "deny-web-identity-audience": "accepts a web identity token for an audience the OIDC provider does not list",
    "deny-web-identity-signature": "accepts a web identity token its issuer did not sign",
    "deny-web-identity-expired": "accepts an expired web identity token",
}
# Rules that are one behaviour of a target: a boundary's Deny and a boundary's missing Allow are
# both "the boundary", a session policy's likewise.
FAMILY = {"deny-explicit-boundary": "deny-boundary", "deny-explicit-session": "deny-session-policy"}

# ... and, for rules without a reason label, by the error code AWS answers with.
ALLOWS_AGAINST_CODE = {
    "UnmodifiableEntity": "lets IAM calls change or delete a service-linked role",
    "EntityAlreadyExists": "creates an entity whose name is taken (IAM names are unique regardless of case)",
    "MalformedPolicyDocument": "accepts a policy document that AWS rejects as malformed",
    "MalformedPolicy": "accepts a bucket policy that AWS rejects as malformed",
    "InvalidInput": "accepts input that AWS rejects as invalid",
    "DeleteConflict": "deletes an entity that still has policies or attachments",
    "ValidationError": "accepts a request that AWS rejects as invalid",
    "LimitExceeded": "goes past a quota that AWS enforces",
    "NoSuchEntity": "acts on an entity that does not exist",
}
REFUSES_AGAINST = {
    "allow-trust-names-principal": "refuses AssumeRole when the trust policy names the caller",
    "allow-trust-account-and-identity": "refuses AssumeRole when the trust policy names the caller's account "
                                        "and an identity policy allows",
    "allow-trust-service": "refuses a service that the trust policy names",
    "allow-identity": "refuses a call an identity policy allows",
    "allow-resource-names-principal": "refuses a call a resource policy naming the caller allows",
    "allow-resource-and-identity": "refuses a call both the resource policy and the identity policy allow",
    "allow-cross-account": "refuses access across accounts that both policies allow",
    "allow-administrator": "refuses an administrator's call",
}


UNRECOGNISED_CREDENTIALS = frozenset({"InvalidAccessKeyId", "InvalidClientTokenId"})
TEMP_CREDENTIALS_DOC = DOC + "id_credentials_temp_use-resources.html"


def _issuing_call(scenario: Scenario, step_id: str) -> str | None:
    """The STS call whose credentials a step uses, when it uses an earlier step's."""
    try:
        caller = scenario.step(step_id).caller
        earlier = scenario.step(caller)
    except KeyError:
        return None
    return earlier.call if earlier.call.startswith("sts:") else None


_VALIDATION = re.compile(r"at '([A-Za-z.]+)' failed to satisfy constraint: Member must (?:not )?(?:have |satisfy )?(\w+)")


def _rule_text(label: str) -> str:
    return RULES.get(label, "")


def _rule_source(label: str) -> str:
    return REASONS.get(label, "")


def symptom_cause(div: Divergence, source: str = "") -> Cause:
    """The cause when no twin tells it apart: the rule AWS applied, which way the target is
    wrong, same account or across accounts, and (unless it allowed) what the target answered."""
    e, o = div.expected, div.observed
    way = direction(e, o)
    rule = e.reason or (e.code if e.outcome == ERROR else "") or "-"
    where = context(div.scenario, div.step_id)
    src = source or _rule_source(rule) or EVAL_DOC
    said = o.code if o.outcome == ERROR else "ok"
    service = div.call.split(":", 1)[0]
    if way == CRASH:
        # one behaviour per exception and service: the same handler fails for each call that reaches it
        exc = (o.code or "").split(":", 1)[-1]
        return Cause(f"crash|{service}|{exc}", f"crashes ({exc}) on {service} calls", way, rule, src)
    if rule == "invalid-parameter" or (e.code == "ValidationError" and _VALIDATION.search(e.message or "")):
        m = _VALIDATION.search(e.message or "")
        what = f"{m.group(1)} ({m.group(2)} constraint)" if m else "parameter"
        if way == TOO_PERMISSIVE:
            # one behaviour: the target does not check the API's constraints on this service's parameters
            return Cause(f"{way}|{service}|invalid-parameter",
                         f"accepts {service} parameters outside the API's documented constraints", way, rule, src)
        return Cause(f"{way}|{div.call}|invalid|{what}|{said}",
                     f"answers {said} to a {div.call} {what} that AWS refuses with {e.code}", way, rule, src)
    if way == TOO_PERMISSIVE:
        # one behaviour however the target went on (ok, or NoSuchKey after skipping authorization),
        # same account or across (a target that enforces nothing across accounts is told by the canary)
        family = FAMILY.get(rule, rule)
        if family in ALLOWS_AGAINST:
            # an authorization rule is one evaluator for every service: one behaviour
            return Cause(f"{way}|{family}", ALLOWS_AGAINST[family], way, rule, src)
        phrase = (ALLOWS_AGAINST_CODE.get(e.code or "")
                  or f"allows what AWS refuses with {e.code}" + (f": {_rule_text(rule)}" if _rule_text(rule) else ""))
        return Cause(f"{way}|{service}|{family}", f"{phrase} ({service})", way, rule, src)
    if way == TOO_STRICT and o.code in UNRECOGNISED_CREDENTIALS:
        # the target refuses credentials that it issued itself: one behaviour per issuing call
        issued_by = _issuing_call(div.scenario, div.step_id)
        if issued_by:
            return Cause(f"{way}|unrecognised-credentials|{issued_by}",
                         f"does not recognise the credentials {issued_by} returned", way, rule,
                         source or TEMP_CREDENTIALS_DOC)
    if way == TOO_STRICT:
        phrase = REFUSES_AGAINST.get(rule) or (
            f"denies {div.call} where AWS answers {e.code}" if e.outcome == ERROR else
            f"refuses {div.call} where AWS allows it")
        return Cause(f"{way}|{service}|{rule}|{where}|{said}", f"{phrase} (answers {said}{', ' + where if where else ''})",
                     way, rule, src)
    if way == WRONG_ERROR:
        # one behaviour whatever rule AWS applied: the code the target answers instead of AWS's
        exp = e.code or "ok"
        text = _rule_text(rule)
        return Cause(f"{way}|{exp}|{said}", f"answers {said} where AWS answers {exp}" + (f" ({text})" if text else ""),
                     way, rule, src)
    fields = div.signature.split("|", 3)[-1]
    if div.level == "facts":
        return Cause(f"{way}|{div.call}|facts|{fields}", f"returns {_facts_text(fields)} from {div.call}", way,
                     "returned-facts", facts.FACTS.get(div.call, ((), ""))[1] or src)
    what = "message" if div.level == "message" else f"result ({fields})"
    return Cause(f"{way}|{div.call}|{div.level}|{fields}", f"returns a different {what} from {div.call}", way, rule, src)


def _facts_text(fields: str) -> str:
    """`+.PackedPolicySize,~.Arn` as words: "an extra PackedPolicySize, a different Arn"."""
    words = {"+": "an extra", "-": "no", "~": "a different"}
    return ", ".join(f"{words.get(f[:1], 'a different')} {f[2:]}" for f in fields.split(",") if f)


# ----------------------------------------------------------------------------- attribution

def _same_answer(a, b, limit: int, call: str | None = None) -> bool:
    lv = level_of(a, b, call)
    return lv is None or LEVELS.index(lv) > limit


def explain(div: Divergence, target, oracle, *, enforcement: Enforcement | None = None, strictness: str = "facts",
            budget: int = 24) -> Cause:
    """The cause of one confirmed divergence, found by replaying at most `budget` twins (a count:
    a seeded run names the same cause on any machine)."""
    e, o = div.expected, div.observed
    service = div.call.split(":", 1)[0]
    where = context(div.scenario, div.step_id)
    if enforcement is not None and is_denial(e) and direction(e, o) == TOO_PERMISSIVE and \
            enforcement.folds(service, where):
        if enforcement.authorizes_nothing:
            title = "authorizes nothing: requests AWS denies are allowed" + \
                (" (by design in this mode)" if enforcement.declared == "not-enforced" else "")
            key = AUTHORIZES_NOTHING
        elif where == "across accounts":
            # one behaviour however many services show it: the target skips the other account's side
            unenforced = sorted(s.split()[0] for s, on in enforcement.enforced.items()
                                if not on and s.endswith("across accounts"))
            title = ("does not enforce authorization across accounts: requests AWS denies are allowed ("
                     + ", ".join(unenforced) + ")")
            key = f"{AUTHORIZES_NOTHING}|across accounts"
        else:
            title = f"does not enforce authorization on {service}: {service} requests AWS denies are allowed"
            key = f"{AUTHORIZES_NOTHING}|{service}"
        return Cause(key, title, TOO_PERMISSIVE, e.reason or "deny", EVAL_DOC, None, "canary")
    base = div.scenario.to_dict()
    limit = LEVELS.index(strictness)
    steps = [s.id for s in div.scenario.steps]
    upto = steps[: steps.index(div.step_id) + 1]
    calls = {s.id: s.call for s in div.scenario.steps}
    expected_before = None
    tries = 0
    way = direction(e, o)
    last = [identity_allow_twin(base, div.step_id)] if way == TOO_STRICT else []
    for twin in itertools.chain(twins(base), filter(None, last)):
        if tries >= budget:
            break
        try:
            scenario = from_dict(twin.scenario, origin=div.scenario.origin)
        except ScenarioError:
            continue
        tries += 1
        if expected_before is None:
            expected_before = oracle.run(div.scenario)
        exp = oracle.run(scenario)
        if exp.setup_error is not None or not all(
                exp.outcome(s) is not None and _same_answer(expected_before.outcome(s), exp.outcome(s), limit, calls[s])
                for s in upto if expected_before.outcome(s) is not None):
            continue  # AWS answers the twin differently: not the same case
        obs = target.run(scenario)
        if obs.setup_error is not None:
            continue
        agrees = first_difference(scenario, exp, obs, strictness) is None
        now = obs.outcome(div.step_id)
        if way == CRASH:  # the twin names the cause when the target stops crashing
            fixed = now is not None and not (now.outcome == ERROR and (now.code or "").startswith(CRASH_PREFIX))
        elif way == TOO_STRICT:  # ... or stops refusing: what it does next may be a second finding
            fixed = agrees or (now is not None and exp.outcome(div.step_id) is not None and direction(
                exp.outcome(div.step_id), now) not in (TOO_STRICT, CRASH))
        else:
            fixed = agrees
        if fixed:
            title, noun, src = _feature_title(twin.feature)
            key = f"feature|{twin.feature}"
            if way == CRASH:
                exc = (o.code or "").split(":", 1)[-1]
                key, title = f"crash|{twin.feature}|{exc}", f"crashes ({exc}) on {noun}"
            # a twin that stops a crash or a refusal may still diverge: only one the target agrees on
            # is a passed scenario
            return Cause(key, title, way, e.reason or e.code or "-", src, twin.feature, "counterfactual",
                         passes=twin.scenario if agrees else None)
    return symptom_cause(div)



# ----------------------------------------------------------------------------- grouping

def evidence_of(source: str) -> str:
    return EVIDENCE_DOCS if source.startswith("https://docs.aws.amazon.com/") else EVIDENCE_MODEL


def _size(scenario: dict) -> tuple:
    statements = 0

    def count(kind, st):
        nonlocal statements
        statements += 1
        return False
    _edit_statements(copy.deepcopy(scenario), count)
    return len(scenario.get("steps", [])), statements, len(json.dumps(scenario, sort_keys=True))


def group(divergences: list[dict]) -> list[dict]:
    """Findings from divergence records (each with `target`, `id`, `cause`, `scenario`): one per
    target and cause, with its smallest scenario and the divergences it covers. A finding's id is
    its cause's: the same on every target that behaves so."""
    by: dict[tuple[str, str], list[dict]] = {}
    for rec in divergences:
        cause = rec["cause"]
        by.setdefault((rec["target"], finding_id(cause["key"])), []).append(rec)
    out = []
    for (target, fid), recs in by.items():
        smallest = min(recs, key=lambda r: (_size(r["scenario"]), r["id"]))
        cause = smallest["cause"]
        passes = next((r["cause"].get("passes") for r in sorted(recs, key=lambda r: r["id"])
                       if r["cause"].get("passes")), None)
        out.append({
            "id": fid, "title": f"{target} {cause['title']}", "behaviour": cause["title"], "target": target,
            "direction": cause["direction"], "rule": cause["rule"], "source": cause["source"],
            "evidence": evidence_of(cause["source"]), "how": cause.get("how", "symptom"),
            "feature": cause.get("feature"), "key": cause["key"],
            "divergences": sorted(r["id"] for r in recs), "properties": sorted({r["property"] for r in recs}),
            "calls": sorted({r["call"] for r in recs}), "from": smallest["id"], "step": smallest["step"],
            "call": smallest["call"], "expected": smallest["expected"], "observed": smallest["observed"],
            "scenario": smallest["scenario"], "passes": passes,
        })
    shared: dict[str, list[str]] = {}
    for f in out:
        shared.setdefault(f["id"], []).append(f["target"])
    for f in out:
        f["shared_with"] = [t for t in shared[f["id"]] if t != f["target"]]
    order = {d: i for i, d in enumerate(DIRECTIONS)}
    out.sort(key=lambda f: (f["target"], f["key"] != AUTHORIZES_NOTHING, order.get(f["direction"], 9), f["behaviour"]))
    return out
