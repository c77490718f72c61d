"""A scenario's AWS Organizations structure: the management account, OUs, member accounts, and
the SCPs and RCPs attached to the root, the OUs and the accounts.

Plain data (the scenario file's top-level `organization`, docs/scenario-format.md): this module
checks it and answers structural questions (an account's path from the root); targets create it
through the Organizations API and the reference model evaluates it.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

ROOT = "root"
ORG_KEYS = ("management", "ous", "accounts", "scps", "rcps", "detach_full_access")
POLICY_KEYS = ("document", "targets", "description")
# OU names are lower case so that they never collide with account names (capitals) nor "root".
OU_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)


def check(org: Any, accounts: Mapping[str, Any], fail: Callable[[str, str], None], policy: Callable) -> None:
    """Validate `organization`; `fail(path, problem)` raises (the scenario loader's checker)."""
    p = "$.organization"
    if not isinstance(org, dict):
        fail(p, "expected an object")
    for k in org:
        if k not in ORG_KEYS:
            fail(f"{p}.{k}", f"unknown field {k!r} (expected one of: {', '.join(ORG_KEYS)})")
    management = org.get("management")
    if management not in accounts:
        fail(f"{p}.management", f"expected the name of an account of this scenario, got {management!r}")
    ous = org.get("ous", {})
    if not isinstance(ous, dict):
        fail(f"{p}.ous", "expected an object (OU name -> {\"parent\": \"root\" or an OU name})")
    for name, ou in ous.items():
        if not OU_NAME.fullmatch(name) or name in (ROOT, "org"):
            fail(f"{p}.ous.{name}", f"OU names are lower case letters, digits and '-' (not 'root' nor 'org'), "
                                    f"got {name!r}")
        if not isinstance(ou, dict) or set(ou) - {"parent"}:
            fail(f"{p}.ous.{name}", "expected an object with an optional 'parent'")
        parent = ou.get("parent", ROOT)
        if parent != ROOT and parent not in ous:
            fail(f"{p}.ous.{name}.parent", f"no OU {parent!r} (expected 'root' or an OU of this organization)")
    for name in ous:  # no cycles: every OU reaches the root
        seen, at = set(), name
        while at != ROOT:
            if at in seen:
                fail(f"{p}.ous.{name}.parent", "OUs form a cycle")
            seen.add(at)
            at = ous[at].get("parent", ROOT)
    members = org.get("accounts", {})
    if not isinstance(members, dict):
        fail(f"{p}.accounts", "expected an object (member account -> 'root' or an OU name)")
    for acct, parent in members.items():
        if acct not in accounts:
            fail(f"{p}.accounts.{acct}", f"no account {acct!r} in this scenario")
        if parent != ROOT and parent not in ous:
            fail(f"{p}.accounts.{acct}", f"no OU {parent!r} (expected 'root' or an OU of this organization)")
    levels = {ROOT, *ous, management, *members}
    for kind in ("scps", "rcps"):
        pols = org.get(kind, {})
        if not isinstance(pols, dict):
            fail(f"{p}.{kind}", "expected an object (policy name -> {\"document\", \"targets\"})")
        for name, pol in pols.items():
            pp = f"{p}.{kind}.{name}"
            if not POLICY_NAME.fullmatch(name):
                fail(pp, f"invalid policy name {name!r}")
            if not isinstance(pol, dict):
                fail(pp, "expected an object with 'document' and 'targets'")
            for k in pol:
                if k not in POLICY_KEYS:
                    fail(f"{pp}.{k}", f"unknown field {k!r} (expected one of: {', '.join(POLICY_KEYS)})")
            if "document" not in pol:
                fail(f"{pp}.document", "missing required field")
            policy(pol["document"], f"{pp}.document")
            targets = pol.get("targets", [])
            if not isinstance(targets, list):
                fail(f"{pp}.targets", "expected an array of 'root', OU names and account names")
            for i, t in enumerate(targets):
                if t not in levels:
                    fail(f"{pp}.targets[{i}]", f"{t!r} is not 'root', an OU or an account of this organization")
    detach = org.get("detach_full_access", [])
    if not isinstance(detach, list):
        fail(f"{p}.detach_full_access", "expected an array of 'root', OU names and account names")
    scp_targets = {t for pol in org.get("scps", {}).values() for t in pol.get("targets", [])}
    for i, t in enumerate(detach):
        if t not in levels:
            fail(f"{p}.detach_full_access[{i}]", f"{t!r} is not 'root', an OU or an account of this organization")
        if t not in scp_targets:
            # AWS keeps at least one SCP on every root, OU and account (ConstraintViolationException):
            # https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_attach.html
            fail(f"{p}.detach_full_access[{i}]", f"{t!r} would have no SCP left: attach one of `scps` to it first")


def members(org: Mapping[str, Any]) -> dict[str, str]:
    """Member account -> its parent ('root' or an OU), the management account included (root by
    default: it is where the account that creates an organization stays)."""
    out = {org["management"]: ROOT}
    out.update(org.get("accounts", {}))
    return out


def ou_order(org: Mapping[str, Any]) -> list[str]:
    """OU names, every parent before its children (the order they can be created in)."""
    ous = org.get("ous", {})
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        parent = ous[name].get("parent", ROOT)
        if parent != ROOT:
            visit(parent)
        order.append(name)

    for name in ous:
        visit(name)
    return order


def path_of(org: Mapping[str, Any], account: str) -> list[str]:
    """The levels from the root down to a member account: ['root', ou..., account]."""
    ous = org.get("ous", {})
    chain = [account]
    at = members(org)[account]
    while at != ROOT:
        chain.append(at)
        at = ous[at].get("parent", ROOT)
    chain.append(ROOT)
    return chain[::-1]
