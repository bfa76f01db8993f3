"""Images outside what the deblending network was trained on earn a note (pixels, seeing, brightness, light
the network cannot explain) quoting the foreign test set's measured cost; images inside the training domain,
default or randomised, earn none."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from astroml_core.data import open_multiband
from astroml_core.registry import load_model, read_card
from astroml_core.sim.blends import BlendConfig, simulate_blends, write_blend_field
from astroml_core.tasks.deblend import deblend, model_deblend, model_notes
from astroml_core.tasks.deblend.detection import band_noise
from astroml_core.tasks.deblend.fit_check import FitCheck, calibrate_fit_check
from astroml_core.train.deblend import HELD_OUT_SEEDS

FIELD = dict(nx=96, ny=96, n_groups=4)     # a few groups, so that some galaxies are bright


def _notes(tmp_path, config: BlendConfig, seed: int = 2003) -> list[str]:
    path = tmp_path / "field.fits"
    write_blend_field(path, seed, config=config)
    return deblend(open_multiband(path), "model").catalogue.meta["notes"]


def test_a_field_like_the_training_ones_has_no_note(tmp_path):
    assert _notes(tmp_path, BlendConfig(**FIELD)) == []


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS[:6])
def test_held_out_training_like_fields_have_no_note(seed):
    """Held-out fields of the training simulator, more crowded than the training stamps, σ measured: silent."""
    sim = simulate_blends(seed, BlendConfig(nx=128, ny=128, n_groups=6))
    sigma = band_noise(sim.images)
    res = model_deblend(sim.images, sim.config.bands, load_model("deblend_unet", "cpu"), sigma=sigma)
    image = SimpleNamespace(pixel_arcsec=sim.config.pixel_arcsec, psf_fwhm_arcsec=sim.config.psf_fwhm_arcsec,
                            data=sim.images)
    assert model_notes(image, res, sigma) == []


@pytest.mark.parametrize("change, expected", [
    (dict(pixel_arcsec=0.168), "This image has 0.168″ pixels; the network was trained on 0.2″ pixels."),
    (dict(psf_fwhm_arcsec=(1.2, 1.1, 1.05, 1.0)), "Its PSF FWHM is 1–1.2″; the network was trained on 0.7–0.85″."),
])
def test_pixels_or_seeing_outside_training_earn_a_note_with_the_foreign_cost(tmp_path, change, expected):
    notes = _notes(tmp_path, BlendConfig(**FIELD, **change))
    assert any(expected in n for n in notes), notes
    assert "foreign test set" in notes[-1] and "%" in notes[-1]


def test_sources_brighter_than_training_earn_a_note(tmp_path):
    deep = tuple(s * 10 ** (-0.4 * 4.0) for s in BlendConfig().sky_sigma)      # 4 mag deeper than the default fields
    notes = _notes(tmp_path, BlendConfig(**FIELD, sky_sigma=deep, mag_range=(17.0, 19.0)))
    assert any("brighter, relative to the noise, than any training galaxy" in n for n in notes), notes


def test_the_fit_check_fires_only_when_many_sources_fit_badly():
    check = calibrate_fit_check(np.r_[np.ones(400), 1.5 * np.ones(4)], np.full(404, 30.0))
    assert check.limits[2] == pytest.approx(1.0, abs=0.3)
    assert check.unlike_training(np.ones(40), np.full(40, 30.0)) == (False, 0)
    assert check.unlike_training(np.r_[np.ones(36), 5 * np.ones(4)], np.full(40, 30.0)) == (False, 4)    # 10 %: not more
    assert check.unlike_training(np.r_[np.ones(30), 5 * np.ones(10)], np.full(40, 30.0)) == (True, 10)
    assert FitCheck.from_dict(check.to_dict()).limits.tolist() == pytest.approx(check.limits.tolist(), abs=1e-3)


def test_the_card_holds_the_training_domain_and_fit_check():
    front = read_card("deblend_unet")[0]
    assert 50 < front["training_domain"]["peak_snr_max"] < 100000
    assert front["training_domain"]["pixel_arcsec"] == [0.2, 0.2] and not front["training_domain"]["randomised"]
    limits = FitCheck.from_dict(front["fit_check"]).limits
    assert np.all(np.diff(limits) >= 0) and limits[0] > 0.5
