"""What leaves the HI panel: the shown rows as a catalogue file, and every candidate for a vetting campaign."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
from astropy.table import QTable

from astroml_core.tasks.hi import write_catalogue

__all__ = ["catalogue_bytes", "vetting_candidates", "vetting_name"]


def catalogue_bytes(rows: QTable | None, threshold: float, suffix: str) -> io.BytesIO:
    """The rows shown as a ``suffix`` file, their meta stating the threshold they were cut at (not the finder's
    default)."""
    if rows is not None:
        rows = rows.copy()
        rows.meta["threshold"] = float(threshold)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_catalogue(rows if rows is not None else QTable(), Path(tmp) / f"hi_catalogue{suffix}")
        return io.BytesIO(path.read_bytes())


def vetting_candidates(cube, catalogue: QTable | None, method: str, threshold: float) -> tuple:
    """Every candidate of the method's catalogue (above and below the threshold: the ones near it are what
    vetting is for), as HI-source candidates."""
    from astroml_core.errors import InvalidVoteError
    from astroml_core.vetting.sources import HI_LABELS, hi_candidates, model_provenance

    if catalogue is None or cube is None:
        raise InvalidVoteError("press Detect first: there are no HI candidates to send yet")
    table = catalogue.copy()
    table["accepted"] = np.asarray(table["score"]) >= threshold
    provenance = (model_provenance("hi_unet") if method == "model" else
                  {"model_name": "SoFiA-style baseline", "model_version": "", "card_sha256": ""})
    return "hi_source", list(HI_LABELS), hi_candidates(cube, table), dict(
        provenance, source=str(cube.path), description=f"{method} finder, threshold {threshold:.2f}")


def vetting_name(cube, method: str) -> str:
    """The campaign name offered: the cube's file name and the finder."""
    return f"HI: {Path(str(cube.path)).name} · {method}"
