"""The inference page without a browser: opening lightcones (and refusing bad ones), galaxies added one
by one, the URL-able state, and the posterior lesson driving the page step by step."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.lightcone import DEMO_LIGHTCONES, ensure_demo_lightcones


@pytest.fixture
def inference(data_root):
    ensure_demo_lightcones(data_root / "demo")
    from app.pages.inference import InferencePage

    return InferencePage()


def test_the_demo_opens_with_a_posterior_and_its_truth(inference):
    page = inference
    assert page.data is not None and page.samples is not None and page.samples.shape == (10_000, 6)
    assert page.data.name == "lightcone_fiducial.fits" and set(page.source.demo_select.options) == set(DEMO_LIGHTCONES)
    assert page.file.startswith("demo/")
    truth = page.data.truth["omega_m"]
    assert page.corner.truth[0]["height"][0].location == pytest.approx(truth)
    assert "truth in 95 %" in page.summary.object


def test_a_bad_file_leaves_the_open_lightcone_and_says_why(inference, data_root):
    page = inference
    before = page.data
    bad = data_root / "bad.fits"
    bad.write_bytes(b"not fits at all")
    page.open(bad, "bad")
    assert page.data is before
    assert page.banner._error.visible and "Could not read the file" in page.banner._error.object


def test_a_lightcone_wider_than_the_training_box_is_read_whole_and_the_page_warns_of_its_calibration(inference, data_root):
    from astroml_core.sim.lightcone import FIDUCIAL, LightconeConfig, simulate_lightcone, write_lightcone
    page = inference
    wide = data_root / "wide.fits"
    write_lightcone(wide, simulate_lightcone(FIDUCIAL, seed=5, config=LightconeConfig(n_cells=52)))
    page.open(wide, "wide")
    assert page.data.name == "wide.fits" and page.samples.shape == (10_000, 6)
    assert "from the whole 208 × 208 Mpc box" in page.status.object
    assert "⚠ This lightcone is 208 Mpc wide, wider than the model was trained on (128–192 Mpc)" in page.status.object
    assert not page.banner._error.visible


def test_galaxies_added_one_by_one_narrow_the_interval_and_a_new_universe_clears_them(inference):
    page = inference
    page.galaxies = [1]
    one = page.interval.object
    page.galaxies = [1, 2, 3, 4]
    four = page.interval.object
    width = lambda html: float(html.split("om-width'>")[1].split("<")[0])  # noqa: E731
    assert width(four) < width(one)
    assert len(page.curves.data["xs"]) == 4
    page.universe = list(page.param.universe.objects)[1]
    assert page.galaxies == [] and page.curves.data["xs"] == []
    assert page.truth_span.location == pytest.approx(0.40)


def test_posterior_lesson_runs_on_the_inference_page(data_root):
    ensure_demo_lightcones(data_root / "demo")
    from app.pages.learn import LearnPage

    learn = LearnPage(lesson="reading_posteriors")
    page = learn.target
    assert page.data.name == "lightcone_fiducial.fits" and learn._pending == []
    learn.go(3)
    assert page.data.name == "lightcone_high_omega_m.fits" and page.samples is not None
    assert page.data.truth["omega_m"] == pytest.approx(0.38)
    learn.go(4)
    assert page.tab == 2 and page.tabs.active == 2 and "lesson complete" in learn.counter.object
    assert np.isfinite(page.samples).all()
    assert learn.answer(learn.current.steps[4].question.answer) and not learn.answer("too narrow (overconfident)")


def _width(interval_html: str) -> float:
    return float(interval_html.split("om-width'>")[1].split("<")[0])


def test_one_galaxy_lesson_adds_galaxies_and_switches_universe(data_root):
    from app.pages.learn import LearnPage

    learn = LearnPage(lesson="one_galaxy")
    page = learn.target
    assert page.tab == 1 and page.galaxies == [1] and learn._pending == []
    one = _width(page.interval.object)
    learn.go(2)
    assert page.galaxies == [1, 2] and _width(page.interval.object) < one
    learn.go(3)
    assert "8 galaxies" in page.interval.object and _width(page.interval.object) < one
    assert page.truth_span.location == pytest.approx(0.25)
    learn.go(4)
    assert page.universe.startswith("Universe B") and page.galaxies == list(range(1, 9))
    assert page.truth_span.location == pytest.approx(0.40)
    median = float(page.interval.object.split("om-median'>")[1].split("<")[0])
    assert abs(median - 0.40) < 0.05                      # the posterior followed the new universe
    learn.go(5)
    assert page.tab == 2 and "lesson complete" in learn.counter.object
    assert not learn.answer("so that the galaxies can be combined")


def test_a_link_to_a_later_step_and_back_set_the_page_as_the_lesson_has_it(data_root):
    """A link to step 4 applies the settings of steps 1–4 (galaxies tab, universe A); Back from universe B's
    step returns to universe A with its eight galaxies."""
    from app.pages.learn import LearnPage

    learn = LearnPage(lesson="one_galaxy", step=3)
    page = learn.target
    assert page.tab == 1 and page.universe.startswith("Universe A") and page.galaxies == list(range(1, 9))
    learn.go(4)
    assert page.universe.startswith("Universe B") and page.truth_span.location == pytest.approx(0.40)
    learn.go(3)
    assert page.universe.startswith("Universe A") and page.galaxies == list(range(1, 9))
    assert page.truth_span.location == pytest.approx(0.25)


def test_the_lightcone_note_says_where_e0_is_read_from_the_card():
    """The sentence beside the corner plot follows the shipped card's E₀ finding, and goes when E₀ is
    constrained over the whole prior."""
    from app.pages.inference.state import e0_note as _e0_note
    from astroml_core.registry import read_card

    e0 = read_card("lightcone_flow")[0]["held_out_e0"]
    note = _e0_note(e0)
    assert note.startswith("E₀ is read only below 700 eV") and f"carry {e0['information_above_split']} information" in note
    low = min(r["half_width"] for r in e0["by_range"] if r["low"] >= 700)
    assert f"half-widths ≥ {low:.0f} eV" in note
    assert _e0_note(dict(e0, information_above_split="constrained")) == ""
