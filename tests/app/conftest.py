"""Browser-test helpers: the app served on a free port over a private data root (its fixtures, with headless
Chromium, are in tests/conftest.py, so tests/app and tests/security share one browser and one server)."""
from __future__ import annotations

from pathlib import Path

from astroml_core.bench.served import CHROMIUM, CHROMIUM_ARGS, ROOT, stop_server
from astroml_core.bench.served import free_port as _free_port
from astroml_core.bench.served import start_server as _start

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "start_server", "stop_server", "_free_port"]


def start_server(root: Path, port: int | None = None, **env_extra):
    """The app on ``root`` with the tests' upload limit (50 MB); returns (process, base URL)."""
    return _start(root, port, **{"ASTROML_MAX_UPLOAD_MB": "50", **env_extra})
