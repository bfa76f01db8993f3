"""The cube page's moment tool and spectral-axis controls without a browser: maps equal the core's, clip and
mask options reach them, the velocity colour map comes and goes, Save FITS, the axis chooser, typed channel
entry and keyboard stepping."""
from __future__ import annotations

import io

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits

from astroml_core.analysis.moments import moment_map
from astroml_core.sim.hi import DEMO_CUBE, DEMO_TRUTH, small_config, write_hi_cube


@pytest.fixture
def page(data_root):
    """A CubePage over a private data root whose demo is a small simulated cube (with its truth)."""
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=9, truth_path=data_root / "demo" / DEMO_TRUTH,
                  config=small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def test_moment_views_show_the_core_maps_with_the_default_clips(page):
    page.param.update(view="Moment 1", moment_channels=(10, 80))
    want = moment_map(page.cube, "moment1", (10, 80), clip=3, convention=page.cube.velocity_convention)
    np.testing.assert_allclose(page.plane, want.data.value, rtol=1e-6, equal_nan=True)
    assert page.plane_unit == u.km / u.s and page.cmap == "RdBu (velocity)"
    assert "Moment 1 over channels 10–80" in page.channel_label.object
    page.view = "Moment 2"
    want2 = moment_map(page.cube, "moment2", (10, 80), clip=3, convention=page.cube.velocity_convention)
    np.testing.assert_allclose(page.plane, want2.data.value, rtol=1e-6, equal_nan=True)
    assert page.cmap == "viridis"                       # the user's colour map is back after moment 1
    page.view = "Moment 0"                              # unclipped, Jy/beam km/s by default
    np.testing.assert_allclose(page.plane, page.cube.moment0((10, 80), velocity=True).value, rtol=1e-5,
                               equal_nan=True)
    assert page.plane_unit == u.Jy / u.beam * u.km / u.s
    page.moments.clip0 = 2.0
    clipped = moment_map(page.cube, "moment0", (10, 80), clip=2, convention=page.cube.velocity_convention)
    np.testing.assert_allclose(page.plane, clipped.data.value, rtol=1e-5, equal_nan=True)
    assert "voxels ≥ 2σ" in page.moments.status.object


def test_a_velocity_convention_change_recomputes_moment_1(page):
    page.param.update(view="Moment 1", moment_channels=(10, 80), velocity="radio")
    radio = page.plane.copy()
    page.velocity = "optical"
    assert np.nanmedian(page.plane) > np.nanmedian(radio)      # cz > radio velocity at z ≈ 0.25
    assert page.moments.moment("Moment 1", (10, 80)).convention == "optical"


def test_the_detections_mask_needs_detections_and_then_keeps_only_their_ellipses(page):
    page.view = "Moment 0"
    page.moments.mask = "detections"
    assert "press Detect" in page.banner.error_text
    truth = page.detections.truth
    truth["score"], truth["accepted"] = 1.0, True
    page.detections.catalogues["model"] = truth
    page.banner.clear()
    page.moments.mask = "none"
    page.moments.mask = "detections"
    assert page.banner.error_text == ""
    finite = np.isfinite(page.plane)
    assert 0 < finite.sum() < 0.5 * finite.size
    y, x = page.cube.pixel_of(__import__("astropy.coordinates", fromlist=["SkyCoord"]).SkyCoord(
        truth["ra"][0], truth["dec"][0]))
    assert finite[int(round(y)), int(round(x))]


def test_an_uploaded_sofia_mask_is_used_and_a_wrong_shape_refused(page):
    page.view = "Moment 0"
    shape = page.cube.shape
    mask = np.zeros(shape, np.int16)
    mask[:, 5:15, 20:30] = 3
    buf = io.BytesIO()
    fits.PrimaryHDU(mask).writeto(buf)
    page.moments.upload.param.update(filename="demo_mask.fits", value=buf.getvalue())
    assert page.moments.mask == "file"
    finite = np.isfinite(page.plane)
    assert finite[5:15, 20:30].all() and finite.sum() == 100
    bad = io.BytesIO()
    fits.PrimaryHDU(np.zeros((shape[0], shape[1], shape[2] + 2), np.int16)).writeto(bad)
    page.moments.upload.param.update(filename="other_mask.fits", value=bad.getvalue())
    assert "The data has the wrong shape" in page.banner.error_text and r"other\_mask\.fits has shape" in page.banner.error_text


def test_save_fits_writes_the_map_shown_with_wcs_and_unit(page):
    page.param.update(view="Moment 1", moment_channels=(10, 80))
    data = page.moments._fits_bytes().getvalue()
    with fits.open(io.BytesIO(data)) as hdul:
        h, values = hdul[0].header, hdul[0].data
    assert h["MOMENT"] == "moment1" and u.Unit(h["BUNIT"], format="fits") == u.km / u.s
    assert (h["MOMCHAN0"], h["MOMCHAN1"], h["MOMCLIP"]) == (10, 80, 3.0) and h["CTYPE1"].startswith("RA")
    np.testing.assert_array_equal(values, page.plane)
    assert page.moments.save.filename == "moment1_10-80.fits"


def test_the_spectral_axis_chooser_relabels_the_channel_and_the_spectrum_axis(page):
    bottom = page.spectrum_view.fig.below[0]
    assert bottom.axis_label == "Frequency (MHz)"
    page.spectral_axis = "radio"
    assert page.velocity == "radio"
    assert page.channel_label.object.startswith("<b>v<sub>rad</sub> = ")
    assert bottom.axis_label == "Velocity, radio convention (km/s)"
    assert page.spectrum_view.velocity_axis.axis_label == "Frequency (MHz)"
    page.spectral_axis = "optical"
    assert page.velocity == "optical" and "v<sub>opt</sub>" in page.channel_label.object
    page.spectral_axis = "channel"
    assert bottom.axis_label == "Channel"
    assert page.spectrum_view.velocity_axis.axis_label.startswith("Velocity, optical")
    assert page.channel_label.object.startswith("Channel <b>")


def test_typed_channel_and_keyboard_stepping(page):
    page.axis.channel_input.value = 12
    assert page.channel == 12
    keys = page.axis.keys
    for key, want in (("ArrowRight", 13), ("PageUp", 23), ("ArrowLeft", 22), ("PageDown", 12)):
        keys.press = f"{key}|{want}"
        assert page.channel == want, key
