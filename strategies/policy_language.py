"""The policy language at work on one S3 call: explicit Deny over Allow, NotAction and
NotResource, wildcards, conditions of every operator family, policy variables
(${aws:username} in a home-directory Resource), managed next to inline policies, the
2008-10-17 version (where variables are plain text), permissions boundaries, and session
policies passed to AssumeRole as `Policy` or `PolicyArns`.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.conditions import principal_context
from rolecall.strategies.requests import OBJECT_KEYS
from rolecall.strategies.s3_access import s3_access, s3_plan
from rolecall.strategies.world import Entity, SessionOf, WorldBuilder, doc, path, principal_tags, role_name, user_name

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html"


def _as_managed(draw, world: WorldBuilder, entity: Entity) -> None:
    """Move one of `entity`'s inline policies into a managed policy attached to it (a third
    of the time), and write its documents in the 2008-10-17 version once in five."""
    table = world.accounts[entity.account]["users" if entity.kind == "user" else "roles"][entity.name]
    inline = table.get("policies", {})
    if one_in(draw, 5):
        for name, document in inline.items():
            inline[name] = {**document, "Version": "2008-10-17"}
    if inline and one_in(draw, 3):
        name = sorted(inline)[0]
        # A 2008-10-17 document stays inline: CreatePolicy refuses it ("Policy document must be
        # version 2012-10-17 or greater.", AWS-recorded, docs/recorded-answers.md).
        if inline[name].get("Version") != "2008-10-17":
            managed = world.managed_policy(entity.account, f"{entity.name}-{name}", inline.pop(name))
            table.setdefault("managed", []).append(managed)


@st.composite
def policy_language_scenarios(draw):
    """A user calls S3 (with the home/<name>/ key among the keys), or assumes a role with a
    session policy and the session calls S3; the policies are drawn for a plan."""
    world = WorldBuilder("A")
    tags = principal_tags(draw)
    name = user_name(draw)
    user = world.user("A", name, path=path(draw), tags=tags)
    if coin(draw):
        plan = s3_plan(draw, cross=False, session=False)
        keys = OBJECT_KEYS + (f"home/{name}/notes.txt", f"home/{name}/notes.txt")
        call, _ = s3_access(draw, world, user, user, "A", principal_context(user, tags), plan, keys=keys,
                            owner_name=name)
        _as_managed(draw, world, user)
        return world.scenario([{"id": "use", "as": user.caller, **call}],
                              f"generated: a user's S3 call decided by its policies, aiming at {plan.aim}", SOURCE)
    role = Entity("A", "role", role_name(draw), path(draw))
    role_tags = principal_tags(draw)
    world.role("A", role.name, doc({"Effect": "Allow", "Principal": {"AWS": user.ref}, "Action": "sts:AssumeRole"}),
               path=role.path, tags=role_tags)
    session = SessionOf(role, pick(draw, ("s1", name)), "assume")
    plan = s3_plan(draw, cross=False, session=True)
    call, session_doc = s3_access(draw, world, session, role, "A", principal_context(session, role_tags), plan)
    _as_managed(draw, world, role)
    params: dict = {"RoleArn": role.ref, "RoleSessionName": session.session_name}
    if session_doc is not None:
        how = pick(draw, ("Policy", "Policy", "PolicyArns", "both", "PolicyArns"))
        if how in ("Policy", "both"):
            params["Policy"] = json.dumps(session_doc, separators=(",", ":"))
        if how in ("PolicyArns", "both"):
            # both together: the session gets what both allow, so each must allow
            managed = world.managed_policy("A", "session-limit", session_doc)
            params["PolicyArns"] = [{"arn": f"{{{{A:policy/{managed}}}}}"}]
    steps = [{"id": "assume", "as": user.caller, "call": "sts:AssumeRole", "params": params},
             {"id": "use", "as": "assume", **call}]
    return world.scenario(steps, f"generated: a role session's S3 call decided by its policies, aiming at {plan.aim}",
                          SOURCE)
