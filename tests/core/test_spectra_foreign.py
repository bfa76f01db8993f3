"""validate.spectra_foreign: the foreign spectra test set (issue 31) — independence from the training simulator,
seeds, the class definitions on the generated truth, and the instruments' coverage after the project's resampler."""
from __future__ import annotations

import functools

import numpy as np

from astroml_core.validate import spectra_foreign as foreign
from astroml_core.validate.spectra_foreign import (BLOCK, CLASS_NAMES, FOREIGN_SEEDS, INSTRUMENTS, STAR_TEFF_K, SURVEYS,
                                                   clean_spectra, kauffmann03, kewley01, make_spectra, teff_limits)
from tests.core.foreign_isolation import assert_apart_from_the_simulator


@functools.lru_cache(maxsize=None)
def _truth(kind: str, n: int = 24):
    return clean_spectra(kind, n, np.random.default_rng([7, CLASS_NAMES.index(kind)]))


@functools.lru_cache(maxsize=None)
def _observed():
    """Every class once per survey grid (52 spectra) through the instruments and the project's resampler."""
    labels = np.tile(CLASS_NAMES, len(SURVEYS))
    surveys = np.repeat(SURVEYS, len(CLASS_NAMES))
    return make_spectra(labels, surveys, np.random.default_rng([5, 31]))


def test_imports_nothing_from_the_training_simulator():
    assert_apart_from_the_simulator(foreign, "s = m.make_spectra(['STAR_K5', 'QSO_BROADLINE', 'GALAXY_AGN'], "
                                             "['BOSS', 'DESI', 'LAMOST'], np.random.default_rng(1)); "
                                             "assert len(s) == 3")


def test_seeds_are_disjoint_from_every_spectra_seed_and_the_other_foreign_sets():
    from astroml_core.bench import spectra as bench
    from astroml_core.sim import spectra as sim
    from astroml_core.train import spectra as train
    from astroml_core.train import spectra_labels
    from astroml_core.validate import deblend_foreign, hi_foreign

    used = {v for m in (train, sim, spectra_labels, bench) for k, v in vars(m).items()
            if "SEED" in k and isinstance(v, int) and not isinstance(v, bool)}
    assert {70_000, 71_000, 3_000, 3_001, 11} <= used
    used |= {train.HELD_OUT_SEED + 7, spectra_labels.REPLAY_SEED + 100}      # bench's set; fine-tuning replays
    assert FOREIGN_SEEDS == tuple(range(910_000, 910_000 + len(FOREIGN_SEEDS)))
    assert min(FOREIGN_SEEDS) > max(used)
    assert not set(FOREIGN_SEEDS) & (set(deblend_foreign.FOREIGN_SEEDS) | set(hi_foreign.FOREIGN_SEEDS))
    assert BLOCK == 260 and BLOCK % (len(CLASS_NAMES) * len(SURVEYS)) == 0


def test_names_ranges_and_grid_agree_with_the_classifier():
    from astroml_core.sim.spectra import CLASSES, STAR_TEFF, loglam_grid

    assert CLASS_NAMES == CLASSES
    assert {k: tuple(map(float, v)) for k, v in STAR_TEFF.items()} == STAR_TEFF_K
    assert np.allclose(foreign.model_loglam(), loglam_grid())


def test_star_teff_inside_its_subclass_with_a_margin():
    for kind in STAR_TEFF_K:
        _, t = _truth(kind)
        lo, hi = STAR_TEFF_K[kind]
        assert teff_limits(kind)[0] >= lo + 20 and teff_limits(kind)[1] <= hi - 20
        assert np.all((t["teff"] >= lo + 20) & (t["teff"] <= hi - 20)), kind
        assert np.all(np.abs(t["rv_kms"]) <= 300)


def test_galaxy_labels_follow_bpt_and_ew_halpha():
    _, sb = _truth("GALAXY_STARBURST")
    _, sf = _truth("GALAXY_STARFORMING")
    _, agn = _truth("GALAXY_AGN")
    _, nan = _truth("GALAXY_nan")
    assert np.all(sb["ew_ha"] > 50 + 10) and np.all(sf["ew_ha"] < 50 - 10)          # SDSS STARBURST: EW(Hα) > 50 Å
    for t in (sb, sf):
        assert np.all(t["bpt_x"] < 0.05) and np.all(t["bpt_y"] <= kauffmann03(t["bpt_x"]) - 0.15 + 1e-9)
        assert np.all(t["ew_ha"] >= 3)
    assert np.all((agn["bpt_y"] >= kewley01(agn["bpt_x"]) + 0.15 - 1e-9) | (agn["bpt_x"] >= 0.47))
    assert np.all(agn["ew_ha"] >= 3)
    assert np.all(nan["ew_ha"] <= 0.4)
    for t in (sb, sf, agn):     # Hα and [N II] inside the classifier's grid and LAMOST's
        assert np.all(6585.27 * (1 + t["z"]) < 9000)


def test_emission_line_equivalent_width_is_what_the_truth_says():
    """On noiseless starbursts (where the stellar Hα absorption is ≪ the emission), Hα's flux above the continuum
    beside it, over its continuum, is the truth's EW(Hα) within 12 %."""
    spec, t = _truth("GALAXY_STARBURST")
    for k in range(4):
        lam = foreign.HR_LAM / (1 + t["z"][k])
        side = ((lam > 6490) & (lam < 6530)) | ((lam > 6600) & (lam < 6640))
        cont = np.median(spec[k][side])
        win = (lam > 6564.61 - 9) & (lam < 6564.61 + 9)
        ew = np.sum((spec[k][win] - cont) / cont * np.gradient(lam)[win])
        assert abs(ew / t["ew_ha"][k] - 1) < 0.12, (ew, t["ew_ha"][k])


def test_quasar_line_strength_separates_broadline_from_nan():
    _, bl = _truth("QSO_BROADLINE")
    _, qn = _truth("QSO_nan")
    assert np.all(bl["line_scale"] >= 0.4) and np.all(qn["line_scale"] <= 0.1)
    assert np.all((bl["fwhm_kms"] >= 1500) & (bl["fwhm_kms"] <= 9000))


def test_resampled_ivar_is_zero_outside_each_instruments_coverage():
    s = _observed()
    lam = 10 ** s.loglam
    assert s.flux.shape == (52, 3840) and np.isfinite(s.flux).all() and np.isfinite(s.ivar).all()
    for name in SURVEYS:
        inst = INSTRUMENTS[name]
        rows = s.survey == name
        outside = (lam < inst.lo) | (lam > inst.hi)
        assert np.all(s.ivar[rows][:, outside] == 0), name
        assert np.all(s.flux[rows][:, outside] == 0), name
        assert (s.ivar[rows][:, ~outside] > 0).mean() > 0.9, name
    lamost = INSTRUMENTS["LAMOST"]
    assert lamost.hi == 9000.0 and ((lam > 9000) & (lam < 9200)).sum() > 80      # LAMOST leaves the red end empty


def test_snr_is_close_to_the_asked_for_spread():
    s = _observed()
    assert np.all((s.snr_target >= 2) & (s.snr_target <= 50))
    ratio = s.snr / s.snr_target
    assert np.median(np.abs(np.log(ratio))) < np.log(1.3)
    assert set(s.label) == set(CLASS_NAMES) and set(s.survey) == set(SURVEYS)


def test_reproducible():
    a = make_spectra(["STAR_G2", "QSO_nan"], ["4MOST", "BOSS"], np.random.default_rng(3))
    b = make_spectra(["STAR_G2", "QSO_nan"], ["4MOST", "BOSS"], np.random.default_rng(3))
    assert np.array_equal(a.flux, b.flux) and np.array_equal(a.ivar, b.ivar)
