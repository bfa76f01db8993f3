"""Contours (levels in σ or data units, planes from another FITS file) and PV slices of a cube."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest

from astroml_core.analysis import contour_lines, levels_from_spec, parse_levels, plane_from_fits, pv_slice, robust_sigma
from astroml_core.analysis.pv import uniform_velocity
from astroml_core.data import open_cube
from astroml_core.errors import InvalidLevelsError, NonFiniteError, ShapeError
from tests.conftest import sdc2_header, write_fits

PIXEL_ARCSEC = 2.8          # sdc2_header's CDELT1/2


def gaussian(ny: int = 64, nx: int = 80, x0: float = 40.3, y0: float = 30.6, s: float = 8.0) -> np.ndarray:
    y, x = np.mgrid[:ny, :nx]
    return np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s ** 2))


# --- contours ----------------------------------------------------------------------------------------------
def test_contour_of_a_gaussian_is_the_analytic_circle():
    plane = gaussian()
    level = 0.5
    radius = 8.0 * np.sqrt(2 * np.log(1 / level))                     # exp(-r²/2s²) = level
    (lines,) = contour_lines(plane, levels_from_spec([level], plane, "data"))
    assert lines.level == level and not lines.dashed and lines.n_lines == 1
    r = np.hypot(np.array(lines.xs[0]) - 40.3, np.array(lines.ys[0]) - 30.6)   # x = column, y = row
    assert len(r) > 40
    assert np.abs(r - radius).max() < 0.05


def test_sigma_levels_are_multiples_of_the_robust_noise_and_negatives_are_dashed():
    rng = np.random.default_rng(3)
    plane = rng.normal(0, 0.1, (128, 128)) + 5 * gaussian(128, 128, 64, 64, 4)
    sigma = robust_sigma(plane)
    assert sigma == pytest.approx(0.1, rel=0.05)                       # the source barely moves it
    levels = levels_from_spec("-3, 3,5 10 20", plane, "sigma")
    assert levels.multiples == (-3, 3, 5, 10, 20)
    assert levels.values == pytest.approx(tuple(m * sigma for m in (-3, 3, 5, 10, 20)))
    assert levels.dashed == (True, False, False, False, False)
    lines = contour_lines(plane, levels)
    assert [lv.level for lv in lines] == pytest.approx(levels.values)
    assert [lv.dashed for lv in lines] == [True, False, False, False, False]
    assert lines[-1].n_lines == 1                                      # 20σ = 2: only the source's core
    assert lines[0].n_lines > 0                                        # −3σ: some noise dips


def test_contours_leave_blank_pixels_out():
    plane = gaussian()
    plane[:, :40] = np.nan
    (lines,) = contour_lines(plane, levels_from_spec("0.5", plane, "data"))
    assert lines.n_lines >= 1
    assert min(min(xs) for xs in lines.xs) >= 39.0


@pytest.mark.parametrize("spec", ["", "3,abc", "3,inf", ",".join(str(k) for k in range(50))])
def test_bad_level_specs_raise_typed_errors(spec):
    with pytest.raises(InvalidLevelsError):
        parse_levels(spec)


def test_sigma_of_a_constant_plane_is_refused():
    with pytest.raises(NonFiniteError, match="data units"):
        levels_from_spec("3", np.ones((10, 10)), "sigma")


def test_plane_from_fits_on_the_cube_grid(make_cube, tmp_path):
    cube_path = make_cube(data=np.random.default_rng(0).normal(size=(4, 12, 16)).astype(np.float32))
    cube = open_cube(cube_path)
    image = np.arange(12 * 16, dtype=np.float32).reshape(12, 16)
    header = sdc2_header(16, 12)
    for key in ("CTYPE3", "CRVAL3", "CDELT3", "CRPIX3", "CUNIT3"):
        del header[key]
    same = write_fits(tmp_path / "mom0.fits", image, header)
    plane, unit = plane_from_fits(same, cube)
    assert np.array_equal(plane, image) and unit == u.Jy / u.beam
    bigger = write_fits(tmp_path / "big.fits", np.zeros((20, 16), np.float32), header)
    with pytest.raises(ShapeError, match="16×20 pixels and the cube 16×12.*reproject"):
        plane_from_fits(bigger, cube)
    header["CRVAL1"] += 10 / 3600
    shifted = write_fits(tmp_path / "shifted.fits", image, header)
    with pytest.raises(ShapeError, match="CRVAL1.*does not reproject"):
        plane_from_fits(shifted, cube)


# --- PV slices ---------------------------------------------------------------------------------------------
def gradient_cube(make_cube, nchan: int = 60, ny: int = 40, nx: int = 64, per_pixel: float = 0.5):
    """A cube on a radio-velocity axis (5 km/s channels from 0) whose line centre moves ``per_pixel`` channels
    per pixel along x: a velocity gradient of 2.5 km/s per pixel in x, none in y."""
    c = np.arange(nchan)[:, None, None]
    x = np.arange(nx)[None, None, :]
    centre = 30 + per_pixel * (x - nx / 2)
    data = np.exp(-(c - centre) ** 2 / (2 * 1.5 ** 2)) * np.ones((1, ny, 1))
    path = make_cube(data=data.astype(np.float32), CTYPE3="VRAD", CUNIT3="m/s", CRVAL3=0.0, CDELT3=5000.0,
                     CRPIX3=1.0)
    return open_cube(path)


def test_pv_recovers_a_known_velocity_gradient_along_a_slanted_line(make_cube):
    cube = gradient_cube(make_cube)
    start, end = (12.0, 8.0), (48.0, 30.0)
    pv = pv_slice(cube, start, end)
    length = np.hypot(36, 22)
    assert pv.data.shape == (60, int(round(length)) + 1)              # about one sample per pixel
    assert pv.offsets.unit == u.arcsec
    assert pv.length.to_value(u.arcsec) == pytest.approx(length * PIXEL_ARCSEC, rel=1e-6)
    assert pv.offsets[0].value == pytest.approx(-pv.offsets[-1].value)  # measured from the line's centre
    assert pv.convention == "radio" and pv.velocities.unit == u.km / u.s
    v = pv.velocities.to_value(u.km / u.s)
    centroid = (pv.data * v[:, None]).sum(0) / pv.data.sum(0)
    slope = np.polyfit(pv.offsets.to_value(u.arcsec), centroid, 1)[0]
    expected = 2.5 * (36 / length) / PIXEL_ARCSEC                     # km/s per arcsec along the line
    assert slope == pytest.approx(expected, rel=0.01)
    assert pv.start == start and pv.end == end
    sky = cube.celestial.pixel_to_world(*end)
    assert pv.end_sky.separation(sky).to_value(u.arcsec) < 1e-6


def test_pv_over_a_channel_range_is_those_rows_of_the_whole(make_cube):
    cube = gradient_cube(make_cube)
    whole = pv_slice(cube, (5, 5), (50, 30), width=3)
    part = pv_slice(cube, (5, 5), (50, 30), width=3, channels=(20, 39))
    assert part.channels == range(20, 40)
    np.testing.assert_array_equal(part.data, whole.data[20:40])
    np.testing.assert_array_equal(part.velocities, whole.velocities[20:40])
    with pytest.raises(ShapeError, match="not a range"):
        pv_slice(cube, (5, 5), (50, 30), channels=(39, 20))


def test_pv_width_averages_across_the_line(make_cube):
    y = np.arange(24, dtype=np.float32)[None, :, None]
    data = ((y - 12) ** 2) * np.ones((3, 1, 20), np.float32)            # 0 on row 12, 1 on rows 11 and 13
    cube = open_cube(make_cube(data=data))
    thin = pv_slice(cube, (2, 12), (17, 12), width=1)
    wide = pv_slice(cube, (2, 12), (17, 12), width=3)
    assert np.allclose(thin.data, 0)
    assert np.allclose(wide.data, 2 / 3)


def test_pv_uniform_velocity_grid_rises_and_keeps_the_line(make_cube):
    cube = open_cube(make_cube(data=gaussian(12, 16, 8, 6, 3)[None] * np.ones((10, 1, 1), np.float32)))
    pv = pv_slice(cube, (2, 6), (13, 6))
    data, v0, dv = uniform_velocity(pv)
    v = pv.velocities.to_value(u.km / u.s)
    assert dv > 0 and v0 == pytest.approx(v.min()) and v0 + dv * (len(v) - 1) == pytest.approx(v.max())
    assert data.shape == pv.data.shape


@pytest.mark.parametrize("start, end, match", [
    ((5, 5), (5.3, 5.2), "shorter than one pixel"),
    ((5, 5), (40, 5), "off the 16×12-pixel image"),
    ((-3, 5), (10, 5), "start .* off"),
    ((float("nan"), 5), (10, 5), "not a finite"),
])
def test_pv_line_errors(make_cube, start, end, match):
    cube = open_cube(make_cube())
    with pytest.raises(ShapeError, match=match):
        pv_slice(cube, start, end)


def test_pv_width_must_be_a_whole_number(make_cube):
    cube = open_cube(make_cube())
    with pytest.raises(ShapeError, match="whole number"):
        pv_slice(cube, (2, 2), (10, 8), width=2.5)
