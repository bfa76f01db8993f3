"""HI detection on an opened cube: the shipped model or the SoFiA-style baseline, one call."""
from __future__ import annotations

import numpy as np
from astropy.table import QTable

from ...data.shown_paths import shown_path
from ...errors import AstroMLError
from ...progress import Progress, quiet
from .applicability import cube_notes
from .tiled import DEFAULT_OVERLAP, DEFAULT_TILE, detect_tiled

__all__ = ["detect", "METHODS"]

METHODS = ("model", "baseline")


def detect(cube, method: str = "model", *, threshold: float | None = None, tile=DEFAULT_TILE,
           overlap=DEFAULT_OVERLAP, scheduler: str | None = None,
           progress: Progress = quiet) -> QTable:
    """Find and characterise HI sources in ``cube`` (an :class:`~astroml_core.data.Cube`).

    Returns a QTable in SDC2's columns and units plus x, y, chan, snr, score and ``accepted``
    (reliability ≥ threshold; the model card's 0.95, or 0.9 for the baseline, by default), and
    ``meta['notes']``: how this cube differs from the training cubes, said rather than hidden.
    Big cubes are searched in overlapping tiles, on a dask.distributed cluster when ``scheduler`` (or
    ``ASTROML_DASK_SCHEDULER``) names one. ``progress(fraction, message)`` hears of every phase as it
    moves, saying which runs ("characterising source 12 of 140"; :mod:`.progress`).
    """
    if method not in METHODS:
        raise AstroMLError(f"unknown method '{method}'; choose one of {METHODS}")
    if cube.celestial is None:
        raise AstroMLError("HI detection needs a cube with a celestial WCS (positions are catalogued on the sky)")
    progress(0.0, "starting")
    table = detect_tiled(cube, method, threshold=threshold, tile=tile, overlap=overlap, scheduler=scheduler,
                         progress=progress)
    if threshold is None:
        threshold = _default_threshold(method)
    table["accepted"] = np.asarray(table["score"]) >= threshold
    notes = cube_notes(cube) + [n for n in table.meta.get("notes", []) if n]
    table.meta.update(method=method, threshold=float(threshold), cube=shown_path(cube.path), notes=list(dict.fromkeys(notes)))
    progress(1.0, "done")
    return table


def _default_threshold(method: str) -> float:
    if method == "baseline":
        return 0.9
    from ...registry import read_card

    return float(read_card("hi_unet")[0].get("score_threshold", 0.5))
