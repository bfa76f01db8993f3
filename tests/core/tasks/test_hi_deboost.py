"""Flux de-boosting of the model's catalogue: a monotonic correction that fades at high S/N, read from the card,
applied to line_flux_integral (and hi_size), and fitted back from a simulated boosted sample."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astroml_core.registry import read_card
from astroml_core.tasks.hi.deboost import FluxDeboost
from astroml_core.tasks.hi.disc_fit import hi_size_of_disc
from astroml_core.tasks.hi.model import config_from_card
from astroml_core.train.hi import fit_deboost


def test_correction_is_monotonic_at_most_one_and_the_identity_at_high_snr():
    deboost = FluxDeboost(a=5.0, p=2.0, snr_min=4.0)
    snr = np.linspace(4.0, 200.0, 400)
    factor = deboost.factor(snr)
    assert np.all(np.diff(factor) >= 0) and np.all(factor <= 1)
    assert deboost.factor(1e4) == pytest.approx(1.0, abs=1e-6)
    assert deboost.factor(100.0) == pytest.approx(1.0, abs=1e-3)
    assert deboost.factor(1.0) == deboost.factor(4.0)          # clamped: no extrapolation below snr_min
    assert deboost.factor(np.nan) == 1.0                        # not fitted: left alone


def _catalogue() -> QTable:
    t = QTable()
    t["line_flux_integral"] = np.array([20.0, 50.0, 200.0]) * u.Jy * u.Hz
    t["central_freq"] = np.full(3, 1.05e9) * u.Hz
    t["disc_scale"] = np.array([2.0, 2.5, 3.5]) * u.arcsec
    t["hi_size"] = hi_size_of_disc(t["line_flux_integral"].value, 1.05e9, t["disc_scale"].value) * u.arcsec
    t["disc_snr"] = np.array([6.0, 12.0, np.nan])
    t["disc_fit"] = np.array([True, True, False])
    return t


def test_apply_corrects_line_flux_and_hi_size_and_keeps_the_fitted_flux():
    deboost = FluxDeboost(a=5.0, p=2.0, snr_min=4.0)
    t = _catalogue()
    out = deboost.apply(t)
    factor = deboost.factor([6.0, 12.0])
    assert np.allclose(out["line_flux_integral"].value[:2], t["line_flux_integral"].value[:2] * factor)
    assert out["line_flux_integral"][2] == t["line_flux_integral"][2]          # not disc-fitted
    assert np.all(out["line_flux_fitted"] == t["line_flux_integral"])
    assert out["line_flux_integral"].unit == u.Jy * u.Hz
    assert np.all(out["hi_size"][:2] < t["hi_size"][:2]) and out["hi_size"][2] == t["hi_size"][2]
    assert np.allclose(out["hi_size"].value[:2], hi_size_of_disc(out["line_flux_integral"].value[:2], 1.05e9,
                                                                 t["disc_scale"].value[:2]))
    assert np.all(t["line_flux_integral"] == _catalogue()["line_flux_integral"])   # the input is not changed
    assert len(deboost.apply(t[:0])) == 0


def test_fit_recovers_a_known_boosting():
    rng = np.random.default_rng(0)
    snr = rng.uniform(5, 40, 400)
    true = rng.uniform(1, 10, 400)
    fitted = true * np.exp(4.0 / snr**2 + rng.normal(0, 0.05, 400))
    got = fit_deboost(fitted, true, snr)
    assert got.a >= 0 and got.snr_min == pytest.approx(snr.min(), abs=0.01)
    corrected = fitted * got.factor(snr)
    assert abs(np.median(np.log(corrected / true))) < 0.01
    assert abs(np.median(np.log(corrected / true)[snr < 8])) < 0.03
    assert fit_deboost(fitted[:3], true[:3], snr[:3]).a == 0.0                  # too few: the identity


def test_the_shipped_card_prescribes_the_deboosting():
    front, _ = read_card("hi_unet")
    cfg = config_from_card(front)
    assert cfg.deboost is not None and cfg.deboost.a >= 0
    assert cfg.deboost.factor(1e4) == pytest.approx(1.0, abs=1e-6)
