"""IAM operations of the reference model: users, access keys, groups, roles, policies, instance
profiles, service-linked roles. Each function is one API action; results have boto3's shape.

The model dispatches `iam:<Action>` to this module's attribute of that name. The operations
live in one module per kind of entity, and every `@operation` function of those modules is
collected here, so a new action is written in its module and nothing else lists it:
  iam_roles.py              roles and service-linked roles
  iam_users.py              users and access keys
  iam_groups.py             groups
  iam_policies.py           managed policies, attaching and detaching them
  iam_instance_profiles.py  instance profiles
  oidc.py                   OpenID Connect identity providers
  simulator.py              the policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy)
  iam_common.py             what they share: quotas, authorization, documents, tags, pages, shapes
"""
from __future__ import annotations

from rolecall.targets.reference import (iam_groups, iam_instance_profiles, iam_policies, iam_roles, iam_users, oidc,
                                        simulator)
from rolecall.targets.reference.iam_common import (ACCESS_KEYS_PER_USER, authorize_missing, MANAGED_POLICY_MAX, QUOTAS, RECORDED,
                                                   ROLE_INLINE_AGGREGATE_MAX, SLR_DOCS, TRUST_POLICY_MAX,
                                                   USER_INLINE_AGGREGATE_MAX)

MODULES = (iam_roles, iam_users, iam_groups, iam_policies, iam_instance_profiles, oidc, simulator)


def _operations() -> dict:
    found: dict = {}
    for module in MODULES:
        for name, fn in vars(module).items():
            if getattr(fn, "is_operation", False) and getattr(fn, "__module__", None) == module.__name__:
                if name in found:
                    raise ImportError(f"iam:{name} is defined in both {found[name].__module__} and {module.__name__}")
                found[name] = fn
    return found


OPERATIONS = _operations()
globals().update(OPERATIONS)

__all__ = ["ACCESS_KEYS_PER_USER", "authorize_missing", "MANAGED_POLICY_MAX", "MODULES", "OPERATIONS", "QUOTAS", "RECORDED",
           "ROLE_INLINE_AGGREGATE_MAX", "SLR_DOCS", "TRUST_POLICY_MAX", "USER_INLINE_AGGREGATE_MAX", *OPERATIONS]
