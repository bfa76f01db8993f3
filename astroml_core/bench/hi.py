"""HI detection benchmark (issue 29): seconds, MB/s and peak RSS of the whole process tree for detect +
characterise on the demo cube, (``--big``) on the ≥4 GB synthetic cube of the cube benchmark searched in
tiles by worker processes, and (``--sofia PATH``) SoFiA-2 timed on the same cube(s) in the same run.

Run ``python -m astroml_core.bench hi [--big] [--sofia PATH]``. Each measurement is a fresh subprocess so
its memory is its own; RSS is sampled every 0.1 s and summed over the process and its children (the
tile workers), since one process's ru_maxrss misses them. ``seconds_first`` includes loading the
weights (the first Detect a server process serves); ratios compare it with SoFiA-2's whole run, both cold.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["run", "measure", "run_sofia", "TreePeak"]

TARGETS = {"demo_seconds": 10, "demo_rss_mb": 1024, "big_mb_s": 20, "big_rss_mb": 2048, "sofia_ratio": 2}


class TreePeak:
    """Peak of the summed RSS of process ``pid`` and all its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int | None = None, interval: float = 0.1):
        self.pid, self.interval, self.peak_mb = pid or os.getpid(), interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree_mb(self) -> float:
        import psutil

        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            return 0.0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self._tree_mb())
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._tree_mb())


def measure(path: Path, method: str, repeat: bool = True) -> dict:
    """Open ``path``, detect with ``method``; seconds, MB/s, tiles, workers and peak tree RSS (in a subprocess)."""
    import numpy as np

    from ..data import open_cube
    from ..tasks.hi import detect
    from ..tasks.hi.tiled import default_workers, tiles_for

    with TreePeak() as peak:
        t0 = time.perf_counter()
        cube = open_cube(path)
        table = detect(cube, method)
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        if repeat:
            detect(cube, method)
        again = time.perf_counter() - t1 if repeat else None
    n_tiles = len(tiles_for(cube.shape))
    main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mb = float(np.prod(cube.shape)) * 4 / 1e6
    return {"method": method, "cube": str(path), "shape": list(cube.shape), "cube_mb": round(mb, 1),
            "threads": _torch_threads(), "tiles": n_tiles,
            "workers": default_workers(n_tiles) if n_tiles > 1 else 1,
            "seconds_first": round(total, 2), "seconds_again": None if again is None else round(again, 2),
            "mb_s_first": round(mb / total, 2), "mb_s_again": None if again is None else round(mb / again, 2),
            "sources_accepted": int(np.asarray(table["accepted"]).sum()), "candidates": len(table),
            "peak_rss_tree_mb": round(max(peak.peak_mb, main_mb), 1),   # sampling can miss a short peak
            "peak_rss_main_mb": round(main_mb, 1)}


def _torch_threads() -> int | None:
    """torch's threads in this process, None where the search never loaded torch (a tiled search's parent: its
    workers run the network; importing torch only to ask would add ~130 MB to the RSS measured)."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def _measure_in_subprocess(path: Path, method: str, repeat: bool = True) -> dict:
    proc = subprocess.run([sys.executable, "-m", "astroml_core.bench.hi", str(path), method, str(int(repeat))],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sofia_par(cube: Path, workdir: Path) -> str:
    """A minimal SoFiA-2 parameter file: S+C finder, linker, reliability, parametrisation, ASCII catalogue."""
    return "\n".join([
        f"input.data = {Path(cube).resolve()}",
        "scfind.enable = true", "linker.enable = true", "reliability.enable = true", "reliability.plot = false",
        "parameter.enable = true",
        f"output.directory = {Path(workdir).resolve()}", "output.filename = bench",
        "output.writeCatASCII = true", "output.writeCatXML = false", "output.writeCatSQL = false",
        "output.writeMask = false", "output.writeMask2d = false", "output.writeMoments = false",
        "output.writeCubelets = false", "output.overwrite = true", ""])


def run_sofia(binary: Path, cube: Path, workdir: Path, timeout: float | None = None) -> dict:
    """Run the SoFiA-2 ``binary`` on ``cube`` (parameter file in ``workdir``); seconds, sources, peak RSS."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    par = workdir / "sofia.par"
    par.write_text(_sofia_par(cube, workdir))
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(binary), str(par)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreePeak(proc.pid) as peak:
        try:
            log, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            log, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    cat = workdir / "bench_cat.txt"
    sources = sum(1 for line in cat.read_text().splitlines() if line.strip() and not line.startswith("#")) \
        if cat.exists() else None
    return {"binary": str(binary), "cube": str(cube), "returncode": proc.returncode, "seconds": round(seconds, 3),
            "sources": sources, "peak_rss_tree_mb": round(peak.peak_mb, 1),
            "log_tail": None if proc.returncode == 0 else (log or "")[-2000:]}


def _demo_cube() -> Path:
    from ..config import settings
    from ..sim.hi import ensure_demo_cube

    return ensure_demo_cube(settings().demo_dir)


def _compare(ours: dict, sofia_binary: Path, cube: Path, workdir: Path, baseline: dict | None = None) -> dict:
    """SoFiA-2 on ``cube`` beside our run: ratio = our seconds (cold, weights included) / SoFiA-2's."""
    timed = run_sofia(sofia_binary, cube, workdir)
    ok = timed["returncode"] == 0 and timed["seconds"] > 0
    timed["ratio_model"] = round(ours["seconds_first"] / timed["seconds"], 3) if ok else None
    if baseline is not None:
        timed["ratio_baseline"] = round(baseline["seconds_first"] / timed["seconds"], 3) if ok else None
    return timed


def run(out: Path, big: bool = False, sofia: Path | None = None, big_method: str = "model") -> dict:
    """Measure model and baseline on the demo cube, ``big_method`` on the big cube when ``big``, and SoFiA-2
    on the same cube(s) when its binary ``sofia`` is given; write JSON to ``out`` and return it."""
    demo = _demo_cube()
    results = {"benchmark": "hi", "machine": {"cpus": os.cpu_count()}, "targets": TARGETS,
               "sofia": str(sofia) if sofia else "not given"}
    for method in ("model", "baseline"):
        results[method] = _measure_in_subprocess(demo, method)
    model = results["model"]
    results["pass"] = {"model_demo_under_10s": model["seconds_again"] <= TARGETS["demo_seconds"],
                       "model_demo_rss_under_1gb": model["peak_rss_tree_mb"] < TARGETS["demo_rss_mb"],
                       "big_at_least_20_mb_s": None, "big_rss_under_2gb": None, "sofia_ratio_at_most_2": None}
    with tempfile.TemporaryDirectory(prefix="astroml_sofia_") as tmp:
        ratios = []
        if sofia:
            results["sofia_demo"] = _compare(model, Path(sofia), demo, Path(tmp) / "demo", results["baseline"])
            ratios.append(results["sofia_demo"]["ratio_model"])
        if big:
            from ..config import settings
            from .cube import write_big_cube

            path = write_big_cube(settings().data_root / "bench" / "big_cube.fits")
            key = f"{big_method}_big"
            results[key] = _measure_in_subprocess(path, big_method, repeat=False)
            results["pass"]["big_at_least_20_mb_s"] = results[key]["mb_s_first"] >= TARGETS["big_mb_s"]
            results["pass"]["big_rss_under_2gb"] = results[key]["peak_rss_tree_mb"] < TARGETS["big_rss_mb"]
            if sofia:
                results["sofia_big"] = _compare(results[key], Path(sofia), path, Path(tmp) / "big")
                ratios.append(results["sofia_big"]["ratio_model"])
        if sofia:
            results["pass"]["sofia_ratio_at_most_2"] = all(r is not None and r <= TARGETS["sofia_ratio"]
                                                           for r in ratios)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], bool(int(sys.argv[3])) if len(sys.argv) > 3 else True)))
