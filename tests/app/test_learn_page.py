"""Lessons in real Chromium: step through a whole lesson with Next, see each step change the page
(channel label, map, detections, selected source; a spectra selection count), get told a wrong answer."""
from __future__ import annotations

import re

import pytest

from tests.app.test_cube_page import channel_state, text, wait_until
from tests.app.test_vetting_page import shown

pytestmark = pytest.mark.browser


def _step(page) -> int:
    m = re.search(r"step (\d+) of (\d+)", shown(page, ".lesson-counter"))
    return int(m.group(1)) if m else -1


def _next(page, expected: int) -> None:
    page.locator(".lesson-next button").click()
    wait_until(lambda: _step(page) == expected, what=f"step {expected}")


def _answer(page, choice: str) -> str:
    page.locator(".lesson-choices label", has_text=choice).click()
    wait_until(lambda: not shown(page, ".lesson-feedback").strip(), what="the choice to clear the verdict")
    page.locator(".lesson-check button").click()
    wait_until(lambda: "✔" in shown(page, ".lesson-feedback") or "✘" in shown(page, ".lesson-feedback"),
               what="the verdict")
    return shown(page, ".lesson-feedback")


def test_finding_hi_lesson_from_first_to_last_step(server, page):
    url, _ = server
    page.goto(url + "/learn")
    page.locator(".lesson-start", has_text="8 steps").first.click()   # the lesson list links to each lesson
    wait_until(lambda: _step(page) == 1, timeout=40, what="the lesson")
    wait_until(lambda: "Channel 107" in text(page, ".channel-label"), what="step 1's channel")
    assert channel_state(page)[0] == 107
    _next(page, 2)
    _next(page, 3)
    wait_until(lambda: "Moment 0 over channels 90–124" in text(page, ".channel-label"), what="the moment-0 map")
    verdict = _answer(page, "Galaxies are brighter at the edges of the band")
    assert "Not quite" in verdict
    assert "Correct" in _answer(page, "noise only √N times")
    _next(page, 4)                                              # detect with hi_unet, on the server
    wait_until(lambda: "Sources" in text(page, ".detect-status") or "sources" in text(page, ".detect-status"),
               timeout=90, what="the detections")
    _next(page, 5)
    wait_until(lambda: "matched" in text(page, ".detect-status"), timeout=30, what="the comparison with the truth")
    assert "Correct" in _answer(page, "not in the truth catalogue")
    _next(page, 6)
    _next(page, 7)                                              # the first source: its channel, its cutout
    wait_until(lambda: page.locator(".hi-table .tabulator-row.tabulator-selected").count() == 1, timeout=30,
               what="the selected source")
    wait_until(lambda: "Moment 0 · source" in page.evaluate(
        "() => Array.from(Bokeh.documents[0]._all_models.values()).filter(m => m.type === 'Title')"
        ".map(t => t.text).join('|')"), what="its moment-0 cutout")
    _next(page, 8)
    assert "lesson complete" in shown(page, ".lesson-counter")
    # the counter and the button's state reach the browser in separate updates
    wait_until(lambda: page.locator(".lesson-next button").is_disabled(), what="Next disabled on the last step")
    page.locator(".lesson-restart button").click()
    wait_until(lambda: _step(page) == 1 and channel_state(page)[0] == 107, what="the restart")


def test_latent_space_lesson_selects_a_confusion_cell(server, page):
    url, _ = server
    page.goto(url + "/learn?lesson=latent_space&step=2")      # a link straight to step 3
    wait_until(lambda: _step(page) == 3, timeout=40, what="step 3")
    wait_until(lambda: "spectra selected" in text(page, ".selection-info"), timeout=120,
               what="the confusion cell's spectra")
    n = int(re.search(r"([\d,]+) spectra selected", text(page, ".selection-info")).group(1).replace(",", ""))
    assert n > 50 and "QSO_BROADLINE" in text(page, ".selection-info")
    _next(page, 4)
    wait_until(lambda: "No selection" in text(page, ".selection-info") or "0 spectra selected" in
               text(page, ".selection-info"), what="the cleared selection")
    page.locator(".lesson-lecturer input").check()
    wait_until(lambda: page.evaluate("() => document.documentElement.style.zoom") == "1.35", what="lecturer zoom")
