"""What the shipped weights' training fields cover, for the notes on a user's image: the pixel scale and PSF
FWHM ranges (the default fields' values, or the randomised domain once a stage trained on it), the brightest
pixel's S/N, and the fit check's residual limits measured on training-like fields of tuning seeds."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..sim.blend_domains import TRAINING_DOMAIN, random_blend_config
from ..sim.blends import BlendConfig, simulate_blends
from ..tasks.deblend.detection import band_noise
from ..tasks.deblend.fit_check import FitCheck, calibrate_fit_check, peak_snr, residual_chi2, source_snr
from ..tasks.deblend.model import model_deblend
from .deblend import DOMAIN_STAGE, TRAIN_SEED0, TUNING_SEEDS

__all__ = ["domain_config", "covered_domain", "training_peak_snr_max", "fit_check_limits"]


def domain_config(seed: int, nx: int = 64, ny: int = 64, n_groups: int = 1) -> BlendConfig:
    """The randomised domain that training field ``seed`` is drawn in (as ``train.deblend._field``), on another grid."""
    return replace(random_blend_config(np.random.default_rng([seed, 7])), nx=nx, ny=ny, n_groups=n_groups)


def covered_domain(domains: bool) -> dict:
    """Pixel scale and PSF FWHM ranges (″) the training fields spanned: the randomised domain's when a shipped stage
    trained on it, else the default fields' single pixel scale and band FWHMs."""
    if domains:
        return dict(pixel_arcsec=list(TRAINING_DOMAIN["pixel_arcsec"]), psf_fwhm_arcsec=list(TRAINING_DOMAIN["psf_fwhm_arcsec"]))
    cfg = BlendConfig()
    return dict(pixel_arcsec=[cfg.pixel_arcsec] * 2, psf_fwhm_arcsec=[min(cfg.psf_fwhm_arcsec), max(cfg.psf_fwhm_arcsec)])


def _training_like(seed: int, domains: bool, nx: int = 64, ny: int = 64, n_groups: int = 1) -> BlendConfig:
    return domain_config(seed, nx, ny, n_groups) if domains else BlendConfig(nx=nx, ny=ny, n_groups=n_groups)


def training_peak_snr_max(domains: bool, n_fields: int = 1500) -> float:
    """The brightest pixel of the S/N-weighted band sum (in its own σ) over ``n_fields`` default training images
    (and as many randomised ones with ``domains``): above it a source is brighter, relative to the noise, than
    any the network learnt from."""
    first = TRAIN_SEED0 + DOMAIN_STAGE.first_field
    fields = [(TRAIN_SEED0 + k, BlendConfig()) for k in range(n_fields)]
    fields += [(first + k, domain_config(first + k)) for k in range(n_fields)] if domains else []
    return max(float(peak_snr(simulate_blends(seed, cfg).images, cfg.sky_sigma).max()) for seed, cfg in fields)


def fit_check_limits(model, domains: bool, seeds=TUNING_SEEDS[:100]) -> FitCheck:
    """The fit check calibrated on 128 × 128 training-like fields of four groups (tuning seeds), σ measured as on
    a user's image."""
    chi2, snr = [], []
    for seed in seeds:
        sim = simulate_blends(seed, _training_like(seed, domains, 128, 128, 4))
        sigma = band_noise(sim.images)
        res = model_deblend(sim.images, sim.config.bands, model, sigma=sigma)
        chi2.append(residual_chi2(sim.images, res.stamps, res.origins, sigma))
        snr.append(source_snr(res.stamps, sigma))
    return calibrate_fit_check(np.concatenate(chi2), np.concatenate(snr))
