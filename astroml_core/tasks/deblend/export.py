"""A deblending result as files: its source catalogue (fluxes with the image's unit, the method, the image and,
for the network, the shipped weights it came from) and its segmentation map as FITS on the image's WCS."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import QTable

from ...data.shown_paths import scrub_text, shown_path
from .model import DeblendResult

__all__ = ["source_table", "segmentation_fits", "write_sources", "write_masks", "masks_bytes", "segment_ellipses",
           "source_regions", "write_regions", "regions_bytes"]


def source_table(image, result: DeblendResult) -> QTable:
    """The result's catalogue ready to write: flux columns in the image's unit, provenance in its meta."""
    from ...registry import model_provenance

    table = result.catalogue.copy()
    for name in table.colnames:
        if name.startswith("flux_"):              # fluxes and their errors
            table[name].unit = image.unit or None
    method = table.meta.get("method", "")
    table.meta.update(image=shown_path(image.path), segmentation="masks: 0 sky, id + 1 for row id")
    if "image_notes" in table.meta:             # notes name files: as the user knows them, not as stored
        table.meta["image_notes"] = [scrub_text(n) for n in table.meta["image_notes"]]
    if method == "model":
        table.meta.update(model_provenance("deblend_unet"))
    return table


def segmentation_fits(image, result: DeblendResult) -> fits.HDUList:
    """The segmentation map (0 sky, i + 1 for catalogue row i) with the image's WCS and the method."""
    header = image.wcs.to_header() if image.wcs is not None else fits.Header()
    header["METHOD"] = (result.catalogue.meta.get("method", ""), "deblending method")
    header["IMAGE"] = (re.sub(r"[^ -~]", "?", shown_path(image.path))[-60:], "deblended image")   # FITS: ASCII
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


def segment_ellipses(segmap: np.ndarray, n: int) -> np.ndarray:
    """(x, y, semi-major, semi-minor, angle from +x in degrees) of each segment 1 … n: the uniform ellipse
    with its pixels' centroid and second moments (a filled ellipse of semi-axis a has variance a²/4)."""
    out = np.full((n, 5), np.nan)
    ys, xs = np.nonzero(segmap)
    labels = segmap[ys, xs]
    for k in range(n):
        mine = labels == k + 1
        if not mine.any():
            continue
        x, y = xs[mine].astype(float), ys[mine].astype(float)
        cov = np.cov(np.vstack([x, y]), bias=True) + np.eye(2) / 12      # (a pixel's own spread)
        values, vectors = np.linalg.eigh(cov)
        out[k] = (x.mean(), y.mean(), 2 * np.sqrt(values[1]), 2 * np.sqrt(values[0]),
                  np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])) % 180)
    return out


def source_regions(image, result: DeblendResult):
    """One DS9 ellipse per source, labelled with its id: its mask's ellipse, on the sky when the image has a WCS."""
    from astropy import units as u
    from regions import EllipsePixelRegion, PixCoord, Regions

    out = []
    for k, (x, y, a, b, angle) in enumerate(segment_ellipses(result.segmap, len(result.catalogue))):
        if not np.isfinite(x):
            continue
        region = EllipsePixelRegion(PixCoord(x, y), width=2 * a, height=2 * b, angle=angle * u.deg)
        region = region.to_sky(image.wcs) if image.wcs is not None else region
        region.meta["text"] = str(int(result.catalogue["id"][k]))
        out.append(region)
    return Regions(out)


def write_regions(image, result: DeblendResult, path: str | os.PathLike) -> Path:
    """Write the sources' mask ellipses as a DS9 region file."""
    source_regions(image, result).write(str(path), format="ds9", overwrite=True)
    return Path(path)


def regions_bytes(image, result: DeblendResult) -> bytes:
    """The DS9 file :func:`write_regions` writes, as bytes."""
    return source_regions(image, result).serialize(format="ds9").encode()
