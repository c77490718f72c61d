"""The property catalogue: one module per seed behaviour, each defining `PROPERTIES`.

A property says: scenarios drawn from this strategy behave on a target as on the oracle.
`CATALOGUE` is every property in a stable order; `select` narrows it by name or feature.
"""
from __future__ import annotations

import importlib

from rolecall.engine import Property

MODULES = ("temporary_credentials", "delegation", "cross_account", "service_linked_roles", "instance_profiles",
           "cross_account_s3", "role_chains", "policy_language", "input_validation", "stateful")


def _load() -> list[Property]:
    out: list[Property] = []
    for name in MODULES:
        out.extend(importlib.import_module(f"rolecall.conformance.{name}").PROPERTIES)
    return out


CATALOGUE: list[Property] = _load()


def select(names: list[str] | None = None, features: list[str] | None = None) -> list[Property]:
    props = CATALOGUE
    if names:
        unknown = set(names) - {p.name for p in CATALOGUE}
        if unknown:
            raise ValueError(f"unknown property {sorted(unknown)[0]!r} (known: {', '.join(p.name for p in CATALOGUE)})")
        props = [p for p in props if p.name in names]
    if features:
        props = [p for p in props if p.feature in features]
    return props
