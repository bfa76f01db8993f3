"""The inference page in real Chromium: a demo lightcone's corner plot with every parameter labelled and
the truth drawn; another lightcone moves the truth markers; a second galaxy shrinks the Ω_m interval;
a corrupt upload is refused with a message; a lightcone unlike the training simulator gets the
misspecification warning just above the corner plot, and a demo lightcone none."""
from __future__ import annotations

import re

import numpy as np
import pytest

from astroml_core.sim.lightcone import DEMO_LIGHTCONES, PARAMETERS
from tests.app.test_cube_page import address, text, wait_until

pytestmark = pytest.mark.browser

AXIS_LABELS = """() => Array.from(Bokeh.documents[0]._all_models.values())
  .filter(m => m.type && m.type.endsWith('Axis') && m.axis_label).map(m => m.axis_label)"""
TRUTH = "(name) => { const s = Bokeh.documents[0].get_model_by_name(name); return s && s.visible ? s.location : null; }"
HIST = "(name) => Array.from(Bokeh.documents[0].get_model_by_name(name).data.top || []).length"
INTERVAL = re.compile(r"(\d+) galax\w+ .*?Ω_m = ([\d.]+), 68 % interval ([\d.]+) – ([\d.]+)")


def open_demo(page, name: str) -> None:
    page.locator(".cube-source select").first.select_option(name)
    page.locator(".open-demo button").click()
    wait_until(lambda: name in text(page, ".page-title"), timeout=30, what=f"{name} to open")


def test_corner_plot_labels_truth_and_switching_lightcones_moves_the_truth(page, server):
    url, _ = server
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    labels = set(page.evaluate(AXIS_LABELS))
    for p in PARAMETERS:                       # every parameter labelled, with its unit where it has one
        assert any(label.startswith(p.label) and (not p.unit or f"[{p.unit}]" in label) for label in labels), p.label
    assert page.evaluate(HIST, "posterior-1d-omega_m") == 40
    first = wait_until(lambda: page.evaluate(TRUTH, "truth-x-omega_m"), what="truth marker")
    name, (params, _) = "lightcone_high_omega_m.fits", DEMO_LIGHTCONES["lightcone_high_omega_m.fits"]
    open_demo(page, name)
    moved = wait_until(lambda: (v := page.evaluate(TRUTH, "truth-x-omega_m")) and abs(v - first) > 0.03 and v,
                       timeout=60, what="the truth marker to move")
    assert moved == pytest.approx(params["omega_m"])
    assert page.evaluate(TRUTH, "truth-x-e0") == pytest.approx(params["e0"])
    summary = text(page, ".posterior-summary")
    assert "Ω_m" in summary and f"{params['omega_m']:.4g}" in summary


def test_adding_a_second_galaxy_shrinks_the_omega_m_interval(page, server):
    url, _ = server
    page.goto(url + "/inference")
    page.locator(".inference-tabs .bk-tab").nth(1).click()
    rows = page.locator(".galaxy-table .tabulator-row")
    rows.first.wait_for(timeout=30_000)
    widths = []
    for k in range(2):
        rows.nth(k).click()
        page.locator(".add-galaxy button").click()
        m = wait_until(lambda: (v := INTERVAL.search(text(page, ".omega-interval"))) and int(v.group(1)) == k + 1 and v,
                       timeout=60, what=f"the interval from {k + 1} galaxies")
        lo, hi = float(m.group(3)), float(m.group(4))
        assert lo < float(m.group(2)) < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0]
    wait_until(lambda: "galaxies=" in address(page), what="the galaxies in the link")      # the state is in the link
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('omega-m-curves').data.xs.length") == 2


def test_a_corrupt_lightcone_upload_is_refused_and_the_page_goes_on(page, server, tmp_path):
    url, _ = server
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b"\0" * 200)
    page.locator(".source-choice button", has_text="Upload").click()
    page.locator(".cube-upload input[type=file]").set_input_files(str(bad))
    wait_until(lambda: "Could not read the file" in text(page, ".error-banner"), timeout=30, what="the error banner")
    assert page.evaluate(TRUTH, "truth-x-omega_m") is not None      # the open lightcone is still shown


OFF_DISTRIBUTION = "offdist_lightcone.fits"


def _off_distribution_lightcone(root) -> str:
    """A demo lightcone made unlike the training simulator: δT_b × 8 plus Gaussian noise of rms 300 mK (fixed
    seed), written into the served data root; returns its path relative to the root."""
    from astropy.io import fits

    path = root / OFF_DISTRIBUTION
    if not path.exists():
        with fits.open(root / "demo" / "lightcone_fiducial.fits") as hdul:
            cube = hdul[0].data.astype("float64")
            hdul[0].data = (8 * cube + np.random.default_rng(32).normal(0, 300, cube.shape)).astype(hdul[0].data.dtype)
            hdul.writeto(path)
    return OFF_DISTRIBUTION


CORNER_BOX = """(name) => { const r = Bokeh.index.find_one(Bokeh.documents[0].get_model_by_name(name)).el
  .getBoundingClientRect(); return {x: r.left, y: r.top, width: r.width, height: r.height}; }"""


def test_an_off_distribution_lightcone_is_flagged_just_above_the_corner_plot_with_its_score(page, server):
    from astroml_core.tasks.inference import lightcone_posterior, open_lightcone

    url, root = server
    name = _off_distribution_lightcone(root)
    meta = lightcone_posterior(open_lightcone(root / name), n_samples=1000).meta
    assert meta.get("in_distribution") is False, "the core's check does not flag δT_b × 8 + 300 mK noise"
    page.goto(f"{url}/inference?file={name}")
    wait_until(lambda: name in text(page, ".page-title"), timeout=60, what=f"{name} to open")
    warning = page.locator(".applicability-warning")
    warning.wait_for(state="visible", timeout=90_000)
    said = text(page, ".applicability-warning")
    check = meta["applicability"]
    assert "Off-distribution" in said and f"score {check['score']:.3g} > threshold {check['threshold']:.3g}" in said, said
    box, corner = warning.bounding_box(), page.evaluate(CORNER_BOX, "corner-0-0")    # the corner plot's first panel
    assert 0 <= corner["y"] - (box["y"] + box["height"]) < 60, (box, corner)          # just above the corner plot,
    assert box["x"] < corner["x"] + corner["width"] and corner["x"] < box["x"] + box["width"]   # over its columns
    assert "Off-distribution" in text(page, ".inference-status")


def test_a_demo_lightcone_shows_no_off_distribution_warning(page, server):
    url, _ = server
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    assert not page.locator(".applicability-warning").is_visible()
    status = text(page, ".inference-status")
    assert "Off-distribution" not in status and "In distribution" in status, status
