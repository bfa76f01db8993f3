"""sim.hi_noise and the HI simulator's options for training sets: default cubes unchanged, noise
correlation, Hanning, blanked channels, primary-beam σ(x, y), the rising model's flux, training cubes."""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import replace

import astropy.units as u
import numpy as np
import pytest

from astroml_core.sim.hi import HICubeConfig, simulate_hi_cube, small_config
from astroml_core.sim.hi_noise import (
    NoiseKind,
    adjacent_channel_correlation,
    hanning,
    make_noise,
    measured_acf_fwhm,
    noise_field,
    random_noise_kind,
)
from astroml_core.train.hi_data import training_cube, training_noise_cube

FWHM_TO_SIGMA = 1 / np.sqrt(8 * np.log(2))
# A noiseless field whose seeds (10, 51) hold one galaxy wholly inside (as in test_sim_hi.py).
NOISELESS = small_config(nx=96, ny=96, n_channels=192, log_mhi_min=9.8, noise_jy_950=0.0, noise_jy_1150=0.0)


def _digest(data, truth, signal) -> str:
    """sha256 (first 16 hex digits) of a cube's data, truth columns and noiseless signal."""
    h = hashlib.sha256(np.ascontiguousarray(data).tobytes())
    for name in truth.colnames:
        h.update(np.ascontiguousarray(np.asarray(truth[name])).tobytes())
    h.update(signal.tobytes())
    return h.hexdigest()[:16]


# Digests computed from the simulator before the kinematics and noise options were added (issue 29);
# bit-for-bit on this platform's numpy/scipy builds.
@pytest.mark.parametrize(("seed", "config", "digest"), [
    (9, small_config(), "2c9ebb47a603164e"),
    (4, small_config(beam_arcsec=11.2, density_factor=8.0), "c9533d537b691aa6"),
    (9, None, "98a5c0fa7ad02baa"),   # the demo cube
])
def test_default_options_give_the_cubes_the_simulator_gave_before(seed, config, digest):
    signal: list = []
    data, _, truth = simulate_hi_cube(seed, config, signal_out=signal)
    assert _digest(data, truth, signal[0]) == digest


@pytest.mark.parametrize("rho", [0.7, 1.5])
@pytest.mark.parametrize("beam_px", [2.5, 5.0])
def test_noise_acf_fwhm_is_rho_beams(rho, beam_px):
    noise = make_noise(NoiseKind(corr_beams=rho), (32, 96, 96), beam_px * FWHM_TO_SIGMA, 1.0,
                       np.random.default_rng(0))
    assert measured_acf_fwhm(noise) == pytest.approx(rho * beam_px, rel=0.15)


def test_hanning_correlates_adjacent_channels_by_two_thirds_and_lowers_sigma():
    plain = make_noise(NoiseKind(), (64, 64, 64), 1.06, 1.0, np.random.default_rng(1))
    smooth = make_noise(NoiseKind(hanning=True), (64, 64, 64), 1.06, 1.0, np.random.default_rng(1))
    assert abs(adjacent_channel_correlation(plain)) < 0.05
    assert adjacent_channel_correlation(smooth) == pytest.approx(2 / 3, abs=0.05)
    assert smooth.std() == pytest.approx(np.sqrt(0.375), rel=0.05)


@pytest.mark.parametrize("seed", [10, 51])
def test_hanning_is_applied_to_the_signal_too_and_keeps_its_flux(seed):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
        plain, smooth = [], []
        simulate_hi_cube(seed, replace(NOISELESS, noise=NoiseKind()), signal_out=plain)
        data, _, truth = simulate_hi_cube(seed, replace(NOISELESS, noise=NoiseKind(hanning=True)), signal_out=smooth)
    np.testing.assert_array_equal(smooth[0], hanning(plain[0]))
    np.testing.assert_array_equal(data, smooth[0])   # zero noise: the data is the smoothed signal
    flux = smooth[0].sum(dtype=np.float64) / NOISELESS.beam_area_px * NOISELESS.channel_width_hz
    assert flux == pytest.approx(truth["line_flux_integral"].to_value(u.Jy * u.Hz).sum(), rel=0.02)


def test_blanked_channels_are_nan_and_the_rest_finite():
    field = noise_field(NoiseKind(nan_fraction=0.03), (200, 32, 32), 1.06, 1.0, np.random.default_rng(2))
    blanked = ~np.isfinite(field.channel_sigma)
    assert blanked.sum() == 6
    assert np.isnan(field.data[blanked]).all()
    assert np.isfinite(field.data[~blanked]).all()


def test_rfi_channels_are_noisier_and_ripple_is_bounded():
    field = noise_field(NoiseKind(ripple=0.3, rfi_fraction=0.05), (200, 32, 32), 1.06, 1.0, np.random.default_rng(3))
    ratio = field.channel_sigma
    assert (ratio.min() >= 0.7 - 1e-9) and (ratio.max() <= 1.3 * 4 + 1e-9)
    assert (ratio > 1.3 * 1.5 - 1e-9).sum() >= 1   # some channel is RFI beyond the ripple
    measured = field.data.std(axis=(1, 2))
    np.testing.assert_allclose(measured, ratio, rtol=0.25)


def test_primary_beam_noise_rises_toward_the_edge_by_the_requested_factor():
    field = noise_field(NoiseKind(pb_max=2.5), (512, 48, 48), 1.06, 1.0, np.random.default_rng(4))
    spatial = field.spatial
    assert spatial.max() == pytest.approx(2.5, rel=1e-5) and spatial.min() == pytest.approx(1.0, rel=1e-5)
    hi = np.unravel_index(spatial.argmax(), spatial.shape)
    lo = np.unravel_index(spatial.argmin(), spatial.shape)
    assert 0 in hi or 47 in hi, "the noisiest pixel lies on the field's edge"
    sigma = field.data.std(axis=0)
    assert sigma[hi] / sigma[lo] == pytest.approx(2.5, rel=0.15)


def test_continuum_residuals_are_smooth_spectral_ripples_at_their_positions():
    kind = NoiseKind(n_residuals=2)
    with_res = noise_field(kind, (256, 48, 48), 1.06, 1.0, np.random.default_rng(5))
    without = noise_field(NoiseKind(), (256, 48, 48), 1.06, 1.0, np.random.default_rng(5))
    diff = with_res.data - without.data
    for x, y in with_res.residual_xy:
        spectrum = diff[:, int(round(y)), int(round(x))]
        assert 0.5 < np.abs(spectrum).max() < 6.5       # 1–6 σ at the peak, less a pixel's offset
        assert np.abs(np.diff(spectrum)).max() < 0.5 * np.abs(spectrum).max()   # smooth in frequency


@pytest.mark.parametrize("seed", [10, 51])
def test_rising_model_truth_flux_is_the_painted_flux(seed):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
        data, _, truth = simulate_hi_cube(seed, replace(NOISELESS, kinematics="rising"))
        flat, _, _ = simulate_hi_cube(seed, NOISELESS)
    assert len(truth) == 1
    flux = data.sum(dtype=np.float64) / NOISELESS.beam_area_px * NOISELESS.channel_width_hz
    assert flux == pytest.approx(truth["line_flux_integral"].to_value(u.Jy * u.Hz)[0], rel=0.03)
    assert not np.array_equal(data, flat)


def test_unknown_kinematics_is_refused():
    with pytest.raises(ValueError, match="kinematics must be one of"):
        HICubeConfig(kinematics="keplerian")


@pytest.mark.parametrize("beam_px", [2.0, 6.0])
def test_small_and_large_beams_give_a_consistent_header_and_finite_cube(beam_px):
    cfg = small_config(beam_arcsec=beam_px * 2.8, kinematics="mixed", density_factor=6.0,
                       noise=NoiseKind(corr_beams=1.0, hanning=True, pb_max=2.0, n_residuals=1))
    data, header, truth = simulate_hi_cube(3, cfg)
    assert header["BMAJ"] * 3600 / 2.8 == pytest.approx(beam_px)
    assert np.isfinite(data).all() and np.isfinite(np.asarray(truth["snr"])).all()


def test_random_noise_kinds_keep_plain_cubes_and_span_the_features():
    kinds = [random_noise_kind(np.random.default_rng(s)) for s in range(200)]
    plain = [k for k in kinds if k == NoiseKind(corr_beams=k.corr_beams)]
    assert 0.1 < len(plain) / len(kinds) < 0.5
    assert all(0.7 <= k.corr_beams <= 1.5 and 1 <= k.pb_max <= 3 for k in kinds)
    assert any(k.hanning for k in kinds) and any(k.nan_fraction for k in kinds) and any(k.n_residuals for k in kinds)


def test_training_cube_gives_finite_float32_input_and_a_non_empty_target():
    norm, target = training_cube(20003, 128, 64, 64, density_factor=12.0, mask_sigma=0.3)
    assert norm.dtype == np.float32 and norm.shape == target.shape == (128, 64, 64)
    assert target.dtype == bool and target.any()
    assert np.isfinite(norm).all()
    noise = training_noise_cube(7, (64, 48, 48))
    assert noise.dtype == np.float32 and np.isfinite(noise).all() and 0.8 < noise.std() < 1.3
