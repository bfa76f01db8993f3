"""Data sources changed only when their columns change, and a player that waits for the browser's last frame."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource

from app.pages.cubes import player as player_module
from app.pages.cubes.player import Player
from app.components.sources import replace_data


def test_equal_columns_are_not_sent_again_and_any_change_is():
    src = ColumnDataSource(dict(x=[], y=[]))
    assert not replace_data(src, dict(x=[], y=[]))
    assert replace_data(src, dict(x=[1.0], y=[np.nan]))
    assert not replace_data(src, dict(x=np.array([1.0]), y=np.array([np.nan])))     # NaN equals NaN
    assert replace_data(src, dict(x=[1.0], y=[2.0]))
    assert replace_data(src, dict(x=[1.0], y=[2.0], z=[3]))                        # a new column
    img = ColumnDataSource(dict(image=[np.zeros((3, 3), np.float32)], xs=[[1, 2]]))
    assert not replace_data(img, dict(image=[np.zeros((3, 3), np.float32)], xs=[[1, 2]]))
    assert replace_data(img, dict(image=[np.eye(3, dtype=np.float32)], xs=[[1, 2]]))
    assert replace_data(img, dict(image=[np.eye(3, dtype=np.float32)], xs=[[1, 3]]))


def drawing_player() -> tuple[Player, ColumnDataSource, list]:
    """A player whose every step draws a new frame into ``frames``; ``sent`` counts the steps."""
    frames = ColumnDataSource(dict(image=[np.zeros((2, 2))]))
    sent = []

    def advance():
        sent.append(1)
        frames.data = dict(image=[np.full((2, 2), len(sent), float)])

    return Player(frames, advance), frames, sent


def test_the_player_sends_no_frame_while_the_last_is_undrawn(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(player_module.time, "monotonic", lambda: clock[0])
    p, frames, sent = drawing_player()
    p._tick()
    p._tick()                               # not drawn yet: no second frame
    assert len(sent) == 1
    frames.tags = [1]                       # the browser says it drew it
    p._tick()
    assert len(sent) == 2
    clock[0] += player_module._GIVE_UP_S + 0.1
    p._tick()                               # never acknowledged: go on after the give-up time
    assert len(sent) == 3


def test_a_step_that_draws_nothing_new_does_not_wait():
    frames = ColumnDataSource(dict(image=[np.zeros((2, 2))]))
    sent = []
    p = Player(frames, lambda: sent.append(1))         # a moment map: the image stays
    for _ in range(3):
        p._tick()
    assert len(sent) == 3


def test_a_frame_drawn_late_brings_the_next_at_once():
    p, frames, sent = drawing_player()
    p._stop, p._period_s = (lambda: None), 0.0       # playing, every frame due at once
    p._tick()
    frames.tags = [1]                                # drawn: the next frame goes without waiting for a tick
    assert len(sent) == 2
    p.stop()
    frames.tags = [2]                                # paused: a late acknowledgement sends nothing
    assert len(sent) == 2
