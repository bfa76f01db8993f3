"""HI detection on an opened cube: the shipped model or the SoFiA-style baseline, one call."""
from __future__ import annotations

from typing import Callable

import numpy as np
from astropy.table import QTable

from ...errors import AstroMLError
from .measure import geometry_of
from .noise import robust_sigma

__all__ = ["detect", "METHODS"]

METHODS = ("model", "baseline")


def _read_all(cube, progress: Callable[[float], None]) -> np.ndarray:
    """The whole cube as float32 (channel blocks of ~64 MB), NaN kept."""
    data = np.empty(cube.shape, np.float32)
    step = max(1, (64 << 20) // (4 * cube.shape[1] * cube.shape[2]))
    for start in range(0, cube.n_channels, step):
        stop = min(cube.n_channels, start + step)
        data[start:stop] = cube._reader.block([cube._leads[c] for c in range(start, stop)])
        progress(stop / cube.n_channels)
    return data


def detect(cube, method: str = "model", *, threshold: float | None = None,
           progress: Callable[[float, str], None] = lambda f, msg: None) -> QTable:
    """Find and characterise HI sources in ``cube`` (an :class:`~astroml_core.data.Cube`).

    Returns a QTable in SDC2's columns and units plus x, y, chan, snr, score and ``accepted``
    (score ≥ threshold; the model's card threshold by default). ``progress(fraction, message)``.
    """
    if method not in METHODS:
        raise AstroMLError(f"unknown method '{method}'; choose one of {METHODS}")
    if cube.celestial is None:
        raise AstroMLError("HI detection needs a cube with a celestial WCS (positions are catalogued on the sky)")
    data = _read_all(cube, lambda f: progress(0.15 * f, "reading the cube"))
    geom = geometry_of(cube, noise=robust_sigma(data))
    if method == "baseline":
        from .sofia import sofia_find

        table, _ = sofia_find(data, geom, progress=lambda f: progress(0.15 + 0.85 * f, "smooth and clip"))
        cut = 0.9 if threshold is None else threshold
    else:
        from ...registry import load_model, read_card
        from .model import config_from_card, model_find

        front, _ = read_card("hi_unet")
        config = config_from_card(front, threshold)
        cut = config.score_threshold
        model = load_model("hi_unet")
        table, _ = model_find(data, geom, model, config, progress=lambda f: progress(0.15 + 0.85 * f, "running hi_unet"))
    table["accepted"] = table["score"] >= cut
    table.meta.update(method=method, threshold=cut, cube=str(cube.path))
    progress(1.0, "done")
    return table
