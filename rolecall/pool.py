"""The target pool: each target a run needs is made and opened once, on first use, and
closed once, when the run ends. The run spine, `rolecall replay`, `rolecall explore`, the
pytest plugin and the gate's baseline replay all take their targets from a pool.
"""
from __future__ import annotations

import contextlib
import inspect
from typing import Any

from rolecall import interrupts
from rolecall.outcome import TargetUnavailable
from rolecall.targets import Target, _factory, load_target


def make_target(spec: str, options: dict[str, Any]) -> Target:
    """Load a target (not opened), passing only the options its factory accepts."""
    factory = _factory(spec)
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepted = {}
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    return load_target(spec, **kwargs)


class TargetPool:
    """Open targets by spec. A target that failed to open fails the same way when asked again
    (without a second attempt); `lost` marks one that stopped answering."""

    def __init__(self, options: dict[str, Any] | None = None):
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self._open: dict[str, Target] = {}
        self._failed: dict[str, str] = {}

    def get(self, spec: str) -> Target:
        """The open target for `spec`; raises TargetUnavailable (and UnknownTarget)."""
        if spec in self._failed:
            raise TargetUnavailable(self._failed[spec])
        target = self._open.get(spec)
        if target is None:
            try:
                target = make_target(spec, self.options)
                target.open()
            except TargetUnavailable as exc:
                self._failed[spec] = str(exc)
                raise
            self._open[spec] = target
            interrupts.check()  # opening a server can take a while: stop now if asked meanwhile
        return target

    def lost(self, spec: str, message: str) -> None:
        """The target stopped answering: close it, and refuse it from now on."""
        self._failed[spec] = message
        target = self._open.pop(spec, None)
        if target is not None:
            with contextlib.suppress(Exception):
                target.close()

    def failed(self, spec: str) -> str | None:
        return self._failed.get(spec)

    def close(self) -> None:
        """Close every open target, the last opened first; a failing close does not stop the rest."""
        while self._open:
            _, target = self._open.popitem()
            with contextlib.suppress(Exception):
                target.close()

    def __enter__(self) -> "TargetPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
