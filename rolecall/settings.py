"""Settings: `[tool.rolecall]` in the nearest pyproject.toml, then `ROLECALL_*` environment
variables, then command-line flags; each wins over the one before.

    [tool.rolecall]
    targets = ["moto", "localstack"]     # ROLECALL_TARGETS=moto,localstack   --target
    profile = "dev"                      # ROLECALL_PROFILE                   --profile
    strictness = "facts"                 # ROLECALL_STRICTNESS                --strictness
    baseline = "baselines"               # ROLECALL_BASELINE                  --baseline
    report-dir = "reports"               # ROLECALL_REPORT_DIR                --report-dir
    matrix-dir = "matrix"                # ROLECALL_MATRIX_DIR                rolecall matrix --history
    corpus = ["scenarios"]               # ROLECALL_CORPUS=scenarios,more     --corpus   (run)
    corpus = "off"                       # ROLECALL_CORPUS=off                --no-corpus

Paths in the file are relative to the file's folder. A setting that is misspelt or has a
wrong value is one line naming the file (or variable) and exit 2, before any work.
"""
from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Any

from rolecall.compare import LEVELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

PROFILES = ("ci", "dev", "explore", "replay")
STRICTNESS = LEVELS
#: setting -> its environment variable
ENV = {"targets": "ROLECALL_TARGETS", "profile": "ROLECALL_PROFILE", "strictness": "ROLECALL_STRICTNESS",
       "baseline": "ROLECALL_BASELINE", "report-dir": "ROLECALL_REPORT_DIR", "matrix-dir": "ROLECALL_MATRIX_DIR",
       "corpus": "ROLECALL_CORPUS"}
#: setting -> the commands and option names (click's parameter names) it is the default of
OPTIONS = {"targets": {"run": "targets", "explore": "targets", "matrix": "targets"},
           "profile": {"run": "profile", "matrix": "profile"},
           "strictness": {"run": "strictness", "explore": "strictness", "matrix": "strictness"},
           "baseline": {"run": "baseline"},
           "report-dir": {"run": "report_dir", "explore": "report_dir"},
           "matrix-dir": {"matrix": "history"},
           "corpus": {"run": "corpus"}}  # "off": the run's no_corpus instead


class SettingsError(ValueError):
    """A misspelt setting or a wrong value: one line naming where it is."""


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` (the working folder) up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _check(name: str, value: Any, where: str, base: Path | None) -> Any:
    if name == "targets":
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        if not (isinstance(value, list) and value and all(isinstance(t, str) and t for t in value)):
            raise SettingsError(f"{where}: targets is a list of target names, got {value!r}")
        return value
    if name == "corpus":
        # folders of scenario files the run replays first, or "off"
        if value == "off":
            return []
        if isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        if not (isinstance(value, list) and value and all(isinstance(t, str) and t for t in value)):
            raise SettingsError(f"{where}: corpus is a list of folders or \"off\", got {value!r}")
        return [Path(v) if base is None or Path(v).is_absolute() else base / v for v in value]
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{where}: {name} is a string, got {value!r}")
    choices = {"profile": PROFILES, "strictness": STRICTNESS}.get(name)
    if choices and value not in choices:
        raise SettingsError(f"{where}: {name} is one of {', '.join(choices)}, got {value!r}")
    if name in ("baseline", "report-dir", "matrix-dir"):
        path = Path(value)
        return path if base is None or path.is_absolute() else base / path
    return value


def load(pyproject: Path | None = None, environ: dict | None = None) -> dict[str, Any]:
    """The settings, by name: the file's, overridden by the environment's."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    pyproject = pyproject or find_pyproject()
    if pyproject is not None:
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{pyproject}: cannot read it: {exc}") from None
        table = data.get("tool", {}).get("rolecall", {})
        if not isinstance(table, dict):
            raise SettingsError(f"{pyproject}: [tool.rolecall] is a table")
        for name, value in table.items():
            if name not in ENV:
                close = difflib.get_close_matches(name, list(ENV), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(ENV)})"
                raise SettingsError(f"{pyproject}: [tool.rolecall] unknown setting {name!r}{hint}")
            found[name] = _check(name, value, f"{pyproject}: [tool.rolecall]", pyproject.parent)
    for name, var in ENV.items():
        if environ.get(var):
            found[name] = _check(name, environ[var], var, None)
    return found


def default_map(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The settings as click's defaults of each command's options (a flag given wins)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in settings.items():
        for command, option in OPTIONS[name].items():
            if name == "corpus" and not value:
                out.setdefault(command, {})["no_corpus"] = True
                continue
            out.setdefault(command, {})[option] = value
    return out
