"""Delegation with sts:AssumeRole: a user, or a session of another role, assumes a role in its
own account (`delegation_scenarios`) or in another one (`cross_account_scenarios`).

Each example first draws a *plan*: which rule should decide (the trust names the caller,
its account delegates to identity policies, a condition fails, a Deny, a boundary, a
session policy, a missing role, the root user). The trust, identity, boundary and session
policies are then drawn to fit that plan, half the plans allowing. The oracle decides; the
plan only keeps every decision path well fed.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.conditions import principal_context
from rolecall.strategies.policies import identity_policy, one_document, role_resource, trust_policy
from rolecall.strategies.requests import assume_role_request
from rolecall.strategies.world import Entity, SessionOf, WorldBuilder, doc, path, principal_tags, role_name, user_name

SAME_ACCOUNT_SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
CROSS_ACCOUNT_SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"


@dataclass(frozen=True)
class Plan:
    """Which rule an example aims at: the verdict of each policy kind on the AssumeRole."""

    aim: str  # the reason label the plan aims at (the oracle has the last word)
    trust: str  # a TRUST_VERDICTS value
    identity: str = "allow"  # allow | none | deny
    boundary: str = "absent"  # absent | allow | none | deny
    session: str = "absent"  # session policy of a session caller: absent | allow | none | deny
    caller: str = "any"  # any | user | session
    special: str = ""  # role-not-found | root


def _plans(cross: bool) -> list[Plan]:
    allow = "allow-cross-account" if cross else ""
    plans = []
    if cross:
        plans += [Plan(allow, "names-direct"), Plan(allow, "names-account"),
                  Plan(allow, "names-account", boundary="allow"), Plan(allow, "names-direct", session="allow"),
                  Plan("deny-cross-account-no-identity-allow", "names-direct", identity="none")]
    else:
        plans += [Plan("allow-trust-names-principal", "names-direct", identity="none"),
                  Plan("allow-trust-names-principal", "names-direct", boundary="allow"),
                  Plan("allow-trust-account-and-identity", "names-account"),
                  Plan("allow-trust-account-and-identity", "names-account", session="allow"),
                  Plan("deny-trust-account-without-identity", "names-account", identity="none")]
    plans += [Plan("deny-trust-no-match", "no-match"), Plan("deny-trust-condition", "condition-fails"),
              Plan("deny-explicit-resource", "deny"),
              Plan("deny-explicit-identity", "names-account", identity="deny"),
              Plan("deny-boundary", "names-direct", boundary="none"),
              Plan("deny-explicit-boundary", "names-direct", boundary="deny"),
              Plan("deny-session-policy", "names-direct", session="none", caller="session"),
              Plan("deny-explicit-session", "names-account", session="deny", caller="session")]
    # the plans that allow come twice, so about half the examples allow
    allowing = [p for p in plans if p.aim.startswith("allow")]
    return plans + allowing * 2


_SAME_PLANS = _plans(False)
_CROSS_PLANS = _plans(True)
# A missing role and the root user, drawn apart (once in twelve same-account examples), so
# their share does not hang on where they sit among the plans.
_SPECIALS = (Plan("deny-role-not-found", "names-direct", special="role-not-found"),
             Plan("deny-root-cannot-assume", "names-direct", special="root"))


def plan(draw, cross: bool) -> Plan:
    """A plan, the allowing ones weighted so about half of the examples allow."""
    if not cross and one_in(draw, 12):
        return pick(draw, _SPECIALS)
    return pick(draw, _CROSS_PLANS if cross else _SAME_PLANS)


def caller(draw, world: WorldBuilder, account: str, plan: Plan, steps: list) -> tuple[Entity | SessionOf, Entity]:
    """The caller: a user of `account` (with a path and tags), or, for a third of the plans
    that allow either, a session of a role of `account` that the user assumed first (role
    chaining). Returns (caller, the entity whose policies speak for it)."""
    user = world.user(account, user_name(draw), path=path(draw), tags=principal_tags(draw))
    use_session = plan.caller == "session" or plan.session != "absent" or (plan.caller == "any" and one_in(draw, 3))
    if not use_session:
        return user, user
    first = world.role(account, pick(draw, ("hop", "base")),
                       doc({"Effect": "Allow", "Principal": {"AWS": user.ref}, "Action": "sts:AssumeRole"}),
                       tags=principal_tags(draw))
    session = SessionOf(first, pick(draw, ("s1", "hop-session")), "first")
    steps.append({"id": "first", "as": user.caller, "call": "sts:AssumeRole",
                  "params": {"RoleArn": first.ref, "RoleSessionName": session.session_name}})
    return session, first


def _assume_role_world(draw, cross: bool):
    role_account, caller_account = ("A", "B") if cross else ("A", "A")
    aim = plan(draw, cross)
    world = WorldBuilder("A", "B") if cross else WorldBuilder("A")
    steps: list[dict] = []
    who, speaker = caller(draw, world, caller_account, aim, steps)
    role = Entity(role_account, "role", role_name(draw), path(draw))
    request = assume_role_request(draw, principal_context(who, _tags_of(world, speaker)))
    ctx = request.context

    # what speaks for the caller: the user's or the first role's own policies
    resource = role_resource(role)
    world.add_policies(speaker, identity_policy(draw, "sts:AssumeRole", resource, ctx, aim.identity))
    if aim.boundary != "absent":
        entry = world.accounts[speaker.account]["users" if speaker.kind == "user" else "roles"][speaker.name]
        entry["boundary"] = world.managed_policy(speaker.account, "boundary",
                                                 one_document(draw, "sts:AssumeRole", resource, ctx, aim.boundary))
    if aim.session != "absent" and isinstance(who, SessionOf):
        session_doc = one_document(draw, "sts:AssumeRole", resource, ctx, aim.session)
        steps[0]["params"]["Policy"] = json.dumps(session_doc, separators=(",", ":"))

    extra = request.needs if not one_in(draw, 5) else ()
    trust = trust_policy(draw, who, ctx, aim.trust, extra_actions=extra)
    world.role(role_account, role.name, trust, path=role.path, tags=principal_tags(draw))

    role_arn = role.ref
    as_ = who.caller if isinstance(who, Entity) else who.step
    if aim.special == "role-not-found":
        role_arn = f"arn:aws:iam::{{{{{role_account}}}}}:role{role.path}ghost"
    elif aim.special == "root":
        as_ = f"{caller_account}:admin"
    steps.append({"id": "assume", "as": as_, "call": "sts:AssumeRole", "params": {"RoleArn": role_arn, **request.params}})
    if coin(draw):
        steps.append({"id": "whoami", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}})
    return world, steps, aim


def _tags_of(world: WorldBuilder, entity: Entity) -> dict:
    table = world.accounts[entity.account]["users" if entity.kind == "user" else "roles"]
    return table[entity.name].get("tags", {})


@st.composite
def delegation_scenarios(draw):
    """A user, or a session of another role, assumes a role of its own account."""
    world, steps, aim = _assume_role_world(draw, False)
    return world.scenario(steps, f"generated: same-account AssumeRole aiming at {aim.aim}", SAME_ACCOUNT_SOURCE)


@st.composite
def cross_account_scenarios(draw):
    """A user of account B, or a session of one of B's roles, assumes a role of account A:
    A's trust policy and B's identity policies must both allow."""
    world, steps, aim = _assume_role_world(draw, True)
    return world.scenario(steps, f"generated: cross-account AssumeRole aiming at {aim.aim}", CROSS_ACCOUNT_SOURCE)
