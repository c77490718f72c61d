"""Two builds of one emulator, named alike, for the gate's must-show: build 1 is the reference model
with one planted bug, build 2 has that bug and a second one whose divergences share symptom ids
with the first. A gate keyed on symptoms passes build 2; one keyed on findings must not.

The bugs are planted where an emulator's would be: in how it reads the policy documents it is
given (every call that takes a policy passes through `_rewrite`), not in rolecall's oracle.
- "action case": Action names are matched case-sensitively against AWS's spelling, so an Action
  written in another case ("S3:getobject") matches nothing. AWS: "action names are not case
  sensitive" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
- "NotAction": statements with NotAction are ignored
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html).
Both make an Allow that AWS honours do nothing (and a Deny AWS honours too), on the same calls and
rules: the same divergence ids.
"""
from __future__ import annotations

import json

from rolecall.targets.reference import ReferenceTarget

POLICY_PARAMS = ("PolicyDocument", "AssumeRolePolicyDocument", "Policy")


def _canonical(action: str) -> bool:
    vendor, _, name = action.partition(":")
    return "*" in action or "?" in action or (vendor == vendor.lower() and name[:1].isupper() and name != name.upper())


def _inert(trust: bool) -> dict:
    st = {"Effect": "Deny", "Action": "sts:AssumeRoleWithSAML" if trust else "iam:GetAccountSummary"}
    if trust:
        st["Principal"] = {"AWS": "*"}
    else:
        st["Resource"] = "*"
    return st


def action_case_bug(statement: dict) -> dict | None:
    if "Action" not in statement:
        return statement
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    kept = [a for a in actions if isinstance(a, str) and _canonical(a)]
    return dict(statement, Action=kept) if kept else None


def not_action_bug(statement: dict) -> dict | None:
    return None if "NotAction" in statement else statement


class Build(ReferenceTarget):
    name = "emulator"  # both builds: one baseline file, as one product at two versions
    bugs: tuple = ()

    def _rewrite(self, text: str, trust: bool) -> str:
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        stmts = doc.get("Statement") if isinstance(doc, dict) else None
        if not isinstance(stmts, list):
            return text
        out = []
        for st in stmts:
            for bug in self.bugs:
                st = bug(st) if isinstance(st, dict) else st
                if st is None:
                    break
            if st is not None:
                out.append(st)
        return json.dumps(dict(doc, Statement=out or [_inert(trust)]))

    def call(self, credentials, service, action, params):
        params = dict(params)
        for key in POLICY_PARAMS:
            if isinstance(params.get(key), str):
                params[key] = self._rewrite(params[key], trust=key == "AssumeRolePolicyDocument"
                                            or action == "UpdateAssumeRolePolicy")
        return super().call(credentials, service, action, params)


class Build1(Build):
    bugs = (action_case_bug,)


class Build2(Build):
    bugs = (action_case_bug, not_action_bug)


def build1() -> Build1:
    return Build1()


def build2() -> Build2:
    return Build2()
