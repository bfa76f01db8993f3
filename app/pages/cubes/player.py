"""A channel player that never outruns the browser: the next frame goes only when the last one was drawn."""
from __future__ import annotations

import time
from typing import Callable

from bokeh.models import ColumnDataSource, CustomJS

from ...components.locking import every

__all__ = ["Player"]

_GIVE_UP_S = 2.0       # a frame not drawn by then (tab hidden, lost message): go on anyway


class Player:
    """Calls ``advance`` every ``period`` ms while playing, but not while the last frame is in flight.

    The browser acknowledges each new ``frames`` data after painting it (it counts up the source's ``tags``);
    frames sent faster than the browser draws them would queue and keep arriving after Pause."""

    def __init__(self, frames: ColumnDataSource, advance: Callable[[], None]) -> None:
        self._advance, self._frames = advance, frames
        self._stop: Callable[[], None] | None = None
        self._sent_at: float | None = None            # when the frame in flight went (None: none in flight)
        self._last_sent, self._period_s = 0.0, 0.2
        frames.tags = [0]
        frames.js_on_change("data", CustomJS(args=dict(source=frames), code=(
            "requestAnimationFrame(() => setTimeout(() => { source.tags = [(source.tags[0] || 0) + 1]; }, 0));")))
        frames.on_change("tags", lambda attr, old, new: self._drawn())

    @property
    def playing(self) -> bool:
        return self._stop is not None

    def start(self, period_ms: int) -> None:
        """Play from the next tick on (outside a served session there is no clock: nothing happens)."""
        self.stop()
        self._sent_at, self._period_s = None, period_ms / 1000
        self._stop = every(self._tick, int(period_ms))

    def restart(self, period_ms: int) -> None:
        """A new speed while playing."""
        if self.playing:
            self.start(period_ms)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _tick(self) -> None:
        if self._sent_at is not None and time.monotonic() - self._sent_at < _GIVE_UP_S:
            return                                            # the last frame is not drawn yet
        before = self._frames.data
        self._last_sent = time.monotonic()
        self._advance()
        # a moment map stays while the channel moves: no new frame, nothing to wait for
        self._sent_at = self._last_sent if self._frames.data is not before else None

    def _drawn(self) -> None:
        """The browser drew the last frame: the next goes now if it is already due, not at the next tick."""
        self._sent_at = None
        if self.playing and time.monotonic() - self._last_sent >= self._period_s:
            self._tick()
