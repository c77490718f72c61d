"""The divergence engine: search one property on one target for every distinct divergence.

Hypothesis keeps one failure per origin, so each divergence id raises its own exception
class: Hypothesis then shrinks each to its own minimal scenario and reports them all.
Rounds with new seeds search on, skipping ids already found, until the profile's budget
is spent. Each minimal scenario is then replayed to confirm it (flaky ones are set apart).
The pytest plugin and `rolecall run` both drive this module.
"""
from __future__ import annotations

import contextlib
import json
import time
import unittest
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hseed, settings
from hypothesis.errors import Unsatisfiable

from rolecall import interrupts
from rolecall.compare import Divergence, first_difference
from rolecall.features import FEATURES, features as scenario_features
from rolecall.findings import Cause, Enforcement, explain, probe_enforcement
from rolecall.outcome import ERROR, OK, UNSUPPORTED, Run, TargetUnavailable
from rolecall.property import Property  # noqa: F401 - a core type, also named here
from rolecall.scenario import Scenario

if TYPE_CHECKING:  # the seam targets plug into; the engine only calls it
    from rolecall.targets.base import Target

#: a cell whose target could run less than this share of its steps is "not tested", not "agree"
NOT_TESTED_BELOW = 0.5
#: clean replays of a minimal scenario that confirm a divergence (the minimiser's last check
#: counts as the first)
CONFIRM_REPLAYS = 3


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    rounds: int
    seed: int | None  # None: random
    database: str | None = None  # "directory", "redis", "github" or None
    generate: bool = True  # False: only replay what the example database holds
    # Successful shrinks Hypothesis may make in a round before it stops and reports what it
    # has (its own limit: 500, or five minutes). Shrinking is where most divergences are
    # found (its steps slip into neighbouring bugs) and where most of a cell's time goes;
    # rolecall's minimiser then reduces what was left. A count, not seconds, so a seeded run
    # finds the same divergences on a loaded machine; scaled by a target's budget_scale as
    # examples are. None: Hypothesis's limits.
    max_shrinks: int | None = None
    # False: the example database is neither read nor written, whatever ROLECALL_DATABASE says (a
    # gated run: its verdict must not depend on what earlier local runs stored)
    use_database: bool = True
    # Steer the search to features the rounds left unreached (rolecall.features): a last phase
    # runs the few fresh scenarios that reach them (`aimed`); what diverges there is minimised
    # and confirmed like the rest (docs/quality.md)
    steer: bool = True


PROFILES = {
    "ci": Profile("ci", max_examples=40, rounds=2, seed=0, max_shrinks=100),
    "dev": Profile("dev", max_examples=150, rounds=3, seed=None, database="directory"),
    "explore": Profile("explore", max_examples=1000, rounds=10, seed=None, database="directory"),
    # Replays the example database's counterexamples (shared through Redis or a CI cache)
    # without searching: how a gate re-checks what any worker found before.
    "replay": Profile("replay", max_examples=1000, rounds=1, seed=None, database="directory", generate=False),
}


@dataclass
class Confirmed:
    """A divergence whose minimal scenario replayed: its runs, and how often it reproduced."""

    divergence: Divergence
    confirmed: bool
    reproduced: int
    expected: Run | None = None
    observed: Run | None = None
    cause: Cause | None = None  # the target behaviour behind it (rolecall.findings)


@dataclass
class Cell:
    """What exploring one property on one target found."""

    property: str
    behaviour: str
    target: str
    examples: int = 0
    agreeing: int = 0
    unsupported_steps: int = 0
    steps: int = 0  # steps run on the target (compared, or unsupported there)
    setup_errors: int = 0
    divergences: dict[str, Confirmed] = field(default_factory=dict)
    flaky: dict[str, Divergence] = field(default_factory=dict)
    unconfirmed: dict[str, Divergence] = field(default_factory=dict)  # found, then the target broke
    error: str | None = None
    coverage: Counter = field(default_factory=Counter)  # oracle reason label -> steps
    features: Counter = field(default_factory=Counter)  # rolecall.features feature -> scenarios reaching it
    decisions: Counter = field(default_factory=Counter)  # "allowed"/"denied" per oracle step
    seconds: float = 0.0
    # scenarios the target passed, one for each (oracle rule, policy feature) first reached: the
    # baseline keeps them, and a gated run replays them (a second bug behind a known symptom fails one)
    passed: dict = field(default_factory=dict)  # key -> scenario dict

    def to_dict(self) -> dict:
        """Plain JSON, to carry a cell from a pytest-xdist worker to the controller."""
        return {"property": self.property, "behaviour": self.behaviour, "target": self.target,
                "examples": self.examples, "agreeing": self.agreeing, "unsupported_steps": self.unsupported_steps,
                "steps": self.steps,
                "setup_errors": self.setup_errors, "error": self.error, "seconds": self.seconds,
                "coverage": dict(self.coverage), "features": dict(self.features), "decisions": dict(self.decisions),
                "passed": dict(self.passed),
                "divergences": [{"confirmed": f.confirmed, "reproduced": f.reproduced,
                                 "cause": f.cause.to_dict() if f.cause else None,
                                 "divergence": f.divergence.to_dict(scenario=True)} for f in self.divergences.values()],
                "flaky": [d.to_dict(scenario=True) for d in self.flaky.values()],
                "unconfirmed": [d.to_dict(scenario=True) for d in self.unconfirmed.values()]}

    @classmethod
    def from_dict(cls, d: dict) -> "Cell":
        cell = cls(d["property"], d["behaviour"], d["target"], examples=d["examples"], agreeing=d["agreeing"],
                   unsupported_steps=d["unsupported_steps"], steps=d.get("steps", 0), setup_errors=d["setup_errors"], error=d["error"],
                   coverage=Counter(d["coverage"]), features=Counter(d.get("features") or {}),
                   decisions=Counter(d["decisions"]), seconds=d["seconds"],
                   passed=dict(d.get("passed") or {}))
        for f in d["divergences"]:
            div = Divergence.from_dict(f["divergence"])
            cause = Cause.from_dict(f["cause"]) if f.get("cause") else None
            cell.divergences[div.id] = Confirmed(div, f["confirmed"], f["reproduced"], cause=cause)
        for x in d["flaky"]:
            div = Divergence.from_dict(x)
            cell.flaky[div.id] = div
        for x in d.get("unconfirmed", []):
            div = Divergence.from_dict(x)
            cell.unconfirmed[div.id] = div
        return cell

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        if self.divergences:
            return "diverge"
        if self.examples == 0 or self.examples == self.setup_errors:
            return "unsupported"
        if self.compared < NOT_TESTED_BELOW:
            return "not tested"  # agreeing on the few steps it could run is no pass
        return "agree"

    @property
    def compared(self) -> float:
        """The share of its steps the target could run (the rest were unsupported there)."""
        return 1.0 - self.unsupported_steps / self.steps if self.steps else 1.0


class DivergenceFound(Exception):
    def __init__(self, divergence: Divergence, expected: Run, observed: Run):
        super().__init__(divergence.summary())
        self.divergence, self.expected, self.observed = divergence, expected, observed


_CLASSES: dict[str, type] = {}


def _exception_for(div_id: str) -> type:
    cls = _CLASSES.get(div_id)
    if cls is None:
        cls = _CLASSES[div_id] = type(f"Divergence_{div_id.replace('-', '_')}", (DivergenceFound,), {})
    return cls


def _flatten(exc: BaseException) -> list[BaseException]:
    inner = getattr(exc, "exceptions", None)
    if inner is None:
        return [exc]
    return [e for sub in inner for e in _flatten(sub)]


#: the most comparisons a cell's memo keeps (a few KiB each; the ci profile's dearest cell
#: compares about 600 distinct scenarios, the explore profile's many more)
MEMO_MAX = 20_000


def compare_once(prop: Property | str, scenario: Scenario, target: Target, oracle: Target, strictness: str,
                 memo: dict | None = None):
    """The scenario on the oracle and the target, and their first difference. With `memo` (a
    cell's: the search and the minimiser), a scenario already compared in the cell is answered
    from it: about 30% of a cell's comparisons repeat a scenario exactly (Hypothesis's shrinker
    and rolecall's minimiser reach the same scenario from different choices), and a target's
    answer to a scenario is checked to be the same every time by `confirm`, which never uses it."""
    interrupts.check()  # the safe point of every example, shrink and replay
    # compact JSON: Scenario.dumps() indents for files, 2.5x the cost on the per-example path
    key = json.dumps(scenario.to_dict(), separators=(",", ":")) if memo is not None else None
    if key is not None and key in memo:
        return memo[key]
    expected = oracle.run(scenario)
    observed = target.run(scenario)
    diff = None
    if expected.setup_error is None and observed.setup_error is None:
        diff = first_difference(scenario, expected, observed, strictness)
    name = prop if isinstance(prop, str) else prop.name
    div = Divergence.of(name, target.name, scenario, diff, oracle=oracle.name) if diff else None
    if key is not None and len(memo) < MEMO_MAX:
        memo[key] = (expected, observed, div)
    return expected, observed, div


#: the steering phase draws this many scenarios per example of a round's budget (drawing one
#: costs about a tenth of running it on moto), and runs at most one for STEER_SHARE of them
STEER_DRAWS, STEER_SHARE = 2, 8
_DRAWN: dict[tuple, list] = {}


def _draw(prop: Property, n: int, seed: int | None) -> list[Scenario]:
    """`n` scenarios of the property's strategy, generated only (no target runs them), the same
    for a seed; kept for the other targets a process explores with the same seed."""
    key = (prop.name, n, seed)
    if key in _DRAWN:
        return _DRAWN[key]
    out: list[Scenario] = []

    def collect(scenario: Scenario) -> None:
        interrupts.check()  # a safe point: a large budget draws for seconds
        out.append(scenario)

    test = settings(max_examples=n, database=None, deadline=None, phases=(Phase.generate,),
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)(
        given(prop.strategy())(collect))
    if seed is not None:
        test = hseed(seed * 1000 + 999)(test)
    test()
    if seed is not None:
        _DRAWN[key] = out
    return out


def aimed(prop: Property, reached: Counter, *, draws: int, runs: int, seed: int | None) -> list[Scenario]:
    """The steering phase's examples: of `draws` fresh scenarios of the property, at most `runs`
    that each reach a catalogued feature (rolecall.features) no example of the cell reached yet,
    picked greedily. Drawing costs a fraction of running, so rare features are reached sooner
    than by spending the same runs on more random examples (docs/quality.md)."""
    unreached = set(FEATURES) - {f for f, n in reached.items() if n}
    picked: list[Scenario] = []
    for scenario in _draw(prop, draws, seed) if unreached else ():
        new = scenario_features(scenario) & unreached
        if new:
            picked.append(scenario)
            unreached -= new
            if len(picked) >= runs or not unreached:
                break
    return picked


def _database(profile: Profile):
    import os

    from rolecall.database import example_database

    kind = os.environ.get("ROLECALL_DATABASE") or profile.database
    return example_database(kind) if kind else None


def explore(prop: Property, target: Target, oracle: Target, *, profile: Profile = PROFILES["ci"],
            strictness: str = "facts", seed: int | None = None, max_examples: int | None = None,
            on_example: Callable[[Cell], None] | None = None) -> Cell:
    cell = Cell(prop.name, prop.behaviour, target.name)
    started = time.perf_counter()
    skip: set[str] = set()
    memo: dict = {}  # scenarios compared in this cell (compare_once)
    base_seed = profile.seed if seed is None else seed
    db = _database(profile) if profile.use_database else None

    def examine(scenario: Scenario):
        """Run one example and count it; None when the target is lost or the oracle refuses the world."""
        if cell.error:
            return None
        try:
            expected, observed, div = compare_once(prop, scenario, target, oracle, strictness, memo)
        except TargetUnavailable as exc:
            cell.error = str(exc)
            return None
        if expected.setup_error is not None:
            return None
        _count(cell, scenario, expected, observed)
        if on_example:
            on_example(cell)
        if div is None:
            cell.agreeing += 1
            keep_passed(cell, scenario, expected, cap=max(4, int(PASSED_PER_CELL * target.budget_scale)))
        return expected, observed, div

    def body(scenario: Scenario) -> None:
        ran = examine(scenario)
        if ran is None:
            if not cell.error:
                from hypothesis import reject

                reject()  # the strategy made a world AWS would refuse: not a valid case
            return
        expected, observed, div = ran
        if div is not None and div.id not in skip:
            raise _exception_for(div.id)(div, expected, observed)

    # Hypothesis keys its example database by the test function; one body serves every
    # property and target, so name the pair (a counterexample found for moto on one worker
    # is replayed first by every worker that explores the same pair).
    # Later rounds skip ids already found, so Hypothesis would drop their stored examples:
    # each round has its own key, and round 0's counterexamples stay for everyone to replay.
    # Hypothesis ignores the database in seeded runs, so a seeded profile with a database
    # first replays what the database holds (found by any worker or machine), then searches.
    rounds: list[tuple[int, bool]] = [(r, profile.generate) for r in range(profile.rounds)]
    if db is not None and base_seed is not None and profile.generate:
        rounds.insert(0, (0, False))
    for index, (round_no, generate) in enumerate(rounds):
        if cell.error:
            break
        body._hypothesis_internal_add_digest = f"rolecall|{prop.name}|{target.name}|{strictness}|{round_no}".encode()
        found_before = len(cell.divergences)
        test = given(prop.strategy())(body)
        budget = max_examples or max(5, int(profile.max_examples * target.budget_scale))
        max_shrinks = profile.max_shrinks and max(10, int(profile.max_shrinks * target.budget_scale))
        test = settings(max_examples=budget, deadline=None, database=db,
                        report_multiple_bugs=True, verbosity=Verbosity.quiet, print_blob=False,
                        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
                        if generate else (Phase.explicit, Phase.reuse, Phase.shrink),
                        suppress_health_check=list(HealthCheck))(test)
        if base_seed is not None and generate:
            test = hseed(base_seed * 1000 + round_no)(test)
        try:
            with _hypothesis_limits(max_shrinks, counted=base_seed is not None and generate):
                test()
        except Unsatisfiable:
            if cell.examples == 0:
                cell.error = f"{prop.name}: the strategy produced no scenario the reference model accepts"
        except BaseException as exc:  # noqa: BLE001 - sorted below; anything else is re-raised
            if isinstance(exc, KeyboardInterrupt):
                raise
            if isinstance(exc, unittest.SkipTest):
                continue  # nothing stored to replay
            for inner in _flatten(exc):
                if isinstance(inner, DivergenceFound):
                    div = inner.divergence
                    skip.add(div.id)
                    if div.id not in cell.divergences:
                        cell.divergences[div.id] = Confirmed(div, False, 0, inner.expected, inner.observed)
                elif not _is_flaky_wrapper(inner):
                    raise
        if generate and len(cell.divergences) == found_before and round_no > 0:
            break  # a round found nothing new: the budget is better spent elsewhere
    if profile.steer and profile.generate and not cell.error:
        budget = max_examples or max(5, int(profile.max_examples * target.budget_scale))
        for scenario in aimed(prop, cell.features, draws=STEER_DRAWS * budget, runs=max(2, budget // STEER_SHARE),
                              seed=base_seed):
            ran = examine(scenario)
            if ran is not None and ran[2] is not None and ran[2].id not in cell.divergences:
                expected, observed, div = ran
                cell.divergences[div.id] = Confirmed(div, False, 0, expected, observed)
    _settle(prop, cell, target, oracle, strictness, memo=memo)
    cell.seconds = time.perf_counter() - started
    return cell


def replay(prop: Property, scenarios: Iterable[Scenario], target: Target, oracle: Target, *,
           strictness: str = "code", holds: Callable[[Scenario, Run], bool] | None = None,
           reduce_found: bool = True, on_example: Callable[[Cell], None] | None = None) -> Cell:
    """A fixed list of scenarios (a committed corpus) compared like search examples, each once, in
    order; the first scenario of each divergence id is then reduced (unless not `reduce_found`),
    confirmed and explained as the search's are. `holds(scenario, expected)` False skips a scenario
    on which the oracle itself fails (counted as a setup error: it says nothing about the target)."""
    cell = Cell(prop.name, prop.behaviour, target.name)
    started = time.perf_counter()
    for scenario in scenarios:
        try:
            expected, observed, div = compare_once(prop, scenario, target, oracle, strictness)
        except TargetUnavailable as exc:
            cell.error = str(exc)
            break
        if expected.setup_error is not None or (holds is not None and not holds(scenario, expected)):
            cell.examples += 1
            cell.setup_errors += 1
            continue
        _count(cell, scenario, expected, observed)
        if on_example:
            on_example(cell)
        if div is None:
            cell.agreeing += 1
        elif div.id not in cell.divergences:
            cell.divergences[div.id] = Confirmed(div, False, 0, expected, observed)
    _settle(prop, cell, target, oracle, strictness, reduce_found=reduce_found)
    cell.seconds = time.perf_counter() - started
    return cell


def _count(cell: Cell, scenario: Scenario, expected: Run, observed: Run) -> None:
    """One compared example into its cell's tallies (and the features it reached)."""
    cell.examples += 1
    if observed.setup_error is not None:
        cell.setup_errors += 1
    for o in expected.outcomes:
        if o.reason:
            cell.coverage[o.reason] += 1
        if o.outcome in (OK, ERROR):
            cell.decisions["allowed" if o.outcome == OK else "denied"] += 1
    cell.unsupported_steps += sum(o.outcome == UNSUPPORTED for o in observed.outcomes)
    cell.steps += len(observed.outcomes)
    cell.features.update(scenario_features(scenario))


def _settle(prop: Property, cell: Cell, target: Target, oracle: Target, strictness: str, *,
            reduce_found: bool = True, memo: dict | None = None) -> None:
    """Reduce, confirm and explain every divergence a cell found."""
    for div_id, record in list(cell.divergences.items()):
        try:
            if cell.error:
                raise TargetUnavailable(cell.error)
            if reduce_found:
                reduce(prop, record, target, oracle, strictness, memo=memo)
            else:
                record.reproduced = 1  # the replay itself was its first reproduction
            confirm(prop, record, target, oracle, strictness)
            if record.confirmed:
                record.cause = explain(record.divergence, target, oracle, enforcement=enforcement_of(target, oracle),
                                       strictness=strictness, budget=target.explain_replays)
        except TargetUnavailable as exc:
            # A divergence is only reported once its minimal scenario replays; a target that
            # broke before that leaves it unconfirmed, apart from the confirmed ones.
            cell.error = cell.error or str(exc)
            cell.unconfirmed[div_id] = cell.divergences.pop(div_id).divergence
            continue
        if not record.confirmed:
            cell.flaky[div_id] = cell.divergences.pop(div_id).divergence


class _NoWallClock:
    """Hypothesis's conjecture engine's view of `time`, without its one wall-clock rule on
    generating: "stop looking for more bugs ten seconds after the first" (a loaded machine
    would then search a seeded cell less than an idle one). Its other limits are counts."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def monotonic() -> float:
        return 0.0


@contextlib.contextmanager
def _hypothesis_limits(max_shrinks: int | None, *, counted: bool):
    """Hypothesis reads its limits from module constants as it runs. `max_shrinks`: the
    successful shrinks a round may make. `counted` (a seeded run): no limit in seconds, so the
    same seed explores the same examples however fast the target answers; the shrink count
    bounds shrinking instead of Hypothesis's five minutes."""
    from hypothesis.internal.conjecture import engine as conjecture

    patches: dict[str, object] = {}
    if max_shrinks is not None and hasattr(conjecture, "MAX_SHRINKS"):
        patches["MAX_SHRINKS"] = max_shrinks
    if counted and hasattr(conjecture, "time") and hasattr(conjecture, "MAX_SHRINKING_SECONDS"):
        patches["time"] = _NoWallClock()
        if max_shrinks is not None:
            patches["MAX_SHRINKING_SECONDS"] = float("inf")
    saved = {name: getattr(conjecture, name) for name in patches}
    for name, value in patches.items():
        setattr(conjecture, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(conjecture, name, value)


def _is_flaky_wrapper(exc: BaseException) -> bool:
    from hypothesis.errors import Flaky

    return isinstance(exc, Flaky)


#: scenarios a cell keeps of those its target passed (scaled by the target's budget share)
PASSED_PER_CELL = 24


def keep_passed(cell: Cell, scenario: Scenario, expected: Run, cap: int) -> None:
    """Keep the scenario if it is the first the target passed for one (oracle rule, feature) pair."""
    if len(cell.passed) >= cap:
        return
    reasons = sorted({o.reason for o in expected.outcomes if o.reason}) or ["-"]
    feats = sorted(scenario_features(scenario)) + ["-"]  # the catalogue's features (rolecall.features)
    for key in (f"{r}|{f}" for f in feats for r in reasons):
        if key not in cell.passed:
            cell.passed[key] = scenario.to_dict()
            return


_ENFORCEMENT: "weakref.WeakKeyDictionary[Target, Enforcement]" = weakref.WeakKeyDictionary()


def enforcement_of(target: Target, oracle: Target) -> Enforcement:
    """What the enforcement canary shows of a target: run once per target object."""
    found = _ENFORCEMENT.get(target)
    if found is None:
        found = _ENFORCEMENT[target] = probe_enforcement(target, oracle)
    return found


def minimal(div: Divergence, target: Target, oracle: Target, strictness: str,
            memo: dict | None = None) -> tuple[Divergence, Run, Run] | None:
    """The divergence on the smallest scenario that still shows it (the same id), found by
    rolecall.minimise within the target's replay budget; None when it no longer shows. The
    candidates may be answered from the cell's `memo`; the smallest is replayed afresh (the
    first of the replays that confirm it)."""
    from rolecall.minimise import minimise

    last: dict = {}

    def still_diverges(candidate: Scenario, memo: dict | None = memo) -> bool:
        expected, observed, found = compare_once(div.property, candidate, target, oracle, strictness, memo)
        if found is not None and found.id == div.id and expected.setup_error is None:
            last.update(div=found, expected=expected, observed=observed)
            return True
        return False

    smallest = minimise(div.scenario, div.step_id, still_diverges, budget=target.minimise_replays)
    return (last["div"], last["expected"], last["observed"]) if still_diverges(smallest, None) else None


def reduce(prop: Property, record: Confirmed, target: Target, oracle: Target, strictness: str, *,
           memo: dict | None = None) -> None:
    """Drop from the shrunk scenario whatever its divergence does not need."""
    found = minimal(record.divergence, target, oracle, strictness, memo)
    if found is not None:
        record.divergence, record.expected, record.observed = found
        record.reproduced = 1


def confirm(prop: Property, record: Confirmed, target: Target, oracle: Target, strictness: str) -> None:
    """Replay the minimal scenario: it must give the same divergence id every time."""
    for _ in range(CONFIRM_REPLAYS - record.reproduced):
        _, _, div = compare_once(prop, record.divergence.scenario, target, oracle, strictness)
        if div is None or div.id != record.divergence.id:
            record.confirmed = False
            return
        record.reproduced += 1
    record.confirmed = True
