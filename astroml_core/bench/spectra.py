"""Spectra benchmark: classify 40,000 spectra, UMAP of 40,000, re-render a 1M-point map on pan/zoom.

Run ``python -m astroml_core.bench spectra``. Spectra are simulated first (held-out seed, not timed)
and kept in memory. Classification is timed twice: the ensemble's class probabilities alone, and the
whole per-spectrum output the page uses (probabilities, uncertainty, anomaly score, features, latent).
The 1M-point map is the 40k UMAP repeated 25 times with jitter; each "pan/zoom" is one datashader
render of the page's 500 × 440 window (what its server callback does), after the warm-up that
the server runs once per analysed survey (its compile time is reported too).
"""
from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import numpy as np

__all__ = ["run"]

N = 40_000


def _probs_only(model, flux, ivar, batch: int = 256) -> np.ndarray:
    import torch

    from ..tasks.spectra.preprocess import normalise

    out = []
    with torch.inference_mode():
        for s in range(0, len(flux), batch):
            out.append(model.probabilities(torch.from_numpy(normalise(flux[s:s + batch], ivar[s:s + batch]))).numpy())
    return np.concatenate(out)


def _zooms(coords: np.ndarray, n: int = 10) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    centre = (lo + hi) / 2
    out = []
    for k in range(n):
        half = (hi - lo) / 2 / (1.4 ** k) * 1.05
        c = centre + (k % 3 - 1) * 0.1 * half
        out.append(((float(c[0] - half[0]), float(c[0] + half[0])), (float(c[1] - half[1]), float(c[1] + half[1]))))
    return out


def run(out: Path) -> dict:
    """Time classification, UMAP and map re-rendering; write JSON."""
    import torch

    from ..display.scatter import ScatterData, render, warm_up
    from ..sim.spectra import simulate_spectra
    from ..tasks.spectra import classify_arrays, embed
    from ..tasks.spectra.model import load
    from ..train.spectra import HELD_OUT_SEED

    sim = simulate_spectra(HELD_OUT_SEED + 7, N)
    model = load("cpu")
    results = {"benchmark": "spectra", "machine": {"cpus": os.cpu_count(), "threads": torch.get_num_threads()},
               "spectra": N, "pixels": int(sim.flux.shape[1]),
               "targets": {"classify_40k_s": 5.0, "umap_40k_s": 60.0, "rerender_1m_ms": 300.0}}
    _probs_only(model, sim.flux[:512], sim.ivar[:512])
    t = time.perf_counter()
    probs = _probs_only(model, sim.flux, sim.ivar)
    results["classify_40k_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    result = classify_arrays(sim.flux, sim.ivar, model)
    results["classify_full_40k_s"] = round(time.perf_counter() - t, 2)
    results["agree"] = bool((probs.argmax(1) == result.pred).all())
    t = time.perf_counter()
    umap = embed("umap", features=result.features)
    results["umap_40k_s"] = round(time.perf_counter() - t, 1)
    rng = np.random.default_rng(0)
    scale = umap.coords.std(axis=0) * 0.02
    coords = np.concatenate([umap.coords + rng.normal(0, 1, umap.coords.shape) * scale for _ in range(25)])
    cats = np.tile(result.pred_class, 25)
    data = ScatterData.build(coords, cats, {"anomaly": np.tile(result.anomaly, 25)})
    windows = _zooms(coords)
    selected = rng.choice(len(coords), 20_000, replace=False)
    modes = {"category": {}, "value": {"value": "anomaly", "value_span": (-2.0, 6.0)}, "with_selection": {"selected": selected}}
    t = time.perf_counter()
    warm_up(data)                  # what the server does once a survey is analysed: numba compiles each mode
    results["first_render_compile_s"] = round(time.perf_counter() - t, 2)
    times = {key: [] for key in modes}
    for xr, yr in windows:
        for key, kwargs in modes.items():
            t = time.perf_counter()
            render(data, xr, yr, 500, 440, **kwargs)
            times[key].append(1000 * (time.perf_counter() - t))
    results["rerender_1m_ms"] = {k: {"median": round(float(np.median(v)), 1), "max": round(float(np.max(v)), 1)}
                                 for k, v in times.items()}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["pass"] = {"classify_under_5s": results["classify_40k_s"] <= 5.0,
                       "umap_under_60s": results["umap_40k_s"] <= 60.0,
                       "rerender_under_300ms": max(v["max"] for v in results["rerender_1m_ms"].values()) <= 300.0}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results
