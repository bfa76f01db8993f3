"""Classic deblenders on the same detection image as the model: sep (SExtractor) and photutils.

Both threshold the S/N-weighted band sum at 1.5σ over ≥ 5 connected pixels after a small matched
filter, split blends by multi-thresholding (32 levels, contrast 0.005: SExtractor's defaults), and
measure each band's total flux in a Kron aperture (2.5 r_Kron) with the other sources' segments
masked, as SExtractor's FLUX_AUTO does, with its sky-noise-only error (FLUXERR_AUTO without the source's
Poisson term). Results: a QTable (id, x, y, ra, dec, flux_<band>, flux_err_<band>) and the segmentation map
(0 sky, i + 1 for row i). sep's catalogue also carries each band's isophotal flux ``flux_iso_<band>``, the sum
of the pixels in the source's own segment (SExtractor's FLUX_ISO); :func:`sep_isophotal` scores it as its own method.
"""
from __future__ import annotations

import numpy as np
from astropy.table import QTable
from astropy.wcs import WCS

from ...errors import AstroMLError
from .detection import band_noise, detection_image

__all__ = ["sep_deblend", "sep_isophotal", "isophotal_fluxes", "photutils_deblend", "THRESH", "MINAREA"]

THRESH, MINAREA, NLEVELS, CONTRAST = 1.5, 5, 32, 0.005


def _catalogue(x, y, fluxes: dict[str, np.ndarray], wcs: WCS | None, errors: dict[str, np.ndarray] | None = None) -> QTable:
    """id, x, y, ra, dec (NaN without a WCS), flux_<band> and, when given, flux_err_<band>."""
    t = QTable()
    t["id"] = np.arange(len(x), dtype=np.int64)
    t["x"], t["y"] = np.asarray(x, float), np.asarray(y, float)
    if wcs is not None and len(x):
        sky = wcs.pixel_to_world(t["x"], t["y"])
        t["ra"], t["dec"] = sky.icrs.ra.deg, sky.icrs.dec.deg
    else:
        t["ra"], t["dec"] = np.full(len(x), np.nan), np.full(len(x), np.nan)
    t["ra"].unit = t["dec"].unit = "deg"
    for band, flux in fluxes.items():
        t[f"flux_{band}"] = np.asarray(flux, float)
    for band, err in (errors or {}).items():
        t[f"flux_err_{band}"] = np.asarray(err, float)
    return t


def _band_sigma(images: np.ndarray, sigma) -> np.ndarray:
    """Sky σ per band: as given where finite and positive, else measured."""
    measured = band_noise(images)
    if sigma is None:
        return measured
    sigma = np.asarray(sigma, np.float32)
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, measured)


def sep_deblend(images: np.ndarray, bands, wcs: WCS | None = None, sigma=None) -> tuple[QTable, np.ndarray]:
    """SExtractor (via sep) on the detection image; FLUX_AUTO per band with neighbours masked."""
    import sep

    det, det_sigma = detection_image(images, sigma)
    det = np.ascontiguousarray(det, dtype=np.float64)
    sep.set_extract_pixstack(max(300_000, det.size))       # a large galaxy can put most of the image above 1.5σ
    try:
        objects, segmap = sep.extract(det, THRESH, err=det_sigma, minarea=MINAREA, deblend_nthresh=NLEVELS,
                                      deblend_cont=CONTRAST, segmentation_map=True)
    except Exception as exc:        # sep raises a bare Exception with SExtractor's message
        raise AstroMLError(f"sep could not extract sources from this image: {exc}") from exc
    segmap = segmap.astype(np.int32)
    x, y = objects["x"], objects["y"]
    a, b = np.maximum(objects["a"], 0.5), np.maximum(objects["b"], 0.5)
    theta = np.clip(objects["theta"], -np.pi / 2, np.pi / 2)
    ids = np.arange(1, len(objects) + 1, dtype=np.int32)
    kron, _ = sep.kron_radius(det, x, y, a, b, theta, 6.0, seg_id=ids, segmap=segmap)
    radius = 2.5 * np.maximum(kron, 1.75)      # SExtractor's PHOT_AUTOPARAMS 2.5, 3.5 min (in a units)
    fluxes, errors = {}, {}
    for band, plane, noise in zip(bands, images, _band_sigma(images, sigma)):
        data = np.ascontiguousarray(np.nan_to_num(plane), dtype=np.float64)
        fluxes[band], errors[band], _ = sep.sum_ellipse(data, x, y, a, b, theta, radius, err=float(noise), subpix=1,
                                                        seg_id=ids, segmap=segmap)
    table = _catalogue(x, y, fluxes, wcs, errors)
    for band, flux in isophotal_fluxes(images, bands, segmap, len(table)).items():
        table[f"flux_iso_{band}"] = flux
    return table, segmap


def isophotal_fluxes(images: np.ndarray, bands, segmap: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """{band: FLUX_ISO of rows 0..n−1}: each band's pixels summed over segment i + 1 (NaN pixels count 0)."""
    labels = segmap.ravel()
    return {band: np.bincount(labels, weights=np.nan_to_num(plane).ravel().astype(np.float64), minlength=n + 1)[1:n + 1]
            for band, plane in zip(bands, images)}


def sep_isophotal(images: np.ndarray, bands, wcs: WCS | None = None, sigma=None) -> tuple[QTable, np.ndarray]:
    """sep's detections with FLUX_ISO as ``flux_<band>`` (the segment sums), to score beside FLUX_AUTO."""
    table, segmap = sep_deblend(images, bands, wcs, sigma)
    out = table[["id", "x", "y", "ra", "dec"]]
    for band in bands:
        out[f"flux_{band}"] = table[f"flux_iso_{band}"]
    return out, segmap


def photutils_deblend(images: np.ndarray, bands, wcs: WCS | None = None, sigma=None) -> tuple[QTable, np.ndarray]:
    """photutils detect_sources + deblend_sources on the smoothed detection image; Kron flux per band."""
    from astropy.convolution import convolve
    from photutils.segmentation import (SourceCatalog, deblend_sources, detect_sources,
                                        make_2dgaussian_kernel)

    det, det_sigma = detection_image(images, sigma)
    kernel = make_2dgaussian_kernel(2.0, size=5)
    smooth = convolve(det, kernel)
    segm = detect_sources(smooth, THRESH * det_sigma, n_pixels=MINAREA)
    if segm is None:
        return _catalogue([], [], {b: [] for b in bands}, wcs, {b: [] for b in bands}), np.zeros(det.shape, np.int32)
    segm = deblend_sources(smooth, segm, n_pixels=MINAREA, n_levels=NLEVELS, contrast=CONTRAST, progress_bar=False)
    ref = SourceCatalog(det, segm, convolved_data=smooth)
    x, y = np.asarray(ref.x_centroid), np.asarray(ref.y_centroid)
    fluxes, errors = {}, {}
    for band, plane, noise in zip(bands, images, _band_sigma(images, sigma)):
        cat = SourceCatalog(np.nan_to_num(plane), segm, convolved_data=smooth, detection_catalog=ref,
                            error=np.full(plane.shape, noise, np.float32))
        fluxes[band] = np.nan_to_num(np.asarray(cat.kron_flux, float))
        errors[band] = np.asarray(cat.kron_flux_err, float)
    # photutils labels may be sparse after deblending: renumber to 1..n in catalogue order
    lut = np.zeros(segm.data.max() + 1, np.int32)
    lut[np.asarray(ref.labels)] = np.arange(1, len(ref.labels) + 1)
    return _catalogue(x, y, fluxes, wcs, errors), lut[segm.data]
