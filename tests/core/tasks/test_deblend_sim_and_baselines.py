"""The blend simulator (GalSim), the sep / photutils baselines and the deblending metrics."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable
from regions import Regions

from astroml_core.cli import main
from astroml_core.metrics.deblend import iou, match_sources, missed_neighbours, score_deblend, truth_segmentation
from astroml_core.sim.blends import BlendConfig, blendedness, simulate_blends
from astroml_core.tasks.deblend.classic import THRESH, photutils_deblend, sep_deblend


def test_simulated_field_is_seeded_and_its_truth_adds_up():
    a, b = simulate_blends(5), simulate_blends(5)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, simulate_blends(6).images)
    assert a.images.shape == (4, 64, 64) and a.isolated.shape[1:] == (4, 64, 64)
    assert 2 <= len(a.truth) <= 6
    # each isolated image holds its galaxy's whole flux (the stamp is large enough)
    for band in a.config.bands:
        drawn = a.isolated[:, a.config.bands.index(band)].sum(axis=(1, 2))
        assert np.allclose(drawn, a.truth[f"flux_{band}"], rtol=0.02)
    noise = (a.images - a.noiseless).std(axis=(1, 2))
    assert np.allclose(noise, a.config.sky_sigma, rtol=0.1)
    # both components have g − i > 0 (red bulges, blue but not UV discs)
    assert (a.truth["mag_g"] > a.truth["mag_i"]).all()


def test_blendedness_is_zero_alone_and_grows_with_overlap():
    yy, xx = np.mgrid[:40, :40]
    blob = lambda x0: np.exp(-((xx - x0) ** 2 + (yy - 20) ** 2) / 8.0)
    far, near = np.stack([blob(8), blob(32)]), np.stack([blob(18), blob(22)])
    assert blendedness(far) == pytest.approx([0, 0], abs=1e-3)
    assert blendedness(near) == pytest.approx(1 - 1 / (1 + np.exp(-1)), abs=1e-3)   # Gaussians 2σ apart
    spread = np.concatenate([simulate_blends(s).truth["blendedness"] for s in range(30)])
    assert spread.min() < 0.05 and spread.max() > 0.6        # the simulator spans isolated to heavily blended


def test_cli_writes_one_hdu_per_band_with_wcs_and_truth(tmp_path):
    out, truth = tmp_path / "field.fits", tmp_path / "truth.ecsv"
    assert main(["sim", "blends", "--seed", "3", "-o", str(out), "--truth", str(truth)]) == 0
    with fits.open(out) as hdul:
        assert [h.name.lower() for h in hdul[1:]] == ["g", "r", "i", "z"]
        assert hdul["R"].header["CTYPE1"] == "RA---TAN" and hdul["R"].data.shape == (64, 64)
        assert hdul["I"].header["PSF_FWHM"] == pytest.approx(0.75)
    table = QTable.read(truth)
    assert {"ra", "dec", "flux_g", "flux_z", "blendedness"} <= set(table.colnames)


@pytest.mark.parametrize("finder", [sep_deblend, photutils_deblend])
def test_baselines_find_isolated_galaxies_and_measure_their_flux(finder):
    cfg = BlendConfig(nx=96, ny=96, n_groups=1, group_size=(1, 1), mag_range=(20.0, 20.5))
    errors = []
    for seed in range(4):
        field = simulate_blends(seed, cfg)
        cat, seg = finder(field.images, cfg.bands, field.wcs, np.array(cfg.sky_sigma))
        matches = match_sources(field.truth, cat)
        assert len(cat) == 1 and matches == {0: 0}
        assert seg.max() == 1 and seg[int(round(cat["y"][0])), int(round(cat["x"][0]))] == 1
        errors += [float(cat[f"flux_{b}"][0] / field.truth[f"flux_{b}"][0]) - 1 for b in ("r", "i")]
        # the quoted error is the sky noise in one aperture for every band: it scales as the band's σ
        quoted = np.array([cat[f"flux_err_{b}"][0] for b in cfg.bands])
        assert quoted.min() > 0 and quoted / quoted[1] == pytest.approx(np.array(cfg.sky_sigma) / cfg.sky_sigma[1], rel=1e-3)
    assert np.median(np.abs(errors)) < 0.1                     # Kron apertures catch ~all of a bright galaxy


def test_scores_count_matches_iou_and_flux_errors():
    truth = QTable(dict(x=[10.0, 30.0], y=[10.0, 10.0], flux_r=[100.0, 50.0], blendedness=[0.05, 0.4]))
    found = QTable(dict(x=[30.5, 10.2, 50.0], y=[10.0, 9.8, 50.0], flux_r=[55.0, 90.0, 5.0]))
    assert match_sources(truth, found) == {0: 1, 1: 0}
    tseg = np.zeros((20, 40), np.int32)
    tseg[5:15, 5:15], tseg[5:15, 25:35] = 1, 2
    seg = np.zeros_like(tseg)
    seg[5:15, 5:15], seg[5:15, 25:30] = 2, 1                    # found 1 covers half of truth 2
    assert iou(seg, 1, tseg, 2) == pytest.approx(0.5)
    score = score_deblend(truth, found, seg, tseg, ["r"])
    assert score.found.all()
    assert score.rel_err["r"] == pytest.approx([-0.1, 0.1])
    assert score.iou == pytest.approx([1.0, 0.5])
    blended = score.summary(0.1)
    assert blended["mape"] == pytest.approx(0.1) and blended["mean_iou"] == pytest.approx(0.5)


def test_missed_neighbours_flags_the_galaxies_beside_a_missed_selected_one():
    # 0 and 1 a close pair of which only 0 is found; 2 far off and found; 3 missed but not selected (too faint)
    truth = QTable(dict(x=[10.0, 12.0, 40.0, 44.0], y=[10.0, 10.0, 10.0, 10.0]))
    found = QTable(dict(x=[10.3, 40.0], y=[10.0, 10.0]))
    select = np.array([True, True, True, False])
    beside, nearest = missed_neighbours(truth, found, select, radius_px=5.0)
    assert beside.tolist() == [True, False, False]      # the missed one is not beside itself; 3 does not count
    assert nearest == pytest.approx([2.0])
    beside, nearest = missed_neighbours(truth, truth, select, radius_px=5.0)
    assert not beside.any() and nearest.size == 0
    beside, _ = missed_neighbours(truth[:1], found[:0], select[:1], radius_px=5.0)
    assert beside.tolist() == [False]


def test_segment_ellipses_recover_a_rotated_ellipse_and_skip_an_empty_segment():
    from astroml_core.tasks.deblend.export import segment_ellipses

    yy, xx = np.mgrid[:80, :80].astype(float)
    t = np.radians(30)
    u, v = (xx - 40.2) * np.cos(t) + (yy - 35.7) * np.sin(t), -(xx - 40.2) * np.sin(t) + (yy - 35.7) * np.cos(t)
    seg = ((u / 20) ** 2 + (v / 8) ** 2 <= 1).astype(np.int32)
    (x, y, a, b, angle), empty = segment_ellipses(seg, 2)
    assert (x, y) == pytest.approx((40.2, 35.7), abs=0.1)
    assert a == pytest.approx(20, rel=0.03) and b == pytest.approx(8, rel=0.05) and angle == pytest.approx(30, abs=1)
    assert np.isnan(empty).all()


def test_truth_segmentation_gives_each_pixel_to_the_brightest_galaxy():
    stamps = np.zeros((2, 5, 5))
    stamps[0, :, :3], stamps[1, :, 2:] = 2.0, 3.0
    seg = truth_segmentation(stamps, THRESH)
    assert (seg[:, :2] == 1).all() and (seg[:, 2:] == 2).all()


def test_open_multiband_reads_bands_a_band_cube_and_a_single_image(tmp_path):
    from astroml_core.data import open_multiband

    path = tmp_path / "field.fits"
    main(["sim", "blends", "--seed", "3", "-o", str(path)])
    img = open_multiband(path)
    assert img.bands == ("g", "r", "i", "z") and img.data.shape == (4, 64, 64)
    assert img.pixel_arcsec == pytest.approx(0.2) and img.psf_fwhm_arcsec[1] == pytest.approx(0.80)
    with fits.open(path) as hdul:
        cube = np.stack([h.data for h in hdul[1:]])
        fits.PrimaryHDU(cube, header=hdul[1].header).writeto(tmp_path / "cube.fits")
        fits.PrimaryHDU(hdul[2].data).writeto(tmp_path / "single.fits")
    assert open_multiband(tmp_path / "cube.fits").data.shape == (4, 64, 64)
    with pytest.warns(UserWarning, match="no celestial WCS"):
        single = open_multiband(tmp_path / "single.fits")
    assert single.data.shape == (1, 64, 64) and single.wcs is None


def test_open_multiband_rejects_bad_input_with_typed_errors(tmp_path):
    from astroml_core.data import open_multiband
    from astroml_core.errors import InvalidFITSError, NonFiniteError, ShapeError, TruncatedFITSError

    (tmp_path / "junk.fits").write_bytes(b"not a fits file at all" * 100)
    with pytest.raises(InvalidFITSError, match="not a FITS file"):
        open_multiband(tmp_path / "junk.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((32, 32), np.float32)),
                  fits.ImageHDU(np.zeros((16, 32), np.float32))]).writeto(tmp_path / "mixed.fits")
    with pytest.raises(ShapeError, match="different shapes"):
        open_multiband(tmp_path / "mixed.fits")
    fits.PrimaryHDU(np.full((32, 32), np.nan, np.float32)).writeto(tmp_path / "nan.fits")
    with pytest.raises(NonFiniteError):
        open_multiband(tmp_path / "nan.fits")
    fits.PrimaryHDU(np.ones((64, 64), np.float32)).writeto(tmp_path / "whole.fits")
    data = (tmp_path / "whole.fits").read_bytes()
    (tmp_path / "cut.fits").write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFITSError):
        open_multiband(tmp_path / "cut.fits")


@pytest.mark.parametrize("method", ["model", "sep"])
def test_cli_deblend_writes_a_catalogue_and_masks(tmp_path, method):
    field = tmp_path / "field.fits"
    main(["sim", "blends", "--seed", "2003", "-o", str(field), "--truth", str(tmp_path / "truth.ecsv")])
    out, masks, reg = tmp_path / "sources.ecsv", tmp_path / "masks.fits", tmp_path / "sources.reg"
    assert main(["deblend", str(field), "-o", str(out), "--masks", str(masks), "--regions", str(reg), "--method", method]) == 0
    table = QTable.read(out)
    truth = QTable.read(tmp_path / "truth.ecsv")
    assert {"ra", "dec", "flux_g", "flux_r", "flux_i", "flux_z"} <= set(table.colnames)
    assert table["flux_r"].unit == "nJy" and len(match_sources(truth, table)) >= 1
    assert table["flux_err_r"].unit == "nJy" and (table["flux_err_r"] > 0).all()   # calibrated, or sep's noise
    assert ("blendedness" in table.colnames) == (method == "model")
    if method == "model":
        assert ((table["blendedness"] >= 0) & (table["blendedness"] <= 1)).all()
    with fits.open(masks) as hdul:
        seg = hdul[0].data
        assert seg.shape == (64, 64) and seg.max() == len(table) and hdul[0].header["CTYPE1"] == "RA---TAN"
        assert hdul[0].header["METHOD"] == method and hdul[0].header["IMAGE"] == "field.fits"
    regions = Regions.read(str(reg), format="ds9")              # one sky ellipse per source with a mask
    assert len(regions) == len(np.unique(seg[seg > 0])) and {str(r.meta["text"]) for r in regions} <= {str(i) for i in table["id"]}
    assert all(type(r).__name__ == "EllipseSkyRegion" for r in regions)
    assert table.meta["method"] == method and table.meta["image"] == "field.fits"
    assert (len(table.meta.get("card_sha256", "")) == 64) == (method == "model")     # the weights it came from


def test_cli_deblend_refuses_the_model_on_one_band(tmp_path, capsys):
    single = tmp_path / "single.fits"
    fits.PrimaryHDU(simulate_blends(4).images[1]).writeto(single)
    assert main(["deblend", str(single), "-o", str(tmp_path / "x.ecsv")]) == 2
    assert "trained on g, r, i, z" in capsys.readouterr().err
    assert main(["deblend", str(single), "-o", str(tmp_path / "x.ecsv"), "--method", "sep"]) == 0


def test_known_shape_fit_recovers_exact_fluxes_without_noise_and_scatters_as_the_noise_says():
    from astroml_core.metrics.deblend import known_shape_fluxes

    sim = simulate_blends(2001, BlendConfig())
    inside = sim.isolated.sum(axis=(2, 3))
    assert known_shape_fluxes(sim.isolated, sim.isolated.sum(axis=0)) == pytest.approx(inside, rel=1e-6)
    # least squares with known shapes: flux error σ_k = σ_band · Σ I_k · sqrt([(AᵀA)⁻¹]_kk), A the shapes
    rng, errors = np.random.default_rng(0), []
    sigma = np.asarray(BlendConfig().sky_sigma)
    for _ in range(200):
        noisy = sim.isolated.sum(axis=0) + rng.normal(0, 1, sim.images.shape) * sigma[:, None, None]
        errors.append(known_shape_fluxes(sim.isolated, noisy) - inside)
    shapes = sim.isolated[:, 1].reshape(len(inside), -1).astype(float)
    expected = sigma[1] * inside[:, 1] * np.sqrt(np.diag(np.linalg.inv(shapes @ shapes.T)))
    assert np.std(np.array(errors)[:, :, 1], axis=0) == pytest.approx(expected, rel=0.2)
