"""The inference page's state class alone (no widgets): a lightcone's row kept inside it, a stale posterior
refused, the status's headline, and galaxies of one universe narrowing the Ω_m curves and interval."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.lightcone import DEMO_LIGHTCONES, ensure_demo_lightcones
from astroml_core.tasks.inference import open_lightcone


def _state(**params):
    from app.pages.inference.state import InferenceState

    return InferenceState(**params)


def test_a_lightcone_bounds_the_row_and_a_stale_posterior_is_refused(tmp_path):
    ensure_demo_lightcones(tmp_path)
    names = list(DEMO_LIGHTCONES)
    first, second = (open_lightcone(tmp_path / name) for name in names[:2])
    state = _state(row=1000)
    state.take_lightcone(first)
    n = first.tb.shape[1]
    assert state.row == n - 1 and state.param.row.bounds == (0, n - 1)
    assert state.side_title() == f"δT_b along the line of sight, row x = {(n - 1) * first.cell_mpc:.0f} Mpc"
    state.take_lightcone(second)
    samples = np.zeros((7, 6))
    assert not state.take_posterior(first, samples) and state.samples is None      # first's posterior came late
    assert state.take_posterior(second, samples) and state.samples is samples
    side = n * second.cell_mpc
    assert state.posterior_headline() == f"Posterior: 7 samples from the whole {side:.0f} × {side:.0f} Mpc box"


def test_added_galaxies_narrow_the_omega_m_interval_and_each_gets_a_curve():
    state = _state()
    state.load_universe()
    assert state.interval_html() == "Select a galaxy in the table and add it" and state.omega_curves()["xs"] == []
    state.galaxies = [3, 999]                                   # 999 is not in this universe: ignored
    assert state.galaxy_ids() == [3]
    one = state.combined((3,)).interval("omega_m")
    assert "<b>1 galaxy</b> (3)" in state.interval_html() and f"{one[1]:.3f}" in state.interval_html()
    state.galaxies = list(range(1, 9))
    lo, med, hi = state.combined(tuple(range(1, 9))).interval("omega_m")
    assert hi - lo < one[2] - one[0] and abs(med - state.universe_truth["omega_m"]) < 0.08
    curves = state.omega_curves()
    assert curves["label"] == [f"{k} galaxies" for k in range(3, 9)] and curves["color"][-1] == "#08306b"
    assert all(np.isclose(y.max(), 1) for y in curves["ys"])
    peak = curves["xs"][-1][np.argmax(curves["ys"][-1])]
    assert peak == pytest.approx(med, abs=0.03)
