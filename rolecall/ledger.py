"""The baseline: per target, a committed ledger of accepted divergences, and the gate.

`baselines/<target>.json` holds entries {id, property, signature, first_seen, last_seen,
reason, source, ticket?, expires?}. A run is judged against it: a divergence not in the
ledger, or one whose entry has expired, fails the gate; known ones pass; entries the run
did not observe are reported (unobserved). Only `rolecall baseline update` and `prune`
write it, atomically.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from rolecall.scenario import write_atomic

LEDGER_FORMAT = "rolecall/baseline@1"


class LedgerError(ValueError):
    pass


def _file_for(folder: Path, target: str) -> Path:
    return folder / f"{target.replace('+', '-')}.json"


@dataclass
class Baseline:
    folder: Path
    entries: dict[str, dict[str, dict]] = field(default_factory=dict)  # target -> id -> entry

    @classmethod
    def load(cls, folder: Path) -> "Baseline":
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise LedgerError(f"{folder}: a baseline is a folder of <target>.json files, not a file")
        out = cls(folder)
        if not folder.exists():
            return out
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise LedgerError(f"{path}: not a valid baseline file: {exc}") from None
            if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
                raise LedgerError(f"{path}: $.format: expected {LEDGER_FORMAT!r}")
            target = data.get("target")
            divs = data.get("divergences")
            if not isinstance(target, str) or not isinstance(divs, list):
                raise LedgerError(f"{path}: expected 'target' (string) and 'divergences' (array)")
            table = out.entries.setdefault(target, {})
            for i, entry in enumerate(divs):
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    raise LedgerError(f"{path}: $.divergences[{i}]: each entry needs an 'id' string")
                if "expires" in entry:
                    try:
                        dt.date.fromisoformat(str(entry["expires"]))
                    except ValueError:
                        raise LedgerError(f"{path}: $.divergences[{i}].expires: expected YYYY-MM-DD") from None
                table[entry["id"]] = entry
        return out

    def judge(self, result, today: dt.date | None = None) -> "Verdicts":
        today = today or dt.date.today()
        v = Verdicts()
        tested_targets = {c.target for c in result.cells}
        for cell in result.cells:
            known = self.entries.get(cell.target, {})
            for div_id, finding in cell.findings.items():
                entry = known.get(div_id)
                if entry is None:
                    v.new.append(finding.divergence)
                elif "expires" in entry and dt.date.fromisoformat(str(entry["expires"])) < today:
                    v.expired.append(finding.divergence)
                else:
                    v.known.append(finding.divergence)
        observed = {(c.target, i) for c in result.cells for i in c.findings}
        for target, table in self.entries.items():
            if target not in tested_targets:
                continue
            for div_id in table:
                if (target, div_id) not in observed:
                    v.unobserved.append((target, div_id))
        return v

    def update(self, result, *, reason: str = "accepted: found by rolecall, to be triaged") -> list[Path]:
        """Add every divergence of the run; refresh last_seen of known ones. Returns files written."""
        now = dt.date.today().isoformat()
        written = []
        for target in {c.target for c in result.cells}:
            table = self.entries.setdefault(target, {})
            for cell in (c for c in result.cells if c.target == target):
                for div_id, f in cell.findings.items():
                    d = f.divergence
                    entry = table.get(div_id)
                    if entry is None:
                        table[div_id] = {"id": div_id, "property": d.property, "call": d.call, "level": d.level,
                                         "signature": d.signature, "first_seen": now, "last_seen": now,
                                         "reason": reason, "summary": d.summary()}
                    else:
                        entry["last_seen"] = now
            written.append(self._write(target))
        return written

    def prune(self, result) -> list[tuple[str, str]]:
        """Drop entries of tested targets that the run did not observe."""
        verdicts = self.judge(result)
        for target, div_id in verdicts.unobserved:
            del self.entries[target][div_id]
        for target in {t for t, _ in verdicts.unobserved}:
            self._write(target)
        return verdicts.unobserved

    def _write(self, target: str) -> Path:
        entries = sorted(self.entries.get(target, {}).values(), key=lambda e: (e.get("property", ""), e["id"]))
        doc = {"format": LEDGER_FORMAT, "target": target, "divergences": entries}
        return write_atomic(_file_for(self.folder, target), json.dumps(doc, indent=2) + "\n")


@dataclass
class Verdicts:
    new: list = field(default_factory=list)
    known: list = field(default_factory=list)
    expired: list = field(default_factory=list)
    unobserved: list = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return bool(self.new or self.expired)

    @property
    def new_ids(self) -> set[str]:
        return {d.id for d in self.new + self.expired}

    def is_new_id(self, div_id: str) -> bool:
        return div_id in self.new_ids

    def is_new(self, divergence) -> bool:
        return divergence.id in self.new_ids

    def to_dict(self) -> dict:
        return {"new": sorted({d.id for d in self.new}), "expired": sorted({d.id for d in self.expired}),
                "known": sorted({d.id for d in self.known}),
                "unobserved": [f"{t}:{i}" for t, i in sorted(self.unobserved)], "failing": self.failing}

    def text(self) -> str:
        d = self.to_dict()
        verdict = "FAIL" if self.failing else "pass"
        return (f"gate: {verdict}: {len(d['new'])} new, {len(d['expired'])} expired, {len(d['known'])} known, "
                f"{len(d['unobserved'])} unobserved")

    def markdown(self) -> str:
        return self.text()
