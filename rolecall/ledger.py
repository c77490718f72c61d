"""The baseline: per target, a committed ledger of accepted divergences, and the gate.

`baselines/<target>.json` lists accepted divergences; each entry's minimal scenario is
pinned next to it (`baselines/<target>/<id>.json`) so a gated run replays them first,
deterministically. Only `rolecall baseline update` and `prune` write a baseline.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from rolecall.scenario import Scenario, ScenarioError, write_atomic
from rolecall.scenario import load as load_scenario

LEDGER_FORMAT = "rolecall/baseline@1"
DIVERGENCE_ID = re.compile(r"RC-[0-9a-f]{10}")
ENTRY_KEYS = ("id", "property", "call", "level", "signature", "summary", "first_seen", "last_seen", "reason",
              "source", "ticket", "expires", "scenario")
DATE_KEYS = ("first_seen", "last_seen", "expires")

# Verdicts of a divergence against the baseline, and of a baseline entry against a run.
NEW, KNOWN, EXPIRED = "new", "known", "expired"
UNOBSERVED, STALE = "unobserved", "stale"
# What replaying one pinned scenario gave.
REPRODUCED, CHANGED = "reproduced", "changed"


class LedgerError(ValueError):
    """A baseline cannot be read or used; `str()` is one line naming the file and place."""


def slug(target: str) -> str:
    """A file-name-safe form of a target name (`moto+auth` -> `moto-auth`)."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", target)


def _file_for(folder: Path, target: str) -> Path:
    return folder / f"{slug(target)}.json"


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        return None


@dataclass
class Baseline:
    folder: Path
    entries: dict[str, dict[str, dict]] = field(default_factory=dict)  # target -> id -> entry
    scenarios: dict[tuple[str, str], Scenario] = field(default_factory=dict)  # (target, id) -> pinned scenario

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, folder: Path | str) -> "Baseline":
        """Read and check every ledger in the folder; a missing folder is an empty baseline."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise LedgerError(f"{folder}: a baseline is a folder of <target>.json files, not a file")
        out = cls(folder)
        if not folder.exists():
            return out
        for path in sorted(folder.glob("*.json")):
            out._load_file(path)
        return out

    def _load_file(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise LedgerError(f"{path}: line {exc.lineno}, column {exc.colno}: corrupted baseline: "
                              f"invalid JSON: {exc.msg}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"{path}: cannot read the baseline: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise LedgerError(f"{path}: $.format: expected {LEDGER_FORMAT!r}, got {got!r}")
        target, divs = data.get("target"), data.get("divergences")
        if not isinstance(target, str) or not target:
            raise LedgerError(f"{path}: $.target: expected the target's name (a string)")
        if path.name != _file_for(path.parent, target).name:
            raise LedgerError(f"{path}: $.target: {target!r} belongs in {_file_for(path.parent, target).name}")
        if not isinstance(divs, list):
            raise LedgerError(f"{path}: $.divergences: expected an array")
        if target in self.entries:
            raise LedgerError(f"{path}: a second ledger for target {target!r}")
        table = self.entries[target] = {}
        for i, entry in enumerate(divs):
            where = f"{path}: $.divergences[{i}]"
            if not isinstance(entry, dict):
                raise LedgerError(f"{where}: expected an object")
            div_id = entry.get("id")
            if not isinstance(div_id, str) or not DIVERGENCE_ID.fullmatch(div_id):
                raise LedgerError(f"{where}.id: expected a divergence id like RC-0123456789, got {div_id!r}")
            if div_id in table:
                raise LedgerError(f"{where}.id: {div_id} is listed twice")
            for key, value in entry.items():
                if key not in ENTRY_KEYS:
                    raise LedgerError(f"{where}.{key}: unknown field (expected one of: {', '.join(ENTRY_KEYS)})")
                if key in DATE_KEYS and _date(value) is None:
                    raise LedgerError(f"{where}.{key}: expected a date YYYY-MM-DD, got {value!r}")
                if key not in DATE_KEYS and not isinstance(value, str):
                    raise LedgerError(f"{where}.{key}: expected a string, got {json.dumps(value)}")
            if "scenario" in entry:
                scenario_path = path.parent / entry["scenario"]
                try:
                    self.scenarios[(target, div_id)] = load_scenario(scenario_path)
                except ScenarioError as exc:
                    raise LedgerError(f"{where}.scenario: {exc}") from None
            table[div_id] = entry

    def entry(self, target: str, div_id: str) -> dict | None:
        return self.entries.get(target, {}).get(div_id)

    def status(self, target: str, div_id: str, today: dt.date) -> str:
        entry = self.entry(target, div_id)
        if entry is None:
            return NEW
        if "expires" in entry and _date(entry["expires"]) < today:
            return EXPIRED
        return KNOWN

    # ------------------------------------------------------------------ the gate
    def judge(self, result, replays: Iterable["Replayed"] = (), *, strict: bool = False,
              today: dt.date | None = None) -> "Verdicts":
        """Sort a run's divergences (and pinned replays, if any) into new / known / expired,
        and the baseline's entries the run did not see into unobserved / stale."""
        today = today or dt.date.today()
        replays = list(replays)
        v = Verdicts(baseline=str(self.folder), strict=strict, replays=replays)
        observed: set[tuple[str, str]] = set()
        for cell in result.cells:
            for div_id, record in cell.divergences.items():
                observed.add((cell.target, div_id))
                v.add(self.status(cell.target, div_id, today), record.divergence)
        for r in replays:
            # a replay's divergence that the caller did not merge into the run with add_replays
            if r.divergence is not None and (r.target, r.divergence.id) not in observed:
                observed.add((r.target, r.divergence.id))
                v.add(self.status(r.target, r.divergence.id, today), r.divergence)
        for r in replays:
            if r.status != REPRODUCED and (r.target, r.id) not in observed:
                v.stale.append((r.target, r.id))
        tested = {(c.target, c.property) for c in result.cells if c.examples > 0}
        settled = observed | set(v.stale)
        for target, table in sorted(self.entries.items()):
            for div_id, entry in sorted(table.items()):
                if (target, div_id) not in settled and (target, entry.get("property")) in tested:
                    v.unobserved.append((target, div_id))
        return v

    # ------------------------------------------------------------------ writing
    def update(self, divergences: Iterable[dict], *, reason: str | None, day: dt.date, ticket: str | None = None,
               expires: dt.date | None = None) -> dict[str, dict[str, list[str]]]:
        """Accept divergences (records of a report's divergences.json): add new entries with
        their minimal scenario, refresh last_seen of known ones. Returns target -> added/refreshed ids.
        Without `reason`, each new entry says what differs and which AWS rule it breaks."""
        changes: dict[str, dict[str, list[str]]] = {}
        for rec in divergences:
            target, div_id = rec["target"], rec["id"]
            table = self.entries.setdefault(target, {})
            change = changes.setdefault(target, {"added": [], "refreshed": []})
            entry = table.get(div_id)
            scenario_rel = f"{slug(target)}/{div_id}.json"
            if entry is None:
                entry = table[div_id] = {
                    "id": div_id, "property": rec["property"], "call": rec["call"], "level": rec["level"],
                    "signature": rec["signature"], "summary": rec.get("summary", ""), "first_seen": day.isoformat(),
                    "last_seen": day.isoformat(), "reason": reason or default_reason(rec),
                    "source": rec.get("source") or ""}
                if ticket:
                    entry["ticket"] = ticket
                if expires:
                    entry["expires"] = expires.isoformat()
                change["added"].append(div_id)
            else:
                if _date(entry.get("last_seen", "")) is None or _date(entry["last_seen"]) < day:
                    entry["last_seen"] = day.isoformat()
                change["refreshed"].append(div_id)
            # Pin the minimal scenario once: replays stay deterministic across updates.
            if "scenario" not in entry or not (self.folder / entry["scenario"]).exists():
                scenario = rec.get("scenario")
                if isinstance(scenario, dict):
                    write_atomic(self.folder / scenario_rel, json.dumps(scenario, indent=2) + "\n")
                    entry["scenario"] = scenario_rel
        for target in changes:
            self._write(target)
        return changes

    def prune(self, tested: set[tuple[str, str]], observed: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """Drop entries whose (target, property) was tested but which were not observed."""
        removed = []
        for target, table in self.entries.items():
            for div_id, entry in list(table.items()):
                if (target, entry.get("property")) in tested and (target, div_id) not in observed:
                    removed.append((target, div_id))
        for target in sorted({t for t, _ in removed}):
            gone = [self.entries[target].pop(i) for t, i in removed if t == target]
            self._write(target)
            for entry in gone:  # the ledger no longer names them: now they can go
                if "scenario" in entry:
                    (self.folder / entry["scenario"]).unlink(missing_ok=True)
                self.scenarios.pop((target, entry["id"]), None)
        return sorted(removed)

    def _write(self, target: str) -> Path:
        entries = sorted(self.entries.get(target, {}).values(), key=lambda e: (e.get("property", ""), e["id"]))
        doc = {"format": LEDGER_FORMAT, "target": target, "divergences": entries}
        return write_atomic(_file_for(self.folder, target), json.dumps(doc, indent=2) + "\n")


# ---------------------------------------------------------------------- replaying pinned scenarios

@dataclass
class Replayed:
    """What replaying one baseline entry's pinned scenario gave."""

    target: str
    id: str
    property: str
    status: str  # reproduced | changed (a different divergence) | stale (no divergence, or no valid world)
    divergence: Any = None  # the Divergence seen (None when stale)
    expected: Any = None  # the oracle's Run
    observed: Any = None  # the target's Run
    attempts: int = 0
    detail: str = ""


def replay_baseline(baseline: Baseline, target, oracle, strictness: str = "code", *,
                    properties: Iterable[str] | None = None, options: dict | None = None,
                    attempts: int = 3) -> list[Replayed]:
    """Replay the pinned scenario of every entry of `target` in the baseline, in id order.

    `target` and `oracle` are open Targets, or names (opened and closed here, with
    `options`). `properties` limits the replay to the run's selection. A divergence that
    does not show up is retried (`attempts` in all) before it is called stale. Raises
    TargetUnavailable when the target cannot be reached.
    """
    from rolecall.compare import Divergence, first_difference
    from rolecall.session import make_target

    opened = []
    try:
        if isinstance(target, str):
            target = make_target(target, options or {})
            opened.append(target)
            target.open()
        if isinstance(oracle, str):
            oracle = make_target(oracle, options or {})
            opened.append(oracle)
            oracle.open()
        wanted = set(properties) if properties is not None else None
        out: list[Replayed] = []
        for div_id, entry in sorted(baseline.entries.get(target.name, {}).items()):
            scenario = baseline.scenarios.get((target.name, div_id))
            prop = entry.get("property", "")
            if scenario is None or (wanted is not None and prop not in wanted):
                continue
            r = Replayed(target.name, div_id, prop, STALE)
            for _ in range(max(1, attempts)):
                r.attempts += 1
                expected, observed = oracle.run(scenario), target.run(scenario)
                r.expected, r.observed = expected, observed
                if expected.setup_error is not None:
                    r.status, r.divergence = STALE, None
                    r.detail = f"{oracle.name} no longer accepts the scenario's world: {expected.setup_error.message}"
                    break  # the oracle is deterministic: retrying cannot help
                if observed.setup_error is not None:
                    r.status, r.divergence = STALE, None
                    r.detail = f"{target.name} cannot create the world: {observed.setup_error.message}"
                    continue
                diff = first_difference(scenario, expected, observed, strictness)
                if diff is None:
                    r.status, r.divergence, r.detail = STALE, None, f"{target.name} now agrees with {oracle.name}"
                    continue
                div = Divergence.of(prop, target.name, scenario, diff, oracle=oracle.name)
                r.divergence = div
                if div.id == div_id:
                    r.status, r.detail = REPRODUCED, ""
                    break
                r.status, r.detail = CHANGED, f"diverges differently now: {div.id}"
            out.append(r)
        return out
    finally:
        for t in reversed(opened):
            t.close()


def add_replays(result, replays: Iterable[Replayed]) -> None:
    """Put the divergences that pinned replays showed into the run's cells, as findings."""
    from rolecall.engine import Cell, Confirmed

    cells = {(c.property, c.target): c for c in result.cells}
    for r in replays:
        if r.divergence is None:
            continue
        cell = cells.get((r.property, r.target))
        if cell is None:
            cell = cells[(r.property, r.target)] = Cell(r.property, _behaviour(r.property), r.target)
            result.cells.append(cell)
        if r.divergence.id not in cell.divergences:
            cell.divergences[r.divergence.id] = Confirmed(r.divergence, True, 1, r.expected, r.observed)


def _behaviour(prop: str) -> str:
    try:
        from rolecall.conformance import CATALOGUE
    except Exception:  # noqa: BLE001 - the catalogue is optional for reading a baseline
        return ""
    return next((p.behaviour for p in CATALOGUE if p.name == prop), "")


@dataclass
class Verdicts:
    """The gate's judgement of one run against a baseline."""

    baseline: str = ""
    strict: bool = False
    new: list = field(default_factory=list)  # Divergences
    known: list = field(default_factory=list)
    expired: list = field(default_factory=list)
    unobserved: list = field(default_factory=list)  # (target, id)
    stale: list = field(default_factory=list)  # (target, id)
    replays: list = field(default_factory=list)
    _status: dict = field(default_factory=dict, repr=False)

    def add(self, status: str, divergence) -> None:
        {NEW: self.new, KNOWN: self.known, EXPIRED: self.expired}[status].append(divergence)
        self._status[(divergence.target, divergence.id)] = status

    @property
    def failing(self) -> bool:
        return bool(self.new or self.expired or (self.strict and self.stale))

    def status(self, target: str, div_id: str) -> str | None:
        """new / known / expired for a divergence the run observed; None otherwise."""
        return self._status.get((target, div_id))

    @property
    def new_ids(self) -> set[str]:
        return {d.id for d in self.new + self.expired}

    def is_new_id(self, div_id: str) -> bool:
        return div_id in self.new_ids

    def is_new(self, divergence) -> bool:
        return self.status(divergence.target, divergence.id) in (NEW, EXPIRED)

    def to_dict(self) -> dict:
        def pairs(items):
            return [{"target": t, "id": i} for t, i in sorted(set(items))]

        return {"baseline": self.baseline, "failing": self.failing, "strict": self.strict,
                "new": pairs((d.target, d.id) for d in self.new),
                "expired": pairs((d.target, d.id) for d in self.expired),
                "known": pairs((d.target, d.id) for d in self.known),
                "unobserved": pairs(self.unobserved), "stale": pairs(self.stale),
                "replayed": [{"target": r.target, "id": r.id, "status": r.status, "detail": r.detail}
                             for r in self.replays]}

    def text(self) -> str:
        verdict = "FAIL" if self.failing else "pass"
        stale = f"{len(self.stale)} stale" + (" (strict)" if self.strict and self.stale else "")
        return (f"gate: {verdict}: {len(self.new)} new, {len(self.expired)} expired, {len(self.known)} known, "
                f"{stale}, {len(self.unobserved)} unobserved (baseline {self.baseline})")

    def markdown(self) -> str:
        return self.text()


def default_reason(rec: dict) -> str:
    """One line: what the target does where AWS does otherwise, and the rule (see `source`)."""
    from rolecall.targets.reference.evaluation import RULES

    target, call, exp, obs = rec["target"], rec["call"], rec.get("expected", {}), rec.get("observed", {})

    def said(o: dict) -> str:
        return "ok" if o.get("outcome") == "ok" else str(o.get("code") or o.get("outcome"))

    if exp.get("outcome") == "error" and obs.get("outcome") == "ok":
        what = f"{target} allows {call} where AWS refuses it with {said(exp)}"
    elif exp.get("outcome") == "ok" and obs.get("outcome") == "error":
        what = f"{target} refuses {call} with {said(obs)} where AWS allows it"
    else:
        what = f"{target} answers {call} with {said(obs)} where AWS answers {said(exp)}"
    rule = RULES.get(rec.get("rule") or exp.get("reason") or "")
    return f"{what}: {rule}" if rule else what
