"""What the training fields cover, for the notes on a user's image: the brightest source's S/N over the default
and the domain-randomised training fields, and the fit check's residual limits, measured on randomised fields
of tuning seeds (never held out, never trained on)."""
from __future__ import annotations

import numpy as np

from ..sim.blend_domains import random_blend_config
from ..sim.blends import BlendConfig, simulate_blends
from ..tasks.deblend.detection import band_noise
from ..tasks.deblend.fit_check import FitCheck, calibrate_fit_check, residual_chi2, source_snr
from ..tasks.deblend.model import model_deblend
from .deblend import STAGES, TRAIN_SEED0, TUNING_SEEDS

__all__ = ["domain_config", "training_snr_max", "fit_check_limits"]


def domain_config(seed: int, nx: int = 64, ny: int = 64, n_groups: int = 1) -> BlendConfig:
    """The randomised domain that training field ``seed`` is drawn in (as ``train.deblend._field``), on another grid."""
    from dataclasses import replace

    return replace(random_blend_config(np.random.default_rng([seed, 7])), nx=nx, ny=ny, n_groups=n_groups)


def training_snr_max(n_fields: int = 1500) -> float:
    """The matched-filter S/N (all bands) of the brightest object in ``n_fields`` default and as many randomised
    training fields: above it the network sees sources brighter, relative to the noise, than any it learnt from."""
    first = TRAIN_SEED0 + STAGES[-1].first_field
    best = 0.0
    for seed, cfg in [(TRAIN_SEED0 + k, BlendConfig()) for k in range(n_fields)] + \
                     [(first + k, domain_config(first + k)) for k in range(n_fields)]:
        sim = simulate_blends(seed, cfg)
        best = max(best, float(source_snr(sim.isolated, np.asarray(cfg.sky_sigma, np.float32)).max()))
    return best


def fit_check_limits(model, seeds=TUNING_SEEDS[:100]) -> FitCheck:
    """The fit check calibrated on 128 × 128 randomised fields of four groups (tuning seeds), σ measured as on
    a user's image."""
    chi2, snr = [], []
    for seed in seeds:
        sim = simulate_blends(seed, domain_config(seed, 128, 128, 4))
        sigma = band_noise(sim.images)
        res = model_deblend(sim.images, sim.config.bands, model, sigma=sigma)
        chi2.append(residual_chi2(sim.images, res.stamps, res.origins, sigma))
        snr.append(source_snr(res.stamps, sigma))
    return calibrate_fit_check(np.concatenate(chi2), np.concatenate(snr))
