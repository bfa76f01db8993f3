"""Moment maps (astroml_core.analysis.moments): equal to a direct numpy computation, Gaussian lines give their
centre and σ back, clip and mask keep the voxels they say, and the FITS file carries the cube's WCS and unit."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable
from astropy.wcs import WCS

from astroml_core.analysis.moments import (VoxelMask, catalogue_mask, cube_noise, moment_map, moment_maps,
                                           read_mask, write_moment_fits)
from astroml_core.data import open_cube
from astroml_core.errors import InvalidFITSError, ShapeError
from astroml_core.tasks.hi.noise import robust_sigma
from tests.conftest import sdc2_header, write_fits

NCHAN, NY, NX = 160, 12, 16
SIGMA_KMS = 20.0
GRADIENT = 5.0          # km/s per pixel along x


def line_cube(tmp_path, noise: float = 0.0, seed: int = 1, name: str = "line.fits"):
    """(path, data, radio velocities, centre map): a Gaussian line of σ 20 km/s whose centre rises 5 km/s per
    pixel along x, on a 160-channel 30 kHz FREQ axis (radio Δv ≈ 6.3 km/s), optionally with seeded noise."""
    header = sdc2_header(NX, NY, NCHAN)
    f = 1.1e9 + 3e4 * np.arange(NCHAN)
    v = 299792.458 * (1 - f / 1.420405752e9)
    centre = v[NCHAN // 2] + GRADIENT * (np.arange(NX) - NX / 2)
    profile = np.exp(-0.5 * ((v[:, None, None] - centre[None, None, :]) / SIGMA_KMS) ** 2)
    data = (10.0 * profile * np.ones((1, NY, 1))).astype(np.float32)
    if noise:
        data = data + np.random.default_rng(seed).normal(0, noise, data.shape).astype(np.float32)
    return write_fits(tmp_path / name, data, header), data, v, np.broadcast_to(centre, (NY, NX))


def direct(data: np.ndarray, v: np.ndarray, keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The moments straight from their definitions, in float64 over the whole array."""
    d = data.astype(np.float64) if keep is None else np.where(keep, data, 0.0)
    w = d * np.abs(np.gradient(v))[:, None, None]
    m0 = w.sum(0)
    m1 = (w * v[:, None, None]).sum(0) / m0
    m2 = np.sqrt((w * (v[:, None, None] - m1) ** 2).sum(0) / m0)
    return dict(moment0=m0, moment1=m1, moment2=m2, peak=np.where(keep if keep is not None else True, data,
                                                                 -np.inf).max(0))


def test_moments_equal_a_direct_numpy_computation_and_give_the_line_back(tmp_path):
    path, data, v, centre = line_cube(tmp_path)
    cube = open_cube(path)
    maps = moment_maps(cube, convention="radio")
    want = direct(data, v)
    for kind in ("moment0", "moment1", "moment2", "peak"):
        np.testing.assert_allclose(maps[kind].data.value, want[kind], rtol=1e-5, atol=1e-6, err_msg=kind)
    np.testing.assert_allclose(maps["moment1"].data.to_value(u.km / u.s), centre, atol=0.01)
    np.testing.assert_allclose(maps["moment2"].data.to_value(u.km / u.s), SIGMA_KMS, rtol=1e-3)
    assert maps["moment0"].data.unit == u.Jy / u.beam * u.km / u.s
    assert maps["moment1"].data.unit == maps["moment2"].data.unit == u.km / u.s
    assert maps["peak"].data.unit == u.Jy / u.beam
    # the velocity gradient's sign: centre velocity rises with x
    assert np.all(np.diff(maps["moment1"].data.value, axis=1) > 0)


def test_moment0_matches_the_cube_s_own_in_every_unit_and_the_optical_convention(tmp_path):
    path, data, v, _ = line_cube(tmp_path, noise=0.3)
    cube = open_cube(path)
    np.testing.assert_allclose(moment_map(cube, "moment0", (5, 50)).data.value,
                               cube.moment0((5, 50), velocity=True).value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(moment_map(cube, "moment0", moment0_unit="native").data.value,
                               cube.moment0().value, rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(moment_map(cube, "moment0", moment0_unit="pixel").data.value,
                               cube.integrated_flux_map().value, rtol=1e-5, atol=1e-6)
    v_opt = cube.velocities_in("optical").to_value(u.km / u.s)
    got = moment_maps(cube, convention="optical")
    want = direct(data, v_opt)
    np.testing.assert_allclose(got["moment1"].data.value, want["moment1"], rtol=1e-6)
    assert got["moment1"].convention == "optical"


def test_a_channel_range_uses_only_those_channels(tmp_path):
    path, data, v, _ = line_cube(tmp_path)
    cube = open_cube(path)
    m = moment_map(cube, "moment1", (10, 40), convention="radio")
    np.testing.assert_allclose(m.data.value, direct(data[10:41], v[10:41])["moment1"], rtol=1e-6)
    assert m.channels == (10, 40)


def test_clip_keeps_voxels_at_or_above_clip_times_the_robust_cube_noise(tmp_path):
    path, data, v, centre = line_cube(tmp_path, noise=1.0)
    cube = open_cube(path)
    sigma = cube_noise(cube)
    assert sigma.unit == u.Jy / u.beam and sigma.value == pytest.approx(1.0, rel=0.15)
    maps = moment_maps(cube, clip=3, convention="radio")
    keep = data >= 3 * sigma.value
    want = direct(data, v, keep)
    for kind in ("moment0", "moment1", "moment2", "peak"):
        np.testing.assert_allclose(maps[kind].data.value, want[kind], rtol=1e-4, err_msg=kind)
    # unclipped, noise drags moment 1 toward the band's middle; clipped at 3σ it finds the line
    err_clip = np.median(np.abs(maps["moment1"].data.value - centre))
    err_all = np.median(np.abs(moment_map(cube, "moment1", convention="radio").data.value - centre))
    assert err_clip < 2.0 and err_all > 3 * err_clip
    assert maps["moment0"].clip == 3.0 and maps["moment0"].sigma == sigma


def test_per_channel_noise_clips_each_channel_at_its_own_sigma(tmp_path):
    path, data, v, _ = line_cube(tmp_path, noise=1.0)
    data[NCHAN // 2:] *= 3              # the upper half of the band three times noisier (line scaled too)
    path = write_fits(tmp_path / "noisy.fits", data, sdc2_header(NX, NY, NCHAN))
    cube = open_cube(path)
    sig_c = np.array([robust_sigma(ch) for ch in data])
    got = moment_map(cube, "moment0", clip=3, noise="channel", convention="radio")
    want = direct(data, v, data >= 3 * sig_c[:, None, None])["moment0"]
    np.testing.assert_allclose(np.nan_to_num(got.data.value), want, rtol=1e-4)
    one_sigma = moment_map(cube, "moment0", clip=3, convention="radio")
    assert not np.allclose(np.nan_to_num(one_sigma.data.value), want, rtol=1e-3)


def test_a_mask_keeps_only_its_voxels_and_an_empty_one_gives_nan(tmp_path):
    path, data, v, _ = line_cube(tmp_path, noise=0.5)
    cube = open_cube(path)
    keep = np.zeros(data.shape, bool)
    keep[70:90, 2:9, 3:12] = True
    got = moment_maps(cube, mask=VoxelMask(keep.astype(np.int32), "test mask"), convention="radio")
    want = direct(data, v, keep)
    inside = np.s_[2:9, 3:12]
    for kind in ("moment0", "moment1", "peak"):
        np.testing.assert_allclose(got[kind].data.value[inside], want[kind][inside], rtol=1e-4, err_msg=kind)
        assert np.isnan(got[kind].data.value[0, 0])
    assert got["moment0"].mask == "test mask"
    empty = moment_map(cube, "moment0", mask=VoxelMask(np.zeros(data.shape, bool), "none set"))
    assert np.isnan(empty.data.value).all()


def test_a_sofia_mask_file_is_read_from_a_path_or_bytes_and_its_shape_checked(tmp_path):
    path, data, v, _ = line_cube(tmp_path)
    cube = open_cube(path)
    labels = np.zeros((1,) + data.shape, np.int32)          # SoFiA may write a degenerate Stokes axis
    labels[0, 25:35, 4:8, 5:9] = 7
    mask_path = tmp_path / "line_mask.fits"
    fits.PrimaryHDU(labels).writeto(mask_path)
    for source in (mask_path, mask_path.read_bytes()):
        m = read_mask(source, cube)
        assert m.block(25, 35).all(axis=0)[4:8, 5:9].all() and m.block(0, 25).sum() == 0
    got = moment_map(cube, "moment0", mask=read_mask(mask_path, cube))
    assert np.isfinite(got.data.value).sum() == 16 and "line_mask.fits" in got.mask
    fits.PrimaryHDU(np.zeros((NCHAN, NY, NX + 1), np.int16)).writeto(tmp_path / "other.fits")
    with pytest.raises(ShapeError, match=r"has shape \(160, 12, 17\).*made from this cube"):
        read_mask(tmp_path / "other.fits", cube)
    with pytest.raises(InvalidFITSError, match="not a FITS file"):
        read_mask(b"not fits at all" * 200, cube)


def test_a_catalogue_mask_covers_each_source_s_ellipse_over_its_w20_channels(tmp_path):
    path, data, v, _ = line_cube(tmp_path)
    cube = open_cube(path)
    sky = cube.celestial.pixel_to_world(8, 6)
    nu = cube.frequencies[30]
    table = QTable(dict(ra=[sky.ra], dec=[sky.dec], central_freq=u.Quantity([nu]), w20=[60.0] * u.km / u.s,
                        hi_size=[10.0] * u.arcsec, pa=[0.0] * u.deg, i=[60.0] * u.deg))
    m = catalogue_mask(cube, table)
    block = m.block(0, NCHAN)
    chans = np.flatnonzero(block[:, 6, 8])
    # W20/2 = 30 km/s is ν²/(c ν_rest) × 30 km/s ≈ 85 kHz ≈ 2.8 channels either side, then one more
    assert (chans.min(), chans.max()) == (26, 34) and chans.size == 9
    assert block[30, 6 + 2, 8] and not block[30, 6, 8 + 5] and not block[30, 0, 0]
    assert "1 sources" in m.description


def test_moment_fits_round_trip_keeps_wcs_unit_and_how_it_was_made(tmp_path):
    path, data, v, _ = line_cube(tmp_path, noise=1.0)
    cube = open_cube(path)
    m1 = moment_map(cube, "moment1", (5, 50), clip=2.5, convention="optical")
    out = tmp_path / "mom1.fits"
    write_moment_fits(m1, cube, "moment1", out)
    with fits.open(out) as hdul:
        h, back = hdul[0].header, hdul[0].data
    np.testing.assert_array_equal(back, m1.data.value)
    assert h["NAXIS"] == 2 and u.Unit(h["BUNIT"], format="fits") == u.km / u.s
    assert h["MOMENT"] == "moment1" and (h["MOMCHAN0"], h["MOMCHAN1"]) == (5, 50)
    assert h["MOMCONV"] == "optical" and h["MOMCLIP"] == 2.5 and h["MOMNOISE"] > 0
    assert h["MOMFREQ0"] == pytest.approx(cube.frequencies[5].to_value(u.Hz))
    wcs = WCS(h)
    assert wcs.pixel_to_world(3, 4).separation(cube.celestial.pixel_to_world(3, 4)).arcsec < 1e-6
    m0 = moment_map(cube, "moment0")
    hdul = write_moment_fits(m0, cube, "moment0", tmp_path / "mom0.fits")
    assert u.Unit(hdul[0].header["BUNIT"], format="fits") == u.Jy / u.beam * u.km / u.s
    assert hdul[0].header["BMAJ"] == pytest.approx(7 / 3600)
