"""display: colour limits, stretches, colour-bar ticks, rasterising, sky/pixel ticks, units and plane views."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Angle
from astropy.io import fits
from astropy.wcs import WCS

from astroml_core.display import (INTERVALS, STRETCHES, axis_labels, colorbar_ticks, limits, pixel_ticks,
                                  rasterize, render, sky_ticks, stretch, view_plane)
from astroml_core.display.units import display_unit, pretty_unit
from tests.conftest import sdc2_header


@pytest.fixture
def image():
    """A seeded 300×400 Gaussian image with a few bright pixels."""
    rng = np.random.default_rng(42)
    img = rng.normal(0.0, 1.0, (300, 400)).astype(np.float32)
    img[10, 20], img[200, 300] = 50.0, -20.0
    return img


def galactic_wcs() -> WCS:
    h = fits.Header()
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"], h["CUNIT1"] = "GLON-CAR", 120.0, -0.01, 50, "deg"
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"], h["CUNIT2"] = "GLAT-CAR", -2.0, 0.01, 50, "deg"
    return WCS(h)


# --- limits --------------------------------------------------------------------------------------------
def test_minmax_limits_are_the_data_extremes(image):
    assert limits(image, "min/max") == (pytest.approx(-20.0), pytest.approx(50.0))


@pytest.mark.parametrize("name, pct", [("99%", 99.0), ("99.5%", 99.5), ("99.9%", 99.9)])
def test_percentile_limits_match_numpy_percentiles(name, pct):
    data = np.random.default_rng(1).normal(3.0, 2.0, 1_000_000)   # above the 200k sample size
    lo, hi = limits(data, name)
    tail = (100 - pct) / 2
    expected = np.percentile(data, [tail, 100 - tail])
    assert lo == pytest.approx(expected[0], abs=0.25) and hi == pytest.approx(expected[1], abs=0.25)
    # in quantile terms: the fraction of all pixels clipped at each end is the requested tail
    assert np.mean(data < lo) * 100 == pytest.approx(tail, rel=0.3)
    assert np.mean(data > hi) * 100 == pytest.approx(tail, rel=0.3)


def test_zscale_limits_are_ordered_and_inside_the_data(image):
    lo, hi = limits(image, "zscale")
    assert image.min() <= lo < hi <= image.max()
    assert hi - lo < 20   # zscale ignores the two outliers


def test_limits_ignore_nan_and_survive_constant_or_empty_data(image):
    image[::3] = np.nan
    lo, hi = limits(image, "min/max")
    assert (lo, hi) == (pytest.approx(np.nanmin(image)), pytest.approx(np.nanmax(image)))
    lo, hi = limits(np.full((5, 5), 7.0), "99.5%")
    assert lo == pytest.approx(7.0) and hi > lo
    assert limits(np.full((4, 4), np.nan), "zscale") == (0.0, 1.0)


def test_every_interval_gives_finite_ordered_limits(image):
    for name in INTERVALS:
        lo, hi = limits(image, name)
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi, name


def test_unknown_interval_or_stretch_raises_value_error(image):
    with pytest.raises(ValueError, match="unknown limits"):
        limits(image, "98%")
    with pytest.raises(ValueError, match="unknown stretch"):
        stretch(image, 0.0, 1.0, "gamma")


# --- stretches -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(STRETCHES))
def test_stretch_maps_into_unit_interval_monotonically_and_keeps_nan(name):
    x = np.linspace(-2.0, 12.0, 2001)
    x[100] = np.nan
    y = stretch(x, 0.0, 10.0, name)
    assert y.dtype == np.float32
    assert np.isnan(y[100]) and np.isfinite(np.delete(y, 100)).all()
    finite = np.delete(y, 100)
    assert finite.min() >= 0.0 and finite.max() <= 1.0
    assert np.all(np.diff(finite) >= 0)
    assert finite[0] == 0.0 and finite[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["log", "sqrt", "asinh"])
def test_nonlinear_stretches_lift_the_midpoint_above_linear(name):
    mid = stretch(np.array([5.0]), 0.0, 10.0, name)[0]
    assert stretch(np.array([5.0]), 0.0, 10.0, "linear")[0] == pytest.approx(0.5)
    assert mid > 0.6


def test_render_uses_given_limits_over_the_interval(image):
    shown = render(image, "min/max", "linear", vmin=-1.0, vmax=1.0)
    assert (shown.vmin, shown.vmax) == (-1.0, 1.0)
    assert shown.values[10, 20] == 1.0 and shown.values[200, 300] == 0.0


# --- colour-bar ticks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("vmin, vmax, name, scale", [
    (0.0, 1.0, "linear", 1.0), (-3e-5, 1.2e-4, "log", 1e6), (0.0013, 0.0871, "sqrt", 1.0),
    (-2.5, 40.0, "asinh", 1.0), (1e-4, 3.7e-3, "linear", 1e3)])
def test_colorbar_ticks_are_round_values_at_their_stretched_positions(vmin, vmax, name, scale):
    ticks = colorbar_ticks(vmin, vmax, name, scale=scale)
    assert 3 <= len(ticks) <= 10
    positions = np.array(list(ticks))
    values = np.array([float(label) for label in ticks.values()])
    assert np.all((positions >= 0) & (positions <= 1))
    assert np.all(np.diff(positions) > 0) and np.all(np.diff(values) > 0)
    step = np.diff(values)
    np.testing.assert_allclose(step, step[0], rtol=1e-6)
    mantissa = step[0] / 10 ** np.floor(np.log10(step[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    np.testing.assert_allclose(values / step[0], np.round(values / step[0]), atol=1e-6)
    assert values[0] >= vmin * scale - 1e-9 and values[-1] <= vmax * scale + 1e-9
    np.testing.assert_allclose(positions, stretch(values / scale, vmin, vmax, name), atol=1e-6)


# --- rasterising ---------------------------------------------------------------------------------------
def test_rasterize_block_averages_big_images_to_screen_size():
    img = np.random.default_rng(7).random((2000, 3000), dtype=np.float32)
    r = rasterize(img, max_px=1024)
    assert r.data.shape[0] <= 1024 and r.data.shape[1] <= 1024
    f = r.factor
    assert f == 3 and r.data.shape == (667, 1000)
    full_rows = 2000 // f
    expected = img[:full_rows * f].reshape(full_rows, f, 1000, f).mean(axis=(1, 3))
    np.testing.assert_allclose(r.data[:full_rows], expected, rtol=1e-5)
    np.testing.assert_allclose(r.data[-1], img[full_rows * f:].reshape(-1, 1000, f).mean(axis=(0, 2)), rtol=1e-5)
    assert (r.x0, r.x1, r.y0) == (0, 3000, 0) and r.y1 >= 2000


def test_rasterize_crops_to_the_visible_region(image):
    r = rasterize(image, 100.4, 300.2, 50, 80)
    assert (r.x0, r.x1, r.y0, r.y1, r.factor) == (100, 301, 50, 80, 1)
    np.testing.assert_array_equal(r.data, image[50:80, 100:301])


def test_rasterize_of_a_region_past_the_edge_is_clipped_to_the_image(image):
    r = rasterize(image, -50, 120, 250, 900)
    assert (r.x0, r.x1, r.y0, r.y1) == (0, 120, 250, 300)
    np.testing.assert_array_equal(r.data, image[250:300, 0:120])


def test_rasterize_keeps_all_nan_blocks_nan():
    img = np.ones((40, 40), dtype=np.float32)
    img[:4, :4] = np.nan
    r = rasterize(img, max_px=10)
    assert r.factor == 4 and np.isnan(r.data[0, 0]) and np.all(r.data.ravel()[1:] == 1.0)


def test_view_plane_takes_limits_from_the_whole_plane_not_the_crop(image):
    view = view_plane(image, interval="min/max", region=(100, 150, 100, 150))
    assert (view.display.vmin, view.display.vmax) == (pytest.approx(-20.0), pytest.approx(50.0))
    assert view.raster.data.shape == (50, 50) == view.display.values.shape


# --- sky ticks -----------------------------------------------------------------------------------------
def _check_labels_match_wcs(wcs: WCS, axis: str, lo: float, hi: float, edge: float) -> list:
    ticks = sky_ticks(wcs, axis, lo, hi, edge)
    assert len(ticks) >= 2
    for tick in ticks:
        assert lo <= tick.position <= hi
        px, py = (tick.position, edge) if axis == "x" else (edge, tick.position)
        lon, lat = wcs.wcs_pix2world([[px, py]], 0)[0]
        world = lon if axis == "x" else lat
        label_deg = Angle(tick.label).deg
        diff = ((label_deg - world + 180) % 360) - 180
        assert abs(diff) * 3600 < 0.5, (tick, world)
    return ticks


def test_ra_ticks_are_hours_matching_the_wcs_on_the_bottom_edge():
    wcs = WCS(sdc2_header(nx=256, ny=256)).celestial
    ticks = _check_labels_match_wcs(wcs, "x", -0.5, 255.5, -0.5)
    assert all("h" in t.label and "m" in t.label and "s" in t.label for t in ticks)


def test_dec_ticks_are_signed_degrees_matching_the_wcs_on_the_left_edge():
    wcs = WCS(sdc2_header(nx=256, ny=256)).celestial
    ticks = _check_labels_match_wcs(wcs, "y", -0.5, 255.5, -0.5)
    assert all(t.label[0] in "+-" and "°" in t.label for t in ticks)


def test_ra_ticks_hold_on_the_top_edge_too():
    wcs = WCS(sdc2_header(nx=256, ny=256)).celestial
    _check_labels_match_wcs(wcs, "x", -0.5, 255.5, 255.5)


@pytest.mark.parametrize("axis", ["x", "y"])
def test_galactic_ticks_are_degrees_matching_the_wcs(axis):
    ticks = _check_labels_match_wcs(galactic_wcs(), axis, -0.5, 99.5, -0.5)
    assert all("°" in t.label and "h" not in t.label for t in ticks)


def test_axis_labels_name_the_frame():
    assert axis_labels(WCS(sdc2_header()).celestial) == ("RA (ICRS)", "Dec (ICRS)")
    assert axis_labels(galactic_wcs()) == ("Galactic l", "Galactic b")
    assert axis_labels(None) == ("x (pixel)", "y (pixel)")


@pytest.mark.parametrize("lo, hi", [(0, 255), (3.2, 47.9), (-0.5, 1023.5), (10, 12)])
def test_pixel_ticks_are_increasing_integers_in_range(lo, hi):
    ticks = pixel_ticks(lo, hi)
    values = [t.position for t in ticks]
    assert 1 <= len(ticks) <= 6
    assert all(lo <= v <= hi for v in values)
    assert all(v == int(v) and t.label == str(int(v)) for v, t in zip(values, ticks))
    assert all(b > a for a, b in zip(values, values[1:]))


# --- units ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit, typical, expected", [
    (u.Jy / u.beam, 2.0, (1.0, "Jy/beam")),
    (u.Jy / u.beam, 0.003, (1e3, "mJy/beam")),
    (u.Jy / u.beam, 3e-5, (1e6, "µJy/beam")),
    (u.Jy / u.beam, -3e-5, (1e6, "µJy/beam")),
    (u.K, 0.002, (1e3, "mK")),
    (u.Jy / u.beam * u.km / u.s, 0.05, (1e3, "mJy/beam·km/s")),
    (u.Jy / u.beam, 0.0, (1.0, "Jy/beam")),
])
def test_display_unit_picks_the_prefix_that_reads_at_least_0_1(unit, typical, expected):
    scale, label = display_unit(unit, typical)
    assert (scale, label) == expected


def test_display_unit_leaves_other_units_alone():
    scale, label = display_unit(u.m / u.s, 1e-5)
    assert scale == 1.0 and label == pretty_unit(u.m / u.s)
    assert pretty_unit(u.dimensionless_unscaled) == ""
