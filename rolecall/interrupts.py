"""Interrupts (Ctrl-C, a cancelled CI job's SIGTERM): one signal handler for the whole run.

The handler only sets a flag. The run checks it at its safe points (before each example,
replay and cell) and stops there by raising `Interrupted`, so an interrupt never lands in the
middle of Hypothesis's own work or of a target's half-done call. A second Ctrl-C stops at once.
Worker processes (lanes) ignore SIGINT and share the parent's flag instead (`share`).
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading


class Interrupted(KeyboardInterrupt):
    """Raised at a safe point once a stop was requested (a KeyboardInterrupt, so Hypothesis
    stops its search for it without storing anything)."""


#: the flag: a threading.Event in a CLI process, the parent's multiprocessing.Event in a lane
_flag = threading.Event()
_signals_received = 0
_installed = False


def requested() -> bool:
    """Has an interrupt been requested?"""
    return _flag.is_set()


def request() -> None:
    """Ask the run to stop at its next safe point."""
    _flag.set()


def check() -> None:
    """A safe point: raise `Interrupted` if a stop was requested."""
    if _flag.is_set():
        raise Interrupted


def reset() -> None:
    """Forget an earlier request (a new run in the same process: tests, explore)."""
    global _signals_received
    _flag.clear()
    _signals_received = 0


def sleep(seconds: float) -> None:
    """A wait that is a safe point: it ends early, raising `Interrupted`, when a stop is
    requested (a target's long waits: settling, retrying)."""
    if _flag.wait(seconds):
        raise Interrupted


def installed() -> bool:
    """Is rolecall's handler in place (a CLI process)? Then nothing else should handle signals."""
    return _installed


def share(flag) -> None:
    """Use `flag` (a multiprocessing.Event shared with the parent) as this process's flag."""
    global _flag
    _flag = flag


def _on_signal(signum, frame) -> None:
    global _signals_received
    _signals_received += 1
    _flag.set()
    if _signals_received > 1 and signum == signal.SIGINT:
        raise Interrupted  # a second Ctrl-C: the user does not want to wait for the safe point


def install() -> None:
    """Route SIGINT and SIGTERM to the flag (the main thread of a CLI process only)."""
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    _quiet_unraisable()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, _on_signal)


@contextlib.contextmanager
def ignored():
    """SIGINT ignored while child processes start: they inherit it, so a terminal's Ctrl-C
    reaches only the parent, which tells its workers through the shared flag."""
    try:
        saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def _quiet_unraisable() -> None:
    """A second Ctrl-C that lands in a garbage-collector callback (Hypothesis has one) would be
    printed by Python as an ignored exception with its traceback: an interrupt is no error."""
    if getattr(sys.unraisablehook, "_rolecall", False):
        return
    default = sys.unraisablehook

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            default(unraisable)

    hook._rolecall = True
    sys.unraisablehook = hook
