"""validate.deblend_foreign: the foreign deblending test set (issue 30) — units, headers, truth, depth,
blendedness, noise floor, independence from the training simulator, seeds, and the isolated/blended counts."""
from __future__ import annotations

import functools

import astropy.units as u
import numpy as np
from scipy.ndimage import correlate

from astroml_core.data import open_multiband
from astroml_core.validate import deblend_foreign as foreign
from astroml_core.validate.deblend_foreign import (DEPTHS_5SIGMA, FOREIGN_SEEDS, ZERO_POINT, noise_floor,
                                                   simulate_foreign_field)
from tests.core.foreign_isolation import assert_apart_from_the_simulator


@functools.lru_cache(maxsize=None)
def _field(seed: int, size: int = 128):
    return simulate_foreign_field(seed, size)


def test_units_arrays_and_headers(tmp_path):
    f = _field(FOREIGN_SEEDS[0], 64)
    n = len(f.truth)
    assert f.images.shape == (4, 64, 64) and f.images.dtype == np.float32
    assert f.isolated.shape == (n, 4, 64, 64) and f.isolated.dtype == np.float32
    assert f.bands == ("g", "r", "i", "z") and f.sigma.shape == (4,) and f.psf_fwhm_arcsec.shape == (4,)
    assert np.all((f.psf_fwhm_arcsec > 0.55) & (f.psf_fwhm_arcsec < 1.05))
    for band in f.bands:
        assert f.truth[f"flux_{band}"].unit == u.nJy
    assert {"id", "x", "y", "blendedness", "snr_r", "kind"} <= set(f.truth.colnames)
    assert f.wcs.wcs.ctype[0] == "RA---TAN" and f.wcs.wcs.ctype[1] == "DEC--TAN"
    assert np.allclose(np.abs(f.wcs.wcs.cdelt) * 3600, f.pixel_arcsec)

    hdul = f.hdulist()
    assert len(hdul) == 5
    for b, band in enumerate(f.bands):
        h = hdul[b + 1].header
        assert h["EXTNAME"] == band and h["FILTER"] == band
        assert h["BUNIT"] == "nJy" and h["MAGZERO"] == ZERO_POINT == 31.4
        assert abs(h["PSF_FWHM"] - f.psf_fwhm_arcsec[b]) < 1e-3
        assert h["CTYPE1"] == "RA---TAN" and "SKYSIG" not in h
        assert np.array_equal(hdul[b + 1].data, f.images[b])
    assert f.hdulist(noise_card=True)[2].header["SKYSIG"] == f.sigma[1]

    # through the app's own loader: bands in order, pixels already nJy (factor 1), PSF FWHM read
    path = tmp_path / "foreign.fits"
    hdul.writeto(path)
    image = open_multiband(path)
    assert image.unit == "nJy" and image.bands == f.bands
    assert np.allclose(image.flux_scale, 1.0)
    assert np.allclose(image.data, f.images)
    assert np.allclose(image.psf_fwhm_arcsec, f.psf_fwhm_arcsec, atol=1e-3)


def test_magnitude_scale_is_ab_31_4():
    assert foreign._mag_to_njy(ZERO_POINT) == 1.0
    assert abs(2.5 * np.log10(3631e9) - ZERO_POINT) < 1e-3      # 1 nJy is m_AB 31.4


def test_truth_fluxes_equal_isolated_sums_well_inside():
    checked = 0
    for seed in FOREIGN_SEEDS[:3]:
        f = _field(seed)
        t = f.truth
        r = np.asarray(t["r_half"].to_value(u.arcsec)) / f.pixel_arcsec
        margin = 5.5 * r + 3 * f.psf_fwhm_arcsec.max() / f.pixel_arcsec
        x, y = np.asarray(t["x"]), np.asarray(t["y"])
        inside = (x > margin) & (x < 127 - margin) & (y > margin) & (y < 127 - margin)
        sums = f.isolated[inside].sum(axis=(2, 3), dtype=np.float64)
        truth = np.column_stack([t[f"flux_{b}"][inside].to_value(u.nJy) for b in f.bands])
        assert np.all(np.abs(sums / truth - 1) < 0.03)
        checked += int(inside.sum())
    assert checked >= 20


def test_noise_is_sigma_and_point_source_at_depth_has_snr_5():
    """A point source of the 5σ depth, measured by PSF-weighted photometry on the noisy image (the matched filter
    over the field's noise, every object's true image removed), has S/N 5 within 10 % in every band, on an
    Airy ⊗ Kolmogorov field and on a Moffat β = 3 field."""
    seeds = [s for s in FOREIGN_SEEDS if s % 4 != 3][:1] + [s for s in FOREIGN_SEEDS if s % 4 == 3][:1]
    families = set()
    for seed in seeds:
        f = _field(seed)
        families.add(f.psf_family)
        noise = f.images.astype(np.float64) - f.isolated.sum(axis=0, dtype=np.float64)
        for b in range(4):
            assert abs(noise[b].std() / f.sigma[b] - 1) < 0.03
            p = f.psf_images[b].astype(np.float64)
            flux_hat = correlate(noise[b], p, mode="constant")[20:-20, 20:-20] / (p ** 2).sum()
            snr = 10 ** (-0.4 * (DEPTHS_5SIGMA[b] - ZERO_POINT)) / flux_hat.std()
            assert abs(snr / 5 - 1) < 0.10, (seed, b, snr)
    assert families == {"airy+kolmogorov", "moffat3"}


def test_blendedness_is_bosch_and_zero_when_alone():
    f = _field(FOREIGN_SEEDS[1])
    ri = f.isolated[:, 1].astype(np.float64) + f.isolated[:, 2]
    total = ri.sum(axis=0)
    beta = 1 - (ri ** 2).sum(axis=(1, 2)) / (ri * total).sum(axis=(1, 2))
    assert np.allclose(np.asarray(f.truth["blendedness"]), np.clip(beta, 0, 1), atol=1e-6)
    assert np.asarray(f.truth["blendedness"]).min() < 1e-3 and np.asarray(f.truth["blendedness"]).max() > 0.3
    # an object alone in the field, or beside one it does not touch, has β = 0; two on top of each other β = ½
    one = f.isolated[:1].copy()
    assert foreign.blendedness_of(one)[0] == 0.0
    apart = np.zeros((2, 4, 64, 64), np.float32)
    apart[0, :, 5:15, 5:15] = 1.0
    apart[1, :, 40:50, 40:50] = 3.0
    assert np.array_equal(foreign.blendedness_of(apart), [0.0, 0.0])
    same = np.stack([apart[0], apart[0]])
    assert np.allclose(foreign.blendedness_of(same), 0.5)


def test_noise_floor_error_scales_as_one_over_snr():
    """Fitting an isolated object's true shape, the relative flux error is 1/snr_r in r (snr_r is the optimal S/N):
    (Δf/f)·snr_r has unit scatter, and bright galaxies' floor errors are small."""
    z, bright = [], []
    for seed in FOREIGN_SEEDS[:6]:
        f = _field(seed)
        fit = noise_floor(f)
        assert fit.shape == (len(f.truth), 4)
        ref = f.isolated.sum(axis=(2, 3), dtype=np.float64)
        rel = fit[:, 1] / ref[:, 1] - 1
        snr = np.asarray(f.truth["snr_r"])
        alone = (np.asarray(f.truth["blendedness"]) <= 0.05) & (snr >= 5)
        z.append(rel[alone] * snr[alone])
        bright.append(np.abs(rel[alone & (snr >= 100)]))
    z, bright = np.concatenate(z), np.concatenate(bright)
    assert len(z) >= 40 and len(bright) >= 5
    assert 0.8 < z.std() < 1.25
    assert np.median(bright) < 0.01


def test_imports_nothing_from_the_training_simulator():
    assert_apart_from_the_simulator(foreign, "f = m.simulate_foreign_field(m.FOREIGN_SEEDS[0], 32); "
                                             "m.noise_floor(f); f.hdulist()")


def test_seeds_are_disjoint_from_training_tuning_and_held_out():
    from astroml_core.train import deblend as train

    assert FOREIGN_SEEDS == tuple(range(FOREIGN_SEEDS[0], FOREIGN_SEEDS[0] + 40))
    used = set(train.HELD_OUT_SEEDS) | set(train.TUNING_SEEDS) | set(train.PAIR_SEEDS)
    for stage in train.STAGES + (train.DOMAIN_STAGE,):
        start = train.TRAIN_SEED0 + stage.first_field
        used |= set(range(start, start + stage.n_fields))
    assert not used & set(FOREIGN_SEEDS)
    assert min(FOREIGN_SEEDS) > max(used)          # also clear of training ranges that grow upwards (50000+, 160000+)


def test_field_is_reproducible():
    a, b = simulate_foreign_field(FOREIGN_SEEDS[5], 48), simulate_foreign_field(FOREIGN_SEEDS[5], 48)
    assert np.array_equal(a.images, b.images) and len(a.truth) == len(b.truth)


def test_foreign_seeds_give_enough_isolated_and_blended_bright_galaxies():
    """Over the 40 foreign fields (128 px), at least 150 isolated (β ≤ 0.1) and 150 blended (β > 0.1) galaxies with
    snr_r ≥ 20, blended ones a third to a half of them, and every kind present."""
    n_iso = n_bl = 0
    kinds = set()
    for seed in FOREIGN_SEEDS:
        t = simulate_foreign_field(seed).truth
        bright = np.asarray(t["snr_r"]) >= 20
        blended = np.asarray(t["blendedness"]) > 0.1
        n_iso += int((bright & ~blended).sum())
        n_bl += int((bright & blended).sum())
        kinds |= set(np.asarray(t["kind"])[bright])
    assert n_iso >= 150 and n_bl >= 150, (n_iso, n_bl)
    assert 0.3 <= n_bl / (n_iso + n_bl) <= 0.55
    assert kinds == {"disc", "bulge+disc", "clumpy", "elliptical"}
