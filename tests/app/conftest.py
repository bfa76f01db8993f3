"""Browser-test helpers: the app served on a free port over a private data root (its fixtures, with headless
Chromium, are in tests/conftest.py, so tests/app and tests/security share one browser and one server)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, port: int | None = None, **env_extra) -> tuple[subprocess.Popen, str]:
    """Start ``python -m app`` on the data root ``root``; returns (process, base URL) once it answers."""
    port = port or _free_port()
    env = dict(os.environ, ASTROML_DATA_ROOT=str(root), ASTROML_MAX_UPLOAD_MB="50", PYTHONUNBUFFERED="1",
               ASTROML_DEMO_SPECTRA="6000", **env_extra)
    log = open(root / f"server-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(root / f'server-{port}.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url + "/", timeout=10)     # a loaded 2-core machine builds it in seconds
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not start in 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate a server started by :func:`start_server` (kill it if it lingers)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
