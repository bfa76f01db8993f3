"""The browse benchmark without a browser: its verdict against issue 34's targets, its table, and a clear stop
when Chromium is missing."""
from __future__ import annotations

import pytest

from astroml_core.bench import browse


def _results(step_p95: float, pixel_p95: float, moment: float, fps: float, region: float | None) -> dict:
    return {"channel_step": {"n": 40, "timeouts": 0, "median_ms": step_p95 / 2, "p95_ms": step_p95},
            "pixel_spectrum": {"n": 20, "timeouts": 0, "p95_ms": pixel_p95, "first_click_ms": pixel_p95},
            "moment0_full": {"ms": moment}, "play": {"fps": fps, "updates": 20, "seconds": 5.0},
            "region_spectrum": {"ms": region}}


def test_each_target_passes_or_fails_on_its_own():
    good = browse._verdict(_results(140, 290, 900, 4.9, 450))
    assert good == {"channel_step_p95": True, "pixel_spectrum_p95": True, "moment0_full": True,
                    "region_spectrum": True, "play_fps": True}
    bad = browse._verdict(_results(160, 310, 1100, 3.8, None))
    assert bad == {"channel_step_p95": False, "pixel_spectrum_p95": False, "moment0_full": False,
                   "region_spectrum": None, "play_fps": False}


def test_a_timed_out_step_fails_the_p95():
    r = _results(100, 100, 100, 5.0, 100)
    r["channel_step"] = browse._stats([100.0, None, 120.0])
    assert r["channel_step"]["timeouts"] == 1 and r["channel_step"]["p95_ms"] is None
    assert browse._verdict(r)["channel_step_p95"] is False


def test_the_table_names_every_figure_and_its_verdict():
    r = _results(140, 290, 900, 4.9, None)
    r["pass"] = browse._verdict(r)
    table = browse._table(r)
    for words in ("channel step", "pixel → spectrum", "moment 0", "region spectrum", "play at 5 fps", "None"):
        assert words in table


def test_missing_chromium_is_said_plainly(monkeypatch, tmp_path):
    monkeypatch.setattr(browse, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(SystemExit, match="needs Chromium"):
        browse.run(tmp_path / "out.json")
