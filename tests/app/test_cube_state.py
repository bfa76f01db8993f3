"""The cube page's state without a browser: opening, bad files, maps, limits, readout, spectrum."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.hi import DEMO_CUBE, small_config, write_hi_cube
from tests.conftest import ramp_cube, sdc2_header, write_fits


@pytest.fixture
def page(data_root):
    """A CubePage over a private data root whose demo is a small simulated cube."""
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=9, config=small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def test_page_opens_the_demo_on_its_middle_channel(page):
    assert page.cube is not None and page.cube.n_channels == 96
    assert page.channel == 48
    assert "Channel <b>48</b> / 95" in page.channel_label.object
    np.testing.assert_array_equal(page.plane, page.cube.channel(48))


def test_a_bad_file_shows_the_error_and_keeps_the_open_cube(page, tmp_path):
    before = page.cube
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"SIMPLE  =                    T" + b"\xff" * 5000)
    page.open(junk, "junk")
    assert "Could not read the file" in page.banner.error_text
    assert page.cube is before
    page.source.open_demo()
    assert page.banner.error_text == ""


def test_map_around_shows_the_moment0_of_the_channel_window(page):
    page.channel = 30
    page.map_around(5)
    assert page.view == "Moment 0" and page.moment_channels == (25, 35)
    # Jy/beam·km/s, the radio default (issue 34)
    np.testing.assert_allclose(page.plane, page.cube.moment0((25, 35), velocity=True).value, rtol=1e-6,
                               equal_nan=True)
    assert "Moment 0 over channels 25–35" in page.channel_label.object


def test_custom_limits_are_used_and_a_reversed_pair_is_refused(page):
    page.limits = "custom"
    scale, _ = page.display_unit()
    page.param.update(vmin=-10.0, vmax=20.0)
    assert page.last_limits == pytest.approx((-10 / scale, 20 / scale))
    page.vmax = -20.0
    assert "upper colour limit" in page.banner.error_text
    page.vmax = 30.0                                        # fixed: the banner goes (issue 34: it stayed)
    assert page.banner.error_text == "" and page.last_limits == pytest.approx((-10 / scale, 30 / scale))


def test_pointer_readout_and_pixel_spectrum(page):
    page._pointer(10.2, 20.4)
    text = page.readout.object
    assert "pixel (10, 20)" in text and "Dec -30°" in text and "Jy/beam" in text
    page._tap_image(10.2, 20.4)
    assert page.pixel == (20, 10)
    data = page.spectrum_view.source.data
    assert len(data["flux"]) == page.cube.n_channels
    scale, _ = page.display_unit("Channel")
    np.testing.assert_allclose(data["flux"], page.cube.spectrum(20, 10) * scale, rtol=1e-6)


def test_a_pointer_off_the_frame_leaves_the_readout_and_pixel_alone(page):
    page._pointer(10.2, 20.4)
    before = page.readout.object
    page._pointer(float("nan"), float("nan"))       # Bokeh's move event as the pointer leaves the frame
    page._tap_image(float("nan"), 3.0)
    assert page.readout.object == before and page.pixel is None


def test_a_map_drawn_while_zoomed_in_is_whole_after_zooming_out(page):
    ny, nx = page.cube.shape[1:]
    page.image.centre_on(20, 20, half=5)
    page.view = "Peak"
    page.image.set_extent(ny, nx)
    page._ranges()
    data = page.image.source.data
    assert data["image"][0].shape == (ny, nx) and data["dw"] == [float(nx)] and data["dh"] == [float(ny)]


def test_tapping_the_spectrum_moves_to_the_nearest_channel(page):
    f = page.cube.frequencies.to_value("MHz")
    page._tap_spectrum(f[70] + 0.004)
    assert page.channel == 70


def test_cube_without_celestial_wcs_opens_in_pixels_with_a_warning(page, tmp_path):
    h = sdc2_header()
    h["CTYPE1"], h["CTYPE2"] = "", ""
    path = write_fits(tmp_path / "nowcs.fits", ramp_cube(), h)
    page.open(path, "nowcs")
    assert page.banner.error_text == ""
    assert page.banner._warning.visible and "pixel coordinates" in page.banner._warning.object
    assert page.image.fig.xaxis[0].axis_label == "x (pixel)"
    page._pointer(3, 4)
    assert "no sky WCS" in page.readout.object


@pytest.fixture
def bright_page(data_root):
    """A CubePage whose demo is a small field with bright sources (and its truth catalogue)."""
    from astroml_core.sim.hi import HICubeConfig

    cfg = HICubeConfig(nx=96, ny=96, n_channels=160, density_factor=8.0, particles=3000)
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=1003, truth_path=data_root / "demo" / "hi_demo_truth.ecsv",
                  config=cfg)
    from app.pages.cubes import CubePage

    return CubePage()


def test_detect_threshold_table_and_jump_to_a_source(bright_page):
    page, panel = bright_page, bright_page.detections
    assert panel.truth is not None
    panel.method = "baseline"
    panel.start()
    assert panel.catalogue is not None and len(panel.catalogue) >= 1
    assert len(panel.table.value) == len(panel.shown())
    panel.threshold = 1.0
    high = len(panel.table.value)
    panel.threshold = 0.0
    assert len(panel.table.value) == len(panel.catalogue) >= high
    row = panel.shown()[0]
    panel.show(row)
    assert page.channel == page.cube.channel_of(row["central_freq"])
    cut = panel.cutout.image.data["image"][0]
    assert 10 <= cut.shape[0] <= 33 and np.nanmax(cut) > 0      # the source's moment-0 cutout
    assert len(panel.cutout.ellipse.data["x"]) == 1
    assert len(page.image.sources.data["x"]) >= 1          # its ellipse is on this channel
    assert page.spectrum_view.w20[0].visible
    panel.show_truth = True
    assert "matched" in panel.status.object
    exported = panel._export(".ecsv").read().decode()
    assert "central_freq" in exported and "line_flux_integral" in exported
    from astropy.table import QTable
    table = QTable.read(exported, format="ascii.ecsv")
    assert table.meta["threshold"] == 0.0 and len(table) == len(panel.shown())   # the shown cut, not the finder's (issue 34)
    # the highlighted row follows the selected source as the threshold filters the table (issue 34)
    rows = panel.shown()
    k = int(np.argmin(np.asarray(rows["score"])))
    panel.table.selection = [k]                                   # a click on the least reliable source's row
    assert panel.source == int(rows[k]["id"])
    channel = page.channel
    page.channel = 0 if channel else 1
    panel.threshold = min(1.0, float(rows[k]["score"]) + 1e-3)    # filtered out: no row highlighted
    assert panel.table.selection == [] and panel.source == int(rows[k]["id"])
    panel.threshold = 0.0                                         # back: its row again, the channel left alone
    assert panel.table.selection == [k] and page.channel == (0 if channel else 1)


def test_compare_mode_draws_model_baseline_and_truth_in_status_colours(bright_page):
    from app.pages.cubes.detections import FALSE, MATCHED, MISSED

    page, panel = bright_page, bright_page.detections
    panel.method = "baseline"
    panel.start()
    panel.method = "model"
    assert panel.catalogue is None and panel.table.value is None        # the model has not run yet
    panel.start()
    assert set(panel.catalogues) == {"model", "baseline"}
    assert panel.threshold == panel.catalogue.meta["threshold"]         # the model's own default
    assert f"{panel.threshold:.2f} is the model finder's default cut" in panel.status.object   # the jump explained (issue 34)
    panel.show_truth = True
    assert "model: matched" in panel.status.object and "baseline: matched" in panel.status.object
    assert "dotted: baseline" in panel.legend.object
    row = panel.shown()[0]
    panel.show(row)                                                     # a channel where a source shines
    # what hi_unet sees in it: a signed attribution map around the source, concentrated inside it
    sal = panel.saliency.image.data["image"][0]
    assert sal.shape[0] >= 16 and np.abs(sal).max() > 0
    inside = float(panel.saliency.fig.title.text.split("(")[-1].split("×")[0])
    assert "hi_unet sees" in panel.saliency.fig.title.text and inside > 2
    assert panel.saliency.mapper.low == -panel.saliency.mapper.high
    # and as contours on the channel image, around the source
    seen = panel.seen.source.data
    assert seen["xs"] and "60% of peak" in seen["level"]
    inner = [k for k, lvl in enumerate(seen["level"]) if lvl == "60% of peak"]
    d = [np.hypot(np.mean(seen["xs"][k]) - float(row["x"]), np.mean(seen["ys"][k]) - float(row["y"])) for k in inner]
    assert min(d) < 6, d
    image = page.image
    assert set(image.sources.data["color"]) <= {MATCHED, FALSE} and image.sources.data["color"]
    assert set(image.truth.data["color"]) <= {MATCHED, MISSED} and image.truth.data["color"]
    panel.show_truth = False
    assert image.other.data["x"] == [] and image.truth.data["x"] == []
    assert all(c.startswith("#") and c not in (MATCHED, FALSE) for c in image.sources.data["color"])
    panel.method = "baseline"                                           # back: its catalogue, no re-run
    assert panel.catalogue.meta["method"] == "baseline" and panel.threshold == 0.9


def test_detections_go_to_vetting_and_are_voted_on_the_vetting_page(bright_page, logged_in):
    from astroml_core.vetting import decode_preview

    store = logged_in("ann", "admin")
    panel = bright_page.detections
    panel.method = "baseline"
    panel.start()
    cid = panel.send.send()
    cands = store.candidates(cid)
    assert len(cands) == len(panel.catalogue) >= 1 and store.campaign(cid).kind == "hi_source"
    p = decode_preview(cands[0].preview)
    assert np.nanmax(p["moment0"]) > 0 and p["frequency_mhz"].size == p["spectrum_mjy"].size > 3
    assert all(c.ref["file"].endswith("hi_demo.fits") for c in cands)

    from app.pages.vetting import VettingPage

    vet = VettingPage()
    assert vet.campaign == cid and vet.candidate == store.next_candidate(cid, "ann").id
    assert vet.preview.object is not None and not vet.buttons[0].disabled
    first = vet.candidate
    vet.cast("false")
    assert "Saved: <b>false</b>" in vet.ack.object
    assert [(v.user, v.label) for v in store.votes(first)] == [("ann", "false")]
    assert vet.candidate != first or len(cands) == 1
    vet.back()
    assert vet.candidate == first and "Majority: <b class='vet-majority'>false</b>" in vet.consensus.object
