"""A small class on one server: websocket students (Bokeh's protocol, as a browser speaks it) open a lesson
together, answer its questions and press Next to the end; every one must finish, each seeing its own
steps. The 30-student figures come from ``python -m tests.app.lesson_load`` (README)."""
from __future__ import annotations

import pytest

from app.lessons import lessons
from tests.app.lesson_load import run_class

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lesson", ["latent_space", "finding_hi"])
def test_a_class_of_eight_follows_a_lesson_to_the_end(server, lesson):
    url, _ = server
    summary = run_class(url, sessions=8, lesson=lesson, stagger=0.2, timeout=240)
    assert summary["errors"] == []
    assert summary["completed"] == 8
    assert summary["steps_measured"] == 8 * (len(lessons()[lesson].steps) - 1)
