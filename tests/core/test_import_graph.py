"""The import graph keeps its layers (issue 33): inside the core each package imports only packages of its own
or a lower layer (lazy imports inside functions count too), the core never imports the app, and an app page
never imports another page (pages meet through the PageSpec registry)."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# lowest first; a package may import its own layer's packages and any lower layer's
CORE_LAYERS = [
    {"errors", "config", "constants", "progress", "arrays"},
    {"data", "display", "units"},
    {"sim"},
    {"models", "metrics"},
    {"service"},
    {"registry"},
    {"tasks"},
    {"analysis", "vetting"},
    {"train"},
    {"validate", "bench"},
    {"cli", "cli_infer", "cli_info"},
]


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions, absolute names; importlib calls
    with a literal name count too."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found |= {name} | {f"{name}.{a.name}" for a in node.names}
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def _graph(package: str, unit) -> dict[str, set[str]]:
    edges = defaultdict(set)
    for path in (ROOT / package).rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        source = unit(module)
        for name in _imports(path, module):
            target = unit(name)
            if source and target and target != source:
                edges[source].add(target)
    return edges


def _core_unit(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "app":
        return "app"
    return parts[1] if parts[0] == "astroml_core" and len(parts) > 1 else None


def _layer(package: str) -> int:
    for k, layer in enumerate(CORE_LAYERS):
        if package in layer:
            return k
    raise AssertionError(f"astroml_core.{package} is in no layer: add it to CORE_LAYERS")


def test_core_packages_import_only_their_layer_or_lower():
    edges = _graph("astroml_core", _core_unit)
    assert "app" not in {t for targets in edges.values() for t in targets}, \
        [s for s, t in edges.items() if "app" in t]
    upward = sorted((s, t) for s, targets in edges.items() for t in targets if _layer(t) > _layer(s))
    assert upward == [], f"imports from a lower layer to a higher one: {upward}"


def test_the_layer_check_sees_lazy_and_importlib_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("import importlib\n\ndef f():\n    from ..sim import hi\n    importlib.import_module('app.x')\n")
    assert {"astroml_core.sim", "astroml_core.sim.hi", "app.x"} <= _imports(src, "astroml_core.data.m")


def _page_unit(name: str) -> str | None:
    parts = name.split(".")
    return ".".join(parts[:3]) if parts[:2] == ["app", "pages"] and len(parts) > 2 else None


def test_no_page_imports_another_page():
    edges = _graph("app", _page_unit)
    shared = {"app.pages.spec"}
    crossing = sorted((s, t) for s, targets in edges.items() for t in targets - shared if s not in shared)
    assert crossing == [], f"pages importing other pages (use the PageSpec registry or events): {crossing}"
