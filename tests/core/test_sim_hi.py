"""sim.hi: seeded SDC2-style HI cubes — determinism, truth catalogue, header, noise, flux, PA and w20 conventions."""
from __future__ import annotations

import functools
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable
from astropy.wcs import WCS

from astroml_core.data import open_cube
from astroml_core.sim.hi import DEMO_SEED, HICubeConfig, simulate_hi_cube, small_config, write_hi_cube

HI_REST_HZ = 1.42040575177e9
C_KMS = 299792.458
SDC2_UNITS = {"ra": u.deg, "dec": u.deg, "hi_size": u.arcsec, "line_flux_integral": u.Jy * u.Hz,
              "central_freq": u.Hz, "pa": u.deg, "i": u.deg, "w20": u.km / u.s}
SDC2_COLUMNS = ["id", *SDC2_UNITS]

# A noiseless 96×96×192 field with a raised mass floor: a few fields hold one big, resolved galaxy.
NOISELESS = small_config(nx=96, ny=96, n_channels=192, log_mhi_min=9.8, noise_jy_950=0.0, noise_jy_1150=0.0)
# Seeds whose single galaxy lies wholly inside NOISELESS (i = 65°, 65°, 78°, 42°; PA = 344°, 177°, 124°, 7°).
INSIDE_SEEDS = (10, 51, 134, 280)
# A seed whose galaxy sits at the low-frequency edge of the band (channel ~4), so part of it is cut off.
EDGE_SEED = 4


def expected_sigma(freq_hz: np.ndarray) -> np.ndarray:
    """SDC2's per-channel noise (Jy/beam): 26.6 µJy at 950 MHz to 30.1 µJy at 1150 MHz, linear between."""
    return 26.6e-6 + (np.asarray(freq_hz) - 950e6) / 200e6 * (30.1e-6 - 26.6e-6)


@functools.cache
def noiseless(seed: int):
    """simulate_hi_cube(seed, NOISELESS); zero noise makes the integrated S/N infinite (1/0 warning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
        return simulate_hi_cube(seed, NOISELESS)


def source_pixels(header, truth: QTable) -> tuple[np.ndarray, np.ndarray]:
    """0-based (x, y) pixel positions of the truth sources."""
    return WCS(header).celestial.world_to_pixel_values(truth["ra"].to_value(u.deg), truth["dec"].to_value(u.deg))


def wholly_inside(cfg, header, truth: QTable) -> np.ndarray:
    """Whether each source's disc (≤ 1.5 hi_size radius), beam and line wings lie inside the cube."""
    x, y = source_pixels(header, truth)
    margin = 1.5 * truth["hi_size"].to_value(u.arcsec) / cfg.pixel_arcsec + 4 * cfg.beam_sigma_px + 3
    nu = truth["central_freq"].to_value(u.Hz)
    chan = (nu - cfg.first_freq_hz) / cfg.channel_width_hz
    half_chans = (truth["w20"].to_value(u.km / u.s) / 2 + 60) / C_KMS * nu / cfg.channel_width_hz
    return ((x > margin) & (x < cfg.nx - 1 - margin) & (y > margin) & (y < cfg.ny - 1 - margin)
            & (chan > half_chans) & (chan < cfg.n_channels - 1 - half_chans))


@pytest.fixture(scope="module")
def demo():
    """The full-size demo field (256×256×512, ~2 s)."""
    return simulate_hi_cube(DEMO_SEED)


# --- determinism -----------------------------------------------------------------------------------
def test_same_seed_gives_identical_data_header_and_truth():
    data1, header1, truth1 = simulate_hi_cube(9, small_config())
    data2, header2, truth2 = simulate_hi_cube(9, small_config())
    assert len(truth1) >= 1, "seed 9's small field should hold a source, so the truth comparison means something"
    np.testing.assert_array_equal(data1, data2)
    assert header1 == header2
    assert truth1.colnames == truth2.colnames
    for name in truth1.colnames:
        np.testing.assert_array_equal(np.asarray(truth1[name]), np.asarray(truth2[name]), err_msg=name)


def test_different_seeds_give_different_cubes():
    data1, _, _ = simulate_hi_cube(0, small_config())
    data2, _, _ = simulate_hi_cube(1, small_config())
    assert data1.shape == data2.shape == (96, 64, 64)
    assert np.mean(data1 != data2) > 0.99


# --- truth catalogue ---------------------------------------------------------------------------------
def test_truth_table_has_sdc2_columns_with_units(demo):
    _, _, truth = demo
    assert truth.colnames[:len(SDC2_COLUMNS)] == SDC2_COLUMNS
    assert {"snr", "z", "log_mhi"} <= set(truth.colnames)
    for name, unit in SDC2_UNITS.items():
        assert truth[name].unit == unit, name
    np.testing.assert_array_equal(truth["id"], np.arange(len(truth)))
    assert np.all((truth["pa"] >= 0 * u.deg) & (truth["pa"] < 360 * u.deg))
    assert np.all((truth["i"] >= 0 * u.deg) & (truth["i"] <= 90 * u.deg))
    for name in ("hi_size", "line_flux_integral", "w20"):
        assert np.all(truth[name].value > 0), name


def test_central_freq_is_in_the_band_and_equals_rest_frequency_over_one_plus_z(demo):
    _, _, truth = demo
    freqs = HICubeConfig().frequencies_hz
    nu = truth["central_freq"].to_value(u.Hz)
    assert len(truth) > 5
    assert np.all((nu >= freqs[0] - 15e3) & (nu <= freqs[-1] + 15e3))
    np.testing.assert_allclose(nu, HI_REST_HZ / (1 + np.asarray(truth["z"])), rtol=1e-12)


def test_demo_field_has_at_least_four_sources_above_snr_10(demo):
    _, _, truth = demo
    assert np.sum(np.asarray(truth["snr"]) > 10) >= 4


# --- header ------------------------------------------------------------------------------------------
def test_written_cube_opens_with_sdc2_beam_pixels_projection_and_channels(tmp_path):
    cfg = small_config()
    truth = write_hi_cube(tmp_path / "hi.fits", 9, tmp_path / "hi.ecsv", cfg)
    cube = open_cube(tmp_path / "hi.fits")
    assert cube.shape == (96, 64, 64)
    assert cube.unit == u.Jy / u.beam
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(7.0)
    assert cube.beam.minor.to_value(u.arcsec) == pytest.approx(7.0)
    assert cube.pixel_scale.to_value(u.arcsec) == pytest.approx(2.8)
    assert cube.header["CTYPE1"] == "RA---SIN" and cube.header["CTYPE2"] == "DEC--SIN"
    assert cube.header["CDELT1"] < 0 < cube.header["CDELT2"]
    f = cube.frequencies.to_value(u.Hz)
    np.testing.assert_allclose(np.diff(f), 30e3, rtol=1e-9)
    assert f[0] == pytest.approx(cfg.first_freq_hz)
    assert cube.header["SIMSEED"] == 9
    data, _, _ = simulate_hi_cube(9, cfg)
    np.testing.assert_array_equal(cube.channel(40), data[40])
    saved = QTable.read(tmp_path / "hi.ecsv")
    assert saved.colnames == truth.colnames
    np.testing.assert_allclose(saved["central_freq"].to_value(u.Hz), truth["central_freq"].to_value(u.Hz))


# --- noise -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("first_freq_hz", [950e6, 1134.5e6])
def test_empty_field_noise_has_sdc2_rms_per_channel(first_freq_hz):
    cfg = small_config(log_mhi_min=11.5, first_freq_hz=first_freq_hz)
    data, _, truth = simulate_hi_cube(5, cfg)
    assert len(truth) == 0
    sigma = expected_sigma(cfg.frequencies_hz)
    per_channel = data.astype(np.float64).std(axis=(1, 2))
    np.testing.assert_allclose(per_channel, sigma, rtol=0.10)
    # the cube-wide rms pins the interpolation (26.6 vs 30.1 µJy differ by 13%)
    assert np.sqrt(np.mean(data.astype(np.float64) ** 2)) == pytest.approx(np.sqrt(np.mean(sigma**2)), rel=0.01)


def _lag_correlation(data: np.ndarray, lag: int, axis: int) -> float:
    n = data.shape[axis]
    a = np.take(data, np.arange(n - lag), axis=axis).astype(np.float64).ravel()
    b = np.take(data, np.arange(lag, n), axis=axis).astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("axis", [1, 2], ids=["y", "x"])
def test_noise_is_correlated_over_the_beam_and_not_beyond(axis):
    data, _, truth = simulate_hi_cube(5, small_config(log_mhi_min=11.5))
    assert len(truth) == 0
    assert _lag_correlation(data, 1, axis) > 0.5
    assert abs(_lag_correlation(data, 10, axis)) < 0.1


def test_noise_is_independent_between_channels():
    data, _, _ = simulate_hi_cube(5, small_config(log_mhi_min=11.5))
    assert abs(_lag_correlation(data, 1, 0)) < 0.1


def test_mass_floor_above_the_himf_range_gives_an_empty_field():
    data, _, truth = simulate_hi_cube(1, small_config(log_mhi_min=12.5))
    assert len(truth) == 0
    assert np.all(np.isfinite(data))


# --- flux, position, frequency and width of the painted galaxies -------------------------------------
@pytest.mark.parametrize("seed", INSIDE_SEEDS)
def test_noiseless_cube_conserves_line_flux_of_sources_inside(seed):
    data, header, truth = noiseless(seed)
    assert len(truth) >= 1 and np.all(wholly_inside(NOISELESS, header, truth))
    flux = data.sum(dtype=np.float64) / NOISELESS.beam_area_px * NOISELESS.channel_width_hz
    assert flux == pytest.approx(truth["line_flux_integral"].to_value(u.Jy * u.Hz).sum(), rel=0.02)


def test_source_cut_by_the_band_edge_keeps_only_its_in_band_flux():
    data, header, truth = noiseless(EDGE_SEED)
    assert len(truth) == 1 and not wholly_inside(NOISELESS, header, truth)[0]
    flux = data.sum(dtype=np.float64) / NOISELESS.beam_area_px * NOISELESS.channel_width_hz
    ratio = flux / truth["line_flux_integral"].to_value(u.Jy * u.Hz)[0]
    assert 0.3 < ratio < 0.95   # clipped, not wrapped round to the other end of the cube
    assert np.all(data[-20:] == 0)


@pytest.mark.parametrize("seed", INSIDE_SEEDS)
def test_truth_position_is_the_flux_centroid_of_the_source(seed):
    data, header, truth = noiseless(seed)
    mom0 = data.sum(axis=0, dtype=np.float64)
    yy, xx = np.indices(mom0.shape)
    cx, cy = (mom0 * xx).sum() / mom0.sum(), (mom0 * yy).sum() / mom0.sum()
    x, y = source_pixels(header, truth)
    assert np.hypot(cx - x[0], cy - y[0]) < 0.5


@pytest.mark.parametrize("seed", INSIDE_SEEDS)
def test_central_freq_is_the_flux_weighted_mean_frequency(seed):
    data, _, truth = noiseless(seed)
    spectrum = data.sum(axis=(1, 2), dtype=np.float64)
    mean_freq = (spectrum * NOISELESS.frequencies_hz).sum() / spectrum.sum()
    assert abs(mean_freq - truth["central_freq"].to_value(u.Hz)[0]) < NOISELESS.channel_width_hz


@pytest.mark.parametrize("seed", INSIDE_SEEDS)
def test_receding_half_lies_at_pa_east_of_north(seed):
    # receding gas is redshifted: lower frequency = lower channel index (CDELT3 > 0);
    # East is −x (CDELT1 < 0), North is +y.
    data, _, truth = noiseless(seed)
    centre = int(round((truth["central_freq"].to_value(u.Hz)[0] - NOISELESS.first_freq_hz)
                       / NOISELESS.channel_width_hz))
    yy, xx = np.indices(data.shape[1:])

    def centroid(block):
        m = block.sum(axis=0, dtype=np.float64)
        return (m * xx).sum() / m.sum(), (m * yy).sum() / m.sum()

    (lx, ly), (hx, hy) = centroid(data[:centre]), centroid(data[centre + 1:])
    east, north = -(lx - hx), ly - hy
    assert np.hypot(east, north) > 0.5   # the halves are clearly separated
    angle = np.degrees(np.arctan2(east, north)) % 360
    diff = (angle - truth["pa"].to_value(u.deg)[0] + 180) % 360 - 180
    assert abs(diff) < 10


@pytest.mark.parametrize("seed", INSIDE_SEEDS)
def test_w20_is_the_observed_frame_width_at_20_percent_of_the_peak(seed):
    data, _, truth = noiseless(seed)
    spectrum = data.sum(axis=(1, 2), dtype=np.float64)
    above = np.flatnonzero(spectrum >= 0.2 * spectrum.max())
    width_hz = (above[-1] - above[0] + 1) * NOISELESS.channel_width_hz
    nu, z = truth["central_freq"].to_value(u.Hz)[0], float(truth["z"][0])
    km_s_per_channel = NOISELESS.channel_width_hz / nu * C_KMS * (1 + z)
    measured = width_hz / nu * C_KMS * (1 + z)   # Δv_obs = (1 + z) c Δν / ν
    assert measured == pytest.approx(truth["w20"].to_value(u.km / u.s)[0], abs=2 * km_s_per_channel)
