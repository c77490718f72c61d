"""One authorization request with every policy that applies to it, as plain JSON: the input of
the cross-check between the reference model's evaluator and an independent one (iam-simulate,
tests/test_iam_simulate.py).

A request: a caller (an IAM user, or a session of a role; in the resource's account or another;
maybe with a permissions boundary, a session with maybe a session policy; or, once in twelve, an
unsigned request to S3), an action on a
resource (an S3 object or bucket, or sts:AssumeRole on a role), the request context (global
condition keys, some absent), the caller's identity policies and maybe a resource policy (a
bucket policy, or the role's trust policy). Every choice shrinks towards the first option:
one user, one Allow statement, no condition, the same account.
"""
from __future__ import annotations

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick, upto

A, B = "111111111111", "222222222222"
BUCKET = "data-a"
ROLES = {A: "reader", B: "writer"}
SESSION = "s1"
ROLE_ID = "AROAEXAMPLEROLEID0001"
TEAMS = ("red", "blue", "green")
#: the principal of an unsigned (anonymous) request
ANONYMOUS = "anonymous"


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/team/{ROLES[account]}"


#: the role that sts:AssumeRole targets
TARGET_ROLE = role_arn(A)


def _user_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def _session_arn(account: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{ROLES[account]}/{SESSION}"


def _user_id(name: str) -> str:
    return f"AIDA{name.upper():0<17}"


# ------------------------------------------------------------------ conditions

def _condition_values(draw, key: str) -> list[str]:
    """Values for one condition key: some that the context holds, some that it does not."""
    k = key.lower()
    if k == "aws:securetransport":
        return [pick(draw, ("true", "false"))]
    if k == "aws:sourceip":
        return [pick(draw, ("10.0.0.0/8", "203.0.113.0/24", "198.51.100.7/32"))]
    if k == "aws:currenttime":
        return [pick(draw, ("2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z"))]
    if k == "aws:epochtime":
        return [pick(draw, ("1900000000", "1500000000"))]
    if k in ("aws:principalaccount",):
        return [pick(draw, (A, B))]
    if k == "aws:principalarn":
        return [pick(draw, (f"arn:aws:iam::{A}:*", _user_arn(A, "alice"), role_arn(A), f"arn:aws:iam::{B}:*",
                            "arn:aws:iam::*:user/b*"))]
    if k == "aws:username":
        return [pick(draw, ("alice", "bob", "a*", "ALICE"))]
    if k == "aws:principaltype":
        return [pick(draw, ("User", "AssumedRole"))]
    if k == "aws:tagkeys":
        return draw(st.lists(st.sampled_from(("team", "env", "owner")), min_size=1, max_size=2, unique=True))
    if k == "aws:multifactorauthage":
        return [pick(draw, ("3600", "60"))]
    return draw(st.lists(st.sampled_from(TEAMS + ("r*", "RED")), min_size=1, max_size=2, unique=True))


#: (operator families that suit the key, key); the first is the simplest
_KEYS = (
    (("Bool",), "aws:SecureTransport"),
    (("StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase",
      "StringNotEqualsIgnoreCase"), "aws:PrincipalTag/team"),
    (("IpAddress", "NotIpAddress"), "aws:SourceIp"),
    (("DateLessThan", "DateGreaterThan", "DateLessThanEquals", "DateGreaterThanEquals"), "aws:CurrentTime"),
    (("NumericLessThan", "NumericGreaterThan", "NumericEquals", "NumericNotEquals"), "aws:EpochTime"),
    (("StringEquals", "StringNotEquals"), "aws:PrincipalAccount"),
    (("ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals", "StringLike"), "aws:PrincipalArn"),
    (("StringEquals", "StringLike", "StringNotEquals", "StringEqualsIgnoreCase"), "aws:username"),
    (("StringEquals", "StringNotEquals"), "aws:PrincipalType"),
    (("StringEquals", "StringLike"), "aws:TagKeys"),
    (("NumericLessThan", "NumericGreaterThan"), "aws:MultiFactorAuthAge"),
)


def condition(draw) -> dict:
    """One condition block of one or two operators: an operator that suits the key, with
    IfExists once in four and ForAnyValue:/ForAllValues: once in four; Null once in eight;
    the key's name in another case once in eight."""
    block: dict = {}
    for _ in range(upto(draw, 1, 2)):
        families, key = pick(draw, _KEYS)
        if one_in(draw, 8):
            key = key.upper() if coin(draw) else key.lower()
        if one_in(draw, 8):
            block.setdefault("Null", {})[key] = pick(draw, ("true", "false"))
            continue
        op = pick(draw, families)
        if one_in(draw, 4):
            op += "IfExists"
        if one_in(draw, 4):
            op = pick(draw, ("ForAnyValue:", "ForAllValues:")) + op
        block.setdefault(op, {})[key] = _condition_values(draw, key)
    return block


# ------------------------------------------------------------------ statements

_IDENTITY_ACTIONS = ("s3:GetObject", "s3:*", ["s3:Get*", "s3:List*"], "sts:AssumeRole", "*", ["s3:PutObject"],
                     "S3:getobject", "s3:*Object", "s3:Get?bject", ["sts:AssumeRole", "s3:GetObject"],
                     "sts:Assume*")
_IDENTITY_RESOURCES = ("*", f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}",
                       f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*", "arn:aws:iam::*:role/team/*",
                       TARGET_ROLE, "arn:aws:s3:::data-?/*", f"arn:aws:s3:::{BUCKET}/home/${{aws:PrincipalTag/team}}/*",
                       f"arn:aws:s3:::{BUCKET}/x/*", "arn:aws:iam::111111111111:role/*")


def identity_statement(draw) -> dict:
    """An identity-policy (or boundary, or session-policy) statement: Allow three times in
    four; NotAction and NotResource once in twelve each; a condition once in three."""
    st_: dict = {"Effect": "Deny" if one_in(draw, 4) else "Allow"}
    st_["NotAction" if one_in(draw, 12) else "Action"] = pick(draw, _IDENTITY_ACTIONS)
    st_["NotResource" if one_in(draw, 12) else "Resource"] = pick(draw, _IDENTITY_RESOURCES)
    if one_in(draw, 3):
        st_["Condition"] = condition(draw)
    return st_


def _policy(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def identity_policy(draw, most: int = 3) -> dict:
    return _policy([identity_statement(draw) for _ in range(upto(draw, 1, most))])


def _principal(draw, session_arns: bool = True) -> dict | str:
    """A Principal element: one or two AWS principals (users, roles, sessions, accounts as
    ARN or bare id), or "*" in either form once in eight."""
    if one_in(draw, 8):
        return pick(draw, ("*", {"AWS": "*"}))
    options = [_user_arn(A, "alice"), _user_arn(B, "alice"), f"arn:aws:iam::{A}:root", B, role_arn(A),
               _user_arn(A, "bob"), f"arn:aws:iam::{B}:root", A, role_arn(B)]
    if session_arns:
        options += [_session_arn(A), _session_arn(B)]
    picked = [pick(draw, options) for _ in range(upto(draw, 1, 2))]
    return {"AWS": picked[0] if len(picked) == 1 else sorted(set(picked))}


def bucket_statement(draw) -> dict:
    """A bucket-policy statement; a Deny is given NotPrincipal instead of Principal once in three."""
    effect = "Deny" if one_in(draw, 3) else "Allow"
    st_: dict = {"Effect": effect}
    if effect == "Deny" and one_in(draw, 3):
        st_["NotPrincipal"] = _principal(draw)
    else:
        st_["Principal"] = _principal(draw)
    st_["Action"] = pick(draw, ("s3:GetObject", "s3:*", ["s3:GetObject", "s3:PutObject"], "s3:ListBucket",
                                "s3:Get*", "S3:GETOBJECT"))
    st_["Resource"] = pick(draw, (f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}",
                                  [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                                  f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*"))
    if one_in(draw, 3):
        st_["Condition"] = condition(draw)
    return st_


def trust_statement(draw) -> dict:
    st_: dict = {"Effect": "Deny" if one_in(draw, 5) else "Allow", "Principal": _principal(draw, session_arns=False),
                 "Action": pick(draw, ("sts:AssumeRole", ["sts:AssumeRole", "sts:TagSession"], "sts:*"))}
    if one_in(draw, 3):
        st_["Condition"] = condition(draw)
    return st_


# ------------------------------------------------------------------ the request

@st.composite
def evaluation_requests(draw) -> dict:
    """A request and its policies (see the module docstring); plain JSON."""
    account = A if not one_in(draw, 3) else B
    session = one_in(draw, 3)
    context: dict = {
        "aws:SecureTransport": pick(draw, ("true", "false")),
        "aws:SourceIp": pick(draw, ("10.1.2.3", "198.51.100.7")),
        "aws:CurrentTime": "2026-11-27T12:00:00Z",
        "aws:EpochTime": "1795780800",
        "aws:PrincipalAccount": account,
    }
    if session:
        principal = _session_arn(account)
        context.update({"aws:PrincipalArn": role_arn(account), "aws:PrincipalType": "AssumedRole",
                        "aws:userid": f"{ROLE_ID}:{SESSION}"})
    else:
        user = pick(draw, ("alice", "bob"))
        principal = _user_arn(account, user)
        context.update({"aws:PrincipalArn": principal, "aws:PrincipalType": "User", "aws:username": user,
                        "aws:userid": _user_id(user)})
    if not one_in(draw, 3):
        context["aws:PrincipalTag/team"] = pick(draw, TEAMS + ("yellow",))
    if one_in(draw, 6):
        context["aws:MultiFactorAuthAge"] = pick(draw, ("100", "7200"))
    anonymous = one_in(draw, 12)
    if anonymous:
        # an unsigned request: no principal, no principal keys in the context
        principal, account, session = ANONYMOUS, None, False
        context = {k: v for k, v in context.items() if k in ("aws:SecureTransport", "aws:SourceIp",
                                                             "aws:CurrentTime", "aws:EpochTime")}
    if not anonymous and one_in(draw, 4):
        action, resource = "sts:AssumeRole", TARGET_ROLE
        resource_policy = _policy([trust_statement(draw) for _ in range(upto(draw, 1, 2))])
    else:
        action = pick(draw, ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"))
        who = context.get("aws:username", SESSION)
        resource = (f"arn:aws:s3:::{BUCKET}" if action == "s3:ListBucket"
                    else f"arn:aws:s3:::{BUCKET}/" + pick(draw, ("x/y", f"home/{who}/notes.txt", "home/red/a")))
        resource_policy = _policy([bucket_statement(draw) for _ in range(upto(draw, 1, 3))]) if coin(draw) else None
    identity = [identity_policy(draw) for _ in range(pick(draw, (1, 0, 2)))] if not anonymous else []
    boundary = identity_policy(draw, 2) if not anonymous and one_in(draw, 5) else None
    session_policy = identity_policy(draw, 2) if session and one_in(draw, 4) else None
    return {"principal": principal, "principalAccount": account, "session": session, "action": action,
            "resource": resource, "resourceAccount": A, "context": context, "identity": identity,
            "boundary": boundary, "sessionPolicy": session_policy, "resourcePolicy": resource_policy}
