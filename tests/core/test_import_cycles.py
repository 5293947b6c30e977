"""The tray package has no import cycle: each module can be read (and tested) below the ones that use it.
Imports inside functions count too: a function-level import only hides a cycle until that function runs."""
from __future__ import annotations

import ast
from pathlib import Path

import tray

PACKAGE = Path(next(iter(tray.__path__)))


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every tray module `path` imports, at any depth of the file (functions, TYPE_CHECKING blocks too)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_pkg else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from tray.core import words` imports the module tray.core.words; `from tray.x import y` the
            # module tray.x.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    # A package's __init__ re-exports: importing tray.sources.x runs tray.sources first, not a cycle of its own.
    return {name: _imports(path, name, known) - {n for n in known if name.startswith(n + ".")}
            for name, path in files.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_the_walk_sees_imports_inside_functions():
    graph = import_graph()
    assert "tray.outputs.tray.pystray_backend" in graph["tray.outputs.tray.runner"]      # imported inside a function
    assert "tray.core.model" in graph["tray.app.state"]


def test_find_cycles_finds_one():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_tray():
    assert find_cycles(import_graph()) == []


def test_the_core_imports_nothing_outside_it():
    """tray/core/ is the domain and its pure rules: everything else may build on it, so it builds on nothing
    else (no config, no network, no keyring, no output), and can be read and tested alone."""
    graph = import_graph()
    core = {name for name in graph if name.startswith("tray.core.")}
    assert core, "no tray.core modules found"
    outside = {(name, dep) for name in core for dep in graph[name]
               if dep.startswith("tray.") and not dep.startswith("tray.core") and dep != "tray.shared"}
    assert outside == set()
