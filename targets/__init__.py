"""Targets: the implementations a scenario runs on, found by name.

A name is one of the built-ins below, an import path `package.module:factory`, or a name
another package registers in the entry-point group `rolecall.targets`. A factory takes
keyword options (e.g. `endpoint`) and returns a `Target`. `name@version` (`moto@5.1.0`,
`localstack@2026.3.0`, `ministack@1.5.33`) asks a factory that takes a `version` for that
version of its emulator, installed in a cached environment of its own.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import re
from importlib.metadata import entry_points
from typing import Any, Callable

from rolecall.targets.base import (ACT_AS_SERVICE, ENFORCED, NOT_ENFORCED, ROOT_CREDENTIALS, VIRTUAL_CLOCK,
                                   CallFailed, CallResult, Credentials, Target, TargetUnavailable, Unsupported)

BUILTIN = {
    "reference": "rolecall.targets.reference:reference",
    "moto": "rolecall.targets.moto:moto",
    "moto+auth": "rolecall.targets.moto:moto_auth",
    "localstack": "rolecall.targets.localstack:localstack",
    "ministack": "rolecall.targets.ministack:ministack",
    "ministack+auth": "rolecall.targets.ministack:ministack_auth",
    "localemu": "rolecall.targets.localemu:localemu",
    "endpoint": "rolecall.targets.endpoint:endpoint",
    "aws": "rolecall.targets.aws:aws",
}
# a version as pip spells one (PEP 440 public versions, loosely)
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+!-]*")
#: the targets `rolecall run` uses when none is named (README, "Which targets `./dev run` uses"):
#: the emulators most teams test with (moto, LocalStack 4.14.0: the last free image) and the one
#: enforcing server emulator, whose divergences go the other way (false denials), within the ci
#: profile's time
LOCAL_DEFAULT = ("moto", "moto+auth", "localstack", "ministack+auth")

__all__ = ["ACT_AS_SERVICE", "ENFORCED", "NOT_ENFORCED", "ROOT_CREDENTIALS", "VIRTUAL_CLOCK", "CallFailed", "CallResult", "Credentials",
           "Target", "TargetUnavailable", "Unsupported", "UnknownTarget", "load_target", "known_targets"]


class UnknownTarget(ValueError):
    pass


def known_targets() -> list[str]:
    names = list(BUILTIN)
    names += [ep.name for ep in entry_points(group="rolecall.targets") if ep.name not in BUILTIN]
    return names


def _factory(spec: str) -> Callable[..., Target]:
    if "@" in spec and ":" not in spec:
        name, _, version = spec.partition("@")
        factory = _factory(name)
        try:
            takes_version = "version" in inspect.signature(factory).parameters
        except (TypeError, ValueError):
            takes_version = False
        if not takes_version:
            raise UnknownTarget(f"target {name!r} has no versions to choose from (in {spec!r})")
        if not _VERSION.fullmatch(version):
            raise UnknownTarget(f"target {spec!r}: {version!r} is not a version (e.g. {name}@1.2.3)")
        return functools.partial(factory, version=version)
    if spec in BUILTIN:
        spec = BUILTIN[spec]
    elif ":" not in spec:
        for ep in entry_points(group="rolecall.targets"):
            if ep.name == spec:
                return ep.load()
        raise UnknownTarget(f"unknown target {spec!r} (known: {', '.join(known_targets())}; "
                            f"or give module:factory)")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownTarget(f"target {spec!r}: cannot import {module_name!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UnknownTarget(f"target {spec!r}: {module_name!r} has no {attr!r}") from None


def load_target(spec: str, **options: Any) -> Target:
    factory = _factory(spec)
    target = factory(**options) if options else factory()
    if not isinstance(target, Target):
        raise UnknownTarget(f"target {spec!r}: factory returned {type(target).__name__}, not a rolecall Target")
    if spec not in BUILTIN and ":" in spec and target.name == "target":
        target.name = spec
    elif "@" in spec and ":" not in spec:
        target.name = spec  # results name the version that ran
    return target
