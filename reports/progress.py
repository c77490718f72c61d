"""Live progress of a run: a bar per target (properties done) and one per property x target.

Wiring: `start(label)` before exploring a property on a target, `advance(cell)` from the
engine's `on_example` callback, `finish(cell)` with the explored cell. Several cells may be
under way at once (targets run side by side in lanes): each has its own bar, found by
'property on target'. On a terminal the bars redraw in place; elsewhere (CI logs) one line
per finished cell is printed instead.
"""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, TaskID, \
    TextColumn, TimeElapsedColumn

VERDICT_STYLE = {"not tested": "cyan", "agree": "green", "diverge": "red", "unsupported": "cyan", "error": "yellow"}


class Progress:
    def __init__(self, properties: int = 0, *, console: Console | None = None, live: bool | None = None):
        """`properties`: how many each target explores (sizes the per-target bars)."""
        self.console = console or Console(stderr=True, highlight=False)
        self.properties = properties
        self.live = self.console.is_terminal if live is None else live
        self._bars = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                                  console=self.console, transient=False)
        self._targets: dict[str, TaskID] = {}
        self._cells: dict[str, TaskID] = {}  # 'property on target' -> its bar
        self._started = False

    # --- lifecycle: a context manager, or start/stop implicitly
    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._started:
            self._bars.stop()
            self._started = False

    def _ensure(self) -> None:
        if self.live and not self._started:
            self._bars.start()
            self._started = True

    # --- the three calls the CLI makes
    def start(self, label: str, target: str | None = None) -> None:
        """A property starts on a target; `label` is 'property on target'."""
        target = target or (label.rsplit(" on ", 1)[1] if " on " in label else label)
        if not self.live:
            return
        self._ensure()
        if target not in self._targets:
            self._targets[target] = self._bars.add_task(f"[bold]{target}[/]", total=self.properties or None,
                                                        status="")
        self._cells[label] = self._bars.add_task(f"  {label}", total=None, status="")

    def advance(self, cell) -> None:
        """One more example of a cell under way was compared."""
        task = self._cells.get(f"{cell.property} on {cell.target}")
        if task is None:
            return
        self._bars.update(task, completed=cell.examples, status=self._status(cell))

    def finish(self, cell) -> None:
        """The current cell is explored (and its divergences confirmed)."""
        style = VERDICT_STYLE.get(cell.verdict, "")
        line = (f"[{style}]{cell.verdict:<11}[/] {cell.property} on {cell.target}: {cell.examples} examples, "
                f"{len(cell.divergences)} divergences, {cell.seconds:.1f}s")
        if cell.error:
            line += f" ({cell.error})"
        if not self.live:
            self.console.print(line, highlight=False)
            return
        current = self._cells.pop(f"{cell.property} on {cell.target}", None)
        if current is not None:
            self._bars.update(current, total=max(cell.examples, 1), completed=max(cell.examples, 1),
                              status=f"[{style}]{cell.verdict}[/] {self._status(cell)}")
            self._bars.stop_task(current)
        task = self._targets.get(cell.target)
        if task is not None:
            self._bars.advance(task, 1)

    def note(self, text: str) -> None:
        """A message that is not a cell (e.g. a target could not be opened)."""
        self.console.print(text, highlight=False)

    @staticmethod
    def _status(cell) -> str:
        return f"{cell.examples} examples, {len(cell.divergences)} divergences"
