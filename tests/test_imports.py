"""The package's shape: imports point one way (commands -> run layer -> stages -> model), there is
no import cycle anywhere (the emulator included), and JSON is read or written only at the edges.
(That the emulator imports nothing from the rest is checked in test_emulator_server.py.)"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "reconciler"

# Lowest first: a module may import its own rank or a lower one, never a higher one.
RANKS = [
    ("reconciler", "reconciler.errors", "reconciler.globs", "reconciler.model", "reconciler.emulator"),
    ("reconciler.ledger", "reconciler.ledgerlock", "reconciler.schemas", "reconciler.graph"),
    ("reconciler.desired",),
    ("reconciler.planning",),
    ("reconciler.applying",),
    ("reconciler.render",),
    ("reconciler.endpoint", "reconciler.inputs"),
    ("reconciler.session",),
    ("reconciler.options",),
    ("reconciler.cli",),
    ("reconciler.__main__",),
]
# Where JSON may be parsed or written, and why; plan changes become JSON only in the plan file.
JSON_EDGES = {
    "reconciler.planning.planfile": "the plan file and plan --format json",
    "reconciler.planning.driftfile": "drift --format json (through schemas.dumps_checked)",
    "reconciler.applying.reportfile": "apply --report (through schemas.dumps_checked)",
    "reconciler.ledger": "the ledger file",
    "reconciler.ledgerlock": "the note of who holds the ledger's lock",
    "reconciler.schemas": "the JSON Schema files",
    "reconciler.graph.client": "Graph answers",
    "reconciler.graph.throttle": "the usage headers (X-App-Usage, X-Business-Use-Case-Usage)",
    "reconciler.model": "the digest of live state a saved plan is checked against; library template inputs as canonical text",
}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, is_package: bool, source: str, modules: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere: top level, under TYPE_CHECKING, in
    functions. ``from P import x`` counts as importing module ``P.x`` when there is one, else ``P``."""
    package = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            found |= submodules
            if len(submodules) < len(node.names):  # some names come from the module itself
                found.add(base)
    return {module for module in found if module in modules and module != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as the path that closes it (first node repeated last), or None."""
    finished: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in finished:
            return None
        for imported in sorted(graph.get(node, ())):
            cycle = visit(imported, [*path, node])
            if cycle is not None:
                return cycle
        finished.add(node)
        return None

    return next((cycle for start in sorted(graph) if (cycle := visit(start, [])) is not None), None)


GRAPH = {name: imports_of(name, path.name == "__init__.py", path.read_text(encoding="utf-8"), set(MODULES))
         for name, path in MODULES.items()}


def rank(name: str) -> int:
    for number, prefixes in enumerate(RANKS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes if prefix != "reconciler"):
            return number
    assert name == "reconciler", f"{name} has no place in RANKS"
    return 0


def test_the_graph_was_read():
    assert GRAPH["reconciler.cli"] >= {"reconciler.session", "reconciler.render"}
    assert "reconciler.emulator.server" in GRAPH["reconciler.emulator"]


def test_no_import_cycle_anywhere():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_check_counts_every_kind_of_import_and_finds_cycles():
    modules = {"p", "p.errors", "p.server", "p.controls", "p.content", "p.content.fields"}
    source = """
from typing import TYPE_CHECKING
from .. import errors
from . import fields
if TYPE_CHECKING:
    from ..server import EmulatorServer
def later():
    from ..controls import handle
"""
    assert imports_of("p.content.buttons", False, source, modules) == {"p.errors", "p.content.fields", "p.server", "p.controls"}
    assert imports_of("p.content", True, "from .fields import check_name", modules) == {"p.content.fields"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    upward = sorted(target for target in GRAPH[name] if rank(target) > rank(name))
    assert not upward, f"{name} (rank {rank(name)}) imports what stands above it: {upward}"


def test_json_only_at_the_edges():
    readers = {name for name, path in MODULES.items()
               if not name.startswith("reconciler.emulator") and "json" in _plain_imports(path)}
    assert readers <= set(JSON_EDGES), f"JSON outside the edges: {sorted(readers - set(JSON_EDGES))}"


def _plain_imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
