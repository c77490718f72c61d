"""An S3 object call at the end of a delegation: the bucket, its policy, and the identity,
boundary and session policies of whoever calls, drawn for a plan like the AssumeRole plans
in `delegation` (same account: a bucket policy naming the principal is enough; across
accounts both sides must allow).

https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
"""
from __future__ import annotations

from dataclasses import dataclass

from rolecall.strategies._draw import pick
from rolecall.strategies.conditions import Context
from rolecall.strategies.policies import RESOURCE_VERDICTS, identity_policy, object_resource, one_document, resource_policy
from rolecall.strategies.requests import OBJECT_KEYS, object_call
from rolecall.strategies.world import Entity, SessionOf, WorldBuilder


@dataclass(frozen=True)
class S3Plan:
    """Which rule should decide the S3 call: each policy kind's verdict on it."""

    aim: str
    identity: str = "allow"  # allow | none | deny
    bucket: str = "none"  # a RESOURCE_VERDICTS value, or "any"
    boundary: str = "absent"  # absent | allow | none | deny
    session: str = "absent"  # absent | allow | none | deny (only for a session)


_SAME = [S3Plan("allow-identity"), S3Plan("allow-identity", boundary="allow"),
         S3Plan("allow-resource-names-principal", identity="none", bucket="names-direct"),
         S3Plan("allow-resource-and-identity", bucket="names-account"),
         S3Plan("deny-no-identity-allow", identity="none"),
         S3Plan("deny-no-identity-allow", identity="none", bucket="names-account"),
         S3Plan("deny-explicit-identity", identity="deny", bucket="any"),
         S3Plan("deny-explicit-resource", bucket="deny"),
         S3Plan("deny-boundary", boundary="none"), S3Plan("deny-explicit-boundary", boundary="deny")]
_SESSION = [S3Plan("allow-identity", session="allow"), S3Plan("deny-session-policy", session="none"),
            S3Plan("deny-explicit-session", session="deny")]
_CROSS = [S3Plan("deny-cross-account-no-resource-allow"),
          S3Plan("allow-cross-account", bucket="names-direct"), S3Plan("allow-cross-account", bucket="names-account"),
          S3Plan("deny-cross-account-no-identity-allow", identity="none", bucket="names-direct"),
          S3Plan("deny-explicit-resource", bucket="deny"),
          S3Plan("deny-explicit-identity", identity="deny", bucket="names-account"),
          S3Plan("deny-boundary", boundary="none", bucket="names-direct")]


def _weighted(plans: list[S3Plan]) -> tuple[S3Plan, ...]:
    # the allowing plans twice: about half of the calls should be allowed
    return tuple(plans + [p for p in plans if p.aim.startswith("allow")])


PLANS = {(False, False): _weighted(_SAME), (False, True): _weighted(_SAME + _SESSION),
         (True, False): _weighted(_CROSS), (True, True): _weighted(_CROSS + _SESSION[:1])}


def s3_plan(draw, *, cross: bool, session: bool) -> S3Plan:
    """A plan for an S3 call by a principal of the bucket's account or another one, by a user
    or a role session (whose session policy can then decide too)."""
    return pick(draw, PLANS[(cross, session)])


def s3_access(draw, world: WorldBuilder, principal: Entity | SessionOf, speaker: Entity, bucket_account: str,
              ctx: Context, plan: S3Plan, *, keys: tuple[str, ...] = OBJECT_KEYS,
              owner_name: str | None = None, bucket_name: str | None = None) -> tuple[dict, dict | None]:
    """Declare the bucket (objects `keys`, policy) and `speaker`'s identity policies and
    boundary for `plan`, and return (the S3 step without id and caller, a session policy
    document for the AssumeRole that made `principal`, or None). `owner_name`: the user
    whose home/<name>/ keys the ${aws:username} resource form matches."""
    bucket_name = bucket_name or pick(draw, ("data", "reports"))
    bucket = f"{{{{{bucket_account}:bucket/{bucket_name}}}}}"
    call, params, key = object_call(draw, bucket, pick(draw, keys))
    action = call
    resource = object_resource(bucket, key, owner_name=owner_name)
    world.add_policies(speaker, identity_policy(draw, action, resource, ctx, plan.identity))
    if plan.boundary != "absent":
        _table(world, speaker)["boundary"] = world.managed_policy(
            speaker.account, "boundary", one_document(draw, action, resource, ctx, plan.boundary))
    verdict = pick(draw, RESOURCE_VERDICTS) if plan.bucket == "any" else plan.bucket
    policy = resource_policy(draw, principal, action, resource, ctx, verdict)
    world.bucket(bucket_account, bucket_name, objects={k: f"contents of {k}" for k in keys}, policy=policy)
    session_doc = None
    if plan.session != "absent" and isinstance(principal, SessionOf):
        session_doc = one_document(draw, action, resource, ctx, plan.session)
    return {"call": call, "params": params}, session_doc


def _table(world: WorldBuilder, entity: Entity) -> dict:
    return world.accounts[entity.account]["users" if entity.kind == "user" else "roles"][entity.name]
