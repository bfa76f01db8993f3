"""The shipped deblender on simulated fields off its training grid (deeper, other pixels, other seeing):
the measured cost that the page and the CLI quote when an image differs from the training fields."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..metrics.deblend import galaxy_snr
from ..sim.blends import BlendConfig, simulate_blends
from .deblend import TRAIN_SEED0, _concatenate, _score_field

__all__ = ["OFF_GRID", "off_grid_config", "training_snr_max", "evaluate_off_grid"]

# (case, how its fields differ from the training ones): depth in magnitudes (sky noise 10^(−0.4 depth)),
# pixel scale (″), PSF FWHM as a multiple of the training one
OFF_GRID = (("2.5 mag deeper", dict(depth_mag=2.5)),
            ("0.168″ pixels", dict(pixel_arcsec=0.168)),
            ("0.1″ pixels", dict(pixel_arcsec=0.1)),
            ("PSF 30 % wider", dict(psf_scale=1.3)),
            ("PSF 30 % narrower", dict(psf_scale=0.7)))


def off_grid_config(depth_mag: float = 0.0, pixel_arcsec: float | None = None, psf_scale: float = 1.0) -> BlendConfig:
    """The training fields' configuration with another depth, pixel scale or PSF width."""
    base = BlendConfig()
    return replace(base, sky_sigma=tuple(s * 10 ** (-0.4 * depth_mag) for s in base.sky_sigma),
                   pixel_arcsec=pixel_arcsec or base.pixel_arcsec,
                   psf_fwhm_arcsec=tuple(f * psf_scale for f in base.psf_fwhm_arcsec))


def training_snr_max(n_fields: int = 1500) -> float:
    """The detection S/N of the brightest galaxy in ``n_fields`` training fields: above it the network
    sees galaxies brighter, relative to the noise, than any it learnt from."""
    cfg = BlendConfig()
    sigma = np.asarray(cfg.sky_sigma, np.float32)[None, :, None, None]
    return float(max(galaxy_snr(simulate_blends(seed, cfg).isolated / sigma).max()
                     for seed in range(TRAIN_SEED0, TRAIN_SEED0 + n_fields)))


def _figures(score, sel) -> dict:
    return {k: round(float(v), 4) for k, v in score.figures(sel).items() if k != "sigma_mad"}


def evaluate_off_grid(model, seeds, bright_snr: float, min_snr: float = 10.0) -> list[dict]:
    """Per :data:`OFF_GRID` case, on ``seeds``: completeness, IoU, bias and MAPE of blended galaxies
    (blendedness > 0.1, S/N ≥ ``min_snr``), and the same for those brighter than ``bright_snr`` (when
    at least 5 are)."""
    rows = []
    for name, change in OFF_GRID:
        cfg = off_grid_config(**change)
        fields = [_score_field(simulate_blends(seed, cfg), model, {}, min_snr) for seed in seeds]
        score = _concatenate([f.scores for f in fields])["model"]
        snr = np.concatenate([f.snr for f in fields])
        blended = score.blendedness > 0.1
        bright = blended & (snr > bright_snr)
        row = dict(case=name, **change, n=int(blended.sum()), **_figures(score, blended))
        if bright.sum() >= 5:
            row["brighter_than_training"] = dict(n=int(bright.sum()), **_figures(score, bright))
        rows.append(row)
    return rows
