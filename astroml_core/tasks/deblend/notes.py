"""What the deblending network makes of an image unlike the fields it was trained on, in words for the user:
pixels or seeing outside what its training fields spanned (the card's ``training_domain``), sources brighter
than any it learnt from, or light its predicted images leave unexplained; each quoting what such a difference
cost on the foreign test set (the card's ``foreign_test``). An image like the training fields earns none."""
from __future__ import annotations

import numpy as np

from .fit_check import FitCheck, peak_snr, residual_chi2, source_snr
from .model import DeblendResult

__all__ = ["model_notes", "TOLERANCE"]

TOLERANCE = 0.1       # relative margin outside a training range before a note


def _outside(value: float, lo: float, hi: float) -> bool:
    return value < lo * (1 - TOLERANCE) or value > hi * (1 + TOLERANCE)


def _foreign_cost(front: dict) -> str:
    """The foreign test set's measured flux errors, as a clause (empty when the card has none)."""
    rows = {r["bin"]: r for r in front.get("foreign_test", {}).get("by_blendedness", [])}
    iso = next((r for k, r in rows.items() if k.startswith("isolated")), None)
    blend = next((r for k, r in rows.items() if k.startswith("blended")), None)
    if not iso or not blend:
        return ""
    iso_err = iso["flux"]["model"]["all"]["median_abs"]
    blend_err = blend["flux"]["model"]["all"]["mape"]
    return (f" On images from another simulator (the card's foreign test set) its fluxes were off by {iso_err:.0%} "
            f"(median, isolated galaxies) and {blend_err:.0%} (mean, blended galaxies).")


def _span(lo: float, hi: float, digits: str = "g") -> str:
    return f"{lo:{digits}}" if f"{lo:{digits}}" == f"{hi:{digits}}" else f"{lo:{digits}}–{hi:{digits}}"


def _range_notes(image, domain: dict) -> list[str]:
    """Pixel scale and PSF FWHM (″, and in pixels) outside what the training fields spanned."""
    notes = []
    px = image.pixel_arcsec
    lo, hi = domain["pixel_arcsec"]
    if px and _outside(px, lo, hi):
        notes.append(f"This image has {px:.3g}″ pixels; the network was trained on {_span(lo, hi)}″ pixels.")
    fwhm = [f for f in image.psf_fwhm_arcsec if f]
    f_lo, f_hi = domain["psf_fwhm_arcsec"]
    if fwhm and (_outside(min(fwhm), f_lo, f_hi) or _outside(max(fwhm), f_lo, f_hi)):
        notes.append(f"Its PSF FWHM is {_span(min(fwhm), max(fwhm), '.2g')}″; the network was trained on {_span(f_lo, f_hi)}″.")
    if px and fwhm and not notes:
        in_px = max(fwhm) / px
        if _outside(in_px, f_lo / hi, f_hi / lo):
            notes.append(f"Its PSF is {in_px:.2g} pixels wide; the network was trained on {_span(f_lo / hi, f_hi / lo, '.2g')}.")
    return notes


def _peaks(det: np.ndarray, catalogue) -> np.ndarray:
    """Each source's S/N-weighted band sum at its centre pixel (NaN-safe)."""
    ny, nx = det.shape
    x = np.clip(np.round(np.asarray(catalogue["x"], float)).astype(int), 0, nx - 1)
    y = np.clip(np.round(np.asarray(catalogue["y"], float)).astype(int), 0, ny - 1)
    return np.nan_to_num(det[y, x])


def model_notes(image, result: DeblendResult, sigma: np.ndarray) -> list[str]:
    """Notes for a model run on ``image`` (sky σ per band ``sigma``, as the run used) that lies outside what the
    network was trained on; none for an image like the training fields."""
    from ...registry import read_card

    front = read_card("deblend_unet")[0]
    domain = front["training_domain"]
    notes = _range_notes(image, domain)
    if len(result.catalogue):
        snr = source_snr(result.stamps, sigma)
        data = getattr(image, "data", None)
        if data is not None:
            peak = _peaks(peak_snr(data, sigma), result.catalogue)
            bright = int((peak > domain["peak_snr_max"]).sum())
            if bright:
                notes.append(f"{bright} of {len(snr)} sources are brighter, relative to the noise, than any training "
                             f"galaxy (peak S/N {peak.max():.0f}; training's brightest pixel {domain['peak_snr_max']:.0f}).")
            check = FitCheck.from_dict(front["fit_check"])
            chi2 = residual_chi2(data, result.stamps, result.origins, sigma)
            unlike, n_odd = check.unlike_training(chi2, snr)
            if unlike:
                notes.append(f"{n_odd} of {len(snr)} sources leave more light unexplained (residual χ² per pixel) "
                             f"than {check.quantile:.0%} of training-like sources of their S/N: these galaxies, "
                             "stars or this image differ from what the network learnt.")
    if notes:
        notes[-1] += _foreign_cost(front)
    return notes
