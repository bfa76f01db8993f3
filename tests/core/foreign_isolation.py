"""A foreign test set must be written apart from the training simulator: the shared check that its module
imports nothing from ``astroml_core.sim``, in its source and in a fresh interpreter that runs it."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys


def assert_apart_from_the_simulator(module, run: str) -> None:
    """``module``'s imports name no ``sim`` package, and running ``run`` (Python that imports it as ``m``)
    in a fresh interpreter loads no ``astroml_core.sim`` module."""
    names = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    assert names and not any("sim" in n.split(".") for n in names), names
    assert not any(n.startswith(".") and n.lstrip(".") in ("", "sim") for n in names)
    code = (f"import sys; import numpy as np; import {module.__name__} as m; {run}; "
            "print(sorted(k for k in sys.modules if k.startswith('astroml_core.sim')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
