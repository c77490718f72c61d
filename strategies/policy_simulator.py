"""The IAM policy simulator asked about a user's or role's policies, or about policies passed
as strings: SimulatePrincipalPolicy and SimulateCustomPolicy, one action on one resource per
call, the policies drawn so that the simulator must answer allowed, implicitDeny or
explicitDeny (`policies.identity_policy`); with a permissions boundary passed to
SimulateCustomPolicy, and, for sts:AssumeRole, a trust policy passed as ResourcePolicy that
the simulator ignores by design.

https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from rolecall.strategies._draw import coin, one_in, pick, upto
from rolecall.strategies.policies import identity_policy, object_resource, one_document, role_resource
from rolecall.strategies.requests import OBJECT_KEYS
from rolecall.strategies.world import Entity, WorldBuilder, doc, path, role_name, user_name

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html"
#: the simulated actions: S3 object calls, an IAM call and the one whose trust policy is ignored
ACTIONS = ("s3:GetObject", "s3:PutObject", "iam:GetRole", "sts:AssumeRole")
#: a bucket named in Resource ARNs only: the simulator needs no resource to exist
BUCKET = "rolecall-simulated"
VERDICTS = ("allow", "none", "deny")


def _text(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"))


def _request(draw, role: Entity):
    """An action and the Resource forms that match or miss its resource."""
    action = pick(draw, ACTIONS)
    if action.startswith("s3:"):
        return action, object_resource(BUCKET, pick(draw, OBJECT_KEYS))
    return action, role_resource(role)


@st.composite
def simulator_scenarios(draw):
    """One to three simulator calls by the account's administrator or the user: of the user's or role's own
    policies (plus, once in three, a policy passed in PolicyInputList), or of policies passed
    as strings (with a boundary once in three); each call aims at one verdict of one request."""
    world = WorldBuilder("A")
    user = world.user("A", user_name(draw), path=path(draw))
    role = Entity("A", "role", role_name(draw), path(draw))
    world.role("A", role.name, doc({"Effect": "Allow", "Principal": {"AWS": user.ref}, "Action": "sts:AssumeRole"}),
               path=role.path)
    steps = []
    for i in range(upto(draw, 1, 3)):
        action, resource = _request(draw, role)
        params: dict = {"ActionNames": [action], "ResourceArns": [resource.arn]}
        verdict = pick(draw, VERDICTS)
        if coin(draw):
            source = pick(draw, (user, role))
            world.add_policies(source, identity_policy(draw, action, resource, None, verdict))
            call = "iam:SimulatePrincipalPolicy"
            params = {"PolicySourceArn": source.ref, **params}
            if one_in(draw, 3):
                params["PolicyInputList"] = [_text(one_document(draw, action, resource, None, pick(draw, VERDICTS)))]
            if action == "sts:AssumeRole" and source is user and coin(draw):
                # a trust policy that denies the user: AWS's simulator does not evaluate it
                params["ResourcePolicy"] = _text(doc({"Effect": "Deny", "Principal": {"AWS": user.ref},
                                                      "Action": "sts:AssumeRole"}))
        else:
            call = "iam:SimulateCustomPolicy"
            params = {"PolicyInputList": [_text(one_document(draw, action, resource, None, verdict))], **params}
            if one_in(draw, 3):
                params["PermissionsBoundaryPolicyInputList"] = [
                    _text(one_document(draw, action, resource, None, pick(draw, VERDICTS)))]
        # the user itself asks, half the time: it needs iam:Simulate* in its own policies
        caller = user.caller if coin(draw) else "A:admin"
        steps.append({"id": f"simulate{i + 1}", "as": caller, "call": call, "params": params})
    return world.scenario(steps, "generated: the policy simulator's decisions", SOURCE)
