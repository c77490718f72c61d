"""Service-linked roles: created for a service, protected from change, deleted through the
service, assumable only by that service.

A short sequence of the administrator's calls on one service-linked role (create with and
without CustomSuffix, create again, the calls that must fail with UnmodifiableEntity,
GetRole, DeleteServiceLinkedRole) and AssumeRole attempts on it by a user (denied: the
trust names only the service) or by the service itself.

https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from rolecall import aws
from rolecall.strategies._draw import coin, one_in, pick, upto
from rolecall.strategies.world import WorldBuilder, doc, user_name

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html"
# The services the model knows, those that take a CustomSuffix first.
SUFFIXABLE = tuple(s for s, (_, ok) in aws.SERVICE_LINKED_ROLES.items() if ok)
FIXED = tuple(s for s, (_, ok) in aws.SERVICE_LINKED_ROLES.items() if not ok)
SUFFIXES = ("prod", "Prod", "x1")

_TRUST = json.dumps(doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
_POLICY = json.dumps(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
# Calls that change a role, each of which a service-linked role refuses (UnmodifiableEntity).
PROTECTED = {
    "iam:DeleteRole": lambda n: {"RoleName": n},
    "iam:UpdateAssumeRolePolicy": lambda n: {"RoleName": n, "PolicyDocument": _TRUST},
    "iam:PutRolePolicy": lambda n: {"RoleName": n, "PolicyName": "extra", "PolicyDocument": _POLICY},
    "iam:DeleteRolePolicy": lambda n: {"RoleName": n, "PolicyName": "extra"},
    "iam:AttachRolePolicy": lambda n: {"RoleName": n, "PolicyArn": "{{A:policy/extra}}"},
    "iam:PutRolePermissionsBoundary": lambda n: {"RoleName": n, "PermissionsBoundary": "{{A:policy/extra}}"},
}
# What to try next, by whether the role exists by then (which the world and the earlier
# steps decide): mostly what is interesting in that state, now and then the rest.
WHEN_ABSENT = ("create", "create", "create", "get", "delete", "protected", "assume-service")
WHEN_PRESENT = ("protected", "protected", "get", "get", "delete", "assume-user", "assume-service", "create")


def service_and_suffix(draw) -> tuple[str, str | None]:
    """A service the model knows and maybe a CustomSuffix: half the services take one, and a
    suffix is given a third of the time to a service that does not (InvalidInput)."""
    if coin(draw):
        return pick(draw, SUFFIXABLE), (pick(draw, SUFFIXES) if not one_in(draw, 3) else None)
    return pick(draw, FIXED), (pick(draw, SUFFIXES) if one_in(draw, 3) else None)


@st.composite
def service_linked_role_scenarios(draw):
    """2..5 calls about one service-linked role, which the world holds half the time; each
    call is drawn for the state the earlier ones leave (the model's rules, not its answers)."""
    world = WorldBuilder("A")
    user = world.user("A", user_name(draw), policies={"assume": doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})})
    service, suffix = service_and_suffix(draw)
    name = aws.service_linked_role_name(service, suffix)
    arn = f"arn:aws:iam::{{{{A}}}}:role{aws.service_linked_role_path(service)}{name}"
    valid_suffix = suffix is None or aws.SERVICE_LINKED_ROLES[service][1]
    exists = valid_suffix and coin(draw)
    if exists:
        world.service_linked_role("A", service, suffix)
    steps: list[dict] = []
    for i in range(upto(draw, 2, 5)):
        action = pick(draw, WHEN_PRESENT if exists else WHEN_ABSENT)
        if action == "create" and valid_suffix:
            exists = True
        elif action == "delete":
            exists = False
        sid = f"s{i}-{action}"
        if action == "create":
            params = {"AWSServiceName": service}
            if suffix:
                params["CustomSuffix"] = suffix
            if one_in(draw, 3):
                params["Description"] = "made by rolecall"
            steps.append({"id": sid, "as": "A:admin", "call": "iam:CreateServiceLinkedRole", "params": params})
        elif action == "protected":
            call = pick(draw, sorted(PROTECTED))
            steps.append({"id": sid, "as": "A:admin", "call": call, "params": PROTECTED[call](name)})
        elif action == "get":
            steps.append({"id": sid, "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": name}})
        elif action == "delete":
            steps.append({"id": sid, "as": "A:admin", "call": "iam:DeleteServiceLinkedRole",
                          "params": {"RoleName": name}})
        else:
            caller = user.caller if action == "assume-user" else f"service:{service}"
            steps.append({"id": sid, "as": caller, "call": "sts:AssumeRole",
                          "params": {"RoleArn": arn, "RoleSessionName": "slr"}})
    return world.scenario(steps, f"generated: service-linked role of {service}", SOURCE)
