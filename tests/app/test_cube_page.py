"""The cube page in real Chromium: real clicks, drags and uploads, values read back from the page."""
from __future__ import annotations

import re
import time

import pytest

from astroml_core.bench.served import TO_SCREEN

pytestmark = pytest.mark.browser

# the demo cube: 512 channels of 30 kHz from 1134.5 MHz, 256 × 256 pixels
N_CHANNELS, F0_MHZ, DF_MHZ = 512, 1134.5, 0.03

MODEL_DATA = "([name, key]) => Array.from(Bokeh.documents[0].get_model_by_name(name).data[key])"


def wait_until(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def address(page) -> str:
    """The address bar's URL, read in the page: the page writes it on a timer once the view is still, and
    playwright's ``page.url`` learns of such a change only at its next call into the browser."""
    return page.evaluate("() => window.location.href")


def text(page, css_class: str) -> str:
    """Visible text of a Panel pane (its content lives in the element's shadow root)."""
    return page.locator(css_class).first.evaluate(
        "el => (el.shadowRoot ? el.shadowRoot.textContent : el.textContent) || ''")


def open_cube_page(page, url: str) -> None:
    page.goto(url + "/cubes")
    page.wait_for_selector(".channel-label >> text=MHz")


def channel_state(page) -> tuple[int, float]:
    """(channel, frequency in MHz) read from the channel label."""
    label = text(page, ".channel-label")
    m = re.search(r"Channel\s+(\d+)\s*/\s*\d+\s*·\s*([\d.]+)\s*MHz", label)
    assert m, label
    return int(m.group(1)), float(m.group(2))


def settled_channel(page) -> tuple[int, float]:
    """The channel state once it has stopped changing (a drag sends several updates)."""
    last = channel_state(page)
    for _ in range(50):
        time.sleep(0.4)
        now = channel_state(page)
        if now == last:
            return now
        last = now
    raise AssertionError("the channel label never settled")


def click_data(page, figure: str, x: float, y: float) -> None:
    sx, sy = page.evaluate(TO_SCREEN, [figure, x, y])
    page.mouse.click(sx, sy)


def test_dragging_the_channel_slider_changes_the_frequency_label(page, server):
    url, _ = server
    open_cube_page(page, url)
    ch0, f0 = channel_state(page)
    assert ch0 == N_CHANNELS // 2 and f0 == pytest.approx(F0_MHZ + ch0 * DF_MHZ, abs=1e-4)
    handle = page.locator(".channel-slider .noUi-handle")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    wait_until(lambda: channel_state(page)[0] != ch0, what="the channel to change")
    ch1, f1 = settled_channel(page)
    assert ch1 > ch0
    assert f1 == pytest.approx(F0_MHZ + ch1 * DF_MHZ, abs=1e-4)
    handle.focus()
    page.keyboard.press("ArrowLeft")   # one key at a time: under load a second press can land on a stale slider
    wait_until(lambda: channel_state(page)[0] == ch1 - 1, what="one channel back")
    page.keyboard.press("ArrowLeft")
    ch2, f2 = wait_until(lambda: (s := channel_state(page))[0] == ch1 - 2 and s, what="two channels back")
    assert f2 == pytest.approx(f1 - 2 * DF_MHZ, abs=1e-4)


def test_play_and_step_buttons_move_the_channel(page, server):
    url, _ = server
    open_cube_page(page, url)
    ch0, _ = channel_state(page)
    page.locator(".channel-forward button").click()
    wait_until(lambda: channel_state(page)[0] == ch0 + 1, what="one channel forward")
    page.locator(".channel-play button").click()
    wait_until(lambda: channel_state(page)[0] >= ch0 + 4, what="the player to advance")
    page.locator(".channel-play button").click()

    def still() -> bool:
        """The channel holds for 0.8 s (a player at 5 fps moves it in 0.2 s): a tick in flight when the pause
        landed may still arrive on a loaded machine, so wait for the channel to settle, not a fixed time."""
        before = channel_state(page)[0]
        time.sleep(0.8)
        return channel_state(page)[0] == before

    wait_until(still, timeout=10, what="the player to stop")


def test_clicking_a_pixel_shows_its_spectrum_and_clicking_the_spectrum_jumps_channel(page, server):
    url, _ = server
    open_cube_page(page, url)
    click_data(page, "cube-figure", 104, 50)
    flux = wait_until(lambda: page.evaluate(MODEL_DATA, ["spectrum-source", "flux"]), what="a spectrum")
    freq = page.evaluate(MODEL_DATA, ["spectrum-source", "freq"])
    assert len(flux) == len(freq) == N_CHANNELS
    assert freq[1] - freq[0] == pytest.approx(DF_MHZ, abs=1e-6)
    assert "pixel (104, 50)" in page.locator(".bk-Canvas").nth(1).evaluate(
        "() => Bokeh.documents[0].get_model_by_name('spectrum-figure').title.text")
    target = 1140.0
    spec_y = (max(flux) + min(flux)) / 2
    click_data(page, "spectrum-figure", target, spec_y)
    expected = round((target - F0_MHZ) / DF_MHZ)
    ch, f = wait_until(lambda: (s := channel_state(page))[0] != N_CHANNELS // 2 and s, what="the channel jump")
    assert abs(ch - expected) <= 1
    assert abs(f - target) <= DF_MHZ


def test_hover_readout_shows_sky_position_and_value_with_unit(page, server):
    url, _ = server
    open_cube_page(page, url)
    sx, sy = page.evaluate(TO_SCREEN, ["cube-figure", 128, 128])
    page.mouse.move(sx - 20, sy - 20)
    page.mouse.move(sx, sy, steps=5)
    readout = wait_until(lambda: (t := text(page, ".pointer-readout")) and "pixel (128, 128)" in t and t,
                         what="the readout at the centre pixel")
    assert re.search(r"RA 1[12]h[05]\dm\d\d\.\d\ds\s+Dec -[23]\d°\d\d′\d\d\.\d″", readout), readout
    assert re.search(r"value -?[\d.]+(e-?\d+)? [µm]?Jy/beam", readout), readout


def test_switching_limits_and_stretch_changes_the_colour_mapping(page, server):
    url, _ = server
    open_cube_page(page, url)

    def limits():
        """Colour limits in Jy/beam, whatever prefix the label uses."""
        label = text(page, ".limits-label")
        m = re.search(r"Colour limits\s+(-?[\d.e+-]+)\s+…\s+(-?[\d.e+-]+)\s+([µm]?)Jy/beam", label)
        assert m, label
        scale = {"": 1.0, "m": 1e-3, "µ": 1e-6}[m.group(3)]
        return float(m.group(1)) * scale, float(m.group(2)) * scale

    ticks = "() => Array.from(Bokeh.documents[0].get_model_by_name('cube-colorbar').ticker.ticks)"
    lo, hi = limits()
    page.locator(".limits-select select").select_option("min/max")
    lo2, hi2 = wait_until(lambda: (v := limits()) != (lo, hi) and v, what="new colour limits")
    assert lo2 < lo and hi2 > hi            # min/max is wider than the 99.9% interval
    page.locator(".limits-select select").select_option("zscale")
    lo3, hi3 = wait_until(lambda: (v := limits()) != (lo2, hi2) and v, what="zscale limits")
    assert lo2 < lo3 < hi3 < hi2
    linear_ticks = page.evaluate(ticks)
    page.locator(".stretch-select select").select_option("log")
    log_ticks = wait_until(lambda: (t := page.evaluate(ticks)) != linear_ticks and t, what="log colour bar")
    assert len(log_ticks) >= 2 and all(0 <= t <= 1 for t in log_ticks)
    wait_until(lambda: "log" in text(page, ".limits-label"), what="the label saying log")   # patched after the bar
    page.locator(".limits-select select").select_option("custom")
    vmax_box = page.locator(".vmax-input input")
    vmax_box.wait_for(state="visible")
    _, unit_hi = limits()
    vmax_box.fill(f"{float(vmax_box.input_value()) / 2:.4g}")
    vmax_box.press("Enter")
    _, hi4 = wait_until(lambda: (v := limits())[1] != unit_hi and v, what="the typed upper limit")
    assert hi4 == pytest.approx(unit_hi / 2, rel=1e-3)


def test_corrupt_upload_shows_the_error_then_the_demo_opens_again(page, server):
    url, _ = server
    open_cube_page(page, url)
    page.locator(".source-choice .bk-btn", has_text="Upload").click()
    junk = b"SIMPLE  =                    T / truncated garbage follows" + bytes(range(256)) * 20
    page.locator("input.filepond--browser").set_input_files(
        files=[{"name": "broken.fits", "mimeType": "application/fits", "buffer": junk}])
    banner = page.locator(".error-banner")
    banner.wait_for(state="visible")
    assert "Could not read the file" in text(page, ".error-banner") and "broken.fits" in text(page, ".error-banner")
    ch0, _ = channel_state(page)             # the cube that was open is still shown
    page.locator(".source-choice .bk-btn", has_text="Demo").click()
    page.locator(".open-demo button").click()
    banner.wait_for(state="hidden")
    page.locator(".channel-slider .noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    wait_until(lambda: channel_state(page)[0] == ch0 + 1, what="the slider to work after the error")


def test_server_path_outside_the_data_root_is_refused_and_inside_opens(page, server):
    url, root = server
    open_cube_page(page, url)
    page.locator(".source-choice .bk-btn", has_text="Server path").click()
    box = page.locator(".cube-path input")
    box.fill("../../etc/passwd")
    page.locator(".open-path button").click()
    banner = page.locator(".error-banner")
    banner.wait_for(state="visible")
    assert "That path cannot be opened" in text(page, ".error-banner") and "outside the data root" in text(page, ".error-banner")
    box.fill("demo/hi_demo.fits")
    page.locator(".open-path button").click()
    banner.wait_for(state="hidden")
    wait_until(lambda: "demo/hi_demo.fits" in text(page, ".page-title"), what="the cube's title")


def test_landing_page_links_to_the_cube_page(page, server):
    url, _ = server
    page.goto(url + "/")
    page.get_by_text("Open HI cubes").click()
    page.wait_for_selector(".channel-label >> text=MHz")
    assert page.url.split("?")[0].rstrip("/").endswith("/cubes")      # the view state follows in the query


def test_gipsy_cube_by_link_lists_its_header_repairs_and_the_bmmaj_beam(page, server, tmp_path):
    """A WSRT/GIPSY cube (DEGREE, NCP, VELO-HEL in m/s, BMMAJ/BMMIN arcsec) opened by ?file= under the data
    root: the page lists the repairs (escaped), shows the beam from BMMAJ, and the velocity choice relabels."""
    from tests.conftest import ramp_cube, write_fits
    from tests.core.test_cube_real_headers import gipsy_header

    url, root = server
    h = gipsy_header()
    h["BUNIT"] = "<i>JY/BEAM</i>"
    write_fits(root / "ngc2903_gipsy.fits", ramp_cube(12, 40, 48), h)
    page.goto(url + "/cubes?file=ngc2903_gipsy.fits")
    page.wait_for_selector(".channel-label >> text=MHz")
    wait_until(lambda: "ngc2903_gipsy.fits" in text(page, ".page-title"), what="the GIPSY cube's title")
    repairs = wait_until(lambda: text(page, ".header-repairs"), what="the header repairs list")
    assert "Header repairs" in repairs
    assert "CUNIT1 and CUNIT2 = 'DEGREE' read as deg" in repairs
    assert "CTYPE1 'RA---NCP' read as 'RA---SIN'" in repairs
    assert "CTYPE3 'VELO-HEL'" in repairs and "beam from BMMAJ/BMMIN (arcsec" in repairs
    assert "BUNIT = '<i>JY/BEAM</i>'" in repairs                     # shown as text, never as markup
    info = text(page, ".cube-info")
    assert "14.1″ × 12.3″" in info and "BMMAJ" in info
    assert "(optical)" in text(page, ".channel-label")
    page.locator(".velocity-select select").select_option("radio")
    wait_until(lambda: "(radio)" in text(page, ".channel-label"), what="the radio-convention label")
    wait_until(lambda: "velocity=radio" in address(page), what="the convention in the URL")
    page.screenshot(path=str(tmp_path / "gipsy_cube_page.png"), full_page=True)
    page.goto(url + "/cubes?file=ngc2903_gipsy.fits&velocity=relativistic")          # a shared link's choice
    wait_until(lambda: "(relativistic)" in text(page, ".channel-label"), what="the link's velocity convention")


def test_casa_cube_moment0_in_jy_km_s_per_pixel_from_the_unit_choice(page, server, tmp_path):
    """A CASA cube with a per-channel BEAMS table: the page says the beam varies, and the moment-0 unit choice
    'Jy·km/s per pixel' relabels the colour bar in Jy km/s (per-channel beams used; values tested in core)."""
    import shutil

    from tests.core.test_cube_real_headers import casa_cube

    url, root = server
    path, _ = casa_cube(tmp_path, [3.0, 4.0, 6.0, 9.0, 12.0, 20.0])
    shutil.copy(path, root / "casa_beams.fits")
    page.goto(url + "/cubes?file=casa_beams.fits")
    wait_until(lambda: "casa_beams.fits" in text(page, ".page-title"), what="the CASA cube's title")
    assert "varies per channel" in text(page, ".cube-info")
    page.locator(".view-choice .bk-btn", has_text="Moment 0").click()
    unit = page.locator(".moment-unit select")
    unit.wait_for(state="visible")
    unit.select_option(label="Jy·km/s per pixel")
    title = "() => Bokeh.documents[0].get_model_by_name('cube-colorbar').title"
    wait_until(lambda: "km" in (page.evaluate(title) or "") and "beam" not in page.evaluate(title),
               what="the colour bar in Jy km/s")
    wait_until(lambda: "flux=pixel" in address(page), what="the moment unit in the URL")
    page.screenshot(path=str(tmp_path / "casa_moment0.png"), full_page=True)
