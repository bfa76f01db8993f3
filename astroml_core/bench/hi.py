"""HI detection benchmark: seconds and peak RSS for detect + characterise on the demo cube.

Run ``python -m astroml_core.bench hi``. Each method runs in a fresh subprocess so its peak RSS is its
own; model time includes loading the weights (the first Detect a server process serves).
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


def measure(path: Path, method: str) -> dict:
    """Open ``path``, detect with ``method``; seconds per stage and peak RSS (called in a subprocess)."""
    import torch

    from ..data import open_cube
    from ..tasks.hi import detect

    t0 = time.perf_counter()
    cube = open_cube(path)
    table = detect(cube, method)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    detect(cube, method)
    again = time.perf_counter() - t1
    return {"method": method, "cube": str(path), "shape": list(cube.shape), "threads": torch.get_num_threads(),
            "seconds_first": round(total, 2), "seconds_again": round(again, 2),
            "sources_accepted": int(table["accepted"].sum()), "candidates": len(table),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run(out: Path) -> dict:
    """Measure model and baseline on the demo cube; write JSON to ``out``."""
    from ..config import settings
    from ..sim.hi import ensure_demo_cube

    demo = ensure_demo_cube(settings().demo_dir)
    results = {"benchmark": "hi", "machine": {"cpus": os.cpu_count()}, "targets": {"demo_seconds": 10}}
    for method in ("model", "baseline"):
        proc = subprocess.run([sys.executable, "-m", "astroml_core.bench.hi", str(demo), method],
                              capture_output=True, text=True, check=True)
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])
    results["pass"] = {"model_demo_under_10s": results["model"]["seconds_again"] <= 10}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2])))
