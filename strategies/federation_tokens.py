"""Federation tokens: an IAM user (a broker) calls GetFederationToken for a federated user, and
the federated user's credentials are used.

The user may or may not hold sts:GetFederationToken; now and then a role session asks instead
(refused: session credentials). DurationSeconds sits on a boundary (900, 129600, one second
outside each, the default). The session policy passed is none (no permissions at all), one
allowing less than the user, one allowing more (it grants nothing beyond the user), or one
denying; a bucket policy may name the federated user's ARN (a grant the session policy does
not limit). The federated user then reads an object, lists the bucket, asks who it is, or
asks for another token (refused), sometimes after its credentials have expired.

https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from rolecall.strategies._draw import one_in, pick
from rolecall.strategies.world import WorldBuilder, doc

SOURCE = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html"
NAMES = ("partner", "bob", "a.b@c")
DURATIONS = (None, 900, None, 129600, 3600, 899, 129601)
FEDERATION_DEFAULT = 43200


def _s3(effect: str, *actions: str, bucket: str) -> dict:
    return {"Effect": effect, "Action": list(actions), "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}


@st.composite
def federation_token_scenarios(draw):
    """GetFederationToken by a user (or a role session), then one call with its credentials."""
    world = WorldBuilder("A")
    bucket = world.bucket("A", "data", objects={"report.csv": "a,b\n"})
    name = pick(draw, NAMES)
    fed_arn = f"arn:aws:sts::{{{{A}}}}:federated-user/{name}"
    policies = {"read": doc(_s3("Allow", "s3:GetObject", "s3:ListBucket", bucket=bucket))}
    if not one_in(draw, 6):
        policies["broker"] = doc({"Effect": "Allow", "Action": "sts:GetFederationToken",
                                  "Resource": pick(draw, ("*", fed_arn, "*", "arn:aws:sts::{{A}}:federated-user/other"))})
    user = world.user("A", "bob", policies=policies)
    if one_in(draw, 6):
        world.bucket("A", "data", objects={"report.csv": "a,b\n"}, policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": fed_arn}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/*"}))
    steps: list[dict] = []
    caller = user.caller
    if one_in(draw, 8):
        broker = world.role("A", "broker", doc({"Effect": "Allow", "Principal": {"AWS": user.ref},
                                                "Action": "sts:AssumeRole"}), policies={"broker": policies.get(
                                                    "broker", doc({"Effect": "Allow", "Action": "sts:*",
                                                                   "Resource": "*"}))})
        steps.append({"id": "assume", "as": user.caller, "call": "sts:AssumeRole",
                      "params": {"RoleArn": broker.ref, "RoleSessionName": "broker-session"}})
        caller = "assume"
    params: dict = {"Name": name}
    seconds = pick(draw, DURATIONS)
    if seconds is not None:
        params["DurationSeconds"] = seconds
    session = pick(draw, ("less", "none", "more", "deny", "less"))
    if session == "less":
        params["Policy"] = json.dumps(doc(_s3("Allow", "s3:GetObject", bucket=bucket)))
    elif session == "more":
        params["Policy"] = json.dumps(doc(_s3("Allow", "s3:*", bucket=bucket)))
    elif session == "deny":
        params["Policy"] = json.dumps(doc(_s3("Allow", "s3:*", bucket=bucket),
                                          _s3("Deny", "s3:GetObject", bucket=bucket)))
    steps.append({"id": "fed", "as": caller, "call": "sts:GetFederationToken", "params": params})
    use = pick(draw, ("get", "whoami", "list", "get", "token-again", "whoami"))
    if use == "get":
        step = {"id": "use", "as": "fed", "call": "s3:GetObject", "params": {"Bucket": bucket, "Key": "report.csv"}}
    elif use == "list":
        step = {"id": "use", "as": "fed", "call": "s3:ListObjectsV2", "params": {"Bucket": bucket}}
    elif use == "token-again":
        step = {"id": "use", "as": "fed", "call": pick(draw, ("sts:GetSessionToken", "sts:GetFederationToken")),
                "params": {}}
        if step["call"] == "sts:GetFederationToken":
            step["params"] = {"Name": "again"}
    else:
        step = {"id": "use", "as": "fed", "call": "sts:GetCallerIdentity", "params": {}}
        if one_in(draw, 4):
            life = FEDERATION_DEFAULT if seconds is None else seconds
            step["at"] = life + pick(draw, (-1, 0, 1))
    steps.append(step)
    return world.scenario(steps, "generated: GetFederationToken and what the federated user may do", SOURCE)
