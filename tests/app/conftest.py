"""Browser-test fixtures: the app served on a free port over a private data root, and headless Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
            urllib.request.urlopen(url + "/", timeout=2)
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


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Serve the app (python -m app) on its demo data; yields (base URL, data root)."""
    root = tmp_path_factory.mktemp("served-data")
    proc, url = start_server(root)
    yield url, root
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    pw = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1250})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.fixture
def logged_in(data_root, monkeypatch):
    """logged_in(name, role) → the vetting store of the data root, with ``name`` logged in in this process."""
    from astroml_core.vetting import open_store

    def _as(name: str = "ann", role: str = "admin"):
        store = open_store()
        if store.user(name) is None:
            store.add_user(name, f"{name}-password", role)
        for module in ("app.components.send_to_vetting", "app.pages.vetting"):
            monkeypatch.setattr(f"{module}.current_user", lambda: name)
        return store

    return _as
