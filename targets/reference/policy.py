"""The IAM policy language for the reference model: parse and validate a policy document for
its kind, compile its matchers once, and tell which statements match a request.

Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html.
Each rule cites the AWS page it encodes, in the module that encodes it (the list is below);
tests/test_policy_language.py checks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from .condition_keys import is_known_condition_key
from .policy_conditions import _OPERATORS, _Condition, _parse_operator, _ValueMatcher
from .policy_matchers import Principal, Request, _ActionMatcher, _PrincipalMatcher, _ResourceMatcher
from .policy_validation import MalformedPolicy, _Parser, _as_list, _condition_text

# The language is split along its parts; this module compiles a policy and matches its
# statements, and the names the model uses are imported from here:
#   policy_patterns.py     wildcards and policy variables
#   policy_matchers.py     the request (Principal, Request); the Action, Resource, Principal matchers
#   policy_conditions.py   the Condition element and its operators
#   policy_validation.py   the checks IAM and S3 make on a document, with their messages
__all__ = [
    "POLICY_KINDS", "MalformedPolicy", "NotModelled", "Statement", "Policy", "Principal", "Request",
    "parse_policy", "matching_statements", "UnevaluablePolicy",
]

POLICY_KINDS = ("identity", "trust", "bucket", "boundary", "session")
VARIABLES_VERSION = "2012-10-17"  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html


class NotModelled(Exception):
    """The model does not know an operator or condition key it would need; the caller reports
    `unsupported`, never allow/deny."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# --- policy and statement -----------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str                                  # "Allow" | "Deny"
    actions: tuple[str, ...]                     # from Action, or NotAction when not_action
    not_action: bool
    resources: tuple[str, ...] | None            # None: no Resource element (trust policy)
    not_resource: bool
    principal_values: tuple[tuple[str, str], ...]  # (type, value) from Principal or NotPrincipal
    not_principal: bool
    has_principal: bool                          # a Principal or NotPrincipal element exists
    conditions: tuple[_Condition, ...] = field(default=(), repr=False)
    _action: _ActionMatcher | None = field(default=None, repr=False, compare=False)
    _resource: _ResourceMatcher | None = field(default=None, repr=False, compare=False)
    _principal: _PrincipalMatcher | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Policy:
    version: str | None
    statements: tuple[Statement, ...]
    kind: str
    document: dict = field(compare=False, hash=False, repr=False)

    def principals(self) -> list[tuple[str, str]]:
        """(type, value) pairs named in Principal/NotPrincipal, in document order, without
        duplicates; `"Principal": "*"` appears as ("AWS", "*")."""
        seen: dict[tuple[str, str], None] = {}
        for st in self.statements:
            for pv in st.principal_values:
                seen.setdefault(pv, None)
        return list(seen)

    def with_principals_replaced(self, mapping: dict[str, str]) -> "Policy":
        """A copy whose Principal/NotPrincipal values are replaced through `mapping` (IAM stores
        user and role ARNs in a trust policy as unique IDs, AIDA.../AROA...)."""
        doc = json.loads(json.dumps(self.document))
        stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for st in stmts:
            for elem in ("Principal", "NotPrincipal"):
                p = st.get(elem)
                if not isinstance(p, dict):
                    continue
                for typ, v in p.items():
                    if isinstance(v, str):
                        p[typ] = mapping.get(v, v)
                    elif isinstance(v, list):
                        p[typ] = [mapping.get(x, x) if isinstance(x, str) else x for x in v]
        return parse_policy(doc, self.kind)

    def without_conditions(self) -> "Policy":
        """The same policy with every Condition removed (to tell 'the condition failed' from
        'nothing matched' when explaining a decision)."""
        return replace(self, statements=tuple(replace(st, conditions=()) for st in self.statements))


def matching_statements(policy: Policy, request: Request) -> list[Statement]:
    """Statements whose Action/NotAction, Resource/NotResource (absent in a trust policy: the
    role is implied), Principal/NotPrincipal (when present) and Condition all match."""
    action = request.action.lower()
    ctx = request.context
    out = []
    for st in policy.statements:
        if st._action.match(action) is st.not_action:
            continue
        r = st._resource
        if r is not None:
            hit = r.match(request.resource, ctx)
            if st.not_resource:
                if hit is not False:
                    continue
            elif hit is not True:
                continue
        p = st._principal
        if p is not None and p.match(request.principal) is st.not_principal and not (
                st.not_principal and st.effect == "Deny" and request.principal is not None
                and request.principal.bounded):
            # A Deny with NotPrincipal "will always deny any IAM principal that has a permissions
            # boundary policy attached, regardless of the values specified in the NotPrincipal
            # element" (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
            continue
        if st.conditions:
            ok = True
            for c in st.conditions:
                if not c.holds(ctx):
                    ok = False
                    break
            if not ok:
                continue
        out.append(st)
    return out

def parse_policy(document: str | dict, kind: str) -> Policy:
    """Validate `document` as a policy of `kind` (one of POLICY_KINDS) and compile it.

    Raises MalformedPolicy when IAM (or S3, for kind 'bucket') would reject the document,
    NotModelled when it is valid but names a condition key or policy variable the model
    cannot evaluate. Size limits are the caller's job.
    """
    if kind not in POLICY_KINDS:
        raise ValueError(f"kind must be one of {POLICY_KINDS}, not {kind!r}")
    parser = _Parser(kind)
    doc = parser.load(document)
    stmts = parser.statements(doc)
    parser.legacy(stmts)
    parser.elements(stmts)
    parser.sids(stmts)
    parser.required(stmts)
    if kind != "trust":
        parser.resources(stmts)
    parser.actions(stmts)
    principal_values = [parser.principal_values(st) for st in stmts]

    version = doc.get("Version")
    variables = version == VARIABLES_VERSION
    compiled: list[Statement] = []
    unknown: list[str] = []
    for i, st in enumerate(stmts):
        not_action = "NotAction" in st
        actions = _as_list(st["NotAction" if not_action else "Action"])
        not_resource = "NotResource" in st
        resources = _as_list(st["NotResource"]) if not_resource else (
            _as_list(st["Resource"]) if "Resource" in st else None)
        res_matcher = None
        if resources is not None:
            res_matcher = _ResourceMatcher(resources, variables)
            for tokens in res_matcher.dynamic:
                unknown.extend(t[1] for t in tokens if t[0] == "v" and not is_known_condition_key(t[1]))
        pvalues, star = principal_values[i]
        has_principal = "Principal" in st or "NotPrincipal" in st
        conditions = []
        for op, block in st.get("Condition", {}).items():
            if not block:
                continue
            set_op, base, if_exists = _parse_operator(op)
            family, negated = _OPERATORS[base]
            for key, values in block.items():
                texts = [_condition_text(v) for v in _as_list(values)]
                if not is_known_condition_key(key):
                    unknown.append(key)
                if family == "null":
                    wants = tuple(t.lower() == "true" for t in texts if t.lower() in ("true", "false"))
                    conditions.append(_Condition(op, key.lower(), None, False, False, wants, None))
                    continue
                matcher = _ValueMatcher(family, texts, variables)
                for tokens in matcher.dynamic:
                    unknown.extend(t[1] for t in tokens if t[0] == "v" and not is_known_condition_key(t[1]))
                conditions.append(_Condition(op, key.lower(), set_op, if_exists, negated, None, matcher))
        compiled.append(Statement(
            index=i,
            sid=st.get("Sid"),
            effect=st["Effect"],
            actions=tuple(actions),
            not_action=not_action,
            resources=tuple(resources) if resources is not None else None,
            not_resource=not_resource,
            principal_values=tuple(pvalues),
            not_principal="NotPrincipal" in st,
            has_principal=has_principal,
            conditions=tuple(conditions),
            _action=_ActionMatcher(actions),
            _resource=res_matcher,
            _principal=_PrincipalMatcher(pvalues, star) if has_principal else None,
        ))
    if unknown:
        raise NotModelled(f"condition key {unknown[0]!r} is not modelled", key=unknown[0])
    return Policy(version=version, statements=tuple(compiled), kind=kind, document=doc)


class UnevaluablePolicy:
    """A document IAM accepts that the model can store but not evaluate (a condition key or
    variable it does not know): saving it succeeds, a decision that needs it is NotModelled."""

    def __init__(self, document: str, kind: str, reason: str):
        self.document, self.kind, self.reason = document, kind, reason
        self.version = None

    @property
    def statements(self):
        raise NotModelled(self.reason)

    def principals(self):
        raise NotModelled(self.reason)
