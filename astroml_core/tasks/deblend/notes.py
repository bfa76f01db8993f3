"""What the deblending network does to an image off its training grid, in words for the user: pixels,
seeing or sources unlike the training fields, each with the cost measured on simulated fields (the
model card's ``off_grid`` rows)."""
from __future__ import annotations

import numpy as np

from ...metrics.deblend import galaxy_snr
from .model import DeblendResult

__all__ = ["model_notes", "PIXEL_TOLERANCE", "PSF_TOLERANCE"]

PIXEL_TOLERANCE = 0.1     # relative difference from the training pixel scale that earns a note
PSF_TOLERANCE = 0.15      # relative difference of the median PSF FWHM ratio (image / training) that earns a note


def _nearest(cases: list[dict], key: str, value: float) -> dict:
    """The off-grid case whose ``key`` is nearest ``value``."""
    return min((c for c in cases if key in c), key=lambda c: abs(np.log(c[key] / value)))


def _cost(case: dict) -> str:
    return (f"on simulated fields with {case['case']}, {case['completeness']:.0%} of blended galaxies found, mean IoU "
            f"{case['mean_iou']:.2f}, fluxes {case['bias']:+.0%} (median), {case['mape']:.0%} mean absolute error")


def model_notes(image, result: DeblendResult, sigma: np.ndarray) -> list[str]:
    """Notes for a model run on ``image`` (sky σ per band ``sigma``, as the run used) whose pixel scale, PSF
    or source brightness lies outside what the network was trained on; none for an image like the training
    fields."""
    from ...registry import read_card

    grid = read_card("deblend_unet")[0]["off_grid"]
    cases, notes = grid["cases"], []
    px, train_px = image.pixel_arcsec, grid["train_pixel_arcsec"]
    if px and abs(px / train_px - 1) > PIXEL_TOLERANCE:
        notes.append(f"This image has {px:.3g}″ pixels; the network was trained on {train_px:g}″ pixels: "
                     f"{_cost(_nearest(cases, 'pixel_arcsec', px))}.")
    ratios = [f / t for f, t in zip(image.psf_fwhm_arcsec, grid["train_psf_fwhm_arcsec"]) if f]
    ratio = float(np.median(ratios)) if ratios else 1.0
    if abs(ratio - 1) > PSF_TOLERANCE:
        notes.append(f"Its PSF is {ratio:.2g} × as wide as the training fields' "
                     f"({', '.join(f'{f:g}' for f in grid['train_psf_fwhm_arcsec'])}″): "
                     f"{_cost(_nearest(cases, 'psf_scale', ratio))}.")
    if len(result.catalogue):
        snr = galaxy_snr(result.stamps / sigma[None, :, None, None])
        bright = int((snr > grid["train_snr_max"]).sum())
        deep = _nearest(cases, "depth_mag", 2.5).get("brighter_than_training")
        if bright and deep:
            notes.append(f"{bright} of {len(snr)} sources are brighter, relative to the noise, than any training galaxy "
                         f"(S/N > {grid['train_snr_max']:.0f}; a deeper image than the training fields' single visits): "
                         f"on simulated fields 2.5 mag deeper, blended galaxies that bright read {deep['bias']:+.0%} "
                         f"(median), {deep['mape']:.0%} mean absolute error.")
    return notes
