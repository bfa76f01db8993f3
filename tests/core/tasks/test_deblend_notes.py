"""Images off the deblending network's training grid earn a note quoting the cost measured in its card;
an image like the training fields earns none."""
from __future__ import annotations

import pytest

from astroml_core.data import open_multiband
from astroml_core.registry import read_card
from astroml_core.sim.blends import BlendConfig, write_blend_field
from astroml_core.tasks.deblend import deblend
from astroml_core.train.deblend_off_grid import off_grid_config

FIELD = dict(nx=96, ny=96, n_groups=4)     # a few groups, so that some galaxies are bright


def _notes(tmp_path, config: BlendConfig, seed: int = 2003) -> list[str]:
    path = tmp_path / "field.fits"
    write_blend_field(path, seed, config=config)
    return deblend(open_multiband(path), "model").catalogue.meta["notes"]


def test_a_field_like_the_training_ones_has_no_note(tmp_path):
    assert _notes(tmp_path, BlendConfig(**FIELD)) == []


@pytest.mark.parametrize("change, expected", [
    (dict(pixel_arcsec=0.168), "This image has 0.168″ pixels; the network was trained on 0.2″ pixels: on simulated "
                               "fields with 0.168″ pixels"),
    (dict(psf_scale=1.3), "Its PSF is 1.3 × as wide as the training fields'"),
    (dict(depth_mag=2.5), "brighter, relative to the noise, than any training galaxy"),
])
def test_other_pixels_seeing_or_depth_earn_a_note_with_the_measured_cost(tmp_path, change, expected):
    from dataclasses import replace
    [note] = _notes(tmp_path, replace(off_grid_config(**change), **FIELD))
    assert expected in note, note
    assert "%" in note and "mean absolute error" in note


def test_the_card_measures_every_off_grid_case_and_the_brightest_training_galaxy():
    grid = read_card("deblend_unet")[0]["off_grid"]
    assert 300 < grid["train_snr_max"] < 5000
    cases = {c["case"]: c for c in grid["cases"]}
    assert {"2.5 mag deeper", "0.168″ pixels", "0.1″ pixels", "PSF 30 % wider", "PSF 30 % narrower"} <= set(cases)
    assert cases["2.5 mag deeper"]["brighter_than_training"]["n"] >= 5
    # finer 0.1″ pixels (galaxies twice as many pixels across) cost more than HSC-like 0.168″ ones
    assert cases["0.1″ pixels"]["mape"] > cases["0.168″ pixels"]["mape"]
