"""Lessons without a browser: every shipped lesson is valid for its page; stepping through one sets the
page's state and runs its actions; questions tell a wrong answer from a right one."""
from __future__ import annotations

import pytest

from app.lessons import LessonError, lessons, load_lesson
from app.pages.spec import page_spec
from astroml_core.sim.hi import DEMO_CUBE, HICubeConfig, write_hi_cube


def test_every_lesson_uses_only_what_its_page_offers():
    shipped = lessons()
    assert {"finding_hi", "deblending_bias", "latent_space"} <= set(shipped)
    assert [lesson.page for lesson in shipped.values()][:3] == ["cubes", "deblend", "spectra"]
    for lesson in shipped.values():
        spec = page_spec(lesson.page)
        params = set(spec.factory.param)
        for k, step in enumerate(lesson.steps):
            assert set(step.set) <= params, (lesson.slug, k, set(step.set) - params)
            assert {name for name, _ in step.do} <= set(spec.actions), (lesson.slug, k)
        assert sum(s.question is not None for s in lesson.steps) >= 2


def test_a_broken_lesson_file_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\npage: cubes\nsteps:\n  - title: a\n    text: b\n    question: {prompt: p, "
                   "choices: [a, b], answer: c}\n")
    with pytest.raises(LessonError, match="bad.yaml step 1: a question needs"):
        load_lesson(bad)


@pytest.fixture
def learn(data_root):
    cfg = HICubeConfig(nx=96, ny=96, n_channels=320, density_factor=8.0, particles=3000)
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=1003, truth_path=data_root / "demo" / "hi_demo_truth.ecsv",
                  config=cfg)
    from app.pages.learn import LearnPage

    return LearnPage(lesson="finding_hi")


def test_stepping_through_finding_hi_changes_the_cube_page(learn):
    page = learn.target
    assert learn.step == 0 and page.channel == 107 and "step 1 of 8" in learn.counter.object
    assert learn.back.disabled and not learn.next.disabled
    learn.go(2)
    assert page.view == "Moment 0" and page.moment_channels == (90, 124) and learn.question.visible
    assert not learn.answer(learn.current.steps[2].question.choices[0])
    assert "Not quite" in learn.feedback.object
    assert learn.answer(learn.current.steps[2].question.answer) and "Correct" in learn.feedback.object
    learn.go(3)                                     # Detect with the model (runs here and now: not served)
    assert page.view == "Channel" and page.detections.catalogue is not None and learn._pending == []
    learn.go(4)
    assert page.detections.show_truth and "matched" in page.detections.status.object
    learn.go(6)
    assert page.detections.source is not None and page.channel == page.cube.channel_of(
        page.detections.shown()[0]["central_freq"])
    learn.go(99)
    assert learn.step == 7 and learn.next.disabled and "lesson complete" in learn.counter.object
    learn.lecturer = True
    assert learn.zoom.zoom > 1
