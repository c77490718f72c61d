"""The lockstep sequences: 4..12 calls over a small world (create a role, put a policy,
update a trust policy, assume, chain, ask who I am, delete, create and delete a
service-linked role), each drawn for the state the earlier ones left.

The state is the *reference model's*: while drawing, each step runs at once on a live
reference model, and the next rule is chosen from what it answered (which roles exist,
which sessions are live). Nothing an emulator answers can steer the draw, so a sequence
replays the same on every target, and the engine compares the targets step by step.
Hypothesis's `RuleBasedStateMachine` drives one system under test and cannot be drawn
as a `Scenario`; this strategy is its equivalent in the engine's shape (rules, a
precondition per rule, bundles of roles and sessions).

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

from rolecall import aws
from rolecall.scenario import FORMAT, CALLER, Names, declared_names, from_dict
from rolecall.strategies._draw import one_in, pick, upto
from rolecall.strategies.world import WorldBuilder, doc, root_arn
from rolecall.targets.base import CREDENTIAL_CALLS, CallFailed, Credentials, Unsupported
from rolecall.world import setup_calls

SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html"
ROLE_NAMES = ("r1", "r2", "R1")  # R1 collides with r1: names are unique without regard to case
SLR_SERVICES = ("autoscaling.amazonaws.com", "ecs.amazonaws.com")


class LiveReference:
    """A reference model run that takes one step at a time (the world first). Uses only the
    target hooks every target implements: `allocate_account`, `admin`, `call`, `set_clock`."""

    def __init__(self, accounts: dict):
        from rolecall.targets.reference import reference

        self.target = reference()
        scenario = from_dict({"format": FORMAT, "accounts": accounts, "steps": []}, origin="<lockstep>")
        ids = {a: self.target.allocate_account(a, w.get("id")) for a, w in accounts.items()}
        self.names = Names(account_ids=ids, bucket_names={}, paths=declared_names(scenario))
        self.target.begin(self.names)
        self.creds: dict[str, Credentials] = {}
        for sc in setup_calls(scenario):
            service, action = sc.call.split(":", 1)
            res = self.target.call(self.target.admin(ids[sc.account]), service, action, self.names.resolve(dict(sc.params)))
            if sc.keep:
                key = res.result["AccessKey"]
                self.creds[f"{sc.account}:{sc.what}"] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def _who(self, caller: str) -> Credentials | None:
        if caller.startswith("service:"):
            return self.target.service("", caller[len("service:"):])
        m = CALLER.fullmatch(caller)
        if m and m["kind"] == "admin":
            return self.target.admin(self.names.account_ids[m["account"]])
        return self.creds.get(caller)

    def step(self, step: dict) -> bool:
        """Run one step; True when the model answered it without an error."""
        who = self._who(step["as"])
        if who is None:
            return False
        if "at" in step:
            self.target.set_clock(step["at"])
        service, action = step["call"].split(":", 1)
        try:
            res = self.target.call(who, service, action, self.names.resolve(dict(step["params"])))
        except (CallFailed, Unsupported):
            return False
        if step["call"] in CREDENTIAL_CALLS:
            c = res.result["Credentials"]
            self.creds[step["id"]] = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c.get("SessionToken"))
        return True


@dataclass
class State:
    """What the reference model says exists, as the rules see it (the bundles)."""

    roles: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower-cased name -> (name, ARN text)
    policies: dict[str, set] = field(default_factory=dict)  # lower-cased role name -> its inline policies' names
    sessions: list[str] = field(default_factory=list)  # ids of AssumeRole steps that succeeded
    slrs: dict[str, str] = field(default_factory=dict)  # service -> role name
    clock: int = 0


def _arn(name: str, path: str) -> str:
    return f"arn:aws:iam::{{{{A}}}}:role{path}{name}"


def _trust(draw, state: State) -> dict:
    """A trust policy naming who can call: alice (A), bob (B), account B, an existing role,
    a session of one, EC2, or a mix; a condition on sts:RoleSessionName once in five."""
    forms = [{"AWS": "{{A:user/alice}}"}, {"AWS": "{{A:user/alice}}"}, {"AWS": "{{B:user/bob}}"},
             {"AWS": root_arn("B")}, {"AWS": "{{A}}"}, {"Service": "ec2.amazonaws.com"}]
    for _, arn in state.roles.values():
        forms.append({"AWS": arn})
    principal = pick(draw, forms)
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if one_in(draw, 5):
        statement["Condition"] = {"StringLike": {"sts:RoleSessionName": pick(draw, ("s*", "x*"))}}
    return doc(statement)


def _rule(draw, state: State, i: int) -> dict:
    """The next step: a rule whose precondition holds in `state`, drawn with weights that
    favour calls on what exists."""
    rules = ["create-role", "slr-create"] + ["create-role"] * (2 - min(len(state.roles), 2))
    if state.roles:
        rules += ["assume-user"] * 3 + ["put-policy", "update-trust", "delete-role", "get-role"]
    else:
        rules.append("assume-user")  # a role that does not exist: denied like any other
    if state.sessions:
        rules += ["chain", "chain", "whoami", "wait"]
    if state.roles and state.policies:
        rules.append("delete-policy")
    if state.slrs:
        rules += ["slr-delete", "slr-modify"]
    rule = pick(draw, rules)
    sid = f"s{i}-{rule}"
    if rule == "create-role":
        name, path = pick(draw, ROLE_NAMES), pick(draw, ("/", "/", "/app/"))
        params = {"RoleName": name, "Path": path, "AssumeRolePolicyDocument": json.dumps(_trust(draw, state))}
        if one_in(draw, 3):
            params["MaxSessionDuration"] = pick(draw, (3600, 7200, 43200))
        return {"id": sid, "as": "A:admin", "call": "iam:CreateRole", "params": params}
    names = sorted(n for n, _ in state.roles.values()) or list(ROLE_NAMES)
    arns = sorted(a for _, a in state.roles.values())
    if rule in ("assume-user", "chain"):
        target = pick(draw, arns or [_arn("r1", "/")])
        caller = pick(draw, ("A:user/alice", "B:user/bob")) if rule == "assume-user" else pick(draw, state.sessions)
        params = {"RoleArn": target, "RoleSessionName": pick(draw, ("s1", "x1"))}
        if one_in(draw, 4):
            params["DurationSeconds"] = pick(draw, (900, 3600, 7200))
        return {"id": sid, "as": caller, "call": "sts:AssumeRole", "params": params}
    if rule == "put-policy":
        target = pick(draw, arns)
        policy = doc({"Effect": pick(draw, ("Allow", "Allow", "Deny")), "Action": "sts:AssumeRole",
                      "Resource": pick(draw, ("*", target, "arn:aws:iam::{{A}}:role/r*"))})
        return {"id": sid, "as": "A:admin", "call": "iam:PutRolePolicy",
                "params": {"RoleName": pick(draw, names), "PolicyName": pick(draw, ("p1", "p2")),
                           "PolicyDocument": json.dumps(policy)}}
    if rule == "update-trust":
        return {"id": sid, "as": "A:admin", "call": "iam:UpdateAssumeRolePolicy",
                "params": {"RoleName": pick(draw, names), "PolicyDocument": json.dumps(_trust(draw, state))}}
    if rule == "delete-role":
        return {"id": sid, "as": "A:admin", "call": "iam:DeleteRole", "params": {"RoleName": pick(draw, names)}}
    if rule == "get-role":
        return {"id": sid, "as": "A:admin", "call": "iam:GetRole", "params": {"RoleName": pick(draw, names)}}
    if rule == "delete-policy":
        key = pick(draw, sorted(state.policies))
        return {"id": sid, "as": "A:admin", "call": "iam:DeleteRolePolicy",
                "params": {"RoleName": state.roles[key][0], "PolicyName": pick(draw, sorted(state.policies[key]) + ["p9"])}}
    if rule == "whoami":
        return {"id": sid, "as": pick(draw, state.sessions), "call": "sts:GetCallerIdentity", "params": {}}
    if rule == "wait":
        # half an hour later a default session is still live; ninety minutes later it is not
        state.clock += pick(draw, (1800, 5400))
        return {"id": sid, "as": pick(draw, state.sessions), "call": "sts:GetCallerIdentity", "params": {},
                "at": state.clock}
    if rule == "slr-create":
        return {"id": sid, "as": "A:admin", "call": "iam:CreateServiceLinkedRole",
                "params": {"AWSServiceName": pick(draw, SLR_SERVICES)}}
    service = pick(draw, sorted(state.slrs))
    if rule == "slr-delete":
        return {"id": sid, "as": "A:admin", "call": "iam:DeleteServiceLinkedRole",
                "params": {"RoleName": state.slrs[service]}}
    return {"id": sid, "as": "A:admin", "call": "iam:DeleteRole", "params": {"RoleName": state.slrs[service]}}


def _learn(state: State, step: dict, ok: bool) -> None:
    """Update the bundles from the reference model's answer to `step`."""
    if not ok:
        return
    call, p = step["call"], step["params"]
    if call == "iam:CreateRole":
        state.roles[p["RoleName"].lower()] = (p["RoleName"], _arn(p["RoleName"], p["Path"]))
    elif call == "iam:DeleteRole":
        state.roles.pop(p["RoleName"].lower(), None)
        state.policies.pop(p["RoleName"].lower(), None)
    elif call == "iam:PutRolePolicy":
        state.policies.setdefault(p["RoleName"].lower(), set()).add(p["PolicyName"])
    elif call == "iam:DeleteRolePolicy":
        held = state.policies.get(p["RoleName"].lower(), set())
        held.discard(p["PolicyName"])
        if not held:
            state.policies.pop(p["RoleName"].lower(), None)
    elif call == "sts:AssumeRole":
        state.sessions.append(step["id"])
    elif call == "iam:CreateServiceLinkedRole":
        state.slrs[p["AWSServiceName"]] = aws.service_linked_role_name(p["AWSServiceName"])
    elif call == "iam:DeleteServiceLinkedRole":
        state.slrs = {s: n for s, n in state.slrs.items() if n != p["RoleName"]}


@st.composite
def lockstep_scenarios(draw):
    """4..12 steps over users alice (A) and bob (B, allowed to assume any role), each drawn
    for the state the live reference model is in after the steps before it."""
    world = WorldBuilder("A", "B")
    world.user("A", "alice")
    world.user("B", "bob", policies={"assume": doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})})
    live = LiveReference(json.loads(json.dumps(world.accounts)))
    state = State()
    steps: list[dict] = []
    for i in range(upto(draw, 4, 12)):
        step = _rule(draw, state, i)
        if state.clock and "at" not in step:
            # once the clock has moved, every later step says when it runs: a target without
            # a clock then answers `unsupported` instead of running it an hour too early
            step["at"] = state.clock
        ok = live.step(step)
        _learn(state, step, ok)
        steps.append(step)
    return world.scenario(steps, "generated: a sequence of role calls, each drawn for the reference model's state",
                          SOURCE)
