"""The inference page in real Chromium: a demo lightcone's corner plot with every parameter labelled and
the truth drawn; another lightcone moves the truth markers; a second galaxy shrinks the Ω_m interval;
a corrupt upload is refused with a message."""
from __future__ import annotations

import re

import pytest

from astroml_core.sim.lightcone import DEMO_LIGHTCONES, PARAMETERS
from tests.app.test_cube_page import text, wait_until

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
    assert "galaxies=" in page.url                       # the state is in the link
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('omega-m-curves').data.xs.length") == 2


def test_a_corrupt_lightcone_upload_is_refused_and_the_page_goes_on(page, server, tmp_path):
    url, _ = server
    page.goto(url + "/inference")
    page.wait_for_selector(".inference-status >> text=/Posterior: \\d/", timeout=90_000)
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b"\0" * 200)
    page.locator(".source-choice button", has_text="Upload").click()
    page.locator(".cube-upload input[type=file]").set_input_files(str(bad))
    wait_until(lambda: "InvalidFITSError" in text(page, ".error-banner"), timeout=30, what="the error banner")
    assert page.evaluate(TRUTH, "truth-x-omega_m") is not None      # the open lightcone is still shown
