"""A multi-band field opened for deblending: the image with any sky left in it subtracted, its sky σ per band,
and the truth catalogue written beside a simulated field with its fluxes in the image's own unit."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import QTable

from ...data import MultibandImage, open_multiband, truth_beside
from .background import sky_subtracted
from .detection import image_noise

__all__ = ["Field", "open_field"]


@dataclass(frozen=True)
class Field:
    """An opened field: ``image`` (sky subtracted), ``sigma`` (n_bands,) and ``truth`` (or None)."""

    image: MultibandImage
    sigma: np.ndarray
    truth: QTable | None


def open_field(path: Path | list[Path]) -> Field:
    """Open one multi-band FITS file (or one file per band); a truth catalogue beside a single file is read
    and its ``flux_<band>`` columns scaled by the image's ``flux_scale`` (file units → the image's unit)."""
    image = sky_subtracted(open_multiband(path))
    truth = truth_beside(path) if isinstance(path, Path) else None
    for band, factor in zip(image.bands, image.flux_scale) if truth is not None else ():
        if f"flux_{band}" in truth.colnames:
            truth[f"flux_{band}"] = truth[f"flux_{band}"] * factor
    return Field(image, image_noise(image), truth)
