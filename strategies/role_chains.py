"""A Redshift-style chain: a cluster role (assumed by redshift.amazonaws.com, or by a user)
chains through 2..4 roles across accounts to the bucket owner's role, whose session reads or
writes an object.

Every hop needs the next role's trust policy to name the previous session (its role ARN,
its session ARN or its account) and, when it names the account or crosses accounts, the
previous role's identity policy to allow sts:AssumeRole. An example breaks the chain at
most once: one hop's trust or identity policy, one chained hop asking for more than an
hour, or the final S3 call.

https://repost.aws/knowledge-center/s3-access-denied-redshift-unload
https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
"""
from __future__ import annotations

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick, upto
from rolecall.strategies.conditions import ALWAYS_ABSENT, Context, principal_context
from rolecall.strategies.policies import identity_policy, role_resource, trust_policy
from rolecall.strategies.s3_access import PLANS, s3_access
from rolecall.strategies.world import Entity, Service, SessionOf, WorldBuilder, principal_tags, user_name

SOURCE = "https://repost.aws/knowledge-center/s3-access-denied-redshift-unload"
REDSHIFT = Service("redshift.amazonaws.com")
ROLE_NAMES = ("ClusterRole", "HopRole", "RelayRole", "BucketRole")
# (bucket in another account than the last role?, plan aims at an allow?) -> plans
_PLANS = {(cross, allow): tuple(p for p in PLANS[(cross, False)] if p.aim.startswith("allow") == allow)
          for cross in (False, True) for allow in (False, True)}
# how one hop breaks, when it does
HOP_BREAKS = ("trust-no-match", "trust-condition", "identity", "duration")


@st.composite
def role_chain_scenarios(draw):
    """A chain of 2..4 role sessions across accounts A, B, C ending in an S3 object call."""
    n = upto(draw, 2, 4)
    accounts = ["A"] + [pick(draw, ("A", "B", "C")) for _ in range(n - 1)]
    roles = [Entity(acct, "role", ROLE_NAMES[i] if i < n - 1 else ROLE_NAMES[-1]) for i, acct in enumerate(accounts)]
    # break nowhere about half the time, else at one hop or at the S3 call
    where = pick(draw, (None,) * (n + 1) + tuple(range(n)) + ("s3",))
    world = WorldBuilder(*sorted(set(accounts)))  # the bucket's account joins when it is declared
    start = REDSHIFT if coin(draw) else world.user("A", user_name(draw))
    steps: list[dict] = []
    caller: Service | Entity | SessionOf = start
    role_tags: dict = {}
    deferred = False
    for i, role in enumerate(roles):
        breaks = "duration" if deferred else pick(draw, HOP_BREAKS) if where == i else None
        deferred = False
        chained = isinstance(caller, SessionOf) and not (i == 1 and isinstance(start, Service))
        if breaks == "duration" and not chained:
            # only a chained hop has the one-hour limit: break at the next hop, or else the trust
            deferred, breaks = (True, None) if i < n - 1 else (False, "trust-no-match")
        if isinstance(caller, Service):
            ctx = Context(single={"sts:RoleSessionName": "redshift"}, absent=list(ALWAYS_ABSENT))
        else:
            ctx = principal_context(caller, role_tags if isinstance(caller, SessionOf) else {})
            ctx.single["sts:RoleSessionName"] = f"hop{i}"
        verdict = {"trust-no-match": "no-match", "trust-condition": "condition-fails"}.get(breaks)
        if verdict is None:
            verdict = "names-account" if breaks == "identity" else pick(draw, ("names-direct", "names-account"))
        if not isinstance(caller, Service):
            speaker = caller if isinstance(caller, Entity) else caller.role
            world.add_policies(speaker, identity_policy(draw, "sts:AssumeRole", role_resource(role), ctx,
                                                        "none" if breaks == "identity" else "allow"))
        role_tags = principal_tags(draw)
        world.role(role.account, role.name, trust_policy(draw, caller, ctx, verdict), tags=role_tags,
                   max_session_duration=43200 if breaks == "duration" else None)
        session_name = "redshift" if isinstance(caller, Service) else f"hop{i}"
        params = {"RoleArn": role.ref, "RoleSessionName": session_name}
        if breaks == "duration":
            params["DurationSeconds"] = 7200
        as_ = caller.caller if isinstance(caller, (Service, Entity)) else caller.step
        steps.append({"id": f"hop{i}", "as": as_, "call": "sts:AssumeRole", "params": params})
        caller = SessionOf(role, session_name, f"hop{i}")
    last = roles[-1]
    # a third of the time the bucket lives in yet another account: both sides must allow
    cross = one_in(draw, 3)
    bucket_account = pick(draw, tuple(a for a in ("A", "B", "C") if a != last.account)) if cross else last.account
    plan = pick(draw, _PLANS[(cross, where != "s3")])
    call, _ = s3_access(draw, world, caller, last, bucket_account, principal_context(caller, role_tags), plan)
    steps.append({"id": "use", "as": caller.step, **call})
    return world.scenario(steps, f"generated: chain of {n} roles across {'/'.join(accounts)} ending in S3, "
                                 f"{'breaking at ' + str(where) if where is not None else 'unbroken'}", SOURCE)
