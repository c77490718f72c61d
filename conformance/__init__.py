"""The property catalogue: every module of this package defines `PROPERTIES`.

A property says: scenarios drawn from this strategy behave on a target as on the oracle. A
new property is one module here (no list to update): `CATALOGUE` is every module's
properties, cheapest first; `select` narrows it by feature, or to the properties named (in the
order they are named). Modules named
`test_*` are pytest's entry points, not properties.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable

from rolecall.property import Property


def property_modules(paths: Iterable[str]) -> list[str]:
    """The property modules of a package, by name."""
    return sorted(m.name for m in pkgutil.iter_modules(list(paths)) if not m.name.startswith(("_", "test_")))


def load(paths: Iterable[str], package: str) -> list[Property]:
    """Every property the package's modules define, module by module."""
    out: list[Property] = []
    for name in property_modules(paths):
        module = importlib.import_module(f"{package}.{name}")
        props = getattr(module, "PROPERTIES", None)
        if not isinstance(props, list) or not all(isinstance(p, Property) for p in props):
            raise TypeError(f"{module.__file__}: a property module defines PROPERTIES, a list of Property")
        out.extend(props)
    return out


MODULES = tuple(property_modules(__path__))
#: cheapest first (a property's `cost`: seconds of a cell on moto), so a run shows results early
#: and a search that stops at the first property to find something stops soon
CATALOGUE: list[Property] = sorted(load(__path__, __name__), key=lambda p: (p.cost, p.name))


def select(names: list[str] | None = None, features: list[str] | None = None) -> list[Property]:
    props = CATALOGUE
    if names:
        unknown = set(names) - {p.name for p in CATALOGUE}
        if unknown:
            raise ValueError(f"unknown property {sorted(unknown)[0]!r} (known: {', '.join(p.name for p in CATALOGUE)})")
        by_name = {p.name: p for p in CATALOGUE}
        props = [by_name[n] for n in dict.fromkeys(names)]  # in the order asked for
    if features:
        props = [p for p in props if p.feature in features]
    return props
