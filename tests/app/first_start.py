"""The laptop check: the first start of the server on an empty data root, inside a memory limit, then
every lesson followed once to its end (so every page's demo data and models are used).

``python -m tests.app.first_start [--memory-limit 3G] [-o bench-results/first_start.json]``

The server starts as ``make serve`` starts it (``python -m app``, default settings) on a fresh data root
and an empty numba cache, so the time includes making all the demo data and compiling UMAP. With ``--memory-limit`` it runs in a memory cgroup of that
size (cgroup v1 or v2; needs the rights to create one), which, like a laptop's RAM, counts the page cache
too and makes the kernel evict it or kill the server. Reports seconds to the first page, seconds until
the demo survey is analysed, each lesson's completion, peak RSS (anonymous and file-backed) of the
server and the cgroup's peak; exits 1 when the server died or a lesson did not finish.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.app.conftest import ROOT, _free_port

__all__ = ["first_start"]

LESSONS = ("finding_hi", "deblending_bias", "latent_space", "reading_posteriors", "one_galaxy")


def _bytes(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def _cgroup(limit: int) -> tuple[Path, str] | None:
    """A fresh memory cgroup limited to ``limit`` bytes: (its folder, the file holding its peak use)."""
    name = f"astroml-first-start-{os.getpid()}"
    v1 = Path("/sys/fs/cgroup/memory")
    v2 = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified/cgroup.procs").exists() else Path("/sys/fs/cgroup")
    try:
        if (v1 / "memory.limit_in_bytes").exists():
            group = v1 / name
            group.mkdir()
            (group / "memory.limit_in_bytes").write_text(str(limit))
            return group, "memory.max_usage_in_bytes"
        group = v2 / name
        group.mkdir()
        (group / "memory.max").write_text(str(limit))
        return group, "memory.peak"
    except OSError as exc:
        print(f"no memory cgroup ({exc}): measuring without a limit", file=sys.stderr)
        return None


class _Sampler(threading.Thread):
    """Peak VmRSS / RssAnon / RssFile of a process, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    key = line.split(":")[0]
                    if key in self.peak:
                        self.peak[key] = max(self.peak[key], int(line.split()[1]) * 1024)
            except OSError:
                return
            time.sleep(0.2)


def _wait_for(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def first_start(memory_limit: int | None = None, timeout: float = 600.0) -> dict:
    """Start ``python -m app`` on an empty data root (in a memory cgroup when asked), time it, follow
    every lesson once; the summary dict."""
    from tests.app.lesson_load import run_class

    root = Path(tempfile.mkdtemp(prefix="astroml-first-start-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    group = _cgroup(memory_limit) if memory_limit else None
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASTROML_")}
    env.update(ASTROML_DATA_ROOT=str(root), PYTHONUNBUFFERED="1", NUMBA_CACHE_DIR=str(root / "numba"))  # cold
    log = open(root / "server.log", "w")
    enter = (lambda: (group[0] / "cgroup.procs").write_text(str(os.getpid()))) if group else None
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=enter)
    sampler = _Sampler(proc.pid)
    sampler.start()
    out: dict = {"memory_limit_bytes": memory_limit if group else None, "data_root": str(root)}
    try:
        _wait_for(url + "/", proc, timeout)
        out["first_page_s"] = round(time.perf_counter() - t0, 1)
        survey = root / "cache"
        while not any(survey.rglob("spectra-*.pkl")) and time.perf_counter() - t0 < timeout and proc.poll() is None:
            time.sleep(0.5)
        out["survey_analysed_s"] = round(time.perf_counter() - t0, 1)
        out["lessons"] = {}
        for lesson in LESSONS:
            t = time.perf_counter()
            summary = run_class(url, sessions=1, lesson=lesson, stagger=0.0, timeout=300)
            out["lessons"][lesson] = {"completed": summary["completed"] == 1, "errors": summary["errors"],
                                      "seconds": round(time.perf_counter() - t, 1)}
        out["server_alive"] = proc.poll() is None
    finally:
        sampler.stop.set()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    out["peak_rss_bytes"] = sampler.peak["VmRSS"]
    out["peak_rss_anon_bytes"] = sampler.peak["RssAnon"]
    out["peak_rss_file_bytes"] = sampler.peak["RssFile"]
    if group:
        out["cgroup_peak_bytes"] = int((group[0] / group[1]).read_text())
        try:
            group[0].rmdir()
        except OSError:
            pass
    out["ok"] = bool(out.get("server_alive")) and all(v["completed"] for v in out.get("lessons", {}).values())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.app.first_start")
    parser.add_argument("--memory-limit", type=_bytes, default=None, help="e.g. 3G (a memory cgroup)")
    parser.add_argument("-o", "--output", type=Path, default=Path("bench-results/first_start.json"))
    args = parser.parse_args(argv)
    summary = first_start(args.memory_limit)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
