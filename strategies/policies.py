"""Policy documents drawn against one request, so each statement matches it or misses it on
purpose: Action/NotAction and Resource/NotResource in exact, wildcard and near-miss forms,
conditions from `conditions`, explicit Deny next to Allow.

A document is drawn for a *verdict* ("allow", "none", "deny"; for trust policies also how
the principal is named), and a statement that must miss breaks exactly one of its parts, so
every part gets to decide.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick, upto
from rolecall.strategies.conditions import Context, condition_block, merge
from rolecall.strategies.principals import ACCOUNT, ANY, DIRECT, Subject, principal_element
from rolecall.strategies.world import NEAR_MISS_DIRECTIONS, Entity, doc, near_name, other_account

SIBLINGS = {
    "s3:GetObject": ("s3:PutObject", "s3:DeleteObject"),
    "s3:PutObject": ("s3:GetObject", "s3:DeleteObject"),
    "s3:ListBucket": ("s3:GetObject",),
    "sts:AssumeRole": ("sts:TagSession", "sts:AssumeRoleWithWebIdentity"),
}


# ----------------------------------------------------------------------------- actions

def action_forms(action: str, *, trust: bool = False, bucket: bool = False
                 ) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(matching, missing) lists of (element key, value) for `action`. Action names are
    case-insensitive; trust policies allow only STS actions (and no NotAction here), bucket
    policies only S3 ones."""
    svc, name = action.split(":")
    sib = SIBLINGS.get(action, (f"{svc}:List{name}",))
    match: list[tuple[str, Any]] = [("Action", action), ("Action", f"{svc.upper()}:{name.lower()}"),
                                    ("Action", f"{svc}:*"), ("Action", f"{svc}:{name[:6]}*"),
                                    ("Action", f"{svc}:{name[:-1]}?"), ("Action", "*"), ("Action", [sib[0], action])]
    miss: list[tuple[str, Any]] = [("Action", s) for s in sib]
    if not trust:
        match.append(("NotAction", sib[0]))
        miss += [("NotAction", action), ("NotAction", f"{svc}:*")]
        if not bucket:
            other = "iam" if svc != "iam" else "s3"
            match.append(("NotAction", f"{other}:*"))
            miss.append(("Action", f"{other}:*"))
    return match, miss


# ----------------------------------------------------------------------------- resources

@dataclass(frozen=True)
class Resource:
    """What a request acts on, with the Resource forms that match it and near misses."""

    arn: str
    match: tuple[str, ...]
    miss: tuple[str, ...]


def role_resource(role: Entity) -> Resource:
    """A role ARN (the resource of sts:AssumeRole and IAM role calls)."""
    acct, p, n = role.account, role.path, role.name
    a = f"{{{{{acct}}}}}"
    stranger = f"{{{{{other_account(acct, 'A')}}}}}"
    match = (role.ref, f"arn:aws:iam::{a}:role/*", f"arn:aws:iam::{a}:role{p}{n[:3]}*", f"arn:aws:iam::*:role{p}{n}",
             f"arn:aws:iam::{a}:role/*{n}", "*", f"arn:aws:iam::{a}:role{p}{n[:-1]}?")
    # near misses in every direction (longer, shorter, prefixed, suffix, one character more
    # than `?` takes), in case and in path: Resource ARNs match case-sensitively
    miss = (*(f"arn:aws:iam::{a}:role{p}{near_name(n, d)}" for d in NEAR_MISS_DIRECTIONS),
            f"arn:aws:iam::{a}:role{p}{n}?",
            f"arn:aws:iam::{a}:role{'/app/' if p == '/' else '/'}{n}",
            f"arn:aws:iam::{a}:role{p}{n.capitalize()}", f"arn:aws:iam::{stranger}:role{p}{n}",
            f"arn:aws:iam::{a}:user{p}{n}")
    return Resource(role.ref, match, miss)


def object_resource(bucket: str, key: str, *, owner_name: str | None = None) -> Resource:
    """An S3 object `key` in `bucket` (a `{{A:bucket/name}}` reference). When the key lies
    under home/<owner_name>/, the ${aws:username} form matches for that user only."""
    b = f"arn:aws:s3:::{bucket}"
    match = [f"{b}/{key}", f"{b}/*", f"{b}/{key[:3]}*", "*", "arn:aws:s3:::*", f"{b}/{key[:-1]}?"]
    miss = [b, f"{b}/private/*", f"{b}/{key.upper()}", f"{b}x/*", f"{b}/{key[:-1]}", f"{b}/{key}x",
            f"{b}/x{key}", f"{b}/{key[1:]}", f"{b}/{key}?", f"{b}/app/{key}"]
    if owner_name is not None and key.startswith(f"home/{owner_name}/"):
        match += [f"{b}/home/${{aws:username}}/*"] * 3  # the policy variable, drawn three times as often
    return Resource(f"{b}/{key}", tuple(match), tuple(miss))


def bucket_resource(bucket: str) -> Resource:
    b = f"arn:aws:s3:::{bucket}"
    return Resource(b, (b, "arn:aws:s3:::*", "*", f"{b}*"), (f"{b}/*", f"{b}x"))


# ----------------------------------------------------------------------------- statements

def statement(draw, effect: str, action: str, resource: Resource | None, ctx: Context | None, *,
              match: bool, principal: Any = None, trust: bool = False, condition_rate: int = 3) -> dict:
    """One statement that matches the request (`match=True`) or misses it in exactly one
    part, chosen uniformly: its action, its resource, or its condition. Resource is written
    as NotResource a quarter of the time; a matching statement carries one to five holding
    condition blocks once in `condition_rate` draws (every operator on present and missing
    keys is a feature to reach: `rolecall.features`)."""
    st_: dict[str, Any] = {"Effect": effect}
    if principal is not None:
        st_["Principal"] = principal
    parts = ("action",) + (("resource",) if resource is not None else ()) + (("condition",) if ctx is not None else ())
    broken = None if match else pick(draw, parts)
    matching, missing = action_forms(action, trust=trust, bucket=principal is not None and not trust)
    key, value = pick(draw, missing if broken == "action" else matching)
    st_[key] = value
    if resource is not None:
        negated = one_in(draw, 4)
        hit = broken != "resource"
        st_["NotResource" if negated else "Resource"] = pick(draw, resource.match if hit != negated else resource.miss)
    if broken == "condition":
        st_["Condition"] = condition_block(draw, ctx, False)
    elif ctx is not None and one_in(draw, condition_rate):
        st_["Condition"] = merge(*(condition_block(draw, ctx, True) for _ in range(upto(draw, 1, 5))))
    return st_


def identity_policy(draw, action: str, resource: Resource, ctx: Context | None, verdict: str) -> dict:
    """Inline policies (name -> document) whose verdict on the request is `verdict`:
    "allow" (an Allow matches, no Deny does), "none" (nothing matches: no policy half the
    time, else statements that miss), "deny" (a Deny matches, half the time next to a
    matching Allow). A Deny that misses is added once in four; the statements are split
    over two policies half the time."""
    if verdict == "none" and coin(draw):
        return {}
    out: list[dict] = []
    if verdict == "allow" or (verdict == "deny" and coin(draw)):
        out.append(statement(draw, "Allow", action, resource, ctx, match=True))
    if verdict == "none":
        out.append(statement(draw, "Allow", action, resource, ctx, match=False))
    if verdict == "deny":
        out.append(statement(draw, "Deny", action, resource, ctx, match=True, condition_rate=4))
    elif one_in(draw, 4):
        out.append(statement(draw, "Deny", action, resource, ctx, match=False))
    if len(out) > 1 and coin(draw):
        return {"p1": doc(out[0]), "p2": doc(*out[1:])}
    return {"p1": doc(*out)}


def one_document(draw, action: str, resource: Resource, ctx: Context | None, verdict: str) -> dict:
    """Like `identity_policy`, as a single document (a boundary or a session policy); a
    document that allows only s3:ListAllMyBuckets stands in for "no statement"."""
    stmts = [s for d in identity_policy(draw, action, resource, ctx, verdict).values() for s in d["Statement"]]
    return doc(*(stmts or [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]))


TRUST_VERDICTS = ("names-direct", "names-account", "no-match", "condition-fails", "deny")


def trust_policy(draw, subject: Subject, ctx: Context | None, verdict: str, *,
                 extra_actions: tuple[str, ...] = (), unrelated: Entity | None = None) -> dict:
    """A role trust policy whose verdict on `subject`'s sts:AssumeRole is:
    "names-direct" / "names-account" (an Allow names it, directly or by account),
    "no-match" (a near-miss principal two times in three, else the action misses),
    "condition-fails" (it is named but a condition fails), "deny" (an explicit Deny names
    it, next to the Allow). `extra_actions` (sts:TagSession, sts:SetSourceIdentity) are
    allowed alongside, for the same principal."""
    how = {"names-direct": DIRECT, "names-account": ACCOUNT}.get(verdict, ANY)
    out: list[dict] = []
    if verdict == "no-match":
        if one_in(draw, 3):
            principal, _ = principal_element(draw, subject, names=True)
            out.append(_trust_statement(draw, "Allow", principal, ctx, broken="action"))
        else:
            principal, _ = principal_element(draw, subject, names=False, unrelated=unrelated)
            out.append(_trust_statement(draw, "Allow", principal, ctx))
    elif verdict == "condition-fails":
        principal, _ = principal_element(draw, subject, names=True)
        out.append(_trust_statement(draw, "Allow", principal, ctx, broken="condition"))
    else:
        principal, _ = principal_element(draw, subject, names=True, how=how)
        out.append(_trust_statement(draw, "Allow", principal, ctx))
        if verdict == "deny":
            deny_principal, _ = principal_element(draw, subject, names=True)
            out.append(_trust_statement(draw, "Deny", deny_principal, ctx, condition_rate=5))
    if extra_actions:
        out.append({"Effect": "Allow", "Principal": out[0]["Principal"], "Action": list(extra_actions)})
    return doc(*out)


def _trust_statement(draw, effect: str, principal: Any, ctx: Context | None, *, broken: str | None = None,
                     condition_rate: int = 3) -> dict:
    st_: dict[str, Any] = {"Effect": effect, "Principal": principal}
    matching, missing = action_forms("sts:AssumeRole", trust=True)
    st_["Action"] = pick(draw, missing if broken == "action" else matching)[1]
    if broken == "condition":
        st_["Condition"] = condition_block(draw, ctx, False)
    elif ctx is not None and one_in(draw, condition_rate):
        st_["Condition"] = condition_block(draw, ctx, True)
    return st_


RESOURCE_VERDICTS = ("names-direct", "names-account", "none", "deny")


def resource_policy(draw, subject: Subject, action: str, resource: Resource, ctx: Context | None,
                    verdict: str) -> dict | None:
    """A bucket policy for `subject`'s request: "names-direct" / "names-account" (an Allow
    names the principal or its account), "none" (no policy half the time, else a statement
    that misses in its principal or elsewhere), "deny" (a Deny matches, half the time next
    to an Allow)."""
    if verdict == "none":
        if coin(draw):
            return None
        names = coin(draw)
        principal, _ = principal_element(draw, subject, names=names)
        return doc(statement(draw, "Allow", action, resource, ctx, match=not names, principal=principal))
    how = {"names-direct": DIRECT, "names-account": ACCOUNT}.get(verdict, ANY)
    principal, _ = principal_element(draw, subject, names=True, how=how)
    out = []
    if verdict != "deny" or coin(draw):
        out.append(statement(draw, "Allow", action, resource, ctx, match=True, principal=principal))
    if verdict == "deny":
        out.append(statement(draw, "Deny", action, resource, ctx, match=True, principal=principal, condition_rate=4))
    return doc(*out)


statements = st.composite(statement)
identity_policies = st.composite(identity_policy)
trust_policies = st.composite(trust_policy)
resource_policies = st.composite(resource_policy)
