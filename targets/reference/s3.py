"""S3 operations of the reference model, for the seed's delegation flows: buckets, bucket
policies and objects, evaluated with identity and bucket policies, same- and cross-account.
Objects are owned by the bucket owner (Object Ownership "bucket owner enforced", the default
since April 2023: https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html).

https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
"""
from __future__ import annotations

import hashlib

from rolecall.targets.reference import access
from rolecall.targets.reference.model import AwsError, Bucket, Caller, Model, operation
from rolecall.targets.reference.policy import MalformedPolicy, parse_policy

ACCESS_DENIED = "Access Denied"


def _account(caller: Caller) -> str | None:
    return caller.session.role_account if caller.kind == "session" else caller.account


def _bucket(model: Model, name) -> Bucket:
    bucket = model.buckets.get(name)
    if bucket is None:
        raise AwsError("NoSuchBucket", 404, "The specified bucket does not exist")
    return bucket


def _check(model: Model, caller: Caller, action: str, resource: str, bucket: Bucket):
    decision = access.decide(model, caller, action, resource, resource_account=bucket.account,
                             resource_policy=(f"bucket policy of {bucket.name}", bucket.policy))
    if not decision.allowed:
        raise AwsError("AccessDenied", 403, ACCESS_DENIED, decision=decision)
    return decision


@operation
def CreateBucket(model: Model, caller: Caller, p: dict):
    name = p["Bucket"]
    acct = _account(caller)
    access.require(model, caller, "s3:CreateBucket", f"arn:aws:s3:::{name}", resource_account=acct,
                   message=ACCESS_DENIED)
    existing = model.buckets.get(name)
    if existing is not None:
        if existing.account != acct:
            raise AwsError("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket "
                           "namespace is shared by all users of the system. Please select a different name and try again.")
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html: in us-east-1 an
        # owner re-creating its own bucket gets 200 OK.
        return {"Location": f"/{name}"}, None
    model.buckets[name] = Bucket(name, acct)
    return {"Location": f"/{name}"}, None


@operation
def PutBucketPolicy(model: Model, caller: Caller, p: dict):
    """403 without permission; 405 for an identity outside the bucket owner's account:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html"""
    bucket = _bucket(model, p["Bucket"])
    decision = _check(model, caller, "s3:PutBucketPolicy", f"arn:aws:s3:::{bucket.name}", bucket)
    if _account(caller) != bucket.account:
        raise AwsError("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
    try:
        policy = parse_policy(p["Policy"], "bucket")
    except MalformedPolicy as exc:
        raise AwsError("MalformedPolicy", 400, exc.message) from None
    for kind, value in policy.principals():
        if kind == "AWS" and value.startswith("arn:aws:iam::") and (":user/" in value or ":role/" in value):
            acct = model.accounts.get(value.split(":")[4])
            entity_kind = "users" if ":user/" in value else "roles"
            name = value.rsplit("/", 1)[-1].lower()
            entity = getattr(acct, entity_kind).get(name) if acct else None
            if entity is None or entity.arn != value:
                raise AwsError("MalformedPolicy", 400, "Invalid principal in policy")
    bucket.policy, bucket.policy_document = policy, p["Policy"]
    return {}, decision


@operation
def GetBucketPolicy(model: Model, caller: Caller, p: dict):
    bucket = _bucket(model, p["Bucket"])
    decision = _check(model, caller, "s3:GetBucketPolicy", f"arn:aws:s3:::{bucket.name}", bucket)
    if bucket.policy_document is None:
        raise AwsError("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
    return {"Policy": bucket.policy_document}, decision


@operation
def DeleteBucketPolicy(model: Model, caller: Caller, p: dict):
    bucket = _bucket(model, p["Bucket"])
    decision = _check(model, caller, "s3:DeleteBucketPolicy", f"arn:aws:s3:::{bucket.name}", bucket)
    if _account(caller) != bucket.account:
        raise AwsError("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
    bucket.policy = bucket.policy_document = None
    return {}, decision


def _etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


@operation
def PutObject(model: Model, caller: Caller, p: dict):
    bucket = _bucket(model, p["Bucket"])
    decision = _check(model, caller, "s3:PutObject", f"arn:aws:s3:::{bucket.name}/{p['Key']}", bucket)
    body = p.get("Body", b"")
    body = body.encode() if isinstance(body, str) else bytes(body)
    bucket.objects[p["Key"]] = body
    return {"ETag": _etag(body)}, decision


@operation
def GetObject(model: Model, caller: Caller, p: dict):
    """A missing key is NoSuchKey only for a caller allowed s3:ListBucket, else AccessDenied:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"""
    bucket = _bucket(model, p["Bucket"])
    key = p["Key"]
    decision = _check(model, caller, "s3:GetObject", f"arn:aws:s3:::{bucket.name}/{key}", bucket)
    if key not in bucket.objects:
        listing = access.decide(model, caller, "s3:ListBucket", f"arn:aws:s3:::{bucket.name}",
                                resource_account=bucket.account,
                                resource_policy=(f"bucket policy of {bucket.name}", bucket.policy))
        if listing.allowed:
            raise AwsError("NoSuchKey", 404, "The specified key does not exist.", decision=decision)
        raise AwsError("AccessDenied", 403, ACCESS_DENIED, decision=listing)
    body = bucket.objects[key]
    return {"Body": body.decode("utf-8", "replace"), "ContentLength": len(body), "ETag": _etag(body)}, decision


@operation
def DeleteObject(model: Model, caller: Caller, p: dict):
    bucket = _bucket(model, p["Bucket"])
    decision = _check(model, caller, "s3:DeleteObject", f"arn:aws:s3:::{bucket.name}/{p['Key']}", bucket)
    bucket.objects.pop(p["Key"], None)
    return {}, decision


@operation
def ListObjectsV2(model: Model, caller: Caller, p: dict):
    bucket = _bucket(model, p["Bucket"])
    prefix = p.get("Prefix", "")
    extra = {"s3:prefix": [prefix]} if prefix else None
    decision = access.decide(model, caller, "s3:ListBucket", f"arn:aws:s3:::{bucket.name}",
                             resource_account=bucket.account,
                             resource_policy=(f"bucket policy of {bucket.name}", bucket.policy), extra=extra)
    if not decision.allowed:
        raise AwsError("AccessDenied", 403, ACCESS_DENIED, decision=decision)
    keys = sorted(k for k in bucket.objects if k.startswith(prefix))
    out = {"Name": bucket.name, "Prefix": prefix, "KeyCount": len(keys), "MaxKeys": 1000, "IsTruncated": False}
    if keys:
        out["Contents"] = [{"Key": k, "Size": len(bucket.objects[k]), "ETag": _etag(bucket.objects[k])} for k in keys]
    return out, decision
