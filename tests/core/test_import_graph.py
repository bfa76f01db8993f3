"""The core's import graph (module-level and function-local imports alike): nothing in astroml_core imports the
app above it, and no cycle of modules runs through two subpackages (``data`` ↔ ``sim`` was one, issue 33)."""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import astroml_core

ROOT = Path(astroml_core.__file__).parent


def _module_name(path: Path) -> tuple[str, list[str]]:
    """A file's dotted module name, and the package its relative imports start from."""
    parts = ["astroml_core", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), parts[:-1]
    return ".".join(parts), parts[:-1]


def _imported(path: Path, package: list[str]) -> set[str]:
    """Every dotted name a file imports, relative imports made absolute (``from a import b`` gives a and a.b),
    ``importlib.import_module("a.b")`` included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            base = ".".join(base + ([node.module] if node.module else []))
            names |= {base} | {f"{base}.{a.name}" for a in node.names}
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(str(node.args[0].value))
    return names


def _graph() -> tuple[dict[str, set[str]], set[str]]:
    """{module: the astroml_core modules it imports}, and every name imported at all."""
    files = {name: (path, package) for path in ROOT.rglob("*.py") for name, package in [_module_name(path)]}
    graph, everything = {}, set()
    for name, (path, package) in files.items():
        imported = _imported(path, package)
        everything |= imported
        targets = set()
        for target in imported:
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph, everything


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), deque([start])
    while todo:
        for nxt in graph.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_the_core_imports_nothing_from_the_app():
    _, imported = _graph()
    assert not sorted(n for n in imported if n.split(".")[0] == "app")


def test_no_import_cycle_runs_through_two_subpackages():
    graph, _ = _graph()
    crossing = [(a, b) for a, targets in graph.items() for b in targets
                if _subpackage(a) != _subpackage(b) and a in _reachable(graph, b)]
    assert not crossing
