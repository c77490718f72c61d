"""Organizations: a principal of a member account calls S3, STS or IAM while SCPs on its
account's path and RCPs on the resource account's path decide (deny lists, allow lists that miss
a level, conditions on aws:PrincipalAccount, aws:ResourceAccount and aws:PrincipalOrgID), bucket
policies granting the organization (aws:PrincipalOrgID = {{org}}), and the exemptions (the management account; RCPs on IAM and on the management account's resources).

Accounts: A is the management account, B and C are members (B under the OUs drawn), D is
outside the organization. Identity and resource policies always allow the call, so the
organization's policies decide it.

https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from rolecall.strategies._draw import one_in, pick
from rolecall.strategies.world import V, WorldBuilder, doc, root_arn

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
# the call, the forms of its action a policy may name, an action of the same service it is not,
# and an action of another service (for allow lists that allow something else)
CALLS = {
    "s3:GetObject": (("s3:GetObject", "s3:*", "s3:Get*", "*"), "s3:PutObject", "sts:*"),
    "sts:AssumeRole": (("sts:AssumeRole", "sts:*", "sts:Assume*", "*"), "sts:TagSession", "s3:*"),
    "iam:GetRole": (("iam:GetRole", "iam:*", "iam:Get*", "*"), "iam:DeleteRole", "s3:*"),
}
CROSS_CALLS = ("s3:GetObject", "sts:AssumeRole")  # IAM is not called across accounts


@dataclass(frozen=True)
class OrgPlan:
    """Which rule should decide: the policy the organization holds (`form`), who calls (an
    account: A management, B member, C member, D outsider) and whose resource it is."""

    aim: str
    form: str
    caller: str = "B"
    owner: str = "B"
    calls: tuple[str, ...] = tuple(CALLS)


PLANS = (
    # SCPs: on the caller's account's path
    OrgPlan("deny-explicit-scp", "scp-deny"),
    OrgPlan("allow", "scp-deny-other"),
    OrgPlan("deny-explicit-scp", "scp-deny-principal-account"),
    OrgPlan("allow", "scp-deny-other-principal-account"),
    OrgPlan("deny-explicit-scp", "scp-deny-outside-resource", owner="D", calls=CROSS_CALLS),
    OrgPlan("allow", "scp-deny-outside-resource", owner="B"),
    OrgPlan("deny-scp-no-allow", "scp-allow-list-other"),
    OrgPlan("allow", "scp-allow-list"),
    OrgPlan("allow", "scp-deny", caller="A", owner="A"),  # SCPs do not apply to the management account
    # RCPs: on the resource's account's path
    # the same account first: a divergence shrinks towards it, apart from cross-account causes
    OrgPlan("deny-explicit-rcp", "rcp-deny", caller="B", calls=CROSS_CALLS),
    OrgPlan("deny-explicit-rcp", "rcp-deny", caller="D", calls=CROSS_CALLS),
    OrgPlan("deny-explicit-rcp", "rcp-deny-outsiders", caller="D", calls=CROSS_CALLS),
    OrgPlan("allow", "rcp-deny-outsiders", caller="C", calls=CROSS_CALLS),
    OrgPlan("allow", "rcp-deny", caller="B", owner="A", calls=CROSS_CALLS),  # not on the management account
    OrgPlan("allow", "rcp-deny", caller="B", owner="B", calls=("iam:GetRole",)),  # RCPs do not cover IAM
    # a bucket policy granting "*" on aws:PrincipalOrgID = the organization's id
    OrgPlan("allow", "bucket-org-grant", caller="C", calls=("s3:GetObject",)),
    OrgPlan("deny-cross-account-no-resource-allow", "bucket-org-grant", caller="D", calls=("s3:GetObject",)),
)
# how an RCP tells principals of the organization from the others
OUTSIDERS = ({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "{{org}}"}},
             {"StringNotLike": {"aws:PrincipalOrgID": "o-*"}},
             {"StringNotEquals": {"aws:PrincipalOrgID": "{{org}}"}})


def structure(draw) -> tuple[dict, list[str]]:
    """OUs (none, `prod`, or `team` inside `prod`) with B in the deepest, and C at the root;
    returns (the organization without policies, the levels from the root to B)."""
    depth = pick(draw, (0, 1, 2))
    ous = {"prod": {}, "team": {"parent": "prod"}} if depth == 2 else {"prod": {}} if depth else {}
    parent = ("root", "prod", "team")[depth]
    org = {"management": "A", "ous": ous, "accounts": {"B": parent, "C": "root"}}
    return org, ["root", *(["prod", "team"][:depth]), "B"]


def _statement(effect: str, action: str, condition: dict | None = None, *, rcp: bool = False) -> dict:
    st_: dict = {"Effect": effect}
    if rcp:
        st_["Principal"] = "*"
    st_.update({"Action": action, "Resource": "*"})
    if condition:
        st_["Condition"] = condition
    return st_


def organization_policies(draw, plan: OrgPlan, call: str, levels: list[str]) -> dict:
    """The SCPs and RCPs for `plan`, attached at one level drawn from the path (the management
    account's own for the management plan, B's path for everything else)."""
    forms, other, other_service = CALLS[call]
    action = pick(draw, forms)
    level = "root" if plan.caller == "A" else pick(draw, levels)
    out: dict = {}
    form = plan.form
    if form == "scp-deny":
        out["scps"] = {"deny": {"document": doc(_statement("Deny", action)), "targets": [level]}}
    elif form == "scp-deny-other":
        out["scps"] = {"deny": {"document": doc(_statement("Deny", other)), "targets": [level]}}
    elif form in ("scp-deny-principal-account", "scp-deny-other-principal-account"):
        account = "{{B}}" if form == "scp-deny-principal-account" else "{{C}}"
        op = pick(draw, ("StringEquals", "StringLike"))
        out["scps"] = {"deny-account": {"document": doc(_statement(
            "Deny", action, {op: {"aws:PrincipalAccount": [account]}})), "targets": [level]}}
    elif form == "scp-deny-outside-resource":
        # the data-perimeter SCP: nothing outside the organization's member accounts
        out["scps"] = {"perimeter": {"document": doc(_statement(
            "Deny", action, {"StringNotEquals": {"aws:ResourceAccount": ["{{A}}", "{{B}}", "{{C}}"]}})),
            "targets": [level]}}
    elif form in ("scp-allow-list", "scp-allow-list-other"):
        allowed = action if form == "scp-allow-list" else other_service
        out["scps"] = {"allow-list": {"document": doc(_statement("Allow", allowed)), "targets": [level]}}
        out["detach_full_access"] = [level]
    elif form == "rcp-deny":
        rcp_level = "root" if plan.owner == "A" else level
        out["rcps"] = {"deny": {"document": doc(_statement("Deny", action, rcp=True)), "targets": [rcp_level]}}
    elif form == "rcp-deny-outsiders":
        out["rcps"] = {"outsiders": {"document": doc(_statement(
            "Deny", action, pick(draw, OUTSIDERS), rcp=True)), "targets": [level]}}
    elif form == "bucket-org-grant":
        pass  # the bucket policy decides (_resource)
    else:
        raise ValueError(f"unknown organization plan form {form!r}")
    return out


def _resource(world: WorldBuilder, call: str, owner: str, principal_arn: str, cross: bool,
              org_grant: bool = False) -> tuple[str, dict]:
    """Declare the resource of `call` in `owner`'s account, granting `principal_arn` when the
    call crosses accounts (or always, for a trust policy), or with `org_grant` everyone in the
    organization; (its ARN for policies, the params)."""
    if call == "s3:GetObject":
        grant = {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{{{{{owner}:bucket/data}}}}/*"}
        if org_grant:
            grant.update(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "{{org}}"}})
        policy = doc(grant) if cross or org_grant else None
        bucket = world.bucket(owner, "data", objects={"report.csv": "a,b\n"}, policy=policy)
        return f"arn:aws:s3:::{bucket}/*", {"Bucket": bucket, "Key": "report.csv"}
    trust = doc({"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"})
    role = world.role(owner, "target", trust)
    if call == "sts:AssumeRole":
        return role.ref, {"RoleArn": role.ref, "RoleSessionName": "org-session"}
    return role.ref, {"RoleName": "target"}


@st.composite
def organizations_scenarios(draw):
    """A principal (a user, or once in three a role session) of the plan's account calls a
    resource of the plan's owner; the organization's SCPs and RCPs decide."""
    plan = pick(draw, PLANS)
    call = pick(draw, plan.calls)
    org, levels = structure(draw)
    world = WorldBuilder("A", "B", "C", plan.caller, plan.owner)  # D, when drawn, stays outside
    x = plan.caller
    session = one_in(draw, 3)
    user = world.user(x, "bob")
    principal_arn = f"{{{{{x}:role/worker}}}}" if session else user.ref
    resource, params = _resource(world, call, plan.owner, principal_arn, cross=plan.owner != x,
                                 org_grant=plan.form == "bucket-org-grant")
    use = {"Version": V, "Statement": [{"Effect": "Allow", "Action": call, "Resource": resource}]}
    steps = []
    if session:
        world.role(x, "worker", doc({"Effect": "Allow", "Principal": {"AWS": root_arn(x)}, "Action": "sts:AssumeRole"}),
                   policies={"use": use})
        world.add_policies(user, {"assume": doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Resource": f"arn:aws:iam::{{{{{x}}}}}:role/worker"})})
        steps.append({"id": "assume", "as": user.caller, "call": "sts:AssumeRole",
                      "params": {"RoleArn": f"{{{{{x}:role/worker}}}}", "RoleSessionName": "worker-session"}})
    else:
        world.add_policies(user, {"use": use})
    org.update(organization_policies(draw, plan, call, levels))
    steps.append({"id": "use", "as": "assume" if session else user.caller, "call": call, "params": params})
    who = "a role session" if session else "a user"
    return world.scenario(steps, f"generated: {who} of account {x} calls {call} on account {plan.owner}'s "
                                 f"resource, {plan.form}, aiming at {plan.aim}", SOURCE, organization=org)
