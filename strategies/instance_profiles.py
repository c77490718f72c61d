"""EC2 instance profile -> role -> S3: the EC2 service assumes the role in the instance
profile (session name = instance id) and the instance's code reads or writes an object.

The trust policy names the EC2 service, or misses it (another service, an AWS principal,
a failing condition); then the role's identity policy, boundary and the bucket policy
decide the S3 call, for a plan drawn as in `s3_access`. Targets that cannot act as a
service answer `unsupported` for the AssumeRole step, and so for the S3 step.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html
"""
from __future__ import annotations

from hypothesis import strategies as st

from rolecall.strategies._draw import one_in, pick
from rolecall.strategies.conditions import ALWAYS_ABSENT, Context, principal_context
from rolecall.strategies.policies import trust_policy
from rolecall.strategies.s3_access import s3_access, s3_plan
from rolecall.strategies.world import Entity, Service, SessionOf, WorldBuilder, path, principal_tags, role_name

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"
EC2 = Service("ec2.amazonaws.com")
INSTANCE_ID = "i-0123456789abcdef0"
# how the trust policy answers EC2: the allowing verdicts weighted four to one
TRUST_PLANS = ("names-direct",) * 8 + ("no-match", "condition-fails")


@st.composite
def instance_profile_scenarios(draw):
    """ec2.amazonaws.com assumes the instance profile's role, then the session calls S3."""
    world = WorldBuilder("A")
    role = Entity("A", "role", role_name(draw), path(draw))
    tags = principal_tags(draw)
    trust_ctx = Context(single={"sts:RoleSessionName": INSTANCE_ID}, absent=list(ALWAYS_ABSENT) + ["sts:ExternalId"])
    trust = trust_policy(draw, EC2, trust_ctx, pick(draw, TRUST_PLANS))
    world.role("A", role.name, trust, path=role.path, tags=tags)
    world.instance_profile("A", pick(draw, ("web", "worker")), role.name)
    session = SessionOf(role, INSTANCE_ID, "assume")
    plan = s3_plan(draw, cross=False, session=False)
    call, _ = s3_access(draw, world, session, role, "A", principal_context(session, tags), plan)
    steps = [{"id": "assume", "as": EC2.caller, "call": "sts:AssumeRole",
              "params": {"RoleArn": role.ref, "RoleSessionName": INSTANCE_ID}}]
    if one_in(draw, 4):
        steps.append({"id": "whoami", "as": "assume", "call": "sts:GetCallerIdentity", "params": {}})
    steps.append({"id": "use", "as": "assume", **call})
    return world.scenario(steps, f"generated: EC2 instance profile role reaching S3, aiming at {plan.aim}", SOURCE)
