"""The baseline: per target, the findings a maintainer accepted, the scenarios pinned to them, and the gate.

`baselines/<target>.json` lists accepted findings (rolecall.findings): each with its smallest
scenario (`baselines/<target>/<id>.json`, which diverges) and, where explaining it found one, a
twin the target passed (`baselines/<target>/<id>.passes.json`). A gated run replays both
before it searches: a pinned scenario that agrees now is a fixed finding; a passing scenario that
diverges now is a regression, even when its symptom is known. Triage metadata (status, upstream,
since, fixed_in) is the maintainer's. Only `rolecall baseline update` and `prune` write a baseline.
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

LEDGER_FORMAT = "rolecall/baseline@2"
FINDING_ID = re.compile(r"F-[0-9a-f]{10}")
ENTRY_KEYS = ("id", "title", "key", "direction", "rule", "source", "evidence", "status", "upstream", "since",
              "fixed_in", "note", "first_seen", "last_seen", "reason", "expires", "divergences", "scenario", "passes")
DATE_KEYS = ("first_seen", "last_seen", "expires")
LIST_KEYS = ("divergences",)
TRIAGE = ("new", "reported", "by design", "fixed upstream")

# A finding of a run against the baseline, and a baseline entry against a run.
NEW, KNOWN, EXPIRED = "new", "known", "expired"
UNOBSERVED, FIXED = "unobserved", "fixed"
# What replaying one entry's pinned scenario gave.
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
    entries: dict[str, dict[str, dict]] = field(default_factory=dict)  # target -> finding id -> entry
    scenarios: dict[tuple[str, str], Scenario] = field(default_factory=dict)  # (target, id) -> pinned scenario
    passes: dict[tuple[str, str], Scenario] = field(default_factory=dict)  # (target, id) -> a scenario it passed
    # target -> {"<property>|<key>": scenario}: scenarios the target passed in the search, one per (rule, feature)
    passed: dict[str, dict[str, Scenario]] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, folder: Path | str, *, must_exist: bool = True) -> "Baseline":
        """Read and check every ledger in the folder. A folder that does not exist is an error
        (a misspelt --baseline must not pass as an empty baseline) unless `must_exist` is False."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise LedgerError(f"{folder}: a baseline is a folder of <target>.json files, not a file")
        out = cls(folder)
        if not folder.exists():
            if must_exist:
                raise LedgerError(f"{folder}: no such baseline folder (create one with `rolecall baseline update "
                                  f"--from REPORT --baseline {folder}`)")
            return out
        for path in sorted(folder.glob("*.json")):
            out._load_file(path)
        for target in list(out.entries):
            out._load_passed(target)
        return out

    def _passed_file(self, target: str) -> Path:
        return self.folder / slug(target) / "passed.json"

    def _load_passed(self, target: str) -> None:
        path = self._passed_file(target)
        if not path.exists():
            return
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LedgerError(f"{path}: cannot read the scenarios {target} passed: {exc}") from None
        if not isinstance(items, list):
            raise LedgerError(f"{path}: expected an array of {{property, key, scenario}}")
        from rolecall.scenario import from_dict

        table = self.passed[target] = {}
        for i, item in enumerate(items):
            try:
                table[f"{item['property']}|{item['key']}"] = from_dict(item["scenario"], origin=f"{path}#{i}")
            except (KeyError, TypeError) as exc:
                raise LedgerError(f"{path}: $[{i}]: expected property, key and scenario ({exc})") from None
            except ScenarioError as exc:
                raise LedgerError(f"{path}: $[{i}].scenario: {exc}") from None

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
            hint = (": a baseline of divergence ids (format 1); make it anew from a report with `rolecall "
                    "baseline update --from REPORT`") if got == "rolecall/baseline@1" else ""
            raise LedgerError(f"{path}: $.format: expected {LEDGER_FORMAT!r}, got {got!r}{hint}")
        target, findings = data.get("target"), data.get("findings")
        if not isinstance(target, str) or not target:
            raise LedgerError(f"{path}: $.target: expected the target's name (a string)")
        if path.name != _file_for(path.parent, target).name:
            raise LedgerError(f"{path}: $.target: {target!r} belongs in {_file_for(path.parent, target).name}")
        if not isinstance(findings, list):
            raise LedgerError(f"{path}: $.findings: expected an array")
        if target in self.entries:
            raise LedgerError(f"{path}: a second ledger for target {target!r}")
        table = self.entries[target] = {}
        for i, entry in enumerate(findings):
            where = f"{path}: $.findings[{i}]"
            if not isinstance(entry, dict):
                raise LedgerError(f"{where}: expected an object")
            fid = entry.get("id")
            if not isinstance(fid, str) or not FINDING_ID.fullmatch(fid):
                raise LedgerError(f"{where}.id: expected a finding id like F-0123456789, got {fid!r}")
            if fid in table:
                raise LedgerError(f"{where}.id: {fid} is listed twice")
            for key, value in entry.items():
                if key not in ENTRY_KEYS:
                    raise LedgerError(f"{where}.{key}: unknown field (expected one of: {', '.join(ENTRY_KEYS)})")
                if key in DATE_KEYS:
                    if value != "" and _date(value) is None:
                        raise LedgerError(f"{where}.{key}: expected a date YYYY-MM-DD, got {value!r}")
                elif key in LIST_KEYS:
                    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                        raise LedgerError(f"{where}.{key}: expected an array of strings")
                elif not isinstance(value, str):
                    raise LedgerError(f"{where}.{key}: expected a string, got {json.dumps(value)}")
            if entry.get("status", "new") not in TRIAGE:
                raise LedgerError(f"{where}.status: expected one of {', '.join(TRIAGE)}, got {entry['status']!r}")
            for key, into in (("scenario", self.scenarios), ("passes", self.passes)):
                if entry.get(key):
                    try:
                        into[(target, fid)] = load_scenario(path.parent / entry[key])
                    except ScenarioError as exc:
                        raise LedgerError(f"{where}.{key}: {exc}") from None
            table[fid] = entry

    def entry(self, target: str, finding_id: str) -> dict | None:
        return self.entries.get(target, {}).get(finding_id)

    def status(self, target: str, finding_id: str, today: dt.date) -> str:
        entry = self.entry(target, finding_id)
        if entry is None:
            return NEW
        if entry.get("expires") and _date(entry["expires"]) < today:
            return EXPIRED
        return KNOWN

    # ------------------------------------------------------------------ the gate
    def judge(self, findings: Iterable[dict], replays: Iterable["Replayed"] = (), *, strict: bool = False,
              tested: set[tuple[str, str]] | None = None, today: dt.date | None = None) -> "Verdicts":
        """Sort a run's findings into new / known / expired; the baseline's entries into fixed (their
        pinned scenario agrees now) and unobserved; and passing scenarios that diverge now into regressions."""
        today = today or dt.date.today()
        replays = list(replays)
        v = Verdicts(baseline=str(self.folder), strict=strict, replays=replays)
        seen: set[tuple[str, str]] = set()
        for f in findings:
            seen.add((f["target"], f["id"]))
            v.add(self.status(f["target"], f["id"], today), f)
        for r in replays:
            if r.kind in ("passes", "passed") and r.divergence is not None:
                v.regressions.append(r)
            elif r.kind == "pinned" and r.status == FIXED and (r.target, r.id) not in seen:
                v.fixed.append((r.target, r.id))
        replayed = {(r.target, r.id) for r in replays if r.kind == "pinned"}
        for target, table in sorted(self.entries.items()):
            for fid in sorted(table):
                if (target, fid) not in seen and (target, fid) not in replayed and \
                        (tested is None or any(t == target for t, _ in tested)):
                    v.unobserved.append((target, fid))
        return v

    def knows(self, target: str, finding_id: str, today: dt.date | None = None) -> bool:
        return self.status(target, finding_id, today or dt.date.today()) == KNOWN

    # ------------------------------------------------------------------ writing
    def update(self, findings: Iterable[dict], *, reason: str | None, day: dt.date, upstream: str | None = None,
               expires: dt.date | None = None, passed: dict[str, list[dict]] | None = None,
               ) -> dict[str, dict[str, list[str]]]:
        """Accept findings (records of a report's findings.json): add new entries with their smallest
        scenario and the twin the target passed, refresh last_seen and the symptoms of known ones.
        Returns target -> added/refreshed ids."""
        changes: dict[str, dict[str, list[str]]] = {}
        for rec in findings:
            target, fid = rec["target"], rec["id"]
            table = self.entries.setdefault(target, {})
            change = changes.setdefault(target, {"added": [], "refreshed": []})
            entry = table.get(fid)
            if entry is None:
                by_design = rec.get("key") == "authorizes-nothing" and "by design" in rec.get("behaviour", "")
                entry = table[fid] = {
                    "id": fid, "title": rec["title"], "key": rec["key"], "direction": rec["direction"],
                    "rule": rec.get("rule") or "", "source": rec.get("source") or "",
                    "evidence": rec.get("evidence") or "", "status": "by design" if by_design else "new",
                    "upstream": upstream or "", "since": "", "fixed_in": "",
                    "first_seen": day.isoformat(), "last_seen": day.isoformat(),
                    "reason": reason or rec["title"], "divergences": sorted(rec.get("divergences", []))}
                if upstream:
                    entry["status"] = "reported"
                if expires:
                    entry["expires"] = expires.isoformat()
                change["added"].append(fid)
            else:
                if _date(entry.get("last_seen", "")) is None or _date(entry["last_seen"]) < day:
                    entry["last_seen"] = day.isoformat()
                entry["divergences"] = sorted(set(entry.get("divergences", [])) | set(rec.get("divergences", [])))
                change["refreshed"].append(fid)
            # Pin scenarios once: replays stay deterministic across updates.
            for key, value, suffix in (("scenario", rec.get("scenario"), ".json"),
                                       ("passes", rec.get("passes"), ".passes.json")):
                rel = f"{slug(target)}/{fid}{suffix}"
                if isinstance(value, dict) and not (entry.get(key) and (self.folder / entry[key]).exists()):
                    write_atomic(self.folder / rel, json.dumps(value, indent=2) + "\n")
                    entry[key] = rel
        for target, items in (passed or {}).items():
            path = self._passed_file(target)
            known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
            keys = {(x["property"], x["key"]) for x in known}
            new = [x for x in items if (x["property"], x["key"]) not in keys]
            if new:
                merged = sorted(known + new, key=lambda x: (x["property"], x["key"]))
                write_atomic(path, json.dumps(merged, indent=1) + "\n")
                changes.setdefault(target, {"added": [], "refreshed": []})["passed"] = [x["key"] for x in new]
                self.entries.setdefault(target, {})
        for target in changes:
            self._write(target)
        return changes

    def drop(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Remove these entries and their pinned files."""
        removed = sorted(p for p in set(pairs) if self.entry(*p) is not None)
        for target in sorted({t for t, _ in removed}):
            gone = [self.entries[target].pop(i) for t, i in removed if t == target]
            self._write(target)
            for entry in gone:  # the ledger no longer names them: now they can go
                for key in ("scenario", "passes"):
                    if entry.get(key):
                        (self.folder / entry[key]).unlink(missing_ok=True)
                self.scenarios.pop((target, entry["id"]), None)
                self.passes.pop((target, entry["id"]), None)
        return removed

    def _write(self, target: str) -> Path:
        entries = sorted(self.entries.get(target, {}).values(), key=lambda e: (e.get("direction", ""), e["id"]))
        doc = {"format": LEDGER_FORMAT, "target": target, "findings": entries}
        return write_atomic(_file_for(self.folder, target), json.dumps(doc, indent=2) + "\n")


# ---------------------------------------------------------------------- replaying pinned scenarios

@dataclass
class Replayed:
    """What replaying one baseline entry's pinned scenario (or the scenario it passed) gave."""

    target: str
    id: str  # the baseline entry's finding id
    kind: str  # pinned (diverged) | passes (the finding's twin it passed) | passed (a search example it passed)
    status: str  # reproduced | changed | fixed (agrees with the oracle) | stale (no valid world)
    divergence: Any = None  # the Divergence seen (None when it agrees)
    cause: Any = None  # its Cause, explained by replaying twins
    expected: Any = None
    observed: Any = None
    attempts: int = 0
    detail: str = ""

    @property
    def finding(self) -> str | None:
        return self.cause.id if self.cause is not None else None


STALE = "stale"
#: the property name under which a gated run reports what replaying the baseline showed
REPLAY_PROPERTY = "baseline replay"


def replay_baseline(baseline: Baseline, target, oracle, strictness: str = "facts", *,
                    options: dict | None = None, attempts: int = 3) -> list[Replayed]:
    """Replay, for every entry of `target`, its pinned scenario (which diverged) and the scenario it
    passed, in id order; explain each divergence seen. `target` and `oracle` are open Targets, or
    names (opened and closed here, with `options`). A pinned scenario that agrees is retried
    (`attempts` in all) before it is called fixed. Raises TargetUnavailable when the target cannot be
    reached."""
    from rolecall.compare import Divergence, first_difference
    from rolecall.engine import enforcement_of
    from rolecall.findings import explain
    from rolecall.pool import make_target

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
        out: list[Replayed] = []
        work = [(fid, kind, scenarios.get((target.name, fid)))
                for fid in sorted(baseline.entries.get(target.name, {}))
                for kind, scenarios in (("pinned", baseline.scenarios), ("passes", baseline.passes))]
        work += [(name, "passed", scenario) for name, scenario in sorted(baseline.passed.get(target.name, {}).items())]
        for fid, kind, scenario in work:
            if scenario is None:
                continue
            r = Replayed(target.name, fid, kind, STALE)
            for _ in range(max(1, attempts if kind == "pinned" else 1)):
                r.attempts += 1
                expected, observed = oracle.run(scenario), target.run(scenario)
                r.expected, r.observed = expected, observed
                if expected.setup_error is not None:
                    r.status, r.divergence = STALE, None
                    r.detail = f"{oracle.name} no longer accepts the scenario's world: {expected.setup_error.message}"
                    break
                if observed.setup_error is not None:
                    r.status = STALE
                    r.detail = f"{target.name} cannot create the world: {observed.setup_error.message}"
                    continue
                diff = first_difference(scenario, expected, observed, strictness)
                if diff is None:
                    r.status, r.divergence = FIXED, None
                    r.detail = f"{target.name} agrees with {oracle.name}"
                    continue
                div = Divergence.of(REPLAY_PROPERTY, target.name, scenario, diff, oracle=oracle.name)
                if kind == "passed":  # a whole search example: reduce it before telling its cause
                    div = _reduced(div, target, oracle, strictness)
                r.divergence = div
                r.cause = explain(div, target, oracle, enforcement=enforcement_of(target, oracle),
                                  strictness=strictness, budget=target.explain_replays)
                r.expected, r.observed = oracle.run(div.scenario), target.run(div.scenario)
                if kind == "pinned" and r.cause.id == fid:
                    r.status, r.detail = REPRODUCED, ""
                else:
                    r.status = CHANGED
                    r.detail = (f"diverges now: {r.cause.id} {r.cause.title}" if kind == "pinned" else
                                f"a scenario it passed at baseline time ({fid}) diverges now: "
                                f"{r.cause.id} {r.cause.title}")
                break
            out.append(r)
        return out
    finally:
        for t in reversed(opened):
            t.close()


def _reduced(div, target, oracle, strictness: str):
    """The divergence on a minimal scenario: the engine's minimiser, as for the search's divergences."""
    from rolecall.engine import minimal

    found = minimal(div, target, oracle, strictness)
    return found[0] if found is not None else div


def add_replays(result, replays: Iterable[Replayed]) -> None:
    """Put the divergences that pinned and passing-scenario replays showed into the run, with their
    causes, so they are reported as findings like the search's."""
    from rolecall.engine import Cell, Confirmed

    cells = {(c.property, c.target): c for c in result.cells}
    for r in replays:
        if r.divergence is None:
            continue
        key = (REPLAY_PROPERTY, r.target)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(REPLAY_PROPERTY, "baseline", r.target)
            result.cells.append(cell)
        cell.examples += 1
        if r.divergence.id not in cell.divergences:
            cell.divergences[r.divergence.id] = Confirmed(r.divergence, True, 1, r.expected, r.observed, cause=r.cause)


@dataclass
class Verdicts:
    """The gate's judgement of one run against a baseline."""

    baseline: str = ""
    strict: bool = False
    new: list = field(default_factory=list)  # finding records
    known: list = field(default_factory=list)
    expired: list = field(default_factory=list)
    fixed: list = field(default_factory=list)  # (target, id): pinned scenario agrees now
    unobserved: list = field(default_factory=list)  # (target, id)
    regressions: list = field(default_factory=list)  # Replayed of passing scenarios that diverge now
    replays: list = field(default_factory=list)
    _status: dict = field(default_factory=dict, repr=False)

    def add(self, status: str, finding: dict) -> None:
        {NEW: self.new, KNOWN: self.known, EXPIRED: self.expired}[status].append(finding)
        self._status[(finding["target"], finding["id"])] = status

    @property
    def failing(self) -> bool:
        return bool(self.new or self.expired or self.regressions or (self.strict and self.fixed))

    def finding_status(self, target: str, finding_id: str) -> str | None:
        """new / known / expired for a finding the run observed; None otherwise."""
        return self._status.get((target, finding_id))

    def to_dict(self) -> dict:
        def pairs(items):
            return [{"target": t, "id": i} for t, i in sorted(set(items))]

        return {"baseline": self.baseline, "failing": self.failing, "strict": self.strict,
                "new": pairs((f["target"], f["id"]) for f in self.new),
                "expired": pairs((f["target"], f["id"]) for f in self.expired),
                "known": pairs((f["target"], f["id"]) for f in self.known),
                "fixed": pairs(self.fixed), "unobserved": pairs(self.unobserved),
                "regressions": [{"target": r.target, "id": r.id, "finding": r.finding, "detail": r.detail}
                                for r in self.regressions],
                "replayed": [{"target": r.target, "id": r.id, "kind": r.kind, "status": r.status, "detail": r.detail}
                             for r in self.replays]}

    def text(self) -> str:
        verdict = "FAIL" if self.failing else "pass"
        fixed = f"{len(self.fixed)} fixed" + (" (strict)" if self.strict and self.fixed else "")
        return (f"gate: {verdict}: {len(self.new)} new, {len(self.regressions)} regressed, {len(self.expired)} "
                f"expired, {len(self.known)} known, {fixed}, {len(self.unobserved)} unobserved "
                f"(baseline {self.baseline})")

    def lines(self, *, verbose: bool = False) -> list[str]:
        """What a maintainer acts on, a line each: new findings, regressions, fixed entries."""
        out = [f"  new: {f['id']} {f['title']}" for f in self.new + self.expired]
        out += [f"  regressed on {r.target}: {r.detail}" for r in self.regressions]
        out += [f"  fixed: {i} on {t}: its pinned scenario agrees with AWS now (`rolecall baseline prune`)"
                for t, i in self.fixed]
        if verbose:
            out += [f"  unobserved: {i} on {t}" for t, i in self.unobserved]
        return out

    def markdown(self) -> str:
        return "\n".join([self.text(), *self.lines()])
