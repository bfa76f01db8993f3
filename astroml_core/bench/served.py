"""The app served in a subprocess and driven by headless Chromium: shared by the browse benchmark and the
browser tests. The core never imports the app; it only starts ``python -m app``."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "TO_SCREEN", "free_port", "start_server", "stop_server"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]

# JavaScript: the screen position of data point (x, y) in the Bokeh figure named ``name``, scrolling the figure
# to the middle of the window first when the point is off screen or under the page's fixed header (~70 px)
TO_SCREEN = """([name, x, y]) => {
  const fig = Bokeh.documents[0].get_model_by_name(name);
  const v = Bokeh.index.find_one(fig);
  const at = () => {
    const r = v.canvas_view.el.getBoundingClientRect(), f = v.frame.bbox;
    const xr = fig.x_range, yr = fig.y_range;
    return [r.left + f.x0 + (x - xr.start) / (xr.end - xr.start) * f.width,
            r.top + f.y0 + (yr.end - y) / (yr.end - yr.start) * f.height];
  };
  const [sx, sy] = at();
  if (sy < 80 || sy > window.innerHeight - 10 || sx < 0 || sx > window.innerWidth - 10) {
    v.canvas_view.el.scrollIntoView({block: "center", inline: "nearest"});
  }
  return at();
}"""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, port: int | None = None, *, timeout_s: float = 120.0,
                 **env_extra) -> tuple[subprocess.Popen, str]:
    """Start ``python -m app`` on the data root ``root`` (it makes the demo data first); returns (process, base
    URL) once it answers."""
    port = port or free_port()
    env = dict(os.environ, ASTROML_DATA_ROOT=str(root), PYTHONUNBUFFERED="1", ASTROML_DEMO_SPECTRA="6000",
               **env_extra)
    log_path = root / f"server-{port}.log"
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url + "/", timeout=10)     # a loaded 2-core machine builds it in seconds
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server did not start in {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate a server started by :func:`start_server` (kill it if it lingers)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
