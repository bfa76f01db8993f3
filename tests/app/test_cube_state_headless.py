"""The cube page's state (CubeState) driven headless: no widgets, no figures, no page built."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astroml_core.constants import C_KMS
from astroml_core.data import open_cube
from astroml_core.errors import AstroMLError
from tests.conftest import ramp_cube, sdc2_header, write_fits


@pytest.fixture
def state(tmp_path):
    """A CubeState over a 10-channel ramp cube in mJy-sized Jy/beam (1100 MHz + 30 kHz per channel)."""
    from app.pages.cubes.state import CubeState

    path = write_fits(tmp_path / "ramp.fits", ramp_cube() * 1e-3, sdc2_header())
    s = CubeState()
    s.load(open_cube(path))
    return s


def test_the_state_holds_no_widgets_and_opens_on_the_middle_channel(state):
    import panel as pn

    assert not any(isinstance(v, (pn.viewable.Viewable, pn.widgets.Widget)) for v in vars(state).values())
    assert state.channel == 5 and state.moment_channels == (0, 9) and state.pixel is None
    assert state.param.channel.bounds == (0, 9)


def test_channel_and_frequency_go_both_ways(state):
    assert state.frequency_mhz(3) == pytest.approx(1100.09)
    assert state.channel_at(1100.09 + 0.004) == 3
    state.channel = 7
    assert state.frequency_mhz() == pytest.approx(1100.21)


def test_steps_wrap_round_and_windows_are_cut_to_the_cube(state):
    state.step(+7)
    assert state.channel == 2
    state.step(-3)
    assert state.channel == 9
    assert state.window(2) == (7, 9)
    state.channel = 1
    assert state.window(3) == (0, 4)


def test_a_view_change_asks_for_a_map_whose_key_follows_unit_and_convention(state):
    assert state.map_ready()
    state.view = "Moment 0"
    assert not state.map_ready()
    key = state.map_key()
    assert key[:3] == ("Moment 0", (0, 9), "beam")
    state.velocity = "radio"
    assert state.map_key()[3] == "radio" and state.map_key() != key
    state.moment_unit = "native"
    assert state.map_key()[2:4] == ("", "")
    state.moment_unit = "beam"
    state.take_plane()
    assert state.map_ready()
    np.testing.assert_allclose(state.plane, state.cube.moment0((0, 9), velocity=True, convention="radio").value,
                               rtol=1e-5)


def test_units_are_scaled_for_the_plane_shown(state):
    state.take_plane()
    assert state.display_unit() == (1e3, "mJy/beam")
    assert state.shown_unit(u.Jy / u.beam) == (1e3, "mJy/beam")
    text = state.readout_text(3.2, 4.4)
    assert "pixel (3, 4)" in text and f"{state.plane[4, 3] * 1e3:.6g} mJy/beam" in text
    assert state.readout_text(99, 4) is None and state.inside(float("nan"), 1.0) is None


def test_custom_limits_are_read_in_the_shown_unit_and_a_reversed_pair_refused(state):
    state.take_plane()
    assert state.given_limits() == (None, None)
    state.param.update(limits="custom", vmin=-1.0, vmax=4.0)
    assert state.given_limits() == pytest.approx((-1e-3, 4e-3))
    state.vmax = -2.0
    with pytest.raises(AstroMLError, match="upper colour limit"):
        state.given_limits()
    state.view = "Peak"                          # custom limits belong to one kind of map
    assert state.limits == "99.5%"


def test_a_source_is_placed_at_its_channel_with_its_w20_band(state):
    sky = state.cube.world(0, 4.0, 6.0).sky
    nu = state.cube.frequencies[6].to(u.Hz)
    row = QTable(dict(ra=[sky.ra], dec=[sky.dec], central_freq=[nu], w20=[60.0] * u.km / u.s))[0]
    channel, x, y, (lo, hi) = state.source_place(row)
    assert channel == 6 and (x, y) == pytest.approx((6.0, 4.0), abs=1e-6)
    half = 60.0 * nu.value ** 2 / (C_KMS * state.cube.rest_frequency.to_value(u.Hz)) / 2 / 1e6
    assert (lo, hi) == pytest.approx((nu.value / 1e6 - half, nu.value / 1e6 + half))
    assert state.nearest_pixel(x + 0.4, 100.0) == (11, 6)


def test_the_map_runner_hands_back_maps_and_errors_and_spins_only_for_the_latest():
    from types import SimpleNamespace

    from app.pages.cubes.map_runner import MapRunner

    pane, got, failed = SimpleNamespace(loading=False), [], []
    runner = MapRunner(lambda key: 10 // key[0], lambda key, q: got.append((key, q)), failed.append, pane)
    runner.start((2,))                                  # unserved: made at once
    assert got == [((2,), 5)] and runner.pending is None and not pane.loading
    runner.start((0,))
    assert isinstance(failed[0], ZeroDivisionError) and runner.pending is None
    runner.pending = (4,)                               # a newer map is still coming
    runner._spin((2,))
    assert not pane.loading
    runner._spin((4,))
    assert pane.loading
