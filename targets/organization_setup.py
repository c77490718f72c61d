"""Creating a scenario's organization on a target, through the Organizations API.

Two phases. `join` (before the rest of the world): the management account's administrator
creates the organization and the member accounts join it, then the OUs are created and the
accounts moved into them. `attach` (after the rest of the world, so that SCPs cannot stop its
creation): the policy types are enabled, the SCPs and RCPs created and attached, and
FullAWSAccess detached where the scenario says so.

Members join the way the target declares (`Target.organization_members`): "invite"
(InviteAccountToOrganization, then AcceptHandshake by the member's administrator: AWS's way to
bring in an existing account) or "create" (CreateAccount: the target gives the member a new
account id). APIs: https://docs.aws.amazon.com/organizations/latest/APIReference/Welcome.html
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from rolecall import organization as org_rules
from rolecall.scenario import ORG

# AWS's ids of the AWS-managed policies every root, OU and account starts with:
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html (FullAWSAccess)
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html (RCPFullAWSAccess)
FULL_AWS_ACCESS = "p-FullAWSAccess"
POLICY_TYPES = {"scps": "SERVICE_CONTROL_POLICY", "rcps": "RESOURCE_CONTROL_POLICY"}

Call = Callable[[str, str, str, Mapping[str, Any]], Any]  # (logical account, service, action, params) -> result


def join(org: Mapping[str, Any], account_ids: dict[str, str], call: Call, members: str) -> dict[str, str]:
    """Create the organization, bring the members in, create the OUs and move the accounts.
    Updates `account_ids` (members created with CreateAccount get new ids); returns the ids of
    'root', each OU and each account, for `attach`, and the organization's (key ORG)."""
    management = org["management"]
    created = call(management, "organizations", "CreateOrganization", {"FeatureSet": "ALL"})
    root_id = call(management, "organizations", "ListRoots", {})["Roots"][0]["Id"]
    ids = {org_rules.ROOT: root_id, ORG: created["Organization"]["Id"]}
    for acct in org.get("accounts", {}):
        if members == "create":
            status = call(management, "organizations", "CreateAccount",
                          {"Email": f"{acct.lower()}@example.com", "AccountName": acct})["CreateAccountStatus"]
            account_ids[acct] = status["AccountId"]
        else:
            hs = call(management, "organizations", "InviteAccountToOrganization",
                      {"Target": {"Id": account_ids[acct], "Type": "ACCOUNT"}})["Handshake"]
            call(acct, "organizations", "AcceptHandshake", {"HandshakeId": hs["Id"]})
    for acct in org_rules.members(org):
        ids[acct] = account_ids[acct]
    for ou in org_rules.ou_order(org):
        parent = ids[org["ous"][ou].get("parent", org_rules.ROOT)]
        ids[ou] = call(management, "organizations", "CreateOrganizationalUnit",
                       {"ParentId": parent, "Name": ou})["OrganizationalUnit"]["Id"]
    for acct, parent in org.get("accounts", {}).items():
        if parent != org_rules.ROOT:
            call(management, "organizations", "MoveAccount",
                 {"AccountId": ids[acct], "SourceParentId": root_id, "DestinationParentId": ids[parent]})
    return ids


def attach(org: Mapping[str, Any], ids: Mapping[str, str], call: Call, resolve: Callable[[Any], Any]) -> None:
    """Enable SCPs and RCPs, create and attach the scenario's policies, detach FullAWSAccess."""
    management = org["management"]
    for kind, policy_type in POLICY_TYPES.items():
        if kind == "scps" or org.get(kind):
            call(management, "organizations", "EnablePolicyType", {"RootId": ids[org_rules.ROOT], "PolicyType": policy_type})
        for name, pol in org.get(kind, {}).items():
            doc = pol["document"]
            content = resolve(doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":")))
            created = call(management, "organizations", "CreatePolicy",
                           {"Content": content, "Description": pol.get("description", name), "Name": name,
                            "Type": policy_type})
            policy_id = created["Policy"]["PolicySummary"]["Id"]
            for target in pol.get("targets", []):
                call(management, "organizations", "AttachPolicy", {"PolicyId": policy_id, "TargetId": ids[target]})
    for target in org.get("detach_full_access", []):
        call(management, "organizations", "DetachPolicy", {"PolicyId": FULL_AWS_ACCESS, "TargetId": ids[target]})
