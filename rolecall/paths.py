"""Folders a run writes to, checked before any work: a run that cannot write its report
should say so in one line at once, not with a traceback after an hour of search."""
from __future__ import annotations

import tempfile
from pathlib import Path


def unwritable(folder: Path | str) -> str | None:
    """Why files cannot be written under `folder` (created if missing), or None when they can.
    Really tries: a file is created and removed in the folder, or in its nearest existing parent."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{folder}: cannot write a report there: {existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"{folder}: cannot write a report there: {exc.strerror or exc}"
    return None
