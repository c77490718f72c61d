"""What a policy statement is matched against (the request: its action, resource, principal
and context) and the compiled matchers of the Action, Resource and Principal elements.
Conditions are in policy_conditions.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .policy_patterns import (_alternation, _arn_source, _flag_chars, _glob_source, _has_vars, _pieces_regex, _resolve,
                              _tokenize)


# --- request side -------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who is making the request, as a Principal element sees it.

    `arn` is the user ARN, session ARN (arn:aws:sts::A:assumed-role/R/S), root ARN, or the
    service name for a service. `federated` (the IdP ARN or name, for AssumeRoleWithSAML or
    AssumeRoleWithWebIdentity callers) and `canonical_user` (S3) are optional extras.
    """
    arn: str
    account: str | None
    unique_id: str | None
    role_arn: str | None = None
    service: str | None = None
    federated: str | None = None
    canonical_user: str | None = None
    #: an IAM user or role with a permissions boundary (see `matching_statements`)
    bounded: bool = False


@dataclass
class Request:
    action: str                      # "sts:AssumeRole"
    resource: str                    # ARN
    principal: Principal | None      # None: an anonymous caller
    context: dict[str, list[str]]    # lower-cased condition key -> values; absent key = not in dict

# --- Action -------------------------------------------------------------------------------

class _ActionMatcher:
    """Action names are case-insensitive; * and ? are wildcards
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html)."""
    __slots__ = ("all", "names", "regex")

    def __init__(self, patterns: list[str]):
        self.all = "*" in patterns
        self.names = frozenset(p.lower() for p in patterns if "*" not in p and "?" not in p)
        wild = [p.lower() for p in patterns if ("*" in p or "?" in p)]
        self.regex = _alternation([_glob_source(_flag_chars([(p, True)])) for p in wild])

    def match(self, action_lower: str) -> bool:
        if self.all or action_lower in self.names:
            return True
        return self.regex is not None and self.regex.fullmatch(action_lower) is not None


# --- Resource -----------------------------------------------------------------------------

def _resource_tokens(text: str, variables: bool) -> list[tuple]:
    """Variables count only in the resource part of the ARN, after the fifth colon
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-resourceelement);
    elsewhere `${...}` stays as written."""
    tokens = _tokenize(text, variables)
    if not _has_vars(tokens):
        return tokens
    colons = 0
    out: list[tuple] = []
    for tok in tokens:
        if tok[0] == "v" and colons < 5:
            out.append(("t", tok[3]))
            continue
        if tok[0] == "t":
            colons += tok[1].count(":")
        out.append(tok)
    return out


class _ResourceMatcher:
    """Resource ARNs match case-sensitively; `*` alone matches every resource."""
    __slots__ = ("all", "regex", "dynamic")

    def __init__(self, patterns: list[str], variables: bool):
        self.all = "*" in patterns
        static: list[str] = []
        self.dynamic: list[list[tuple]] = []
        for p in patterns:
            tokens = _resource_tokens(p, variables)
            if _has_vars(tokens):
                self.dynamic.append(tokens)
            else:
                static.append(_arn_source(_flag_chars(_resolve(tokens, {}))))
        self.regex = _alternation(static)

    def match(self, resource: str, ctx: dict[str, list[str]]) -> bool | None:
        """True if some pattern matches, None if none does and a variable was unresolvable."""
        if self.all:
            return True
        if self.regex is not None and self.regex.fullmatch(resource) is not None:
            return True
        unresolved = False
        for tokens in self.dynamic:
            pieces = _resolve(tokens, ctx)
            if pieces is None:
                unresolved = True
            elif _pieces_regex(pieces, True).fullmatch(resource) is not None:
                return True
        return None if unresolved else False


# --- Principal ----------------------------------------------------------------------------

_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_NAME = r"[\w+=,.@-]+"
_PATH = r"(?:/[\x21-\x7e]*)?/"  # IAM path: / or /a/b/
_AWS_PRINCIPAL = re.compile(
    r"arn:aws(?:-[a-z]+)*:(?:"
    rf"iam::\d{{12}}:(?:root|user{_PATH}{_NAME}|role{_PATH}{_NAME})"
    rf"|sts::\d{{12}}:(?:assumed-role/{_NAME}/{_NAME}|federated-user/{_NAME})"
    r")", re.ASCII)
_UNIQUE_ID = re.compile(r"(?:AIDA|AROA)[A-Z0-9]{12,124}", re.ASCII)
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+", re.ASCII | re.IGNORECASE)
_CANONICAL = re.compile(r"[0-9a-f]{64}", re.ASCII)
_ROOT = re.compile(r"arn:aws(?:-[a-z]+)*:iam::(\d{12}):root", re.ASCII)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class _PrincipalMatcher:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"""
    __slots__ = ("star", "aws_star", "accounts", "arns", "role_arns", "unique_ids", "services",
                 "federated", "canonical")

    def __init__(self, values: list[tuple[str, str]], star: bool):
        self.star = star                 # "Principal": "*": everyone, services included
        self.aws_star = False            # {"AWS": "*"}: every AWS identity and anonymous callers
        self.accounts: set[str] = set()
        self.arns: set[str] = set()
        self.role_arns: set[str] = set()
        self.unique_ids: set[str] = set()
        self.services: set[str] = set()
        self.federated: set[str] = set()
        self.canonical: set[str] = set()
        for typ, v in values:
            if typ == "AWS":
                if v == "*":
                    self.aws_star = True
                elif _ACCOUNT.fullmatch(v):
                    self.accounts.add(v)
                elif (m := _ROOT.fullmatch(v)) is not None:
                    self.accounts.add(m.group(1))
                elif ":role/" in v:
                    self.role_arns.add(v)
                elif v.startswith("arn:"):
                    self.arns.add(v)
                else:
                    self.unique_ids.add(v)
            elif typ == "Service":
                self.services.add(v)
            elif typ == "Federated":
                self.federated.add(v)
            else:
                self.canonical.add(v)

    def match(self, p: Principal | None) -> bool:
        if self.star:
            return True
        if p is None:  # anonymous: "*" and {"AWS": "*"} are equivalent for anonymous users
            return self.aws_star
        if p.service is not None:
            return p.service in self.services
        if p.federated is not None:
            return p.federated in self.federated
        if p.canonical_user is not None and p.canonical_user in self.canonical:
            return True
        if self.aws_star:
            return True
        # An account principal (ID or root ARN) delegates to the whole account.
        if p.account is not None and p.account in self.accounts:
            return True
        if p.arn in self.arns:
            return True
        if p.role_arn is not None and p.role_arn in self.role_arns:
            return True
        return p.unique_id is not None and p.unique_id in self.unique_ids
