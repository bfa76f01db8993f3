"""A deblending result as files: its source catalogue (fluxes with the image's unit, the method, the image and,
for the network, the shipped weights it came from) and its segmentation map as FITS on the image's WCS."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import QTable

from .model import DeblendResult

__all__ = ["source_table", "segmentation_fits", "write_sources", "write_masks", "masks_bytes"]


def source_table(image, result: DeblendResult) -> QTable:
    """The result's catalogue ready to write: flux columns in the image's unit, provenance in its meta."""
    from ...registry import model_provenance

    table = result.catalogue.copy()
    for band in image.bands:
        table[f"flux_{band}"].unit = image.unit or None
    method = table.meta.get("method", "")
    table.meta.update(image=Path(str(image.path)).name, segmentation="masks: 0 sky, id + 1 for row id")
    if method == "model":
        table.meta.update(model_provenance("deblend_unet"))
    return table


def segmentation_fits(image, result: DeblendResult) -> fits.HDUList:
    """The segmentation map (0 sky, i + 1 for catalogue row i) with the image's WCS and the method."""
    header = image.wcs.to_header() if image.wcs is not None else fits.Header()
    header["METHOD"] = (result.catalogue.meta.get("method", ""), "deblending method")
    header["IMAGE"] = (Path(str(image.path)).name[:60], "deblended image")
    header["COMMENT"] = "segmentation: 0 sky, i + 1 for catalogue row i"
    return fits.HDUList([fits.PrimaryHDU(result.segmap.astype(np.int32), header=header)])


def write_sources(image, result: DeblendResult, path: str | os.PathLike) -> Path:
    """Write the catalogue as ECSV, CSV or VOTable (by the suffix)."""
    from ...data.tables import write_table

    return write_table(source_table(image, result), path)


def write_masks(image, result: DeblendResult, path: str | os.PathLike) -> Path:
    """Write the segmentation map as FITS."""
    segmentation_fits(image, result).writeto(path, overwrite=True)
    return Path(path)


def masks_bytes(image, result: DeblendResult) -> bytes:
    """The FITS file :func:`write_masks` writes, as bytes."""
    buffer = io.BytesIO()
    segmentation_fits(image, result).writeto(buffer)
    return buffer.getvalue()
