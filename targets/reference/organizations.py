"""AWS Organizations in the reference model: the organization's structure (the Organizations
API calls rolecall creates it with) and which SCPs and RCPs apply to a request.

Sources:
- SCPs: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
  ("SCPs don't affect users or roles in the management account"; "SCPs do not affect any
  service-linked role"; every level from the root to the account must allow) and
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
- RCPs: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
  ("RCPs don't affect resources in the management account"; the services they apply to, among
  them Amazon S3 and AWS STS; RCPFullAWSAccess is attached everywhere and cannot be detached) and
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
- the API: https://docs.aws.amazon.com/organizations/latest/APIReference/Welcome.html
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from rolecall.targets.reference.evaluation import PolicySet
from rolecall.targets.reference.model import AwsError, Caller, Model, operation
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, Policy, parse_policy

FULL_AWS_ACCESS = "p-FullAWSAccess"
RCP_FULL_AWS_ACCESS = "p-RCPFullAWSAccess"
SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
# Services of the model whose resources RCPs restrict (the RCP page's list also names KMS, SQS,
# Secrets Manager and others, which the model does not implement). IAM is not among them.
RCP_SERVICES = frozenset({"s3", "sts"})
_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class OrgPolicy:
    id: str
    name: str
    type: str
    content: str
    policy: Policy
    aws_managed: bool = False


@dataclass
class Organization:
    id: str
    management: str
    root_id: str
    parents: dict[str, str] = field(default_factory=dict)  # account id or OU id -> parent id
    ous: dict[str, str] = field(default_factory=dict)  # OU id -> name
    policy_types: set[str] = field(default_factory=set)
    policies: dict[str, OrgPolicy] = field(default_factory=dict)
    attached: dict[str, list[str]] = field(default_factory=dict)  # target id -> policy ids
    handshakes: dict[str, str] = field(default_factory=dict)  # handshake id -> invited account

    def path(self, account: str) -> list[str]:
        """Target ids from the root down to the account."""
        chain = [account]
        while chain[-1] != self.root_id:
            chain.append(self.parents[chain[-1]])
        return chain[::-1]

    def levels(self, account: str, policy_type: str) -> list[PolicySet]:
        out = []
        for target in self.path(account):
            kind = "scp" if policy_type == SCP else "rcp"
            where = "root" if target == self.root_id else self.ous.get(target, f"account {target}")
            out.append(PolicySet(kind, [(f"{kind.upper()} {self.policies[p].name} on {where}", self.policies[p].policy)
                                        for p in self.attached.get(target, []) if self.policies[p].type == policy_type]))
        return out


def _id(model: Model, prefix: str, length: int) -> str:
    digest = hashlib.sha256(f"{prefix}{model.new_id('X')}".encode()).hexdigest()
    return prefix + "".join(c for c in digest if c.isalnum())[:length]


def _org(model: Model) -> Organization:
    org = getattr(model, "organization", None)
    if org is None:
        raise AwsError("AWSOrganizationsNotInUseException", 400,
                       "Your account is not a member of an organization.")
    return org


def _management(model: Model, caller: Caller) -> Organization:
    org = _org(model)
    if caller.kind not in ("admin", "root") or caller.account != org.management:
        raise NotModelled("an Organizations call by anyone but the management account's administrator")
    return org


def _aws_managed(org: Organization, policy_id: str, name: str, policy_type: str, doc: dict) -> None:
    text = json.dumps(doc)
    org.policies[policy_id] = OrgPolicy(policy_id, name, policy_type, text, parse_policy(text, "identity"),
                                        aws_managed=True)


def _join(org: Organization, target: str, parent: str) -> None:
    org.parents[target] = parent
    org.attached[target] = [FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS]


@operation
def CreateOrganization(model: Model, caller: Caller, p: dict):
    if caller.kind not in ("admin", "root"):
        raise NotModelled("CreateOrganization by anyone but an account's administrator")
    if getattr(model, "organization", None) is not None:
        raise AwsError("AlreadyInOrganizationException", 400,
                       "The provided account is already a member of an organization.")
    org = Organization(id=_id(model, "o-", 10), management=caller.account, root_id=_id(model, "r-", 4))
    org.attached[org.root_id] = [FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS]
    _aws_managed(org, FULL_AWS_ACCESS, "FullAWSAccess", SCP, _ALLOW_ALL)
    # RCPFullAWSAccess allows every principal; its Principal "*" is left out: the model's
    # identity-kind parse matches it the same way (RCPs only ever name "*").
    _aws_managed(org, RCP_FULL_AWS_ACCESS, "RCPFullAWSAccess", RCP, _ALLOW_ALL)
    _join(org, caller.account, org.root_id)
    model.organization = org
    return {"Organization": {"Id": org.id, "FeatureSet": p.get("FeatureSet", "ALL"),
                             "MasterAccountId": org.management}}, None


@operation
def ListRoots(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    types = [{"Type": t, "Status": "ENABLED"} for t in sorted(org.policy_types)]
    return {"Roots": [{"Id": org.root_id, "Name": "Root", "PolicyTypes": types}]}, None


@operation
def EnablePolicyType(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    if p["PolicyType"] not in (SCP, RCP):
        raise NotModelled(f"policy type {p['PolicyType']}")
    if p["PolicyType"] in org.policy_types:
        raise AwsError("PolicyTypeAlreadyEnabledException", 400, "The specified policy type is already enabled.")
    org.policy_types.add(p["PolicyType"])
    return {"Root": {"Id": org.root_id}}, None


@operation
def InviteAccountToOrganization(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    handshake = _id(model, "h-", 10)
    org.handshakes[handshake] = p["Target"]["Id"]
    return {"Handshake": {"Id": handshake, "State": "OPEN"}}, None


@operation
def AcceptHandshake(model: Model, caller: Caller, p: dict):
    org = _org(model)
    invited = org.handshakes.get(p["HandshakeId"])
    if invited is None or caller.kind not in ("admin", "root") or caller.account != invited:
        raise NotModelled("accepting a handshake that was not sent to the caller's account")
    del org.handshakes[p["HandshakeId"]]
    _join(org, invited, org.root_id)
    return {"Handshake": {"Id": p["HandshakeId"], "State": "ACCEPTED"}}, None


@operation
def CreateOrganizationalUnit(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    if p["ParentId"] not in (org.root_id, *org.ous):
        raise AwsError("ParentNotFoundException", 400, "We can't find a root or OU with the ParentId that you specified.")
    ou = f"ou-{org.root_id[2:]}-{_id(model, '', 8)}"
    org.ous[ou] = p["Name"]
    _join(org, ou, p["ParentId"])
    return {"OrganizationalUnit": {"Id": ou, "Name": p["Name"]}}, None


@operation
def MoveAccount(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    if org.parents.get(p["AccountId"]) != p["SourceParentId"] or p["DestinationParentId"] not in (org.root_id, *org.ous):
        raise NotModelled("MoveAccount with parents that do not match the organization")
    org.parents[p["AccountId"]] = p["DestinationParentId"]
    return {}, None


@operation
def CreatePolicy(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    kind = p["Type"]
    if kind not in (SCP, RCP):
        raise NotModelled(f"policy type {kind}")
    content = p["Content"]
    try:
        doc = json.loads(content)
        if kind == RCP:
            # RCPs take Principal "*" only, and only RCPFullAWSAccess may Allow:
            # https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
            stmts = doc.get("Statement") if isinstance(doc, dict) else None
            stmts = [stmts] if isinstance(stmts, dict) else stmts
            if not isinstance(stmts, list) or any(not isinstance(s, dict) or s.get("Principal") not in ("*", {"AWS": "*"})
                                                  or s.get("Effect") != "Deny" for s in stmts):
                raise MalformedPolicy("an RCP statement must Deny with Principal \"*\"")
            doc = {**doc, "Statement": [{k: v for k, v in s.items() if k != "Principal"} for s in stmts]}
        policy = parse_policy(doc, "identity")
    except (ValueError, MalformedPolicy) as exc:
        raise AwsError("MalformedPolicyDocumentException", 400, f"The provided policy document doesn't meet the "
                       f"requirements of the specified policy type. ({exc})") from None
    policy_id = _id(model, "p-", 8)
    org.policies[policy_id] = OrgPolicy(policy_id, p["Name"], kind, content, policy)
    return {"Policy": {"PolicySummary": {"Id": policy_id, "Name": p["Name"], "Type": kind, "AwsManaged": False},
                       "Content": content}}, None


def _target(org: Organization, target: str) -> str:
    if target not in org.attached:
        raise AwsError("TargetNotFoundException", 400, "We can't find a root, OU, or account with the TargetId "
                       "that you specified.")
    return target


@operation
def AttachPolicy(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    policy = org.policies.get(p["PolicyId"])
    if policy is None:
        raise AwsError("PolicyNotFoundException", 400, "We can't find a policy with the PolicyId that you specified.")
    if policy.type not in org.policy_types:
        raise AwsError("PolicyTypeNotEnabledException", 400,
                       "This operation can be performed only for enabled policy types.")
    attached = org.attached[_target(org, p["TargetId"])]
    if policy.id in attached:
        raise AwsError("DuplicatePolicyAttachmentException", 400,
                       "The selected policy is already attached to the specified target.")
    attached.append(policy.id)
    return {}, None


@operation
def DetachPolicy(model: Model, caller: Caller, p: dict):
    org = _management(model, caller)
    attached = org.attached[_target(org, p["TargetId"])]
    policy = org.policies.get(p["PolicyId"])
    if policy is None or policy.id not in attached:
        raise AwsError("PolicyNotAttachedException", 400, "The policy isn't attached to the specified target.")
    if policy.id == RCP_FULL_AWS_ACCESS or not any(
            org.policies[q].type == policy.type for q in attached if q != policy.id):
        # RCPFullAWSAccess cannot be detached, and every target keeps at least one SCP.
        raise AwsError("ConstraintViolationException", 400, "You cannot remove the last policy of this type "
                       "from the target.")
    attached.remove(policy.id)
    return {}, None


# ---- evaluation: which SCPs and RCPs apply to a request

def _principal_account(model: Model, caller: Caller) -> str | None:
    if caller.kind in ("service", "anonymous"):
        return None
    if caller.kind == "session":
        return caller.session.role_account
    return caller.account


def _service_linked(model: Model, caller: Caller) -> bool:
    if caller.kind != "session":
        return False
    role = model.account(caller.session.role_account).roles.get(caller.session.role_name.lower())
    return role is not None and role.service_linked is not None


def scp_levels(model: Model, caller: Caller) -> list[PolicySet]:
    """The SCPs of each level from the root to the caller's account; [] when none apply (no
    organization, an account outside it, the management account, a service-linked role)."""
    org = getattr(model, "organization", None)
    account = _principal_account(model, caller)
    if (org is None or SCP not in org.policy_types or account is None or account not in org.parents
            or account == org.management):
        return []
    if _service_linked(model, caller):
        return []
    return org.levels(account, SCP)


def rcp_levels(model: Model, caller: Caller, action: str, resource: str, resource_account: str | None) -> list[PolicySet]:
    """The RCPs of each level from the root to the resource's account; [] when none apply."""
    org = getattr(model, "organization", None)
    if (org is None or resource_account is None or resource_account not in org.parents
            or resource_account == org.management or RCP not in org.policy_types or resource == "*"
            or action.split(":", 1)[0] not in RCP_SERVICES):
        return []
    if _service_linked(model, caller):
        return []
    levels = org.levels(resource_account, RCP)
    if caller.kind in ("service", "anonymous") and any(len(level.policies) > 1 for level in levels):
        raise NotModelled("an RCP on a request by a service principal or an anonymous caller")
    return levels


def context_keys(model: Model, caller: Caller, resource: str, resource_account: str | None) -> dict[str, list[str]]:
    """aws:ResourceAccount, and the organization keys of the principal and of the resource
    (present only for accounts in the organization):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount"""
    ctx: dict[str, list[str]] = {}
    if resource_account is not None and resource != "*":
        ctx["aws:resourceaccount"] = [resource_account]
    org = getattr(model, "organization", None)
    if org is None:
        return ctx
    for side, account in (("principal", _principal_account(model, caller)), ("resource", resource_account)):
        if account in org.parents and (side == "principal" or "aws:resourceaccount" in ctx):
            ctx[f"aws:{side}orgid"] = [org.id]
            ctx[f"aws:{side}orgpaths"] = ["/".join([org.id, *org.path(account)[:-1]]) + "/"]
    return ctx


__all__ = ["scp_levels", "rcp_levels", "context_keys", "Organization"]
