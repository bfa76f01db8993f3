"""Layering: the science core imports without Panel, Bokeh or HoloViews; torch device choice honours settings."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

GUI = ("panel", "bokeh", "holoviews")
CORE_MODULES = ["astroml_core", "astroml_core.data", "astroml_core.sim.hi", "astroml_core.display",
                "astroml_core.cli", "astroml_core.config", "astroml_core.errors", "astroml_core.service.device"]

_HARNESS = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys
    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked GUI import: {{name}}")
            return None

    sys.meta_path.insert(0, Block())
    for name in {modules!r}:
        importlib.import_module(name)
    if {walk!r}:
        import astroml_core
        for info in pkgutil.walk_packages(astroml_core.__path__, "astroml_core."):
            importlib.import_module(info.name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED + {also!r})
    print("LEAKED:" + ",".join(leaked))
""")


def _import_with_gui_blocked(modules: list[str], *, walk: bool = False, also: tuple = ()):
    code = _HARNESS.format(blocked=GUI, modules=modules, walk=walk, also=also)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_modules_import_without_panel_bokeh_or_holoviews():
    result = _import_with_gui_blocked(CORE_MODULES, walk=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("LEAKED:"), result.stdout


def test_the_import_blocker_catches_a_gui_import():
    # the harness itself must fail when something imports a GUI package
    result = _import_with_gui_blocked(["astroml_core", "holoviews"])
    assert result.returncode != 0 and "blocked GUI import: holoviews" in result.stderr


def test_importing_the_core_does_not_import_torch():
    """Only models/ (torch modules) and train/ may import torch at import time: pages that never run a
    model must not pay for it."""
    light = CORE_MODULES + ["astroml_core.tasks.hi", "astroml_core.metrics", "astroml_core.registry",
                            "astroml_core.bench.cube", "astroml_core.bench.hi"]
    result = _import_with_gui_blocked(light, also=("torch",))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("LEAKED:"), result.stdout


# --- torch device ----------------------------------------------------------------------------------
@pytest.fixture
def device_env(monkeypatch):
    """choose_device with a clean cache and environment; torch's thread count is restored afterwards."""
    torch = pytest.importorskip("torch")
    from astroml_core.service import device

    monkeypatch.delenv("ASTROML_DEVICE", raising=False)
    monkeypatch.delenv("ASTROML_TORCH_THREADS", raising=False)
    threads = torch.get_num_threads()
    device.choose_device.cache_clear()
    yield device
    device.choose_device.cache_clear()
    torch.set_num_threads(threads)


def test_choose_device_is_cpu_without_a_gpu(device_env):
    import torch

    chosen = device_env.choose_device()
    assert isinstance(chosen, torch.device)
    assert chosen.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_choose_device_can_be_forced_to_cpu(device_env, monkeypatch):
    monkeypatch.setenv("ASTROML_DEVICE", "cpu")
    assert device_env.choose_device().type == "cpu"


def test_asking_for_cuda_without_one_raises_a_typed_error(device_env, monkeypatch):
    import torch

    from astroml_core.errors import AstroMLError

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.setenv("ASTROML_DEVICE", "cuda")
    with pytest.raises(AstroMLError, match="no CUDA device"):
        device_env.choose_device()


def test_cpu_threads_defaults_to_the_usable_cores(device_env):
    assert device_env.cpu_threads() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert device_env.cpu_threads() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("env, expected", [("3", 3), ("1", 1), ("0", 1)])
def test_cpu_threads_honours_astroml_torch_threads(device_env, monkeypatch, env, expected):
    monkeypatch.setenv("ASTROML_TORCH_THREADS", env)
    assert device_env.cpu_threads() == expected


def test_choose_device_sets_torch_threads_from_the_environment(device_env, monkeypatch):
    import torch

    monkeypatch.setenv("ASTROML_TORCH_THREADS", "1")
    monkeypatch.setenv("ASTROML_DEVICE", "cpu")
    assert device_env.choose_device().type == "cpu"
    assert torch.get_num_threads() == 1
