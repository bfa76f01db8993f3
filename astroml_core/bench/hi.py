"""HI detection benchmark: seconds and peak RSS for detect + characterise on the demo cube, and
(``--big``) on the ≥4 GB synthetic cube of the cube benchmark, searched in tiles.

Run ``python -m astroml_core.bench hi [--big]``. Each run is a fresh subprocess so its peak RSS is its
own; ``seconds_first`` includes loading the weights (the first Detect a server process serves).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["run", "measure"]


def measure(path: Path, method: str, repeat: bool = True) -> dict:
    """Open ``path``, detect with ``method``; seconds per stage and peak RSS (called in a subprocess)."""
    import torch

    from ..data import open_cube
    from ..tasks.hi import detect

    t0 = time.perf_counter()
    cube = open_cube(path)
    table = detect(cube, method)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    if repeat:
        detect(cube, method)
    again = time.perf_counter() - t1 if repeat else None
    return {"method": method, "cube": str(path), "shape": list(cube.shape), "threads": torch.get_num_threads(),
            "seconds_first": round(total, 2), "seconds_again": None if again is None else round(again, 2),
            "sources_accepted": int(table["accepted"].sum()), "candidates": len(table),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _measure_in_subprocess(path: Path, method: str, repeat: bool = True) -> dict:
    proc = subprocess.run([sys.executable, "-m", "astroml_core.bench.hi", str(path), method, str(int(repeat))],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(out: Path, big: bool = False) -> dict:
    """Measure model and baseline on the demo cube (and the model on the big cube); write JSON."""
    from ..config import settings
    from ..sim.hi import ensure_demo_cube
    from .cube import write_big_cube

    demo = ensure_demo_cube(settings().demo_dir)
    results = {"benchmark": "hi", "machine": {"cpus": os.cpu_count()},
               "targets": {"demo_seconds": 10, "big_rss_mb": 4096}}
    for method in ("model", "baseline"):
        results[method] = _measure_in_subprocess(demo, method)
    results["pass"] = {"model_demo_under_10s": results["model"]["seconds_again"] <= 10}
    if big:
        path = write_big_cube(settings().data_root / "bench" / "big_cube.fits")
        results["model_big"] = _measure_in_subprocess(path, "model", repeat=False)
        results["pass"]["big_rss_under_4gb"] = results["model_big"]["peak_rss_mb"] < 4096
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], bool(int(sys.argv[3])) if len(sys.argv) > 3 else True)))
