"""The package's shape: imports point one way (commands -> run layer -> stages -> model), there is
no import cycle anywhere (the emulator included), the emulator is an island, and JSON is read or
written only at the edges."""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "reconciler"

# Lowest first: a module may import its own rank or a lower one, never a higher one.
RANKS = [
    ("reconciler", "reconciler.errors", "reconciler.model", "reconciler.emulator"),
    ("reconciler.ledger", "reconciler.schemas", "reconciler.graph"),
    ("reconciler.desired",),
    ("reconciler.planning",),
    ("reconciler.applying",),
    ("reconciler.render",),
    ("reconciler.session",),
    ("reconciler.cli",),
    ("reconciler.__main__",),
]
# Where JSON may be parsed or written, and why; plan changes become JSON only in the plan file.
JSON_EDGES = {
    "reconciler.planning.planfile": "the plan file and plan --format json",
    "reconciler.ledger": "the ledger file",
    "reconciler.schemas": "the JSON Schema files",
    "reconciler.graph.client": "Graph answers and their usage headers",
    "reconciler.model": "the digest of live state a saved plan is checked against",
}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module of the package that ``name`` imports, anywhere in it (TYPE_CHECKING and
    function bodies included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules
            if len(submodules) < len(node.names):  # some names come from the module itself
                found.add(base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports_of(name) for name in MODULES}


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
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target] if target in path else [name, target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    upward = sorted(target for target in GRAPH[name] if rank(target) > rank(name))
    assert not upward, f"{name} (rank {rank(name)}) imports what stands above it: {upward}"


def test_the_emulator_is_an_island():
    for name, targets in GRAPH.items():
        if name.startswith("reconciler.emulator"):
            outside = sorted(t for t in targets if not t.startswith("reconciler.emulator"))
            assert not outside, f"{name} imports {outside}"


def test_json_only_at_the_edges():
    readers = {name for name, path in MODULES.items()
               if not name.startswith("reconciler.emulator") and "json" in _plain_imports(path)}
    assert readers <= set(JSON_EDGES), f"JSON outside the edges: {sorted(readers - set(JSON_EDGES))}"


def _plain_imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
