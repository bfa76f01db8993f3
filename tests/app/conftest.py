"""Browser-test helpers: the app served on a free port over a private data root (its fixtures, with headless
Chromium, are in tests/conftest.py, so tests/app and tests/security share one browser and one server)."""
from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from astroml_core.bench.served import CHROMIUM, CHROMIUM_ARGS, ROOT, stop_server
from astroml_core.bench.served import free_port as _free_port
from astroml_core.bench.served import start_server as _start

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "start_server", "stop_server", "_free_port", "serve_here"]


def start_server(root: Path, port: int | None = None, **env_extra):
    """The app on ``root`` with the tests' upload limit (50 MB); returns (process, base URL)."""
    return _start(root, port, **{"ASTROML_MAX_UPLOAD_MB": "50", **env_extra})


def serve_here(apps: dict, probe: str, timeout_s: float = 60.0):
    """Serve Panel ``apps`` in this process on a free port; returns (server, base URL) once ``probe`` answers."""
    import panel as pn

    port = _free_port()
    server = pn.serve(apps, port=port, threaded=True, show=False)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + probe, timeout=10).read()
            break
        except OSError:
            time.sleep(0.2)
    return server, url
