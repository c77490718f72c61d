"""Request parameters for the calls the families make: sts:AssumeRole's session name,
external id, session tags and source identity, and S3 object calls.

https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
Session tags need sts:TagSession and a source identity sts:SetSourceIdentity in the trust
policy: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from rolecall.strategies._draw import one_in, pick
from rolecall.strategies.conditions import Context, assume_role_context
from rolecall.strategies.world import SESSION_NAMES

EXTERNAL_IDS = ("ext-1", "ext-2")
OBJECT_KEYS = ("report.csv", "data/2026.json")


@dataclass(frozen=True)
class AssumeRequest:
    """sts:AssumeRole parameters (RoleArn aside), the context they add, and the trust actions
    they need besides sts:AssumeRole."""

    params: dict
    context: Context
    needs: tuple[str, ...]


def assume_role_request(draw, base: Context, *, session_name: str | None = None, tags_rate: int = 5,
                        source_identity_rate: int = 8) -> AssumeRequest:
    """RoleSessionName from the pool (or `session_name`); ExternalId half the time (one of
    two values, so a trust condition on it can match or not); session tags once in
    `tags_rate` draws; a SourceIdentity once in `source_identity_rate`."""
    name = session_name or pick(draw, SESSION_NAMES)
    params: dict = {"RoleSessionName": name}
    external = pick(draw, (None, None) + EXTERNAL_IDS)
    if external is not None:
        params["ExternalId"] = external
    needs: list[str] = []
    tags = None
    if one_in(draw, tags_rate):
        tags = {"project": pick(draw, ("apollo", "zeus"))}
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        needs.append("sts:TagSession")
    source_identity = None
    if one_in(draw, source_identity_rate):
        source_identity = pick(draw, ("bob", "admin-ticket-7"))
        params["SourceIdentity"] = source_identity
        needs.append("sts:SetSourceIdentity")
    ctx = assume_role_context(base, name, external, tags, source_identity)
    return AssumeRequest(params, ctx, tuple(needs))


def object_call(draw, bucket_ref: str, key: str, *, missing_rate: int = 8) -> tuple[str, dict, str]:
    """(call, params, key) for s3:GetObject (two times in three) or s3:PutObject on `key`;
    once in `missing_rate` a GetObject names a key the bucket lacks (NoSuchKey only for a
    caller allowed s3:ListBucket, else AccessDenied)."""
    if not one_in(draw, 3):
        if one_in(draw, missing_rate):
            key = "missing.txt"
        return "s3:GetObject", {"Bucket": bucket_ref, "Key": key}, key
    return "s3:PutObject", {"Bucket": bucket_ref, "Key": key, "Body": "written by rolecall"}, key


assume_role_requests = st.composite(assume_role_request)
object_calls = st.composite(object_call)
