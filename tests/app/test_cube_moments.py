"""Moments and the spectral axis in real Chromium: moment 1 of a rotating demo galaxy rises toward the side
its truth says recedes, the axis chooser relabels the channel and the spectrum, a typed channel is taken, and
←/→/PageUp/PageDown step channels while the image has the focus."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tests.app.test_cube_page import TO_SCREEN, address, channel_state, open_cube_page, settled_channel, text, wait_until

pytestmark = pytest.mark.browser

AXIS_LABEL = "() => Bokeh.documents[0].get_model_by_name('spectrum-figure').below[0].axis_label"
TOP_LABEL = "() => Bokeh.documents[0].get_model_by_name('spectrum-figure').above[0].axis_label"
COLORBAR = """() => { const c = Bokeh.documents[0].get_model_by_name('cube-colorbar');
                      return [c.title, c.color_mapper.palette[0], c.color_mapper.palette[255]]; }"""


def bright_rotating_galaxy(root):
    """(x, y, channel, pa in degrees) of the brightest truth galaxy inclined 40–80° and 5 pixels or more across."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from astroml_core.data import open_cube
    from astroml_core.data.paths import truth_beside

    path = root / "demo" / "hi_demo.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cube = open_cube(path)
    truth = truth_beside(path)
    truth.sort("line_flux_integral", reverse=True)
    size_px = (truth["hi_size"] / cube.pixel_scale).to_value(u.one)
    inc = truth["i"].to_value(u.deg)
    row = truth[np.flatnonzero((inc > 40) & (inc < 80) & (size_px >= 5))[0]]
    y, x = cube.pixel_of(SkyCoord(row["ra"], row["dec"]))
    return x, y, cube.channel_of(row["central_freq"]), row["pa"].to_value(u.deg)


def label(page) -> str:
    """The channel label's own text (the pane's shadow root also holds its stylesheet, which ends in '}')."""
    return text(page, ".channel-label").rsplit("}", 1)[-1].strip()


def type_channel(page, channel: int) -> None:
    box = page.locator(".channel-input input")
    box.fill(str(channel))
    box.press("Enter")
    wait_until(lambda: channel_state(page)[0] == channel, what=f"channel {channel} from the typed entry")


def value_at(page, x: float, y: float) -> float:
    """The map value the pointer readout gives at pixel (x, y), in km/s."""
    sx, sy = page.evaluate(TO_SCREEN, ["cube-figure", x, y])
    page.mouse.move(sx, sy)
    want = f"pixel ({int(round(x))}, {int(round(y))})"
    wait_until(lambda: want in text(page, ".pointer-readout"), what=f"the readout at {want}")
    readout = text(page, ".pointer-readout")
    m = re.search(r"value\s+(-?[\d.e+]+)\s+km / s", readout)
    assert m, readout
    return float(m.group(1))


def test_moment1_of_a_rotating_demo_galaxy_rises_toward_its_receding_side(page, server, tmp_path):
    url, root = server
    open_cube_page(page, url)
    x, y, channel, pa = bright_rotating_galaxy(root)
    type_channel(page, channel)
    page.locator(".map-around button").click()
    wait_until(lambda: "Moment 0 over channels" in text(page, ".channel-label"), what="the moment-0 map")
    page.locator(".view-choice .bk-btn", has_text="Moment 1").click()
    wait_until(lambda: "Moment 1 over channels" in text(page, ".channel-label"), timeout=30,
               what="the moment-1 map")
    wait_until(lambda: "km / s" in page.evaluate(COLORBAR)[0], what="the colour bar in km/s")
    _, low, high = page.evaluate(COLORBAR)
    assert low.lower() == "#053061" and high.lower() == "#67001f"       # blue approaching, red receding
    # the receding major axis points along PA, East of North; East is −x on the sky-projected image
    along = np.array([-np.sin(np.radians(pa)), np.cos(np.radians(pa))])
    receding = value_at(page, *(np.array([x, y]) + 2.5 * along))
    approaching = value_at(page, *(np.array([x, y]) - 2.5 * along))
    assert receding - approaching > 80, (receding, approaching)      # a W20 of a few hundred km/s, inclined
    assert "voxels ≥ 3σ" in text(page, ".moment-status")
    page.screenshot(path=str(tmp_path / "moment1.png"), full_page=True)
    page.locator(".bk-tab", has_text="Moments").click()
    with page.expect_download(timeout=60_000) as download:
        page.locator(".save-moment button").click()
    saved = tmp_path / "saved.fits"
    download.value.save_as(saved)
    from astropy.io import fits
    from astropy.wcs import WCS

    with fits.open(saved) as hdul:
        header, data = hdul[0].header, hdul[0].data
    import astropy.units as u

    from astroml_core.data import open_cube

    assert header["MOMENT"] == "moment1" and u.Unit(header["BUNIT"], format="fits") == u.km / u.s
    assert (header["MOMCHAN0"], header["MOMCHAN1"], header["MOMCLIP"]) == (channel - 20, channel + 20, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cube = open_cube(root / "demo" / "hi_demo.fits")
    assert WCS(header).pixel_to_world(x, y).separation(cube.celestial.pixel_to_world(x, y)).arcsec < 1e-6
    assert data.shape == cube.shape[1:]
    rx, ry = np.rint(np.array([x, y]) + 2.5 * along).astype(int)
    assert data[ry, rx] == pytest.approx(receding, abs=0.1)


def test_the_spectral_axis_chooser_relabels_the_channel_and_the_spectrum(page, server):
    url, _ = server
    open_cube_page(page, url)
    assert page.evaluate(AXIS_LABEL) == "Frequency (MHz)"
    page.locator(".spectral-axis select").select_option(label="Velocity, radio (km/s)")
    wait_until(lambda: re.match(r"v\s*rad\s*=\s*[\d,.]+\s*km/s \(radio\) · Channel", label(page)),
               what="the channel label led by the radio velocity")
    wait_until(lambda: page.evaluate(AXIS_LABEL) == "Velocity, radio convention (km/s)",
               what="the spectrum's axis in radio velocity")
    assert page.evaluate(TOP_LABEL) == "Frequency (MHz)"
    assert page.locator(".velocity-select select").input_value() == "radio"
    page.locator(".spectral-axis select").select_option(label="Channel")
    wait_until(lambda: page.evaluate(AXIS_LABEL) == "Channel", what="the spectrum's axis in channels")
    assert label(page).startswith("Channel")
    wait_until(lambda: "axis=channel" in address(page), what="the axis in the URL")


def test_typed_channel_and_keys_on_the_focused_image_step_channels(page, server):
    url, _ = server
    open_cube_page(page, url)
    type_channel(page, 100)
    sx, sy = page.evaluate(TO_SCREEN, ["cube-figure", 128, 128])
    page.mouse.click(sx, sy)                                      # gives the image the focus
    for key, want in (("ArrowRight", 101), ("PageUp", 111), ("PageDown", 101), ("ArrowLeft", 100)):
        page.keyboard.press(key)
        wait_until(lambda: channel_state(page)[0] == want, what=f"channel {want} after {key}")
    page.locator(".spectral-axis select").focus()                 # keys elsewhere do not step the image
    page.keyboard.press("Tab")
    assert settled_channel(page)[0] == 100
