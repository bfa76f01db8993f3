"""validate.hi_foreign / hi_eval: the foreign HI test set (issue 29) — file layout, noise ACF, Hanning, flux, runner."""
from __future__ import annotations

import functools
import json
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable

from astroml_core.data import open_cube
from astroml_core.errors import AstroMLError, HeaderRepairWarning
from astroml_core.validate import hi_eval
from astroml_core.validate.hi_foreign import (FOREIGN_NOISE_SEEDS, FOREIGN_SEEDS, ForeignCubeConfig,
                                              simulate_foreign_cube, simulate_foreign_noise, write_foreign_cube)

SMALL = ForeignCubeConfig(nx=64, ny=64, n_channels=96, particles=3000)
SDC2_UNITS = {"ra": u.deg, "dec": u.deg, "hi_size": u.arcsec, "line_flux_integral": u.Jy * u.Hz,
              "central_freq": u.Hz, "pa": u.deg, "i": u.deg, "w20": u.km / u.s}


def _quiet_open(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)   # BUNIT 'JY/BEAM' is read as Jy/beam, with a note
        warnings.simplefilter("ignore", ResourceWarning)
        return open_cube(path)


def _acf_fwhm(planes: np.ndarray) -> float:
    """FWHM (px) of the mean spatial autocorrelation of the planes, along x (periodic FFT estimate)."""
    f = np.fft.rfft2(planes - planes.mean(axis=(1, 2), keepdims=True))
    acf = np.fft.irfft2((f * f.conj()).real.mean(0), s=planes.shape[1:])
    prof = acf[0, : planes.shape[2] // 2] / acf[0, 0]
    k = int(np.flatnonzero(prof < 0.5)[0])
    return 2 * (k - 1 + (prof[k - 1] - 0.5) / (prof[k - 1] - prof[k]))


@functools.cache
def _small_with_signal(seed: int):
    signal: list = []
    data, header, truth = simulate_foreign_cube(seed, SMALL, signal_out=signal)
    return data, header, truth, signal[0]


def test_seeds_stay_clear_of_training_tuning_and_held_out_ranges():
    for s in FOREIGN_SEEDS + FOREIGN_NOISE_SEEDS:
        assert s >= 70000
    assert {s % 3 for s in FOREIGN_SEEDS} == {0, 1, 2}   # the 8 cubes cover every ρ


def test_file_is_4d_with_one_stokes_plane_and_reopens_with_the_frequency_axis(tmp_path):
    path = tmp_path / "foreign.fits"
    truth = write_foreign_cube(path, FOREIGN_SEEDS[0], SMALL)
    with fits.open(path) as hdul:
        h, data = hdul[0].header, hdul[0].data
        assert h["NAXIS"] == 4 and h["NAXIS4"] == 1 and h["CTYPE4"] == "STOKES"
        assert (h["CTYPE1"], h["CTYPE2"], h["CTYPE3"]) == ("RA---SIN", "DEC--SIN", "FREQ")
        assert h["BUNIT"] == "JY/BEAM" and "RESTFREQ" in h and h["SPECSYS"] and h["BMAJ"] == h["BMIN"]
        assert data.dtype == np.dtype(">f4") and data.shape == (1, 96, 64, 64)
        assert h["FGRHO"] == truth.meta["corr_beams"]
    cube = _quiet_open(path)
    assert cube.shape == (96, 64, 64)
    expected = truth.meta["first_freq_hz"] + truth.meta["channel_hz"] * np.arange(96)
    np.testing.assert_allclose(cube.frequencies.to_value(u.Hz), expected, rtol=1e-9)
    assert cube.beam.major.to_value(u.arcsec) == pytest.approx(truth.meta["beam_px"] * SMALL.pixel_arcsec)
    assert 950e6 <= expected[0] and expected[-1] <= 1150e6   # ska-sdc scores 0.95–1.15 GHz only


@pytest.mark.parametrize("rho", [0.7, 1.5])
def test_noise_acf_fwhm_is_rho_times_the_beam(rho):
    cfg = ForeignCubeConfig(nx=64, ny=64, n_channels=96, corr_beams=rho, blanked=False)
    data, header = simulate_foreign_noise(FOREIGN_NOISE_SEEDS[0], cfg)
    want = rho * header["FGBEAMPX"]
    assert _acf_fwhm(data[0]) == pytest.approx(want, rel=0.15)


def test_hanning_correlates_adjacent_channels_by_two_thirds():
    cfg = ForeignCubeConfig(nx=64, ny=64, n_channels=96, blanked=False)
    data = simulate_foreign_noise(FOREIGN_NOISE_SEEDS[1], cfg)[0][0].astype(float)
    data /= data.std(axis=(1, 2), keepdims=True)
    r = np.mean(data[:-1] * data[1:])
    assert r == pytest.approx(2 / 3, abs=0.05)
    assert abs(np.mean(data[:-2] * data[2:]) - 1 / 6) < 0.05   # lag 2: (¼·¼)/(6/16) = 1/6


def test_noise_per_channel_is_in_range_with_loud_and_blank_channels():
    truth = _small_with_signal(FOREIGN_SEEDS[1])[2]
    data, header = simulate_foreign_noise(FOREIGN_SEEDS[1], SMALL)   # same draws, no galaxies
    rms = np.std(data[0], axis=(1, 2))
    finite = np.isfinite(rms)
    assert np.sum(~finite) == len(truth.meta["blank_channels"]) == header["FGNBLANK"] <= 2
    quiet = np.setdiff1d(np.flatnonzero(finite), truth.meta["loud_channels"])
    assert np.all((rms[quiet] > 19.9e-6) & (rms[quiet] < 40.1e-6))
    loud = np.setdiff1d(truth.meta["loud_channels"], truth.meta["blank_channels"])
    assert 1 <= len(loud) and np.all(rms[loud] > 1.4 * 19.9e-6)


def test_truth_has_sdc2_columns_units_and_snr():
    _, _, truth, _ = _small_with_signal(FOREIGN_SEEDS[0])
    assert isinstance(truth, QTable) and len(truth) >= 1
    for name, unit in SDC2_UNITS.items():
        assert truth[name].unit.is_equivalent(unit), name
    assert np.all(np.asarray(truth["snr"]) > 1.5)
    assert np.all(truth["w20"] > 0 * u.km / u.s) and np.all((truth["i"] >= 0 * u.deg) & (truth["i"] <= 90 * u.deg))
    assert set(np.asarray(truth["corr_beams"])) == {truth.meta["corr_beams"]}


@pytest.mark.parametrize("seed", FOREIGN_SEEDS[:3])
def test_truth_fluxes_equal_the_noiseless_signal_sum(seed):
    data, header, truth, signal = _small_with_signal(seed)
    beam_sigma = truth.meta["beam_px"] / np.sqrt(8 * np.log(2))
    total = signal.sum(dtype=float) * truth.meta["channel_hz"] / (2 * np.pi * beam_sigma**2)
    assert total == pytest.approx(truth["line_flux_integral"].to_value(u.Jy * u.Hz).sum(), rel=0.03)


def test_receding_side_lies_at_the_truth_pa_east_of_north():
    """SDC2's pa: the low-frequency half of each inclined disc sits at pa from the approaching half (E of N)."""
    cfg = ForeignCubeConfig(nx=128, ny=128, n_channels=256, particles=6000)
    signal: list = []
    truth = simulate_foreign_cube(FOREIGN_SEEDS[2], cfg, signal_out=signal)[2]
    cube = signal[0]
    freq = truth.meta["first_freq_hz"] + truth.meta["channel_hz"] * np.arange(cfg.n_channels)
    yy, xx = np.mgrid[:cfg.ny, :cfg.nx]
    checked = 0
    for row in truth[truth["i"] > 35 * u.deg]:
        radius = row["hi_size"].to_value(u.arcsec) / 2 / cfg.pixel_arcsec + 2 * truth.meta["beam_px"]
        near = (xx - row["x"]) ** 2 + (yy - row["y"]) ** 2 < radius**2
        fc = row["central_freq"].to_value(u.Hz)
        half = row["w20"].to_value(u.km / u.s) / 299792.458 * fc

        def centroid(sel):
            im = cube[sel].sum(0) * near
            return (im * xx).sum() / im.sum(), (im * yy).sum() / im.sum()

        (xr, yr), (xa, ya) = centroid((freq < fc) & (freq > fc - half)), centroid((freq > fc) & (freq < fc + half))
        pa = np.degrees(np.arctan2(-(xr - xa), yr - ya)) % 360   # East is −x (CDELT1 < 0)
        assert abs((pa - row["pa"].to_value(u.deg) + 180) % 360 - 180) < 10
        checked += 1
    assert checked >= 3


def test_full_size_cube_source_count_and_snr_spread():
    """One full cube: ~80–150 sources, ~40% below S/N 10 (a ~4 s simulation)."""
    _, _, truth = simulate_foreign_cube(FOREIGN_SEEDS[2])
    snr = np.asarray(truth["snr"])
    assert 80 <= len(truth) <= 150
    assert 0.25 <= np.mean(snr < 10) <= 0.55 and snr.min() >= 1.5 and snr.max() > 20


def _stub_detector(cube, method):
    """A stand-in for detect(): the truth of the cube's seed, shifted a little, plus one false source."""
    seed = int(cube.header["FGSEED"])
    if "noise-only" in cube.header["OBJECT"]:
        return QTable({"id": np.zeros(0, int), "score": np.zeros(0), "accepted": np.zeros(0, bool)})
    truth = simulate_foreign_cube(seed, SMALL)[2]
    found = QTable({k: truth[k] for k in ("id", *SDC2_UNITS, "snr")})
    found.add_row({**{k: found[k][0] for k in found.colnames}, "id": 999, "ra": found["ra"][0] + 0.02 * u.deg})
    found["score"] = np.ones(len(found))
    found["accepted"] = np.ones(len(found), bool)
    return found


def _check_summary(summary, methods):
    rec = summary["cubes"][0]
    for key in ("seed", "corr_beams", "beam_px", "channel_khz", "n_true"):
        assert key in rec
    for m in methods:
        for key in ("score", "n_det", "n_match", "purity", "completeness_snr10", "wall_s"):
            assert key in rec[m], key
        assert [row["bin"] for row in summary["pooled"][m]["by_snr"]] == ["0–5", "5–10", "10–20", "20+"]
        assert [row["corr_beams"] for row in summary["pooled"][m]["by_corr_beams"]] == [0.7, 1.0, 1.5]
    assert "| seed | ρ |" in summary["markdown"]


def test_runner_writes_json_with_the_per_cube_and_pooled_keys(tmp_path):
    summary = hi_eval.run(1, size="small", methods=("baseline",), detector=_stub_detector, folder=tmp_path)
    out = hi_eval.write_json(summary, tmp_path / "hi_foreign.json")
    loaded = json.loads(out.read_text())
    _check_summary(loaded, ("baseline",))
    rec = loaded["cubes"][0]["baseline"]
    assert rec["n_det"] == loaded["cubes"][0]["n_true"] + 1 and rec["n_match"] == loaded["cubes"][0]["n_true"]


def test_runner_noise_cubes_count_detections_per_1e8_voxels(tmp_path):
    summary = hi_eval.run(1, noise=True, size="small", methods=("baseline",), detector=_stub_detector,
                          folder=tmp_path)
    assert [r["seed"] for r in summary["noise"]] == list(FOREIGN_NOISE_SEEDS)
    assert {r["corr_beams"] for r in summary["noise"]} == {0.7, 1.0, 1.5}
    assert "per 1e8 voxels" in summary["markdown"]


def test_a_detector_refusal_is_recorded_and_the_run_goes_on(tmp_path):
    def refuse(cube, method):
        raise AstroMLError("no")

    summary = hi_eval.run(1, size="small", methods=("baseline",), detector=refuse, folder=tmp_path)
    assert summary["cubes"][0]["baseline"]["error"] == "AstroMLError: no"
    assert summary["pooled"]["baseline"]["by_snr"][0]["n_det"] == 0


def test_runner_with_the_real_baseline_on_one_small_cube(tmp_path):
    """The real reader and detect(cube, "baseline") on one 64×64×96 cube (~8 s)."""
    summary = hi_eval.run(1, size="small", methods=("baseline",), folder=tmp_path)
    loaded = json.loads(hi_eval.write_json(summary, tmp_path / "hi_foreign.json").read_text())
    _check_summary(loaded, ("baseline",))
