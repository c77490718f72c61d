"""What a run tells its onlookers as it goes: typed events, one class per kind.

The run spine (rolecall.spine, rolecall.lanes) emits them to one listener; the CLI's progress
display, the pytest plugin and `rolecall explore` consume them. They are plain frozen
dataclasses, so worker processes pass them to the parent unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union


@dataclass(frozen=True)
class CellStarted:
    """A property starts on a target."""

    property: str
    target: str

    @property
    def label(self) -> str:
        return f"{self.property} on {self.target}"


@dataclass(frozen=True)
class ExampleCounted:
    """A cell under way compared more examples (sent at most a few times a second)."""

    property: str
    target: str
    examples: int
    divergences: tuple[str, ...] = ()


@dataclass(frozen=True)
class CellFinished:
    """A cell is explored and its divergences confirmed: `cell` is an engine.Cell."""

    cell: Any


@dataclass(frozen=True)
class TargetLost:
    """A target could not be opened, or stopped answering: its remaining cells are not tried."""

    target: str
    message: str

    @property
    def line(self) -> str:
        """One line that names the target once."""
        return self.message if self.message.startswith(f"{self.target}:") else f"{self.target}: {self.message}"


@dataclass(frozen=True)
class Note:
    """Anything else worth a line (e.g. a baseline replay that was skipped)."""

    text: str


Event = Union[CellStarted, ExampleCounted, CellFinished, TargetLost, Note]
Listener = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The listener of a run nobody watches."""
