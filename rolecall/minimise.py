"""Make a shrunk scenario minimal as a file: drop what does not matter to its divergence.

Hypothesis shrinks the choices a strategy made; a strategy may still build accounts,
principals, policies and steps the divergence does not need. This pass deletes them one at
a time (steps, accounts, entities, policies, statements, optional parameters) and keeps
each deletion after which the same divergence id still appears. Bounded by `budget` runs.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

from rolecall.scenario import Scenario, ScenarioError, from_dict

ENTITY_KINDS = ("users", "roles", "managed_policies", "buckets", "instance_profiles")


def _candidates(d: dict, keep_step: str) -> Iterator[Callable[[dict], None]]:
    """Deletions to try, coarse first."""
    for i, step in reversed(list(enumerate(d["steps"]))):
        if step["id"] != keep_step:
            yield lambda x, i=i: x["steps"].pop(i)
    for acct in list(d["accounts"]):
        yield lambda x, a=acct: x["accounts"].pop(a)
    for acct, world in d["accounts"].items():
        for kind in ENTITY_KINDS:
            for name in list(world.get(kind, {})):
                yield lambda x, a=acct, k=kind, n=name: x["accounts"][a][k].pop(n)
        if world.get("service_linked_roles"):
            for i in reversed(range(len(world["service_linked_roles"]))):
                yield lambda x, a=acct, i=i: x["accounts"][a]["service_linked_roles"].pop(i)
    for acct, world in d["accounts"].items():
        for kind in ("users", "roles"):
            for name, entity in world.get(kind, {}).items():
                for field in ("policies", "managed", "boundary", "tags", "path", "max_session_duration"):
                    if field in entity:
                        yield lambda x, a=acct, k=kind, n=name, f=field: x["accounts"][a][k][n].pop(f)
                for pname in list(entity.get("policies", {})):
                    yield lambda x, a=acct, k=kind, n=name, p=pname: x["accounts"][a][k][n]["policies"].pop(p)
        for name, bucket in world.get("buckets", {}).items():
            for field in ("policy", "objects"):
                if field in bucket:
                    yield lambda x, a=acct, n=name, f=field: x["accounts"][a]["buckets"][n].pop(f)
    for path in _statement_lists(d):
        for i in reversed(range(len(_get(d, path)))):
            yield lambda x, p=path, i=i: _pop_statement(x, p, i)
    for i, step in enumerate(d["steps"]):
        for key in list(step.get("params", {})):
            if key not in ("RoleArn", "RoleSessionName", "Bucket", "Key", "RoleName", "AWSServiceName"):
                yield lambda x, i=i, k=key: x["steps"][i]["params"].pop(k)


def _get(d: Any, path: tuple) -> Any:
    for p in path:
        d = d[p]
    return d


def _pop_statement(d: dict, path: tuple, i: int) -> None:
    stmts = _get(d, path)
    if len(stmts) <= 1:
        raise IndexError("keep at least one statement")
    stmts.pop(i)


def _statement_lists(d: dict) -> list[tuple]:
    out = []

    def visit(obj: Any, path: tuple) -> None:
        if isinstance(obj, dict):
            if isinstance(obj.get("Statement"), list) and len(obj["Statement"]) > 1:
                out.append(path + ("Statement",))
            for k, v in obj.items():
                visit(v, path + (k,))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                visit(v, path + (i,))

    visit(d["accounts"], ("accounts",))
    return out


def minimise(scenario: Scenario, keep_step: str, still_diverges: Callable[[Scenario], bool],
             budget: int = 40) -> Scenario:
    """At most `budget` replays: a count, not seconds, so a seeded run reports the same minimal
    scenario on a loaded machine as on an idle one."""
    current = scenario.to_dict()
    tries = 0
    progress = True
    while progress and tries < budget:
        progress = False
        for delete in _candidates(current, keep_step):
            if tries >= budget:
                break
            trial = copy.deepcopy(current)
            try:
                delete(trial)
                candidate = from_dict(trial, origin=scenario.origin)
            except (ScenarioError, KeyError, IndexError):
                continue
            tries += 1
            if still_diverges(candidate):
                current = trial
                progress = True
                break  # the candidate list changed; start over from the coarse deletions
    return from_dict(current, origin=scenario.origin)
