"""Realistic emulator bugs planted in the reference model, one target each: the low-level
mutants of the mutation score.

Unlike `planted.py` (which flips the model's own denial labels), each mutant here breaks one
piece of machinery the way an emulator gets it wrong: principal matching, action case, `?`
in resources, NotAction, condition operators on missing keys, policy variables, condition-key
case, STS results, IAM name rules. Each is a target factory (`tests.quality.mutants:<name>`,
the name with `_` for `-`), so it runs through the real engine like any emulator:

    PYTHONPATH=. rolecall replay scenarios/... --target tests.quality.mutants:notaction_ignored

(from the repository root: `tests` is not installed).

The bug is patched in only while the broken target makes a call, so the oracle (the unbroken
model, in the same process, never called at the same time) is unaffected. `property` names
the one property that should find it (the CI cost stays small) and `strictness` the level it
is searched at: the default, `facts`, which compares returned facts (the GetCallerIdentity ARN).
"""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable

from rolecall.targets.reference import (ReferenceTarget, access, evaluation, federation, iam, iam_common, iam_roles,
                                        organizations, policy, policy_conditions, policy_matchers, policy_patterns,
                                        policy_validation, s3, simulator, sts)
from rolecall.targets.reference.evaluation import Decision
from rolecall.targets.reference.policy_conditions import _Condition
from rolecall.targets.reference.policy_matchers import _ActionMatcher, _PrincipalMatcher, _ResourceMatcher

DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"


@dataclass(frozen=True)
class Mutant:
    name: str
    patch: Callable[[], contextlib.AbstractContextManager]
    what: str
    property: str  # the property that should find it
    source: str  # the AWS rule it breaks
    strictness: str = "facts"


@contextlib.contextmanager
def _setattr(*triples):
    """Set (object, attribute, value) triples for the duration, then restore them."""
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in triples]
    for obj, name, value in triples:
        setattr(obj, name, value)
    try:
        yield
    finally:
        for obj, name, value in reversed(saved):
            setattr(obj, name, value)


def _operation(fn):
    fn.is_operation = True
    return fn


# ----------------------------------------------------------------------------- matching

def _principal_prefix():
    """Trust principals compared as ARN text, and by prefix: a trust naming user/bob admits
    user/bobby (IAM stores named users and roles by unique id; an emulator keeps the text)."""
    original_match, original_trust = _PrincipalMatcher.match, iam_roles._trust_policy
    original_grant = evaluation._statement_grant

    def match(self, p):
        if original_match(self, p):
            return True
        if p is None or p.service is not None:
            return False
        return (any(p.arn.startswith(a) for a in self.arns)
                or (p.role_arn is not None and any(p.role_arn.startswith(a) for a in self.role_arns)))

    def trust_policy(model, document):
        original_trust(model, document)  # its validation, not its unique ids
        return iam_common._parse(document, "trust")

    def statement_grant(statement, principal):
        grant = original_grant(statement, principal)
        if principal is None or grant == "principal":
            return grant
        for kind, v in statement.principal_values:
            if kind == "AWS" and v.startswith("arn:") and not v.endswith(":root"):
                if principal.arn.startswith(v):
                    return "principal"
                if principal.role_arn is not None and principal.role_arn.startswith(v):
                    grant = "role"
        return grant

    return _setattr((_PrincipalMatcher, "match", match), (iam_roles, "_trust_policy", trust_policy),
                    (evaluation, "_statement_grant", statement_grant))


_CURRENT_ACTION: list[str] = []


def _action_case_sensitive():
    """Action names compared as written: s3:getobject does not match s3:GetObject."""
    original_init, original_statements = _ActionMatcher.__init__, evaluation.matching_statements

    def init(self, patterns):
        self.all = "*" in patterns
        self.names = frozenset(p for p in patterns if "*" not in p and "?" not in p)
        wild = [p for p in patterns if "*" in p or "?" in p]
        self.regex = policy_patterns._alternation([policy_patterns._glob_source(policy_patterns._flag_chars([(p, True)]))
                                                   for p in wild])

    def match(self, _action_lower):
        action = _CURRENT_ACTION[-1]
        return self.all or action in self.names or (self.regex is not None and self.regex.fullmatch(action) is not None)

    def matching_statements(pol, request):
        _CURRENT_ACTION.append(request.action)
        try:
            return original_statements(pol, request)
        finally:
            _CURRENT_ACTION.pop()

    del original_init
    return _setattr((_ActionMatcher, "__init__", init), (_ActionMatcher, "match", match),
                    (evaluation, "matching_statements", matching_statements))


def _question_mark_literal():
    """`?` in a Resource is taken literally (only `*` is a wildcard)."""
    def init(self, patterns, variables):
        self.all = "*" in patterns
        static: list[str] = []
        self.dynamic = []
        for p in patterns:
            tokens = policy_matchers._resource_tokens(p, variables)
            if policy_patterns._has_vars(tokens):
                self.dynamic.append(tokens)
            else:
                pieces = policy_patterns._resolve(tokens, {})
                chars = [(ch, wild and ch == "*") for ch, wild in policy_patterns._flag_chars(pieces)]
                static.append(policy_patterns._arn_source(chars))
        self.regex = policy_patterns._alternation(static)

    return _setattr((_ResourceMatcher, "__init__", init))


def _notaction_ignored():
    """Only Action is read: a statement with NotAction applies to nothing."""
    original = evaluation.matching_statements

    def matching_statements(pol, request):
        return [st for st in original(pol, request) if not st.not_action]

    return _setattr((evaluation, "matching_statements", matching_statements))


# ----------------------------------------------------------------------------- operators

def _holds_when(rule: Callable[["_Condition", list | None], bool | None]):
    """Patch `_Condition.holds`: `rule(condition, values)` answers, or None for the model's answer."""
    original = _Condition.holds

    def holds(self, ctx):
        answer = rule(self, ctx.get(self.key)) if self.null_wants is None else None
        return original(self, ctx) if answer is None else answer

    return _setattr((_Condition, "holds", holds))


def _negated_missing_key():
    """A negated operator (StringNotEquals, ArnNotLike, ...) on a missing key fails."""
    return _holds_when(lambda c, values: False if not values and c.negated and not c.if_exists
                       and c.set_op is None else None)


def _if_exists_ignored():
    """...IfExists is read as the plain operator: on a missing key it fails (negated: holds)."""
    def rule(c, values):
        if values or not c.if_exists:
            return None
        return {"all": True, "any": False}.get(c.set_op, c.negated)
    return _holds_when(rule)


def _for_all_values_missing_key():
    """ForAllValues on a missing key fails (AWS: it holds, there being no value to fail)."""
    return _holds_when(lambda c, values: False if not values and c.set_op == "all" and not c.if_exists else None)


def _variables_not_substituted():
    """Policy variables are plain text: ${aws:username} is compared as written."""
    original = policy_patterns._tokenize
    # each module that tokenizes looks the name up in its own globals
    return _setattr(*((m, "_tokenize", lambda text, variables: original(text, False))
                      for m in (policy_matchers, policy_conditions)))


# The keys of the request contexts rolecall draws, as AWS's documentation spells them
# (reference_policies_condition-keys.html, reference_policies_iam-condition-keys.html).
CANONICAL_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:userid", "aws:username",
                  "aws:SourceIdentity", "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport",
                  "aws:PrincipalServiceName", "aws:TagKeys", "aws:VpcSourceIp", "aws:PrincipalOrgID",
                  "aws:SourceVpce", "aws:MultiFactorAuthAge", "sts:RoleSessionName", "sts:ExternalId",
                  "sts:SourceIdentity", "sts:TransitiveTagKeys")
CANONICAL_PREFIXES = ("aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/")


def _as_documented(key: str) -> bool:
    low = key.lower()
    if any(low == k.lower() for k in CANONICAL_KEYS):
        return key in CANONICAL_KEYS
    for prefix in CANONICAL_PREFIXES:
        if low.startswith(prefix.lower()):
            return key.startswith(prefix)
    return True


def _condition_key_case_sensitive():
    """Condition keys looked up verbatim (as moto does): AWS:principalarn is never present."""
    original = policy.parse_policy

    def parse_policy(document, kind):
        pol = original(document, kind)
        raw = pol.document.get("Statement")
        raw = raw if isinstance(raw, list) else [raw]
        statements = []
        for st, st_raw in zip(pol.statements, raw):
            written = [key for block in (st_raw.get("Condition") or {}).values() if block for key in block]
            conditions = tuple(c if _as_documented(w) else replace(c, key="verbatim:" + w)
                               for c, w in zip(st.conditions, written))
            statements.append(replace(st, conditions=conditions))
        return replace(pol, statements=tuple(statements))

    # each module that parses looks the name up in its own globals
    return _setattr(*((m, "parse_policy", parse_policy) for m in (policy, iam_common, iam_roles, sts, s3)))


# ----------------------------------------------------------------------------- STS results

def _caller_identity_arn():
    """GetCallerIdentity of a role session answers the role's ARN, not the session's."""
    original = sts.GetCallerIdentity

    @_operation
    def GetCallerIdentity(model, caller, p):  # noqa: N802 - AWS's action name
        result, decision = original(model, caller, p)
        if caller.kind == "session":
            result = {**result, "Arn": caller.session.role_arn}
        return result, decision

    return _setattr((sts, "GetCallerIdentity", GetCallerIdentity))


def _default_duration():
    """A session asked for without DurationSeconds lasts twelve hours, not one."""
    original = sts.AssumeRole

    @_operation
    def AssumeRole(model, caller, p):  # noqa: N802
        result, decision = original(model, caller, p)
        if not p.get("DurationSeconds"):
            credentials = result["Credentials"]
            expires = model.now + dt.timedelta(seconds=43200)
            model.keys[credentials["AccessKeyId"]][1].session.expires = expires
            result = {**result, "Credentials": {**credentials, "Expiration": expires}}
        return result, decision

    return _setattr((sts, "AssumeRole", AssumeRole))


def _tag_session_not_required():
    """Session tags pass without sts:TagSession in the trust policy."""
    original = access.require

    def require(model, caller, action, resource, **kw):
        if action == "sts:TagSession":
            return Decision(True, "planted-allow-tag-session")
        return original(model, caller, action, resource, **kw)

    return _setattr((access, "require", require))


# ----------------------------------------------------------------------------- IAM name rules

def _role_names_case_sensitive():
    """CreateRole takes a name that differs from an existing role's only in case (R1 next to r1)."""
    original = iam.CreateRole

    @_operation
    def CreateRole(model, caller, p):  # noqa: N802
        roles = model.account(iam_common._account(model, caller)).roles
        name = str(p.get("RoleName", ""))
        clash = roles.get(name.lower())
        if clash is not None and clash.name != name:
            del roles[name.lower()]  # the emulator keeps both; lookups find the newer
        return original(model, caller, p)

    return _setattr((iam, "CreateRole", CreateRole))


def _delete_role_with_policies():
    """DeleteRole succeeds while inline or managed policies are still attached."""
    original = iam.DeleteRole

    @_operation
    def DeleteRole(model, caller, p):  # noqa: N802
        role = model.account(iam_common._account(model, caller)).roles.get(str(p.get("RoleName", "")).lower())
        if role is not None and not role.service_linked:
            role.inline.clear()
            role.managed.clear()
        return original(model, caller, p)

    return _setattr((iam, "DeleteRole", DeleteRole))


def _bare_account_id_refused():
    """A trust policy naming a bare account id ("AWS": "111122223333") is refused as malformed."""
    original = policy_validation._principal_ok

    def principal_ok(typ, v, kind):
        return False if typ == "AWS" and policy_matchers._ACCOUNT.fullmatch(v) else original(typ, v, kind)

    return _setattr((policy_validation, "_principal_ok", principal_ok))


# ----------------------------------------------------------------------------- web identity

def _token_signature_not_checked():
    """AssumeRoleWithWebIdentity reads a token's claims without checking its signature: a token
    signed with another key, forged under the issuer's key id, or unsigned is accepted."""
    return _setattr((federation, "_signature_ok", lambda model, iss, header, signing_input, signature: True))


def _scp_ignored():
    """SCPs are stored but never evaluated: a member account's principals do what their own
    policies allow, whatever the SCPs on the account's path deny or fail to allow (the
    organization is created through the API as usual; RCPs still apply)."""
    return _setattr((organizations, "scp_levels", lambda model, caller: []))


# ----------------------------------------------------------------------------- the policy simulator

def _simulator_exact_match():
    """The policy simulator matches Action and Resource by exact string (as LocalStack community
    does): `s3:*`, `s3:Get*` or `arn:aws:s3:::bucket/*` allow nothing."""
    def decision(identity, boundary, request):
        def scan(pset):
            allow = deny = False
            for _, pol in pset.policies:
                for st in pol.statements:
                    if st.not_action or st.not_resource or request.action not in st.actions:
                        continue
                    if st.resources is not None and request.resource not in st.resources:
                        continue
                    deny, allow = deny or st.effect == "Deny", allow or st.effect == "Allow"
            return allow, deny

        allow, deny = scan(identity)
        b_allow, b_deny = scan(boundary) if boundary.present else (True, False)
        if deny or b_deny:
            return simulator.EXPLICIT_DENY
        return simulator.ALLOWED if allow and b_allow else simulator.IMPLICIT_DENY

    return _setattr((simulator, "decision", decision))


def _simulator_evaluates_trust():
    """The policy simulator evaluates a trust policy passed as ResourcePolicy for sts:AssumeRole:
    a trust policy denying the user makes the simulation an explicit deny (AWS ignores it)."""
    original = simulator._simulate

    def simulate(p, identity, boundary):
        if p.get("ResourcePolicy"):
            trust = policy.parse_policy(p["ResourcePolicy"], "trust")
            if any(st.effect == "Deny" for st in trust.statements):
                identity = evaluation.PolicySet("identity", [*identity.policies, ("trust", policy.parse_policy(
                    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole",'
                    '"Resource":"*"}]}', "identity"))])
        return original(p, identity, boundary)

    return _setattr((simulator, "_simulate", simulate))


MUTANTS = [
    Mutant("principal-prefix-match", _principal_prefix, _principal_prefix.__doc__, "assume_role_trust_and_identity",
           DOCS + "reference_policies_elements_principal.html"),
    Mutant("action-case-sensitive", _action_case_sensitive, _action_case_sensitive.__doc__, "policy_evaluation",
           DOCS + "reference_policies_elements_action.html"),
    Mutant("resource-question-mark-literal", _question_mark_literal, _question_mark_literal.__doc__,
           "policy_evaluation", DOCS + "reference_policies_elements_resource.html"),
    Mutant("notaction-ignored", _notaction_ignored, _notaction_ignored.__doc__, "policy_evaluation",
           DOCS + "reference_policies_elements_notaction.html"),
    Mutant("negated-operator-missing-key", _negated_missing_key, _negated_missing_key.__doc__, "policy_evaluation",
           DOCS + "reference_policies_elements_condition_operators.html"),
    Mutant("if-exists-ignored", _if_exists_ignored, _if_exists_ignored.__doc__, "policy_evaluation",
           DOCS + "reference_policies_elements_condition_operators.html#Conditions_IfExists"),
    Mutant("for-all-values-missing-key", _for_all_values_missing_key, _for_all_values_missing_key.__doc__,
           "policy_evaluation", DOCS + "reference_policies_multi-value-conditions.html"),
    Mutant("policy-variables-not-substituted", _variables_not_substituted, _variables_not_substituted.__doc__,
           "policy_evaluation", DOCS + "reference_policies_variables.html"),
    Mutant("condition-key-case-sensitive", _condition_key_case_sensitive, _condition_key_case_sensitive.__doc__,
           "policy_evaluation", DOCS + "reference_policies_elements_condition.html"),
    Mutant("caller-identity-arn-of-role", _caller_identity_arn, _caller_identity_arn.__doc__,
           "assume_role_trust_and_identity",
           "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"),
    Mutant("default-session-duration-twelve-hours", _default_duration, _default_duration.__doc__,
           "session_duration_and_expiry",
           "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"),
    Mutant("role-names-case-sensitive", _role_names_case_sensitive, _role_names_case_sensitive.__doc__,
           "lockstep_role_lifecycle", DOCS + "reference_iam-quotas.html#reference_iam-quotas-names"),
    Mutant("delete-role-with-policies", _delete_role_with_policies, _delete_role_with_policies.__doc__,
           "lockstep_role_lifecycle", "https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html"),
    Mutant("bare-account-id-principal-refused", _bare_account_id_refused, _bare_account_id_refused.__doc__,
           "lockstep_role_lifecycle", DOCS + "reference_policies_elements_principal.html#principal-accounts"),
    Mutant("tag-session-not-required", _tag_session_not_required, _tag_session_not_required.__doc__,
           "cross_account_assume_role", DOCS + "id_session-tags.html#id_session-tags_permissions-required"),
    Mutant("token-signature-not-checked", _token_signature_not_checked, _token_signature_not_checked.__doc__,
           "web_identity_tokens_and_trust", federation.WEB_IDENTITY),
    Mutant("scp-ignored", _scp_ignored, _scp_ignored.__doc__, "organization_policies_cap_access",
           "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"),
    Mutant("simulator-exact-string-match", _simulator_exact_match, _simulator_exact_match.__doc__, "policy_simulator",
           DOCS + "reference_policies_elements_action.html"),
    Mutant("simulator-evaluates-trust-policy", _simulator_evaluates_trust, _simulator_evaluates_trust.__doc__,
           "policy_simulator", "https://github.com/aws/aws-cli/issues/10314"),
]
BY_NAME = {m.name: m for m in MUTANTS}


class MutantTarget(ReferenceTarget):
    """The reference model with one mutant's bug in every call it makes."""

    def __init__(self, mutant: Mutant):
        super().__init__()
        self.mutant = mutant
        self.name = f"mutant:{mutant.name}"

    def call(self, credentials, service, action, p):
        with self.mutant.patch():
            return super().call(credentials, service, action, p)


def _factory(mutant: Mutant) -> Callable[[], MutantTarget]:
    def factory() -> MutantTarget:
        return MutantTarget(mutant)
    factory.__name__ = factory.__qualname__ = mutant.name.replace("-", "_")
    factory.__doc__ = mutant.what
    return factory


for _m in MUTANTS:
    globals()[_m.name.replace("-", "_")] = _factory(_m)
del _m
