"""The `aws` target's names: every resource a scenario creates on AWS is named
`rc-<run id>-<scenario>-<name>` and tagged `rolecall:run-id`; names map back to the scenario's
own in every answer, and list answers show the scenario only its own things.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

import botocore.session

TAG_KEY = "rolecall:run-id"
#: every name this target gives starts with this; group 1 is the run id the tag must repeat
RUN_PREFIX = re.compile(r"rc-([0-9a-f]{6})-")

_IAM_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)  # botocore's roleNameType/userNameType/... pattern
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_STOP = r"[^/\"\s,\]\}]"  # what can follow in an ARN inside a policy document's string
_IAM_ARN = re.compile(rf"(?P<head>arn:aws:iam::(?P<acct>\d{{12}}):(?P<kind>user|role|policy|instance-profile)"
                      rf"/(?:{_STOP}*/)*)(?P<name>{_STOP}*)")
_STS_ARN = re.compile(rf"(?P<head>arn:aws:sts::(?P<acct>\d{{12}}):assumed-role/)(?P<name>{_STOP}+)")
_NAME_PARAMS = {"RoleName": "role", "UserName": "user", "InstanceProfileName": "instance-profile"}
# List calls see the whole account: show the scenario only its own things.
_LISTS = {"ListRoles": ("Roles", "RoleName"), "ListUsers": ("Users", "UserName"),
          "ListPolicies": ("Policies", "PolicyName"),
          "ListInstanceProfiles": ("InstanceProfiles", "InstanceProfileName"), "ListBuckets": ("Buckets", "Name")}


def _name_limits() -> dict[str, int]:
    """Name length limits from botocore's IAM model (data over code)."""
    model = botocore.session.get_session().get_service_model("iam")
    shapes = {"role": "roleNameType", "user": "userNameType", "policy": "policyNameType",
              "instance-profile": "instanceProfileNameType"}
    return {kind: model.shape_for(shape).metadata["max"] for kind, shape in shapes.items()}


NAME_LIMITS = _name_limits()
BUCKET_LIMIT = 63  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html


def _fit(prefix: str, name: str, limit: int) -> str:
    """prefix+name, or, when that is too long, a shortened name made unique by a hash.

    The hash is of the lower-cased name: IAM names are unique regardless of case, so two
    names that collide on AWS still collide once shortened."""
    if len(prefix) + len(name) <= limit:
        return prefix + name
    digest = hashlib.sha256(name.lower().encode()).hexdigest()[:6]
    return prefix + name[: limit - len(prefix) - 7] + "-" + digest


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@dataclass
class _Resource:
    kind: str  # role, user, policy, instance-profile, bucket
    name: str  # concrete name (for a policy: its ARN once known)
    account: str | None  # None: whoever made it was not known; cleanup tries every account of the scenario
    path: str = "/"


class _Scenario:
    """One scenario's names: logical <-> concrete, and what it created."""

    def __init__(self, number: int, run_id: str, account_ids: Mapping[str, str]):
        self.number = number
        self.prefix = f"rc-{run_id}-{_b36(number)}-"
        self.run_prefix = f"rc-{run_id}-"
        self.accounts = set(account_ids.values())
        self.to_concrete: dict[tuple[str, str], str] = {}
        self.to_logical: dict[str, str] = {}
        self.buckets: set[str] = set()
        self.resources: list[_Resource] = []
        self.created_at: dict[str, float] = {}  # concrete name -> when it was created (monotonic)
        self.new_keys: dict[str, float] = {}  # access key id -> when it was created
        self.last_write: float | None = None
        self._back: re.Pattern | None = None

    def _learn(self, concrete: str, logical: str) -> None:
        if concrete != logical:
            self.to_logical[concrete] = logical
            self._back = None

    def iam_name(self, kind: str, logical: str) -> str:
        key = (kind, logical)
        if key in self.to_concrete:
            return self.to_concrete[key]
        limit = NAME_LIMITS[kind]
        if not (len(logical) <= limit and _IAM_NAME.fullmatch(logical)):
            return logical  # AWS rejects it as it is; prefixing could make an invalid name valid
        concrete = _fit(self.prefix, logical, limit)
        self.to_concrete[key] = concrete
        self._learn(concrete, logical)
        return concrete

    def bucket(self, name: str) -> str:
        if name in self.buckets or name.startswith(self.run_prefix) or not _BUCKET_NAME.fullmatch(name):
            return name
        concrete = _fit(self.prefix, name, BUCKET_LIMIT)
        self.buckets.add(concrete)
        self._learn(concrete, name)
        return concrete

    def arns(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.arns(v) for v in value]
        if isinstance(value, dict):
            return {k: self.arns(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        out = _IAM_ARN.sub(lambda m: self._arn_sub(m, m["kind"]), value)
        out = _STS_ARN.sub(lambda m: self._arn_sub(m, "role"), out)
        if "aws:username" in out.lower():
            out = self._usernames(out)
        return out

    def _arn_sub(self, m: re.Match, kind: str) -> str:
        name = m["name"]
        # `*`, `${aws:username}` and empty names stay: they match what the account holds at evaluation time
        if m["acct"] not in self.accounts or not name or name[0] in "*?" or "${" in name:
            return m.group(0)
        if "*" in name or "?" in name:
            concrete = self.prefix + name  # a pattern: prefixing keeps what it matches among the run's names
            self._learn(concrete, name)
        else:
            concrete = self.iam_name(kind, name)
        return m["head"] + concrete

    def _usernames(self, text: str) -> str:
        """`aws:username` condition values name users: they get the prefix too."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return text
        statements = doc.get("Statement") if isinstance(doc, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        changed = False
        for st in statements if isinstance(statements, list) else []:
            cond = st.get("Condition") if isinstance(st, dict) else None
            for block in cond.values() if isinstance(cond, dict) else []:
                if not isinstance(block, dict):
                    continue
                for key, v in block.items():
                    if key.lower() == "aws:username":
                        block[key] = [self._user_value(x) for x in v] if isinstance(v, list) else self._user_value(v)
                        changed = True
        return json.dumps(doc) if changed else text

    def _user_value(self, v: Any) -> Any:
        if not isinstance(v, str) or not v or v[0] in "*?" or "${" in v:
            return v
        return self.prefix + v if ("*" in v or "?" in v) else self.iam_name("user", v)

    def outgoing(self, service: str, action: str, params: Mapping[str, Any]) -> dict:
        out: dict[str, Any] = {}
        for key, value in params.items():
            if service == "iam" and key in _NAME_PARAMS and isinstance(value, str):
                out[key] = self.iam_name(_NAME_PARAMS[key], value)
            elif service == "iam" and key == "PolicyName" and action == "CreatePolicy" and isinstance(value, str):
                out[key] = self.iam_name("policy", value)  # inline policy names live inside their role or user
            elif service == "s3" and key == "Bucket" and isinstance(value, str):
                out[key] = self.bucket(value)
            elif key.endswith(("Arn", "Arns", "Document")) or key in ("Policy", "PermissionsBoundary"):
                out[key] = self.arns(value)
            elif service == "iam" and action.startswith("Untag") and key == "TagKeys" and isinstance(value, list):
                out[key] = [k for k in value if not (isinstance(k, str) and k.lower() == TAG_KEY)]
            else:
                out[key] = value
        return out

    def back(self, value: Any) -> Any:
        """Concrete names -> the scenario's names, in every string of a result or message."""
        if isinstance(value, str):
            if not self.to_logical or self.run_prefix not in value:
                return value
            if self._back is None:
                keys = sorted(self.to_logical, key=len, reverse=True)
                self._back = re.compile("|".join(re.escape(k) for k in keys))
            return self._back.sub(lambda m: self.to_logical[m.group(0)], value)
        if isinstance(value, dict):
            return {k: self.back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.back(v) for v in value]
        return value

    def mine(self, name: Any) -> bool:
        return isinstance(name, str) and (name in self.to_logical or name in self.buckets)

    def present(self, action: str, result: Any) -> Any:
        """What the scenario sees: its own things only, without the run's tag, under its own names."""
        if action in _LISTS and isinstance(result, dict):
            key, name_key = _LISTS[action]
            items = result.get(key)
            if isinstance(items, list):
                result = {**result, key: [i for i in items if self.mine(i.get(name_key))
                                          or (action == "ListPolicies" and ":aws:policy/" in str(i.get("Arn")))]}
        return self.back(_without_run_tag(result, top=True))


def _without_run_tag(value: Any, *, top: bool = False) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("Tags", "TagSet") and isinstance(v, list):
                v = [t for t in v if not (isinstance(t, dict) and str(t.get("Key", "")).lower() == TAG_KEY)]
                if not v and k == "Tags" and not top:
                    continue  # an entity without tags has no Tags list (List*Tags answers always have one)
            out[k] = _without_run_tag(v)
        return out
    if isinstance(value, list):
        return [_without_run_tag(v) for v in value]
    return value
