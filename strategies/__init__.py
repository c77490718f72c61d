"""Hypothesis strategies that generate rolecall scenarios: one family per seed behaviour,
built from shared pieces (`world`, `principals`, `conditions`, `policies`, `requests`).

`FAMILIES` is every family, found in this package's modules: a function named
`<family>_scenarios` is one (no list to update). The properties in `rolecall.conformance`
use them.
"""
from __future__ import annotations

import importlib
import pkgutil

SUFFIX = "_scenarios"


def _families() -> dict:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, value in sorted(vars(module).items()):
            if name.endswith(SUFFIX) and callable(value) and getattr(value, "__module__", None) == module.__name__:
                found[name[:-len(SUFFIX)]] = value
    return found


FAMILIES = _families()
globals().update({f.__name__: f for f in FAMILIES.values()})

__all__ = ["FAMILIES", *(f.__name__ for f in FAMILIES.values())]
