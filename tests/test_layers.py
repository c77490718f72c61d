"""The import graph: no folder of rolecall imports one that imports it.

Layers, bottom up: the core (`rolecall/`: scenario, outcome, Target's error, Property, compare,
events, interrupts) -> targets/, strategies/, conformance/, reports/ -> the run spine
(`rolecall/` engine, findings, pool, spine, lanes, session, ledger) -> the front ends (`rolecall/cli/`, the
pytest plugin). Every import counts, at the top of a module or inside a function: an import
moved into a function still makes a dependency. Imports under `if TYPE_CHECKING:` are not run
and do not count; nor do pytest's entry modules (`conformance/test_*.py`).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parent.parent
#: folder -> the import package it is installed as
FOLDERS = {"rolecall": "rolecall", "targets": "rolecall.targets", "strategies": "rolecall.strategies",
           "conformance": "rolecall.conformance", "reports": "rolecall.reports"}
#: modules of rolecall/ above the core
SPINE = {"rolecall.engine", "rolecall.findings", "rolecall.pool", "rolecall.spine", "rolecall.lanes",
         "rolecall.session", "rolecall.ledger", "rolecall.matrix", "rolecall.corpus"}
FRONT = {"rolecall.cli", "rolecall.pytest_plugin"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("").parts
            if rel[-1].startswith("test_"):
                continue
            parts = [package, *(p for p in rel if p != "__init__")]
            out[".".join(parts)] = path
    return out


def layer(module: str) -> str:
    for name in sorted(FRONT | SPINE, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return "front ends" if name in FRONT else "run spine"
    for folder, package in sorted(FOLDERS.items(), key=lambda kv: -len(kv[1])):
        if module == package or module.startswith(package + "."):
            return "core" if folder == "rolecall" else folder
    raise AssertionError(module)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(module: str, path: Path) -> set[str]:
    """Every rolecall module (or name in one) `module` imports, wherever the import statement is."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m == "rolecall" or m.startswith("rolecall.")}


def _graph():
    modules = _modules()
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    module_edges: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for imported in imports(module, path):
            # a name imported from a module is an edge to that module
            target = imported if imported in modules else imported.rpartition(".")[0]
            if target not in modules or target == module:
                continue
            module_edges[module].add(target)
            a, b = layer(module), layer(target)
            if a != b:
                edges[a][b].add(f"{module} imports {target}")
    return edges, module_edges


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `graph` as a list of nodes, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_no_layer_imports_one_that_imports_it():
    edges, _ = _graph()
    cycle = _cycle({a: set(bs) for a, bs in edges.items()})
    if cycle:
        why = [f"{a} -> {b}: " + "; ".join(sorted(edges[a][b])[:4]) for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import cycle between layers: " + " -> ".join(cycle) + "\n  " + "\n  ".join(why))


def test_the_core_imports_nothing_above_it():
    edges, _ = _graph()
    assert not edges.get("core"), dict(edges["core"])


def test_the_run_spine_modules_do_not_import_each_other_in_a_circle():
    """rolecall.lanes and rolecall.session once imported each other."""
    _, module_edges = _graph()
    spine = {m: {t for t in ts if layer(t) == "run spine"} for m, ts in module_edges.items()
             if layer(m) == "run spine"}
    assert _cycle(spine) is None, _cycle(spine)


def test_the_graph_sees_function_level_imports(tmp_path):
    """The check itself: an import inside a function is a dependency; one under TYPE_CHECKING is not."""
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rolecall.targets import Target\n"
                    "def f():\n    from rolecall.reports import write_report\n")
    assert imports("rolecall.x", path) == {"rolecall.reports", "rolecall.reports.write_report"}
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
