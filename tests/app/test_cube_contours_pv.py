"""The cube page's Contours and PV slice tabs in real Chromium: levels typed, taps on the image, values read back."""
from __future__ import annotations

import time

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import QTable
from astropy.wcs import WCS

from tests.app.test_cube_page import MODEL_DATA, click_data, open_cube_page, text, wait_until

pytestmark = pytest.mark.browser

C_KMS = 299792.458
PV_IMAGE = """() => {
  const src = Bokeh.documents[0].get_model_by_name('cube-pv-source');
  if (!src.data.image || src.data.image.length === 0) return null;
  const img = src.data.image[0];
  return {shape: Array.from(img.shape), values: Array.from(img, v => Number.isFinite(v) ? v : null),
          x: src.data.x[0], dw: src.data.dw[0], y: src.data.y[0], dh: src.data.dh[0]};
}"""
PV_LABELS = """() => {
  const fig = Bokeh.documents[0].get_model_by_name('cube-pv-figure');
  const bar = Bokeh.documents[0].get_model_by_name('cube-pv-colorbar');
  return [fig.below[0].axis_label, fig.left[0].axis_label, bar.title];
}"""


def open_tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()


def contour_levels(page) -> list[float]:
    return sorted(set(page.evaluate(MODEL_DATA, ["cube-contours-source", "level"])))


def test_sigma_contours_draw_every_level_and_follow_the_channel(page, server):
    url, _ = server
    open_cube_page(page, url)
    open_tab(page, "Contours")
    box = page.locator(".contour-levels input")
    box.fill("-3, -2, 2, 3")                               # noise alone crosses ±2σ and ±3σ in any channel
    box.press("Enter")
    page.locator(".contour-draw button").click()
    levels = wait_until(lambda: (lv := contour_levels(page)) and len(lv) == 4 and lv, what="four contour levels")
    sigma = levels[3] / 3
    assert sigma > 0
    assert levels == pytest.approx([-3 * sigma, -2 * sigma, 2 * sigma, 3 * sigma], rel=1e-6)
    dash = page.evaluate(MODEL_DATA, ["cube-contours-source", "dash"])
    level = page.evaluate(MODEL_DATA, ["cube-contours-source", "level"])
    assert all((d == "dashed") == (lv < 0) for d, lv in zip(dash, level))
    assert "4 levels" in text(page, ".contour-status") and "× σ" in text(page, ".contour-status")
    first = page.evaluate(MODEL_DATA, ["cube-contours-source", "xs"])
    page.locator(".channel-forward button").click()        # "this channel": the contours follow it
    wait_until(lambda: page.evaluate(MODEL_DATA, ["cube-contours-source", "xs"]) != first, what="new contours")
    wait_until(lambda: "channel 257" in text(page, ".contour-status"), what="the status naming the new channel")
    page.locator(".contour-clear button").click()
    wait_until(lambda: not page.evaluate(MODEL_DATA, ["cube-contours-source", "xs"]), what="contours cleared")


def test_two_taps_draw_a_pv_line_and_its_diagram_has_axes_with_units(page, server):
    url, _ = server
    open_cube_page(page, url)
    open_tab(page, "PV slice")
    page.locator(".pv-draw button").click()
    wait_until(lambda: "Tap the start" in text(page, ".pv-status"), what="the draw mode")
    click_data(page, "cube-figure", 60, 40)
    wait_until(lambda: len(page.evaluate(MODEL_DATA, ["cube-pv-line-source", "x"])) == 1, what="the start point")
    time.sleep(0.6)                      # two clicks within Bokeh's double-tap time would be one double tap
    click_data(page, "cube-figure", 150, 100)
    pv = wait_until(lambda: page.evaluate(PV_IMAGE), timeout=30, what="the PV diagram")
    xs = page.evaluate(MODEL_DATA, ["cube-pv-line-source", "x"])
    ys = page.evaluate(MODEL_DATA, ["cube-pv-line-source", "y"])
    assert xs == pytest.approx([60, 150], abs=1.0) and ys == pytest.approx([40, 100], abs=1.0)
    length_px = np.hypot(xs[1] - xs[0], ys[1] - ys[0])
    assert pv["shape"] == [512, int(round(length_px)) + 1]           # every channel × about one sample per pixel
    assert pv["dw"] == pytest.approx((length_px + length_px / (pv["shape"][1] - 1)) * 2.8, rel=1e-3)  # 2.8″ pixels
    x_label, y_label, unit = page.evaluate(PV_LABELS)
    assert x_label == "Offset (arcsec)"
    assert y_label == "Velocity (optical, km/s)"                    # the demo cube's frequency axis: optical cz
    assert "Jy/beam" in unit
    assert page.evaluate(MODEL_DATA, ["spectrum-source", "flux"]) == []   # the taps drew the line, picked no pixel
    page.locator(".velocity-select select").select_option("radio")
    wait_until(lambda: page.evaluate(PV_LABELS)[1] == "Velocity (radio, km/s)", what="the radio velocity axis")


def test_pv_along_a_rotating_galaxys_major_axis_shows_its_velocity_gradient(page, server):
    url, root = server
    truth = QTable.read(root / "demo" / "hi_demo_truth.ecsv")
    galaxy = truth[truth["id"] == 1][0]                                   # the brightest disc wholly on the image
    wcs = WCS(fits.getheader(root / "demo" / "hi_demo.fits")).celestial
    x, y = wcs.world_to_pixel(SkyCoord(galaxy["ra"], galaxy["dec"]))
    pa = np.radians(galaxy["pa"].to_value("deg"))                        # receding side, East (−x) of North (+y)
    ux, uy = -np.sin(pa), np.cos(pa)
    half = 10.0
    open_cube_page(page, url)
    open_tab(page, "PV slice")
    ends = {"startx": x - half * ux, "starty": y - half * uy, "endx": x + half * ux, "endy": y + half * uy}
    for key, value in ends.items():
        box = page.locator(f".pv-{key} input")
        box.fill(f"{value:.2f}")
        box.press("Enter")
    width = page.locator(".pv-width input")
    width.fill("3")
    width.press("Enter")
    page.locator(".pv-compute button").click()
    pv = wait_until(lambda: page.evaluate(PV_IMAGE), timeout=30, what="the PV diagram")
    rows, cols = pv["shape"]
    data = np.array([np.nan if v is None else v for v in pv["values"]]).reshape(rows, cols)
    offsets = pv["x"] + (np.arange(cols) + 0.5) * pv["dw"] / cols
    velocities = pv["y"] + (np.arange(rows) + 0.5) * pv["dh"] / rows
    f0 = galaxy["central_freq"].to_value("Hz")
    v_sys = C_KMS * (1.420405752e9 / f0 - 1)
    window = np.abs(velocities - v_sys) < 0.6 * galaxy["w20"].to_value("km/s")

    def mean_velocity(side: np.ndarray) -> float:
        spectrum = np.clip(np.nanmean(data[:, side], axis=1), 0, None) * window
        return float((spectrum * velocities).sum() / spectrum.sum())

    approaching, receding = mean_velocity(offsets < -5), mean_velocity(offsets > 5)    # beyond ±5″ of the centre
    assert receding - approaching > 80                                   # km/s: the disc turns along the line
    assert approaching < v_sys < receding


def test_contours_of_a_fits_image_in_its_own_unit_and_one_off_the_grid_refused(page, server):
    url, root = server
    header = WCS(fits.getheader(root / "demo" / "hi_demo.fits")).celestial.to_header()
    header["BUNIT"] = "K"
    yy, xx = np.mgrid[:256, :256]
    blob = (5 * np.exp(-((xx - 128) ** 2 + (yy - 100) ** 2) / (2 * 6.0 ** 2))).astype(np.float32)
    (root / "overlay").mkdir(exist_ok=True)
    fits.writeto(root / "overlay" / "blob.fits", blob, header, overwrite=True)
    fits.writeto(root / "overlay" / "small.fits", blob[:200], header, overwrite=True)
    open_cube_page(page, url)
    open_tab(page, "Contours")
    page.locator(".contour-plane select").select_option("a FITS image")
    path = page.locator(".contour-path input")
    path.fill("overlay/small.fits")
    page.locator(".contour-mode .bk-btn", has_text="data units").click()
    box = page.locator(".contour-levels input")
    box.fill("1, 2")
    box.press("Enter")
    page.locator(".contour-draw button").click()
    banner = page.locator(".error-banner")
    banner.wait_for(state="visible")
    assert "The data has the wrong shape" in text(page, ".error-banner") and "reproject" in text(page, ".error-banner")
    path.fill("overlay/blob.fits")
    page.locator(".contour-draw button").click()
    levels = wait_until(lambda: contour_levels(page), what="contours of the FITS image")
    assert levels == [1.0, 2.0]                                            # typed in the image's own unit (K)
    assert "1, 2 K" in text(page, ".contour-status")
    xs = page.evaluate(MODEL_DATA, ["cube-contours-source", "xs"])
    ys = page.evaluate(MODEL_DATA, ["cube-contours-source", "ys"])
    level = page.evaluate(MODEL_DATA, ["cube-contours-source", "level"])
    outer = [k for k, lv in enumerate(level) if lv == 1.0]
    assert len(outer) == 1
    r = np.hypot(np.array(xs[outer[0]]) - 128, np.array(ys[outer[0]]) - 100)
    assert r == pytest.approx(6.0 * np.sqrt(2 * np.log(5)), abs=0.1)      # the analytic radius, in pixels
