"""STS operations of the reference model: AssumeRole (with chaining, durations, external id,
source identity, session tags and session policies), GetSessionToken and GetCallerIdentity.

https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html (durations, chaining)
"""
from __future__ import annotations

import datetime as dt
import hashlib

from rolecall.targets.reference import access
from rolecall.targets.reference.model import AwsError, Caller, Model, Session, operation
from rolecall.targets.reference.policy import MalformedPolicy, NotModelled, parse_policy

# Role chaining limits a session to one hour, and asking for more fails (no silent clamp):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
CHAINED_SESSION_MAX = 3600
DEFAULT_DURATION = 3600
# Session policies (inline plus managed, plain text) are limited to 2048 characters:
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
SESSION_POLICY_MAX = 2048
SESSION_POLICY_ARNS_MAX = 10


def _role_from_arn(model: Model, arn) -> "tuple[str, object | None]":
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise AwsError("ValidationError", 400, f"{arn} is invalid")
    acct, name = parts[4], parts[5].rsplit("/", 1)[-1]
    account = model.accounts.get(acct)
    role = account.roles.get(name.lower()) if account else None
    if role is not None and role.arn != arn:
        raise NotModelled("a RoleArn that differs from the role's ARN in case or path")
    return acct, role


def parse_session_policies(model: Model, account: str, p: dict) -> list:
    """The session policies a call passes (`Policy` inline, `PolicyArns` managed policies of
    `account`), named for the trace: AssumeRole, AssumeRoleWithWebIdentity, GetFederationToken.
    A malformed inline policy is AWS's MalformedPolicyDocument; a large one's packed size is not
    modelled.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session"""
    out = []
    if "Policy" in p:
        if len(p["Policy"]) > SESSION_POLICY_MAX:
            raise NotModelled("the packed size of a large session policy")
        try:
            out.append(("inline session policy", parse_policy(p["Policy"], "session")))
        except MalformedPolicy as exc:
            raise AwsError(exc.code, 400, exc.message) from None
    for entry in p.get("PolicyArns") or []:
        arn = entry.get("arn") if isinstance(entry, dict) else None
        mp = model.account(account).policies.get(arn)
        if mp is None:
            raise NotModelled("a session policy ARN that is not a managed policy of the account")
        out.append((f"session managed policy {mp.name}", mp.policy))
    return out


@operation
def AssumeRole(model: Model, caller: Caller, p: dict):
    role_arn = p.get("RoleArn")
    role_account, role = _role_from_arn(model, role_arn)
    if caller.kind in ("root", "admin"):
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-api.html
        raise AwsError("AccessDenied", 403, "Roles may not be assumed by root accounts.",
                       reason="deny-root-cannot-assume")
    session_name = p["RoleSessionName"]
    denied = f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    if role is None:
        # A role that does not exist is denied like any other: no NoSuchEntity leak.
        raise AwsError("AccessDenied", 403, denied, reason="deny-role-not-found")

    extra: dict[str, list[str]] = {"sts:rolesessionname": [session_name]}
    if "ExternalId" in p:
        extra["sts:externalid"] = [p["ExternalId"]]
    incoming = caller.session
    source_identity = p.get("SourceIdentity")
    if incoming is not None and incoming.source_identity:
        if source_identity is not None and source_identity != incoming.source_identity:
            raise NotModelled("changing the source identity along a chain")
        source_identity = incoming.source_identity
    if "SourceIdentity" in p:
        extra["sts:sourceidentity"] = [p["SourceIdentity"]]
    tags = {t["Key"]: t.get("Value", "") for t in p.get("Tags") or []}
    if tags:
        if len({k.lower() for k in tags}) != len(tags):
            raise AwsError("InvalidParameterValue", 400,
                           "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        for k, v in tags.items():
            extra[f"aws:requesttag/{k.lower()}"] = [v]
        extra["aws:tagkeys"] = list(tags)
    transitive = p.get("TransitiveTagKeys") or []
    if transitive:
        lowered = {k.lower() for k in tags}
        if any(k.lower() not in lowered for k in transitive):
            raise AwsError("InvalidParameterValue", 400,
                           "The specified transitive tag key must be included in the requested tags.")
        extra["sts:transitivetagkeys"] = list(transitive)
    if incoming is not None:
        inherited = {k: v for k, v in incoming.tags.items() if k.lower() in incoming.transitive_tag_keys}
        if any(k.lower() in {i.lower() for i in inherited} for k in tags):
            raise AwsError("InvalidParameterValue", 400,
                           "One of the specified transitive tag keys can't be set because it conflicts with a "
                           "transitive tag key from the calling session.")
        tags = {**inherited, **tags}

    trust = (f"trust policy of role {role.name}", role.trust)
    decision = access.require(model, caller, "sts:AssumeRole", role_arn, resource_account=role_account,
                              resource_policy=trust, extra=extra, is_trust=True, message=denied)
    # Passing tags needs sts:TagSession, a source identity sts:SetSourceIdentity, in the
    # trust policy (and on the identity side across accounts):
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required
    # A source identity set earlier in a chain persists, and each later hop needs
    # sts:SetSourceIdentity "in both the permissions policy of the principal who is assuming the
    # role and in the role trust policy of the target role" (role chaining):
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms
    for wanted, action in ((bool(p.get("Tags")), "sts:TagSession"), (source_identity is not None, "sts:SetSourceIdentity")):
        if not wanted:
            continue
        message = f"User: {caller.arn} is not authorized to perform: {action} on resource: {role_arn}"
        access.require(model, caller, action, role_arn, resource_account=role_account, resource_policy=trust,
                       extra=extra, is_trust=True, message=message)
        if action == "sts:SetSourceIdentity" and incoming is not None and incoming.by_service is None:
            access.require(model, caller, action, role_arn, resource_account=incoming.role_account,
                           extra=extra, message=message)

    duration = int(p.get("DurationSeconds") or DEFAULT_DURATION)
    chained = incoming is not None and incoming.by_service is None
    if caller.kind != "service" and duration > role.max_session_duration:
        raise AwsError("ValidationError", 400,
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                       reason="deny-duration-exceeds-max")
    if chained and duration > CHAINED_SESSION_MAX:
        raise AwsError("ValidationError", 400,
                       "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
                       reason="deny-chained-duration")

    session_policies = parse_session_policies(model, role_account, p)

    expires = model.now + dt.timedelta(seconds=duration)
    session = Session(role_account=role_account, role_name=role.name, role_id=role.id, role_arn=role.arn,
                      session_name=session_name, expires=expires, chained=chained, session_policies=session_policies,
                      tags=tags, transitive_tag_keys=frozenset(k.lower() for k in transitive) |
                      (incoming.transitive_tag_keys if incoming else frozenset()),
                      source_identity=source_identity,
                      by_service=caller.service if caller.kind == "service" else None)
    credentials = _new_credentials(model, Caller("session", role_account, session=session), expires)
    result = {"Credentials": credentials,
              "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn}}
    if source_identity:
        result["SourceIdentity"] = source_identity
    return result, decision


# GetSessionToken: IAM users 900..129600 seconds, default 43200; the root user at most
# 3600 (a longer request "defaults to one hour"), default 3600:
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_TOKEN_MAX = 3600


def _new_credentials(model: Model, caller: Caller, expires: dt.datetime) -> dict:
    key_id = model.new_id("ASIA", 20)
    secret = model.new_secret()
    token = "FwoGZXIvYXdzE" + hashlib.sha256(key_id.encode()).hexdigest() * 4
    model.register_key(key_id, secret, caller)
    return {"AccessKeyId": key_id, "SecretAccessKey": secret, "SessionToken": token, "Expiration": expires}


@operation
def GetSessionToken(model: Model, caller: Caller, p: dict):
    """Temporary credentials for an IAM user or the root user; needs no permission (it only
    authenticates). Temporary credentials cannot call it ("Cannot call GetSessionToken with
    session credentials"; the table in
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html#stsapi_comparison,
    the message as AWS returns it in https://github.com/aws/aws-sdk-net/issues/1704)."""
    if caller.kind in ("session", "federated") or caller.session_token:
        raise AwsError("AccessDenied", 403, "Cannot call GetSessionToken with session credentials",
                       reason="deny-session-credentials")
    if caller.kind == "service":
        raise NotModelled("GetSessionToken as a service")
    if p.get("SerialNumber") or p.get("TokenCode"):
        raise NotModelled("MFA devices")
    if caller.kind == "user":
        duration = int(p.get("DurationSeconds") or SESSION_TOKEN_DEFAULT)
    else:
        duration = min(int(p.get("DurationSeconds") or ROOT_SESSION_TOKEN_MAX), ROOT_SESSION_TOKEN_MAX)
    expires = model.now + dt.timedelta(seconds=duration)
    holder = Caller(caller.kind, caller.account, user=caller.user, session_token=True, expires=expires)
    return {"Credentials": _new_credentials(model, holder, expires)}, None


@operation
def GetCallerIdentity(model: Model, caller: Caller, p: dict):
    """Needs no permission; works even under an explicit deny:
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
    if caller.kind == "user":
        u = caller.user
        return {"UserId": u.id, "Account": u.account, "Arn": u.arn}, None
    if caller.kind == "session":
        s = caller.session
        return {"UserId": s.user_id, "Account": s.role_account, "Arn": s.arn}, None
    if caller.kind in ("root", "admin"):
        return {"UserId": caller.account, "Account": caller.account, "Arn": caller.arn}, None
    if caller.kind == "federated":
        # a federated user's id is ACCOUNT:NAME (reference_policies_variables.html#policy-vars-infotouse)
        return {"UserId": f"{caller.account}:{caller.federation.name}", "Account": caller.account,
                "Arn": caller.arn}, None
    raise NotModelled("GetCallerIdentity as a service")


@operation
def GetAccessKeyInfo(model: Model, caller: Caller, p: dict):
    """The account an access key belongs to; needs sts:GetAccessKeyInfo on "*":
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html
    (AWS decodes any well-formed key id, also of another account or a deleted key; the model
    answers for the keys it issued and calls the rest not modelled)."""
    account = caller.session.role_account if caller.kind == "session" else caller.account
    access.require(model, caller, "sts:GetAccessKeyInfo", "*", resource_account=account)
    entry = model.keys.get(p.get("AccessKeyId"))
    if entry is None:
        raise NotModelled("GetAccessKeyInfo for a key the model did not issue")
    owner = entry[1]
    owner_account = owner.session.role_account if owner.kind == "session" else owner.account
    if owner_account is None:
        raise NotModelled("GetAccessKeyInfo for a service's credentials")
    return {"Account": owner_account}, None


# Federated access (web identity, federation tokens) lives in its own module.
from rolecall.targets.reference.federation import AssumeRoleWithWebIdentity, GetFederationToken  # noqa: E402,F401
