"""The bucket owner, account A, delegates object access to users of account C through a role:
C's user assumes A's role and reads or writes A's objects with the session; or, for
comparison, C's user calls A's bucket directly (then the bucket policy and C's identity
policy must both allow).

https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example4.html
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.conditions import principal_context
from rolecall.strategies.policies import identity_policy, role_resource, trust_policy
from rolecall.strategies.requests import assume_role_request
from rolecall.strategies.s3_access import s3_access, s3_plan
from rolecall.strategies.world import Entity, SessionOf, WorldBuilder, path, principal_tags, user_name

SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example4.html"
# (trust verdict, verdict of C's identity policy on sts:AssumeRole): four in five succeed
ASSUME_PLANS = (("names-account", "allow"), ("names-direct", "allow")) * 4 + (
    ("no-match", "allow"), ("condition-fails", "allow"), ("names-account", "none"), ("names-direct", "deny"))


def _direct(draw, world: WorldBuilder):
    """Two independent direct calls (users alice and bob of C, buckets data and reports of A),
    each with its own plan: one example then feeds two decision paths."""
    steps, aims = [], []
    for name, bucket in (("alice", "data"), ("bob", "reports")):
        tags = principal_tags(draw)
        user = world.user("C", name, path=path(draw), tags=tags)
        plan = s3_plan(draw, cross=True, session=False)
        call, _ = s3_access(draw, world, user, user, "A", principal_context(user, tags), plan, bucket_name=bucket)
        caller = "A:admin" if one_in(draw, 12) else user.caller
        steps.append({"id": f"use-{bucket}", "as": caller, **call})
        aims.append(plan.aim)
    return world.scenario(steps, f"generated: account C's users call account A's buckets directly, aiming at "
                                 f"{' and '.join(aims)}", SOURCE)


@st.composite
def cross_account_s3_scenarios(draw):
    """Account C's user reaches account A's objects through A's role (half the time) or
    directly; the administrator of A sometimes reads its own bucket."""
    world = WorldBuilder("A", "C")
    if coin(draw):
        return _direct(draw, world)
    tags = principal_tags(draw)
    user = world.user("C", user_name(draw), path=path(draw), tags=tags)
    user_ctx = principal_context(user, tags)
    role = Entity("A", "role", pick(draw, ("examplerole", "reader")), path(draw))
    request = assume_role_request(draw, user_ctx, tags_rate=10, source_identity_rate=20)
    trust_verdict, identity_verdict = pick(draw, ASSUME_PLANS)
    world.add_policies(user, identity_policy(draw, "sts:AssumeRole", role_resource(role), request.context,
                                             identity_verdict))
    role_tags = principal_tags(draw)
    world.role("A", role.name, trust_policy(draw, user, request.context, trust_verdict, extra_actions=request.needs),
               path=role.path, tags=role_tags)
    session = SessionOf(role, request.params["RoleSessionName"], "assume")
    plan = s3_plan(draw, cross=False, session=True)
    call, session_doc = s3_access(draw, world, session, role, "A", principal_context(session, role_tags), plan)
    params = {"RoleArn": role.ref, **request.params}
    if session_doc is not None:
        params["Policy"] = json.dumps(session_doc, separators=(",", ":"))
    steps = [{"id": "assume", "as": user.caller, "call": "sts:AssumeRole", "params": params}]
    if coin(draw):
        steps.append({"id": "whoami", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}})
    steps.append({"id": "use", "as": "assume", **call})
    return world.scenario(steps, f"generated: account C's user reaches account A's objects through A's role, "
                                 f"aiming at {plan.aim}", SOURCE)
