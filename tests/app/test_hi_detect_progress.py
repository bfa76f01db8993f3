"""The HI panel while Detect runs, without a browser (issue 34: the bar sat at 80% for ~90 s with one
text): the status names the phase that runs and the bar only moves forward to the end."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import SimpleNamespace

import pytest

from astroml_core.sim.hi import DEMO_CUBE, HICubeConfig, write_hi_cube

PHASES = re.compile(r"smoothing and clipping: kernel \d+ of 12|hi_unet scoring (noise )?candidates: \d+ of \d+"
                    r"|characterising source \d+ of \d+")


@pytest.fixture
def page(data_root):
    """A CubePage whose demo is a small field with bright sources."""
    cfg = HICubeConfig(nx=96, ny=96, n_channels=160, density_factor=8.0, particles=3000)
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=1003, config=cfg)
    from app.pages.cubes import CubePage

    return CubePage()


class InstantDoc:
    """A served session's document that runs next-tick callbacks at once (the test is its event loop)."""

    session_context = SimpleNamespace(destroyed=False)

    @staticmethod
    def add_next_tick_callback(callback) -> None:
        callback()


def _served_relay(panel, monkeypatch):
    """Start Detect from the panel as when served: the job goes to the inference service and the runner's relay
    (captured here) would poll it on the session's loop; returns that relay, bound to an InstantDoc."""
    import panel as pn

    from app.components import jobs

    relays = []
    monkeypatch.setattr(jobs, "served", lambda: True)
    monkeypatch.setattr(pn.state, "execute", relays.append)
    panel.start()
    (relay,) = relays
    return partial(relay.func, InstantDoc(), *relay.args[1:])


def test_detect_status_names_each_phase_as_the_bar_moves(page, monkeypatch):
    from astroml_core.registry import load_model

    load_model("hi_unet")
    panel = page.detections
    statuses, bar = [], []
    panel.status.param.watch(lambda e: statuses.append(e.new), "object")
    panel.job.progress.param.watch(lambda e: bar.append(e.new), "value")
    relay = _served_relay(panel, monkeypatch)
    assert panel.busy and panel.job.cancel_button.visible and panel.detect_button.disabled
    # the relay polls the job every 0.25 s; on a thread of its own, as another test may have left this thread's
    # event loop running
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, relay()).result()
    assert statuses[0] == "Running model…"
    running = statuses[1:-1]                                         # the last is the finished summary
    named = {PHASES.search(s).group(0).split(":")[0].split(" source")[0] for s in running if PHASES.search(s)}
    assert len(named) >= 2, f"the status said only {sorted(set(running))}"
    assert all(re.search(r"… \d+%$", s) for s in running if PHASES.search(s))
    assert bar == sorted(bar) and len(set(bar)) >= 3
    assert "sources with reliability" in statuses[-1] and panel.catalogue is not None
    assert not panel.busy and not panel.job.progress.visible and not panel.detect_button.disabled
