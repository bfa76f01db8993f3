"""The spectra simulator: SDSS grid, seeds, noise and masks, and the physics that defines each class."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.spectra import (CLASSES, MASK_BADCOLUMN, UNEXPECTED, loglam_grid, simulate_kind,
                                      simulate_spectra)
from astroml_core.sim.spectral_templates import EMISSION


def _depth(spec: np.ndarray, lam: np.ndarray, rest: float, z: np.ndarray, half_width: float = 3.0) -> np.ndarray:
    """1 − min(flux near the line) / median flux of the 40 Å around it (noiseless spectra)."""
    out = []
    for s, zz in zip(spec, z):
        c = rest * (1 + zz)
        core = np.abs(lam - c) < half_width
        side = (np.abs(lam - c) > 15) & (np.abs(lam - c) < 40)
        out.append(1 - s[core].min() / np.median(s[side]))
    return np.array(out)


def _line_flux(spec: np.ndarray, lam: np.ndarray, rest: float, z: np.ndarray) -> np.ndarray:
    """Emission above the local continuum within ±5 Å (rest) of a line, times the pixel widths."""
    dl = np.gradient(lam)
    out = []
    for s, zz in zip(spec, z):
        c = rest * (1 + zz)
        core = np.abs(lam - c) < 7 * (1 + zz)
        side = (np.abs(lam - c) > 25 * (1 + zz)) & (np.abs(lam - c) < 45 * (1 + zz))
        out.append(((s[core] - np.median(s[side])) * dl[core]).sum())
    return np.array(out)


def test_grid_is_sdss_like_and_covers_3800_to_9200_angstrom():
    lam = 10 ** loglam_grid()
    assert len(lam) == 3840
    assert lam[0] == pytest.approx(3800, abs=1) and lam[-1] == pytest.approx(9200, abs=3)
    assert np.allclose(np.diff(loglam_grid()), 1e-4)


def test_same_seed_same_spectra_and_chunks_are_independent():
    a = simulate_spectra(5, 1200)
    b = simulate_spectra(5, 1200)
    c = simulate_spectra(5, 1000)
    assert np.array_equal(a.flux, b.flux) and np.array_equal(a.label, b.label)
    assert np.array_equal(a.flux[:1000], c.flux)          # the first chunk does not depend on n
    assert not np.array_equal(simulate_spectra(6, 50).flux, a.flux[:50])


def test_all_classes_drawn_with_noise_masks_and_snr_spread():
    s = simulate_spectra(1, 2600)
    assert set(s.label) == set(CLASSES)
    assert s.flux.dtype == np.float32 and np.isfinite(s.flux).all() and np.isfinite(s.ivar).all()
    bad = s.ivar == 0
    assert bad.any() and (s.flux[bad] == 0).all() and (s.and_mask[bad] != 0).all()
    assert ((s.and_mask & MASK_BADCOLUMN) != 0).any()
    assert s.snr.min() < 3 and s.snr.max() > 30
    # measured S/N follows the asked one: median |flux| · sqrt(ivar) over valid pixels
    good = s.ivar > 0
    measured = np.array([np.median(np.abs(f[g]) * np.sqrt(i[g])) for f, i, g in zip(s.flux[:200], s.ivar[:200], good[:200])])
    assert np.corrcoef(np.log(measured), np.log(s.snr[:200]))[0, 1] > 0.9


def test_balmer_lines_peak_at_a0_and_metal_lines_grow_towards_k():
    lam = 10 ** loglam_grid()
    rng = np.random.default_rng(0)
    depth = {}
    for kind in ("STAR_A0", "STAR_G2", "STAR_K5"):
        spec, z = simulate_kind(kind, 20, loglam_grid(), rng)
        depth[kind] = (np.median(_depth(spec, lam, 4861.3, z, 4.0)), np.median(_depth(spec, lam, 5892.9, z, 5.0)))
    assert depth["STAR_A0"][0] > depth["STAR_G2"][0] > 0           # Hβ
    assert depth["STAR_K5"][1] > depth["STAR_G2"][1] > depth["STAR_A0"][1]    # Na D


def test_galaxy_classes_follow_sdss_definitions():
    """STARBURST: EW(Hα) > 50 Å; STARFORMING below the Kauffmann line; AGN above Kewley's."""
    lam = 10 ** loglam_grid()
    rng = np.random.default_rng(1)
    ew, ratios = {}, {}
    for kind in ("GALAXY_STARFORMING", "GALAXY_STARBURST", "GALAXY_AGN"):
        spec, z = simulate_kind(kind, 30, loglam_grid(), rng)
        ha = _line_flux(spec, lam, EMISSION["ha"], z)
        cont = np.array([np.median(s[np.abs(lam - 6563 * (1 + zz) - 60 * (1 + zz)) < 20]) for s, zz in zip(spec, z)])
        ew[kind] = ha / cont / (1 + z)
        nii = _line_flux(spec, lam, EMISSION["nii6584"], z)
        ratios[kind] = np.log10(nii / ha)
    assert (ew["GALAXY_STARBURST"] > 50).all() and (ew["GALAXY_STARFORMING"] < 50).all()
    assert ratios["GALAXY_AGN"].min() > ratios["GALAXY_STARFORMING"].max()


def test_quasar_lines_sit_at_their_redshift():
    lam = 10 ** loglam_grid()
    spec, z = simulate_kind("QSO_BROADLINE", 20, loglam_grid(), np.random.default_rng(2))
    for s, zz in zip(spec, z):
        line = 2798.8 * (1 + zz) if 3900 < 2798.8 * (1 + zz) < 9100 else 1549.1 * (1 + zz)
        if not 3900 < line < 9100:
            continue
        near = np.abs(lam - line) < 30
        far = (np.abs(lam - line) > 150) & (np.abs(lam - line) < 250)
        assert s[near].max() > 1.1 * np.median(s[far])


@pytest.mark.parametrize("kind", UNEXPECTED)
def test_unexpected_kinds_are_simulated_but_not_classes(kind):
    spec, _ = simulate_kind(kind, 3, loglam_grid(), np.random.default_rng(3))
    assert spec.shape == (3, 3840) and np.isfinite(spec).all()
    assert kind not in CLASSES


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown spectrum kind"):
        simulate_kind("STAR_M9", 1, loglam_grid(), np.random.default_rng(0))
