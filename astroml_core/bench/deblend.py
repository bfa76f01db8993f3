"""Deblending benchmark: detection + segmentation + photometry of the ~100-galaxy demo field.

Run ``python -m astroml_core.bench deblend``: seconds (first call includes loading the weights, then
the median of 5 repeats) for the shipped model, sep and photutils, and the process's peak RSS.
"""
from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import numpy as np

__all__ = ["run"]


def _timed(fn, repeats: int = 5) -> tuple[float, float, object]:
    t = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return first, float(np.median(times)), out


def run(out: Path) -> dict:
    """Time the three deblenders on the demo field; write JSON."""
    import torch

    from ..config import settings
    from ..data import open_multiband
    from ..registry import load_model
    from ..sim.blends import ensure_demo_blends
    from ..tasks.deblend.classic import photutils_deblend, sep_deblend
    from ..tasks.deblend.model import model_deblend

    image = open_multiband(ensure_demo_blends(settings().demo_dir))
    results = {"benchmark": "deblend", "machine": {"cpus": os.cpu_count(), "threads": torch.get_num_threads()},
               "field": {"path": str(image.path), "shape": list(image.data.shape)}, "targets": {"seconds": 3.0}}
    runs = {"model": lambda: model_deblend(image.data, image.bands, load_model("deblend_unet"), wcs=image.wcs).catalogue,
            "sep": lambda: sep_deblend(image.data, image.bands, image.wcs)[0],
            "photutils": lambda: photutils_deblend(image.data, image.bands, image.wcs)[0]}
    for name, fn in runs.items():
        first, again, table = _timed(fn)
        results[name] = {"seconds_first": round(first, 3), "seconds_median": round(again, 3), "sources": len(table)}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["pass"] = {"model_under_3s": results["model"]["seconds_median"] <= 3.0}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results
