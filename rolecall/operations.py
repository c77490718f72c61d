"""Scenario files name AWS actions and parameters: each must exist in botocore's service model
(the data AWS's SDKs are generated from), so a misspelt name is an input error with its file
and place, not a replay that passes by accident or an emulator crash."""
from __future__ import annotations

import difflib
import functools


@functools.lru_cache(maxsize=None)
def _service(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.lru_cache(maxsize=None)
def _parameters(service: str, action: str) -> frozenset[str]:
    shape = _service(service).operation_model(action).input_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def _hint(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(steps) -> tuple[str, str] | None:
    """The JSON path and the problem of the first step whose action, or one of whose
    parameters, botocore's service model does not know; None when all are known."""
    for i, step in enumerate(steps):
        service, action = step.service, step.action
        actions = _service(service).operation_names
        if action not in actions:
            return f"$.steps[{i}].call", f"{service} has no action {action!r}{_hint(action, actions)}"
        known = _parameters(service, action)
        for name in step.params:
            if name not in known:
                return f"$.steps[{i}].params.{name}", f"{service}:{action} has no parameter {name!r}{_hint(name, known)}"
    return None
