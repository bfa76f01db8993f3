"""Randomised observing domains for the spectra classifier (issue 31): the default simulator is untouched, and
each randomisation does what it says while the classes' defining quantities stay in their ranges."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from astroml_core.sim import spectra_domains as sd
from astroml_core.sim.spectra import CLASSES, DLOGLAM, GALAXY_PARAMS, STAR_TEFF, loglam_grid, simulate_spectra
from astroml_core.sim.spectral_templates import C_KMS

# sha256 of simulate_spectra(3000, 1300) made by the simulator before the domains existed (commit a0799e5)
DEFAULT_DIGEST = "4aae91259e944a3a3d6cb851651413c5ee640e39e287171acb9c3acf8770cb7b"


# sha256 of simulate_domain(13 classes × 20, seed 11) before dust and wider [Fe/H] existed (commit 7410053)
DOMAIN_DIGEST = "9117675f3f4a7c9ea5ccacd1d1f31c359157216f6a06b3db8999e05e69ec07dd"


def _digest(s) -> str:
    h = hashlib.sha256()
    for a in (s.flux, s.ivar, s.and_mask, s.z, s.snr):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update("".join(s.label).encode())
    return h.hexdigest()


def test_default_simulator_output_is_bit_identical_to_before_the_domains():
    assert _digest(simulate_spectra(3000, 1300)) == DEFAULT_DIGEST
    assert _digest(simulate_spectra(3000, 1300, domains=0.0)) == DEFAULT_DIGEST


def test_domains_without_dust_are_bit_identical_to_those_the_shipped_model_was_trained_on():
    assert sd.TRAINING_DOMAIN["dust_and_metals"] is False
    out = sd.simulate_domain(np.repeat(np.array(CLASSES), 20), loglam_grid(), np.random.default_rng(11))
    h = hashlib.sha256()
    for a in out:
        h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest() == DOMAIN_DIGEST


@pytest.fixture(scope="module")
def randomised():
    return simulate_spectra(74_500, 1300, domains=1.0)


def test_randomised_spectra_are_finite_labelled_and_keep_at_least_30_percent_of_the_grid(randomised):
    s = randomised
    assert set(s.label) == set(CLASSES) and np.isfinite(s.flux).all() and np.isfinite(s.ivar).all()
    assert (s.ivar > 0).mean(axis=1).min() >= 0.3
    nodata = (s.and_mask & sd.MASK_NODATA) != 0
    assert nodata.any(axis=1).mean() > 0.3                       # many spectra are cut at an end
    assert (s.ivar[nodata] == 0).all() and (s.flux[nodata] == 0).all()


def test_coverage_cut_leaves_ivar_zero_outside_one_contiguous_range(randomised):
    nodata = (randomised.and_mask & sd.MASK_NODATA) != 0
    for row in nodata[nodata.any(axis=1)][:200]:
        inside = np.flatnonzero(~row)
        assert inside.size >= 0.35 * row.size - 1
        assert np.all(np.diff(inside) == 1)                     # cut at the ends only
        assert row[0] or row[-1]


def test_survey_ranges_cut_where_the_instruments_stop():
    loglam = loglam_grid()
    lo, hi = sd.SURVEY_RANGES["LAMOST"]
    inside = sd.coverage_cut(loglam, np.array([lo]), np.array([hi]))[0]
    lam = 10 ** loglam
    assert inside[lam < 9000].all() and not inside[lam > 9000].any()
    assert sd.coverage_cut(loglam, *map(np.array, zip(sd.SURVEY_RANGES["BOSS"])))[0].all()


def test_line_spread_function_lowers_the_depth_of_a_narrow_line_more_at_low_resolution():
    loglam = loglam_grid()
    spec = np.ones((3, loglam.size))
    px = np.arange(loglam.size)
    spec[:] -= 0.8 * np.exp(-0.5 * ((px - 1900) / 0.7) ** 2)
    out = sd.apply_lsf(spec, np.array([1500.0, 2000.0, 5000.0]), DLOGLAM)
    depth = 1 - out[:, 1900]
    assert depth[0] < depth[1] < depth[2] < 0.8
    assert depth[0] < 0.5
    np.testing.assert_allclose(out.sum(axis=1), spec.sum(axis=1), rtol=1e-6)     # flux conserved
    np.testing.assert_allclose(out[:, :200], 1.0, atol=1e-9)                     # no edge step


def test_flux_tilt_is_smooth_and_bounded_by_its_excursion():
    loglam = loglam_grid()
    exc = np.array([0.05, 0.2, 0.3, 0.0])
    tilt = sd.flux_tilt(loglam, exc, np.random.default_rng(1))
    np.testing.assert_allclose(np.abs(tilt - 1).max(axis=1), exc, atol=1e-12)
    assert (tilt > 0.69).all() and (tilt < 1.31).all()
    assert np.abs(np.diff(tilt, 2, axis=1)).max() < 1e-5                         # smooth: no pixel-scale wiggle


def test_telluric_bands_absorb_only_where_the_atmosphere_does():
    loglam = loglam_grid()
    lam = 10 ** loglam
    t = sd.telluric_transmission(loglam, np.array([0.7, 0.0]), np.array([0.3, 0.0]), np.array([0.3, 0.0]))
    assert t[1].min() == 1.0                                                     # fully corrected
    assert t[0][(lam > 7595) & (lam < 7620)].min() < 0.5                          # O₂ A band
    assert t[0][(lam > 4000) & (lam < 6800)].min() > 0.999                       # nothing in the blue


def test_second_stellar_family_keeps_teff_in_its_class_range_and_varies_logg_and_metallicity(monkeypatch):
    seen = []
    real = sd.star_grid
    outputs = []
    monkeypatch.setattr(sd, "star_grid", lambda loglam, teff, logg, feh, z: seen.append((teff, logg, feh, z))
                        or outputs.append(real(loglam, teff, logg, feh, z)) or outputs[-1])
    rng = np.random.default_rng(5)
    for kind, (lo, hi) in STAR_TEFF.items():
        spec, z = sd._stars(kind, 200, loglam_grid(), rng)
        teff, logg, feh, zz = seen[-1]
        assert lo <= teff.min() and teff.max() <= hi, kind
        assert np.isfinite(spec).all() and (outputs[-1] > 0).all()
        assert np.abs(z * C_KMS).max() <= 500 and np.abs(z * C_KMS).max() > 300     # wider than the default ±300
    logg = np.concatenate([s[1] for s in seen])
    feh = np.concatenate([s[2] for s in seen])
    assert 3.5 <= logg.min() and logg.max() <= 5.0 and np.ptp(logg) > 1.2
    assert -2.0 <= feh.min() and feh.max() <= 0.5 and np.ptp(feh) > 2.0


def test_second_stellar_family_metal_lines_grow_with_metallicity():
    loglam = loglam_grid()
    lam = 10 ** loglam
    n = 2
    spec = sd.star_grid(loglam, np.full(n, 4400.0), np.full(n, 4.5), np.array([-2.0, 0.3]), np.zeros(n))
    mgb = (lam > 5160) & (lam < 5190)
    side = (lam > 5200) & (lam < 5230)
    depth = 1 - spec[:, mgb].min(axis=1) / np.median(spec[:, side], axis=1)
    assert depth[1] > depth[0] + 0.1


def test_ccm89_law_matches_cardelli_clayton_mathis_values_at_r_v_3_1():
    # CCM89 with R_V = 3.1: A_λ/A_V = 1 near V (5,500 Å), 1.32 at B (4,400 Å), 0.40 at 1 μm, the 2,175 Å bump ~3.2
    a = sd.ccm89(np.array([5500.0, 4400.0, 10000.0, 2175.0, 3000.0]))
    np.testing.assert_allclose(a[:3], [1.0, 1.32, 0.404], atol=0.01)
    assert 3.0 < a[3] < 3.4 and a[4] < a[3]          # the bump stands above the near-UV rise beside it
    assert np.all(np.diff(sd.ccm89(np.linspace(3300.0, 9500.0, 200))) < 0)   # optical: bluer is dimmer


def test_reddened_stars_are_redder_but_keep_their_lines(monkeypatch):
    loglam = loglam_grid()
    lam = 10 ** loglam
    monkeypatch.setitem(sd.TRAINING_DOMAIN, "dust_and_metals", True)
    monkeypatch.setitem(sd.DUST_AND_METALS, "star_ebv", (0.0, 0.0))
    clean, _ = sd._stars("STAR_F5", 50, loglam, np.random.default_rng(7))
    monkeypatch.setitem(sd.DUST_AND_METALS, "star_ebv", (0.5, 0.6))
    dusty, _ = sd._stars("STAR_F5", 50, loglam, np.random.default_rng(7))
    blue, red = (lam > 4400) & (lam < 4500), (lam > 8000) & (lam < 8100)
    colour = lambda s: s[:, blue].mean(axis=1) / s[:, red].mean(axis=1)  # noqa: E731
    # E(B−V) 0.5–0.6 (A_V = 3.1 E(B−V)) dims 4,450 Å against 8,050 Å by 10^(−0.4 A_V (A_4450 − A_8050)/A_V)
    d = np.diff(sd.ccm89(np.array([8050.0, 4450.0])))[0]
    lo, hi = 10 ** (-0.4 * 3.1 * 0.6 * d), 10 ** (-0.4 * 3.1 * 0.5 * d)
    assert lo - 0.01 < colour(dusty / clean).min() and colour(dusty / clean).max() < hi + 0.01
    ratio = dusty / clean                                     # smooth: lines neither deepen nor vanish
    assert np.abs(np.diff(np.log(ratio), axis=1)).max() < 1e-3


def test_galaxy_dust_is_applied_in_the_rest_frame():
    loglam = loglam_grid()
    spec = np.ones((2, loglam.size))
    out = sd.redden(spec, loglam, np.array([1.0, 1.0]), np.array([0.0, 0.5]))
    lam = 10 ** loglam
    np.testing.assert_allclose(out[1, np.argmin(np.abs(lam - 1.5 * 4400))], 10 ** (-0.4 * 1.32), rtol=0.01)
    np.testing.assert_allclose(out[0, np.argmin(np.abs(lam - 5500))], 10 ** -0.4, rtol=0.01)


def _ew_halpha(spec, loglam, z):
    lam = 10 ** loglam
    out = []
    for row, zz in zip(spec, z):
        rest = lam / (1 + zz)
        cont = row[(rest > 6600) & (rest < 6640)].mean()
        win = (rest > 6555) & (rest < 6571)
        out.append(((row[win] - cont) * np.gradient(rest)[win]).sum() / cont)
    return np.array(out)


def test_composite_galaxies_keep_starbursts_above_and_star_forming_below_50_angstrom(monkeypatch):
    monkeypatch.setitem(sd.TRAINING_DOMAIN, "composite_share", 1.0)
    loglam = loglam_grid()
    rng = np.random.default_rng(9)
    sb, z_sb = sd._galaxies("GALAXY_STARBURST", 150, loglam, rng)
    sf, z_sf = sd._galaxies("GALAXY_STARFORMING", 150, loglam, rng)
    assert _ew_halpha(sb, loglam, z_sb).min() > 50
    assert _ew_halpha(sf, loglam, z_sf).max() < 50
    assert z_sb.max() <= 0.36 and z_sf.max() <= 0.36


def test_galaxies_without_subclass_reach_beyond_the_default_redshifts():
    rng = np.random.default_rng(2)
    _, z = sd._galaxies("GALAXY_nan", 300, loglam_grid(), rng)
    lo, hi = sd.TRAINING_DOMAIN["galaxy_z"]["no_subclass"]
    assert z.min() >= lo and z.max() <= hi and z.max() > 0.45
    assert set(GALAXY_PARAMS) == {"GALAXY_nan", "GALAXY_STARFORMING", "GALAXY_STARBURST", "GALAXY_AGN"}


def test_second_noise_model_has_another_wavelength_dependence():
    loglam = loglam_grid()
    clean = np.ones((2, loglam.size)) * 10.0
    sigma, _ = sd._noise_sigma(clean, loglam, np.full(2, 10.0), np.full(2, 10.0), np.array([0, 1]),
                               np.random.default_rng(3))
    rel = sigma / np.median(sigma, axis=1, keepdims=True)
    assert np.abs(rel[0] - rel[1]).max() > 0.3
    np.testing.assert_allclose(np.median(sigma, axis=1), 1.0)
