"""Temporary credentials: how long a role session lasts, and what happens when it ends.

A user assumes a role asking for a DurationSeconds on a boundary (900, 3600, the role's
MaxSessionDuration, 43200, and one second over each), sometimes chains into a second role
(where more than one hour fails), then a later step at a virtual time just before, at or
after the session's expiry uses the session (ExpiredToken once it has expired). A third of
the examples use sts:GetSessionToken instead: its credentials may assume a role but not
call IAM (without MFA) nor GetSessionToken again.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html (durations)
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (DurationSeconds 900..43200)
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison
"""
from __future__ import annotations

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick
from rolecall.strategies.world import Entity, WorldBuilder, doc, path, role_name, user_name

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html"
DEFAULT_DURATION = 3600
CHAINED_MAX = 3600
MAX_SESSION_DURATIONS = (None, 3600, 7200, 43200)  # None: the default, one hour


def duration(draw, max_session: int, *, chained: bool = False) -> int | None:
    """A DurationSeconds on a boundary. Three times in four (two in three when chained) one
    that is accepted: absent (the default hour, two times in five: a default session used
    after its hour is what an emulator with another default gets wrong), 900, the limit
    itself (the role's MaxSessionDuration, or the hour of role chaining); else one second
    over a limit: 3601 when chained, MaxSessionDuration + 1, 899, 43201."""
    limit = min(max_session, 3600) if chained else max_session
    if not one_in(draw, 3 if chained else 4):
        return pick(draw, (None, 900, limit, 1800 if chained else 43200 if max_session == 43200 else 3600, None))
    over = (3601, max_session + 1) if chained else (max_session + 1,)
    return pick(draw, over + (899, 43201))


def _assume(role: Entity, step_id: str, caller: str, seconds: int | None, session: str) -> dict:
    params: dict = {"RoleArn": role.ref, "RoleSessionName": session}
    if seconds is not None:
        params["DurationSeconds"] = seconds
    return {"id": step_id, "as": caller, "call": "sts:AssumeRole", "params": params}


def _lifetime(seconds: int | None, max_session: int, chained: bool) -> int | None:
    """The session's lifetime if AssumeRole succeeds with `seconds`, else None."""
    s = DEFAULT_DURATION if seconds is None else seconds
    if not 900 <= s <= 43200 or s > max_session or (chained and s > CHAINED_MAX):
        return None
    return s


SESSION_TOKEN_DEFAULT = 43200


def _session_token_steps(draw, world: WorldBuilder, user: Entity, role: Entity) -> list[dict]:
    """GetSessionToken by the user (or, now and then, by a session of the role: refused),
    then the token's holder assumes the role, calls IAM, asks for another token, or asks
    who it is around the token's expiry."""
    if one_in(draw, 5):
        return [{"id": "assume", "as": user.caller, "call": "sts:AssumeRole",
                 "params": {"RoleArn": role.ref, "RoleSessionName": "first"}},
                {"id": "token", "as": "assume", "call": "sts:GetSessionToken", "params": {}}]
    seconds = pick(draw, (None, None, 900, 3600, 129600, 899, 129601))
    params = {} if seconds is None else {"DurationSeconds": seconds}
    steps = [{"id": "token", "as": user.caller, "call": "sts:GetSessionToken", "params": params}]
    use = pick(draw, ("iam", "assume", "whoami", "token-again", "assume", "whoami"))
    if use == "assume":
        steps.append({"id": "use", "as": "token", "call": "sts:AssumeRole",
                      "params": {"RoleArn": role.ref, "RoleSessionName": "from-token"}})
    elif use == "iam":
        steps.append({"id": "use", "as": "token", "call": "iam:GetRole", "params": {"RoleName": role.name}})
    elif use == "token-again":
        steps.append({"id": "use", "as": "token", "call": "sts:GetSessionToken", "params": {}})
    else:
        life = SESSION_TOKEN_DEFAULT if seconds is None else seconds
        steps.append({"id": "use", "as": "token", "call": "sts:GetCallerIdentity", "params": {},
                      "at": life + pick(draw, (-1, -1, 0, 1))})
    return steps


@st.composite
def temporary_credentials_scenarios(draw):
    """Assume (and maybe chain) with boundary durations, then use the last session at a time
    around its expiry: one second before, exactly at, or after it; or get a session token
    and use it."""
    world = WorldBuilder("A")
    user = world.user("A", user_name(draw), path=path(draw))
    msd = pick(draw, MAX_SESSION_DURATIONS)
    max_session = msd or DEFAULT_DURATION
    name = role_name(draw)
    role = world.role("A", name, doc({"Effect": "Allow", "Principal": {"AWS": user.ref}, "Action": "sts:AssumeRole"}),
                      path=path(draw), max_session_duration=msd)
    if one_in(draw, 3):
        return world.scenario(_session_token_steps(draw, world, user, role),
                              "generated: GetSessionToken and what its credentials may do", SOURCE)
    first_seconds = duration(draw, max_session)
    steps = [_assume(role, "assume", user.caller, first_seconds, "first")]
    lifetime = _lifetime(first_seconds, max_session, False)
    last, last_role = "assume", role
    if coin(draw):
        # chain: the first session assumes a second role that trusts the first role
        # a second role allowing long sessions first: only then is the chaining hour the limit
        msd2 = pick(draw, (7200, 43200, None, 3600))
        second = world.role("A", "chained", doc({"Effect": "Allow", "Principal": {"AWS": role.ref},
                                                 "Action": "sts:AssumeRole"}), max_session_duration=msd2)
        seconds = duration(draw, msd2 or DEFAULT_DURATION, chained=True)
        steps.append(_assume(second, "chain", "assume", seconds, "second"))
        chained_life = _lifetime(seconds, msd2 or DEFAULT_DURATION, True)
        lifetime = None if lifetime is None or chained_life is None else chained_life
        last, last_role = "chain", second
    # When the last session expires (if it was issued): use it just after, before, at, or long after.
    base = lifetime if lifetime is not None else DEFAULT_DURATION
    at = base + pick(draw, (1, -1, -base + 1, -1, 0, 600))
    if one_in(draw, 3):
        # chaining on from the session: refused with ExpiredToken once it has expired
        later = world.role("A", "later", doc({"Effect": "Allow", "Principal": {"AWS": last_role.ref},
                                              "Action": "sts:AssumeRole"}))
        steps.append({"id": "late", "as": last, "call": "sts:AssumeRole", "at": at,
                      "params": {"RoleArn": later.ref, "RoleSessionName": "late"}})
    else:
        steps.append({"id": "late", "as": last, "call": "sts:GetCallerIdentity", "at": at, "params": {}})
    return world.scenario(steps, "generated: session durations, chaining and expiry", SOURCE)
