"""IAM OIDC identity providers in the reference model: create, read, list, delete, and their
client ids (audiences) and thumbprints. A provider's ARN is
arn:aws:iam::ACCOUNT:oidc-provider/<URL without https://>.

https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetOpenIDConnectProvider.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_RemoveClientIDFromOpenIDConnectProvider.html
"""
from __future__ import annotations

from rolecall.targets.reference.model import AwsError, Caller, Model, OidcProvider, operation
from rolecall.targets.reference.policy import NotModelled


def _iam():
    from rolecall.targets.reference import iam_common

    return iam_common


def _provider(model: Model, acct: str, arn) -> OidcProvider:
    provider = model.account(acct).oidc_providers.get(arn) if isinstance(arn, str) else None
    if provider is None:
        raise AwsError("NoSuchEntity", 404, f"OpenIDConnect Provider not found for arn {arn}")
    return provider


@operation
def CreateOpenIDConnectProvider(model: Model, caller: Caller, p: dict):
    iam = _iam()
    acct = iam._account(model, caller)
    url = p.get("Url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise NotModelled("an OIDC provider URL without https:// (IAM's answer is not sourced)")
    name = url[len("https://"):].rstrip("/")
    arn = f"arn:aws:iam::{acct}:oidc-provider/{name}"
    iam._authorize(model, caller, "CreateOpenIDConnectProvider", arn)
    providers = model.account(acct).oidc_providers
    if arn in providers:
        raise AwsError("EntityAlreadyExists", 409, f"Provider with url {url} already exists.")
    thumbprints = list(p.get("ThumbprintList") or [])
    tags = iam._tags(p)
    providers[arn] = OidcProvider(acct, name, arn, client_ids=list(dict.fromkeys(p.get("ClientIDList") or [])),
                                  thumbprints=thumbprints, tags=tags, create_date=model.now)
    out = {"OpenIDConnectProviderArn": arn}
    if tags:
        out["Tags"] = iam._tag_list(tags)
    return out, None


@operation
def GetOpenIDConnectProvider(model: Model, caller: Caller, p: dict):
    """The URL comes back without https:// (the API reference's example)."""
    iam = _iam()
    acct = iam._account(model, caller)
    provider = _provider(model, acct, p.get("OpenIDConnectProviderArn"))
    iam._authorize(model, caller, "GetOpenIDConnectProvider", provider.arn)
    out = {"Url": provider.url, "ClientIDList": list(provider.client_ids),
           "ThumbprintList": list(provider.thumbprints), "CreateDate": provider.create_date}
    out["Tags"] = iam._tag_list(provider.tags)
    return out, None


@operation
def ListOpenIDConnectProviders(model: Model, caller: Caller, p: dict):
    iam = _iam()
    acct = iam._account(model, caller)
    iam._authorize(model, caller, "ListOpenIDConnectProviders", "*")
    return {"OpenIDConnectProviderList": [{"Arn": arn} for arn in sorted(model.account(acct).oidc_providers)]}, None


@operation
def DeleteOpenIDConnectProvider(model: Model, caller: Caller, p: dict):
    iam = _iam()
    acct = iam._account(model, caller)
    provider = _provider(model, acct, p.get("OpenIDConnectProviderArn"))
    iam._authorize(model, caller, "DeleteOpenIDConnectProvider", provider.arn)
    del model.account(acct).oidc_providers[provider.arn]
    return {}, None


@operation
def AddClientIDToOpenIDConnectProvider(model: Model, caller: Caller, p: dict):
    """Idempotent: adding a client id the provider has "does not fail or return an error"."""
    iam = _iam()
    acct = iam._account(model, caller)
    provider = _provider(model, acct, p.get("OpenIDConnectProviderArn"))
    iam._authorize(model, caller, "AddClientIDToOpenIDConnectProvider", provider.arn)
    if p["ClientID"] not in provider.client_ids:
        provider.client_ids.append(p["ClientID"])
    return {}, None


@operation
def RemoveClientIDFromOpenIDConnectProvider(model: Model, caller: Caller, p: dict):
    """Idempotent: removing a client id the provider lacks "does not fail or return an error"."""
    iam = _iam()
    acct = iam._account(model, caller)
    provider = _provider(model, acct, p.get("OpenIDConnectProviderArn"))
    iam._authorize(model, caller, "RemoveClientIDFromOpenIDConnectProvider", provider.arn)
    if p["ClientID"] in provider.client_ids:
        provider.client_ids.remove(p["ClientID"])
    return {}, None


@operation
def UpdateOpenIDConnectProviderThumbprint(model: Model, caller: Caller, p: dict):
    iam = _iam()
    acct = iam._account(model, caller)
    provider = _provider(model, acct, p.get("OpenIDConnectProviderArn"))
    iam._authorize(model, caller, "UpdateOpenIDConnectProviderThumbprint", provider.arn)
    provider.thumbprints = list(p.get("ThumbprintList") or [])
    return {}, None
