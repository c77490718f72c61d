"""AssumeRole worlds, same and cross account: who the trust policy names, what the caller's
identity policy says, and the call itself.

Biased towards the boundaries where implementations differ: the trust names the caller,
the caller's account, a near-miss principal (bob vs bobby, the same name in another
account), or a service; the identity policy allows, denies or is missing.
"""
from __future__ import annotations

from hypothesis import strategies as st

from rolecall.scenario import FORMAT, Scenario, from_dict
from rolecall.strategies.world import NEAR_MISS_DIRECTIONS, near_name

V = "2012-10-17"
CALLER_NAMES = ("bob", "alice")


def _doc(*statements: dict) -> dict:
    return {"Version": V, "Statement": list(statements)}


@st.composite
def near_user(draw, caller: str) -> str:
    """A user name one edit from the caller's, in a direction drawn uniformly."""
    return near_name(caller, draw(st.sampled_from(NEAR_MISS_DIRECTIONS)))


@st.composite
def trust_principals(draw, caller_account: str, caller: str, role_account: str) -> tuple[dict, str]:
    """A trust policy's Principal and a label for what it names, relative to the caller:
    the caller itself, its account (ARN or id), a near-miss user (its name longer or shorter
    than the caller's, with a character before it or without its first: `near_user`), another
    account, a service; the forms naming the caller twice as often as each other form."""
    # the forms that name the caller come twice: about half of the trust policies name it
    kind = draw(st.sampled_from(["caller", "caller-account-root", "caller-account-id", "near-miss-user",
                                 "other-account", "service", "wildcard", "caller", "caller-account-root",
                                 "caller-account-id"]))
    principal = {
        "caller": {"AWS": f"{{{{{caller_account}:user/{caller}}}}}"},
        "caller-account-root": {"AWS": f"arn:aws:iam::{{{{{caller_account}}}}}:root"},
        "caller-account-id": {"AWS": f"{{{{{caller_account}}}}}"},
        "near-miss-user": {"AWS": f"{{{{{caller_account}:user/{draw(near_user(caller))}}}}}"},
        "other-account": {"AWS": f"arn:aws:iam::{{{{{'C' if role_account != 'C' and caller_account != 'C' else 'D'}}}}}:root"},
        "service": {"Service": "ec2.amazonaws.com"},
        "wildcard": {"AWS": "*"},
    }[kind]
    return principal, kind


@st.composite
def identity_policies(draw, role_ref: str) -> dict:
    """The caller's inline policies: none, an Allow on the role (twice as often as the rest),
    on '*', an Allow of another action, or an explicit Deny next to an Allow."""
    kind = draw(st.sampled_from(["none", "allow-role", "allow-star", "allow-other", "deny", "allow-role"]))
    if kind == "none":
        return {}
    if kind == "allow-role":
        return {"assume": _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_ref})}
    if kind == "allow-star":
        return {"assume": _doc({"Effect": "Allow", "Action": "sts:*", "Resource": "*"})}
    if kind == "allow-other":
        return {"other": _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}
    return {"assume": _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                           {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": role_ref})}


@st.composite
def assume_role_scenarios(draw) -> Scenario:
    """One user calls sts:AssumeRole on a role in its own account or another, then asks
    GetCallerIdentity with the session it got (if any)."""
    cross = draw(st.booleans())
    caller_account = "B" if cross else "A"
    caller = draw(st.sampled_from(CALLER_NAMES))
    role_path = draw(st.sampled_from(["/", "/app/"]))
    role_ref = "{{A:role/target}}"
    principal, kind = draw(trust_principals(caller_account, caller, "A"))
    effect_deny = draw(st.integers(0, 9)) == 0
    statements = [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]
    external = draw(st.sampled_from([None, None, "ext-1"]))
    if external:
        statements[0]["Condition"] = {"StringEquals": {"sts:ExternalId": external}}
    if effect_deny:
        statements.append({"Effect": "Deny", "Principal": {"AWS": f"{{{{{caller_account}:user/{caller}}}}}"},
                           "Action": "sts:AssumeRole"})
    accounts: dict = {"A": {"roles": {"target": {"trust": _doc(*statements), "path": role_path}}}}
    users = {caller: {"policies": draw(identity_policies(role_ref))}}
    if kind == "near-miss-user":  # IAM refuses a trust policy naming a user that does not exist
        users[principal["AWS"].rsplit("/", 1)[1].rstrip("}")] = {}
    accounts.setdefault(caller_account, {})["users"] = users
    accounts.setdefault("C", {})
    accounts.setdefault("D", {})
    params = {"RoleArn": role_ref, "RoleSessionName": draw(st.sampled_from(["s1", "bob-session", "a.b@c"]))}
    given_external = draw(st.sampled_from([None, "ext-1", "ext-2", "ext-1"]))
    if given_external:
        params["ExternalId"] = given_external
    steps = [{"id": "assume", "as": f"{caller_account}:user/{caller}", "call": "sts:AssumeRole", "params": params},
             {"id": "whoami", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}}]
    return from_dict({"format": FORMAT, "description": "generated: AssumeRole, same or cross account",
                      "accounts": accounts, "steps": steps}, origin="<generated>")
