"""A conformance property: the seam `conformance/` plugs its modules into (core, so that the
catalogue does not depend on the engine that explores it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hypothesis import strategies as st

from rolecall.scenario import Scenario


@dataclass(frozen=True)
class Property:
    """One conformance property: scenarios from `strategy` behave on a target as on the oracle."""

    name: str
    behaviour: str  # the seed behaviour it belongs to (report grouping)
    feature: str  # the pytest marker
    strategy: Callable[[], st.SearchStrategy[Scenario]]
    description: str
    source: str
    # Seconds a cell of it took on moto in the ci profile (docs/performance.md): under
    # pytest-xdist the costliest cells start first, so no worker is left with a long one at the end.
    cost: float = 10.0
    # A fixed list of scenarios replayed each once instead of a search (a committed corpus,
    # rolecall.corpus); None: the property searches `strategy`
    corpus: tuple[Scenario, ...] | None = field(default=None, compare=False, repr=False)
