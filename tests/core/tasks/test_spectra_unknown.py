"""UNKNOWN with a reason (issue 31): a spectrum the model cannot read (too little of the grid, nothing usable) or
one unlike every training class gets UNKNOWN and says why, with the 13 probabilities kept; files with nothing
usable stay refused with typed errors; ordinary held-out spectra are flagged no more than the calibrated rate."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.data.spectra import open_spectra
from astroml_core.errors import NonFiniteError, ShapeError
from astroml_core.registry import write_card
from astroml_core.sim.spectra import CLASSES, simulate_spectra
from astroml_core.tasks.spectra import Survey, classify, classify_arrays, selection_table
from astroml_core.tasks.spectra.classify import DEFAULT_UNKNOWN_Z, UNKNOWN, unknown_labels, unknown_threshold
from astroml_core.train.spectra import HELD_OUT_SEED


@pytest.fixture(scope="module")
def held_out():
    return simulate_spectra(HELD_OUT_SEED, 1300)


@pytest.fixture(scope="module")
def held_out_result(held_out):
    return classify_arrays(held_out.flux, held_out.ivar)


def test_a_spectrum_covering_20_percent_of_the_grid_is_unknown_with_its_reason(held_out):
    flux, ivar = held_out.flux[:3].copy(), held_out.ivar[:3].copy()
    keep = np.zeros(flux.shape[1], bool)
    keep[1000:1768] = True                                     # 768 of 3,840 pixels: 20%
    flux[:, ~keep], ivar[:, ~keep] = 0.0, 0.0
    ivar[:, keep] = np.maximum(ivar[:, keep], 1e-3)
    r = classify_arrays(flux, ivar)
    assert (r.label == UNKNOWN).all()
    assert all(x == "covers only 20% of 3,800–9,198 Å (needs 30%)" for x in r.reason)
    assert r.probs.shape == (3, len(CLASSES)) and np.allclose(r.probs.sum(axis=1), 1, atol=1e-4)


def test_an_all_masked_row_is_unknown_with_no_usable_pixel_while_its_neighbours_are_classified(held_out):
    flux, ivar = held_out.flux[:4].copy(), held_out.ivar[:4].copy()
    flux[1], ivar[1] = 0.0, 0.0
    r = classify_arrays(flux, ivar)
    assert r.label[1] == UNKNOWN and r.reason[1] == "no usable pixel (ivar 0 throughout)"
    assert r.coverage[1] == 0 and np.isfinite(r.probs[1]).all()
    ok = [0, 2, 3]
    assert (r.label[ok] == r.pred_class[ok]).all() or (r.label[ok] == UNKNOWN).sum() <= 1


def test_unknown_fires_on_ordinary_held_out_spectra_no_more_than_the_calibrated_rate(held_out_result):
    r = held_out_result
    flagged = r.label == UNKNOWN
    assert flagged.mean() <= 0.05
    assert (r.label[~flagged] == r.pred_class[~flagged]).all() and (r.reason[~flagged] == "").all()
    assert all(x.startswith("unlike the training spectra (anomaly z = ") for x in r.reason[flagged])
    assert (r.anomaly[flagged] > r.unknown_z[r.pred[flagged]]).all()      # its predicted class's threshold


def test_a_lower_threshold_flags_the_stranger_spectra_first(held_out, held_out_result):
    z = float(np.quantile(held_out_result.anomaly, 0.9))
    label, reason = unknown_labels(held_out_result.pred_class, held_out_result.coverage, held_out_result.anomaly, z)
    assert 0.08 <= np.mean(label == UNKNOWN) <= 0.12
    assert (held_out_result.anomaly[label == UNKNOWN] > z).all()


def test_threshold_comes_from_the_cards_front_matter(tmp_path):
    folder = tmp_path / "spectra_net"
    folder.mkdir()
    (folder / "weights.pt").write_bytes(b"x")
    write_card("spectra_net", {"name": "spectra_net", "unknown": {"anomaly_z": 2.5}}, "card\n", tmp_path)
    assert (unknown_threshold(tmp_path) == 2.5).all()
    write_card("spectra_net", {"name": "spectra_net",
                               "unknown": {"anomaly_z": 2.5, "anomaly_z_by_class": {"STAR_K5": 4.0}}}, "card\n", tmp_path)
    cuts = unknown_threshold(tmp_path)
    assert cuts[CLASSES.index("STAR_K5")] == 4.0 and (np.delete(cuts, CLASSES.index("STAR_K5")) == 2.5).all()
    write_card("spectra_net", {"name": "spectra_net"}, "card\n", tmp_path)
    assert (unknown_threshold(tmp_path) == DEFAULT_UNKNOWN_Z).all()


def test_each_spectrum_is_held_to_its_predicted_class_threshold():
    pred = np.array(["STAR_K5", "GALAXY_STARBURST", "STAR_K5"])
    cuts = np.full(len(CLASSES), 3.0)
    cuts[CLASSES.index("GALAXY_STARBURST")] = 6.0
    label, reason = unknown_labels(pred, np.ones(3), np.array([4.0, 4.0, 2.0]), cuts)
    assert list(label) == [UNKNOWN, "GALAXY_STARBURST", "STAR_K5"] and "> 3.00" in reason[0]


def _table_file(path, wave, flux):
    cols = [fits.Column("WAVELENGTH", "D", unit="Angstrom", array=wave), fits.Column("FLUX", "E", array=flux)]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    return path


def test_a_file_covering_a_fifth_of_the_range_opens_and_is_unknown_in_the_written_table(tmp_path):
    wave = np.linspace(4000.0, 4800.0, 600)                     # ~26% of the grid's log-λ span, fewer pixels
    s = open_spectra(_table_file(tmp_path / "narrow.fits", wave, 1 + 0.1 * np.sin(wave / 30.0)))
    assert any("classified UNKNOWN" in note for note in s.notes)
    r = classify(s)
    assert r.label[0] == UNKNOWN and r.reason[0].startswith("covers only ") and r.reason[0].endswith("(needs 30%)")
    t = selection_table(Survey(s, r), np.arange(len(s)))
    assert list(t["label"]) == [UNKNOWN] and t["reason"][0] == r.reason[0]


def test_all_nan_and_empty_files_are_refused_with_typed_errors(tmp_path):
    wave = np.linspace(4000.0, 9000.0, 500)
    with pytest.raises(NonFiniteError, match="no usable pixel"):
        open_spectra(_table_file(tmp_path / "nan.fits", wave, np.full(500, np.nan)))
    with pytest.raises((ShapeError, NonFiniteError)):
        open_spectra(_table_file(tmp_path / "empty.fits", np.zeros(0), np.zeros(0)))
    with pytest.raises(ShapeError, match="open an optical spectrum of this object instead"):
        open_spectra(_table_file(tmp_path / "ir.fits", np.linspace(1e4, 2.5e4, 500), np.ones(500)))
