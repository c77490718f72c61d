"""Principal elements for trust and bucket policies, drawn relative to the caller a step
will use: forms that name it (its ARN, its role's ARN, its session ARN, its account as an
id or root ARN, `*`, a list holding it) and near misses that do not.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
Every user or role a form names is written as a reference, so `WorldBuilder` declares it.
"""
from __future__ import annotations

from typing import Any, Union

from hypothesis import strategies as st

from rolecall.strategies._draw import pick
from rolecall.strategies.world import (NEAR_MISS_DIRECTIONS, Entity, Service, SessionOf, near_name, other_account,
                                      root_arn)

Subject = Union[Entity, SessionOf, Service]

SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "redshift.amazonaws.com")

DIRECT, ACCOUNT, ANY = "direct", "account", "any"


def _near(name: str, direction: str = "longer") -> str:
    return near_name(name, direction)


def _other_service(name: str) -> str:
    return next(s for s in SERVICES if s != name)


def naming_forms(subject: Subject, how: str = ANY) -> list[tuple[str, Any]]:
    """(label, Principal element) pairs that name `subject`. `how`: DIRECT forms name the
    principal itself (enough on their own in the same account), ACCOUNT forms name its
    account (which delegates to the account's identity policies), ANY both."""
    direct: list[tuple[str, Any]] = []
    account: list[tuple[str, Any]] = []
    if isinstance(subject, Service):
        direct = [("service", {"Service": subject.name}),
                  ("service-list", {"Service": [_other_service(subject.name), subject.name]})]
        return direct
    acct = subject.account
    if isinstance(subject, Entity):
        direct = [("user-arn" if subject.kind == "user" else "role-arn", {"AWS": subject.ref}),
                  ("arn-in-list", {"AWS": [Entity(acct, subject.kind, _near(subject.name)).ref, subject.ref]}),
                  ("star", "*"), ("aws-star", {"AWS": "*"})]
    else:
        direct = [("role-arn", {"AWS": subject.role.ref}), ("session-arn", {"AWS": subject.arn}),
                  ("star", "*")]
    account = [("account-root", {"AWS": root_arn(acct)}), ("account-id", {"AWS": f"{{{{{acct}}}}}"})]
    return {DIRECT: direct, ACCOUNT: account, ANY: direct + account}[how]


def missing_forms(subject: Subject, unrelated: Entity | None = None, direction: str = "longer"
                  ) -> list[tuple[str, Any]]:
    """(label, Principal element) pairs that look close to `subject` but do not name it. The
    near-miss name differs from the subject's in `direction` (`world.NEAR_MISS_DIRECTIONS`).
    Case and path variants of a user or role ARN are not among them: IAM refuses a trust or
    bucket policy naming a principal that does not exist, and names are unique regardless of
    case (`conditions` and `policies` draw those variants in ARN conditions and Resources)."""
    if isinstance(subject, Service):
        return [("other-service", {"Service": _other_service(subject.name)}),
                ("aws-star-not-service", {"AWS": "*"})]
    acct = subject.account
    stranger = other_account(acct, "A")
    forms: list[tuple[str, Any]] = [("other-account-root", {"AWS": root_arn(stranger)})]
    if isinstance(subject, Entity):
        forms += [(f"near-miss-name-{direction}",
                   {"AWS": Entity(acct, subject.kind, _near(subject.name, direction), subject.path).ref}),
                  ("same-name-other-account", {"AWS": Entity(stranger, subject.kind, subject.name).ref}),
                  ("service-not-user", {"Service": "ec2.amazonaws.com"})]
    else:
        forms += [(f"other-session-name-{direction}",
                   {"AWS": SessionOf(subject.role, _near(subject.session_name, direction), "-").arn}),
                  (f"near-miss-role-{direction}", {"AWS": Entity(acct, "role", _near(subject.role.name, direction)).ref}),
                  ("same-role-other-account", {"AWS": Entity(stranger, "role", subject.role.name).ref})]
    if unrelated is not None:
        forms.append(("unrelated-principal", {"AWS": unrelated.ref}))
    return forms


def principal_element(draw, subject: Subject, *, names: bool, how: str = ANY,
                      unrelated: Entity | None = None) -> tuple[Any, str]:
    """A Principal element and its label: one that names `subject` (`names=True`, in the
    way `how` asks) or a near miss that does not (`names=False`), uniformly among the forms
    (a near miss in a direction drawn uniformly, shrinking towards "longer")."""
    if names:
        forms = naming_forms(subject, how)
    else:
        forms = missing_forms(subject, unrelated, pick(draw, NEAR_MISS_DIRECTIONS))
    label, element = pick(draw, forms)
    return element, label


principal_elements = st.composite(principal_element)
