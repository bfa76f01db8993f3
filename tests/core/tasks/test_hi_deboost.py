"""Flux de-boosting of the model's catalogue: a correction linear in the catalogue's own measurements, read
from the card, applied to line_flux_integral (and hi_size), and fitted back from a simulated boosted sample."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astroml_core.registry import read_card
from astroml_core.tasks.hi.deboost import FEATURES, FluxDeboost, deboost_features
from astroml_core.tasks.hi.disc_fit import hi_size_of_disc
from astroml_core.tasks.hi.model import config_from_card
from astroml_core.train.hi import fit_deboost

COEF = (0.7, -10.5, 29.0, 0.14, -0.43)


def _catalogue(n: int = 3, rng=None) -> QTable:
    t = QTable()
    if rng is None:
        t["line_flux_integral"] = np.array([20.0, 50.0, 200.0]) * u.Jy * u.Hz
        t["disc_snr"] = np.array([6.0, 12.0, np.nan])
        t["snr"] = np.array([5.0, 11.0, 30.0])
        t["n_vox"] = np.array([300, 900, 4000])
    else:
        t["line_flux_integral"] = rng.uniform(10, 300, n) * u.Jy * u.Hz
        t["disc_snr"] = rng.uniform(4.5, 40, n)
        t["snr"] = t["disc_snr"] * rng.uniform(0.6, 1.2, n)
        t["n_vox"] = rng.integers(200, 5000, n)
    t["central_freq"] = np.full(n, 1.05e9) * u.Hz
    t["disc_scale"] = np.linspace(2.0, 3.5, n) * u.arcsec
    t["hi_size"] = hi_size_of_disc(t["line_flux_integral"].value, 1.05e9, t["disc_scale"].value) * u.arcsec
    t["disc_fit"] = np.isfinite(t["disc_snr"])
    return t


def test_factor_follows_the_features_clamps_the_snr_and_leaves_unfitted_rows():
    deboost = FluxDeboost(COEF, snr_min=4.0)
    t = _catalogue()
    x = deboost_features(t, 4.0)
    assert x.shape == (3, len(FEATURES))
    factor = deboost.factor(t)
    assert factor[:2] == pytest.approx(np.exp(COEF[0] + x[:2] @ np.array(COEF[1:])))
    assert factor[2] == 1.0                                            # not disc-fitted: left alone
    low = t.copy()
    low["disc_snr"][0] = 1.0
    lower = t.copy()
    lower["disc_snr"][0] = 4.0
    assert deboost.factor(low)[0] == deboost.factor(lower)[0]          # clamped: no extrapolation below snr_min
    assert np.all(FluxDeboost((0.0,) * 5).factor(t) == 1.0)            # zero coefficients: the identity


def test_apply_corrects_line_flux_and_hi_size_and_keeps_the_fitted_flux():
    deboost = FluxDeboost(COEF, snr_min=4.0)
    t = _catalogue()
    out = deboost.apply(t)
    factor = deboost.factor(t)
    assert np.allclose(out["line_flux_integral"].value, t["line_flux_integral"].value * factor)
    assert out["line_flux_integral"][2] == t["line_flux_integral"][2]          # not disc-fitted
    assert np.all(out["line_flux_fitted"] == t["line_flux_integral"])
    assert out["line_flux_integral"].unit == u.Jy * u.Hz
    assert out["hi_size"][2] == t["hi_size"][2]
    assert np.allclose(out["hi_size"].value[:2], hi_size_of_disc(out["line_flux_integral"].value[:2], 1.05e9,
                                                                 t["disc_scale"].value[:2]))
    assert np.all(t["line_flux_integral"] == _catalogue()["line_flux_integral"])   # the input is not changed
    assert len(deboost.apply(t[:0])) == 0


def test_fit_recovers_a_known_boosting():
    rng = np.random.default_rng(0)
    t = _catalogue(600, rng)
    snr_min = round(float(t["disc_snr"].min()), 2)
    x = np.column_stack([np.ones(len(t)), deboost_features(t, snr_min)])
    true = t["line_flux_integral"].value * np.exp(x @ np.array(COEF) + rng.laplace(0, 0.03, len(t)))
    got = fit_deboost(t, true)
    assert got.snr_min == pytest.approx(snr_min)
    corrected = t["line_flux_integral"].value * got.factor(t)
    assert np.median(np.abs(np.log(corrected / true))) < 0.035                # the noise's own median |·| is 0.021
    faint = t["disc_snr"] < 8
    assert abs(np.median(np.log(corrected / true)[faint])) < 0.02
    assert fit_deboost(t[:20], true[:20]).coef == (0.0,) * 5                  # too few: the identity


def test_the_shipped_card_prescribes_the_deboosting():
    front, _ = read_card("hi_unet")
    cfg = config_from_card(front)
    assert cfg.deboost is not None and len(cfg.deboost.coef) == len(FEATURES) + 1
    assert front["flux_deboost"]["features"] == list(FEATURES)
    assert 0 < cfg.deboost.snr_min < 10
