"""Honest progress for HI detection (issue 34: the bar sat at 80% while every source was characterised):
every phase reports as it moves, with a text saying which runs, the fraction never goes back and ends
at 1.0; merging accepted pieces on the mask's voxels gives the labels that dilating the cube gave."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

from astroml_core.data import open_cube
from astroml_core.sim.hi import HICubeConfig, write_hi_cube
from astroml_core.tasks.hi import detect
from astroml_core.tasks.hi.model import merge_parts
from astroml_core.tasks.hi.progress import Phases
from astroml_core.tasks.hi.tiled import detect_tiled, plan_tiles

SMALL = HICubeConfig(nx=96, ny=96, n_channels=160, density_factor=8.0, particles=3000)
TINY = HICubeConfig(nx=64, ny=64, n_channels=96, density_factor=60.0, particles=2000)
CHARACTERISING = re.compile(r"characterising source (\d+) of (\d+)")


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "cube.fits"
    write_hi_cube(path, 1003, None, SMALL)
    return path


def record(run):
    """(seconds since the start, fraction, text) of every progress call of ``run(progress)``, and the result."""
    calls, t0 = [], time.perf_counter()
    result = run(lambda f, text: calls.append((time.perf_counter() - t0, float(f), text)))
    return calls, result, time.perf_counter() - t0


def assert_honest(calls, wall: float, max_gap: float = 0.4) -> None:
    """Fractions in [0, 1], never going back, ending at 1.0; every call says what runs; no call waits longer
    than ``max_gap`` of the run's wall time after the one before."""
    fractions = [f for _, f, _ in calls]
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions), "progress went back"
    assert fractions[-1] == pytest.approx(1.0)
    assert all(text for _, _, text in calls)
    times = [0.0] + [t for t, _, _ in calls] + [wall]
    assert max(np.diff(times)) <= max_gap * wall, f"a {max(np.diff(times)):.2f} s gap in a {wall:.2f} s run"


def characterised(calls) -> list[tuple[float, int, int]]:
    """(fraction, k, n) of each "characterising source k of n" call."""
    return [(f, int(m.group(1)), int(m.group(2))) for _, f, text in calls if (m := CHARACTERISING.search(text))]


@pytest.mark.parametrize("method", ["model", "baseline"])
def test_detect_reports_every_phase_and_each_source_it_characterises(cube_path, method):
    from astroml_core.registry import load_model

    load_model("hi_unet")       # loaded once per process; that phase is timed by the demo-cube profile
    cube = open_cube(cube_path)
    calls, table, wall = record(lambda progress: detect(cube, method, progress=progress))
    assert_honest(calls, wall)
    fits = characterised(calls)
    n = fits[0][2] if fits else 0
    assert n >= 2, "the characterisation phase says nothing of its sources"
    assert [k for _, k, _ in fits] == list(range(1, n + 1))
    assert np.all(np.diff([f for f, _, _ in fits]) > 0), "the bar stands still while sources are characterised"
    assert fits[0][0] < 0.98 and fits[-1][0] < 1.0
    texts = " | ".join(text for _, _, text in calls)
    assert "smoothing and clipping: kernel 12 of 12" in texts and "building the catalogue" in texts
    if method == "model":
        assert re.search(r"hi_unet scoring candidates: \d+ of \d+", texts) and "noise candidates" in texts
        assert "calibrating reliabilities" in texts
    assert len(table) >= 1


def test_worker_processes_report_within_their_tiles(tmp_path):
    path = tmp_path / "tiny.fits"
    write_hi_cube(path, 1005, None, TINY)
    tiles = dict(tile=(96, 40, 40), overlap=(16, 16, 16))
    n_tiles = len(plan_tiles(open_cube(path).shape, **tiles))
    assert n_tiles >= 4
    calls, table, wall = record(lambda progress: detect_tiled(path, "baseline", workers=2, progress=progress, **tiles))
    fractions = [f for _, f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    inside = {round(f, 6) for _, f, text in calls if re.match(r"tile \d+ of \d+: (smoothing|characterising)", text)}
    assert len(inside) > 2 * n_tiles, "only whole tiles were reported"
    assert len(table) >= 2


def test_phases_share_what_is_left_and_never_go_back():
    seen = []
    phases = Phases(lambda f, text: seen.append((f, text)), dict(a=1.0, b=1.0, c=2.0))
    step = phases.start("a", "doing a")
    step(0.5)
    assert seen[-1] == (pytest.approx(0.125), "doing a")
    phases.cost(c=6.0)                        # c turns out dearer: b and c share what a leaves
    step = phases.start("b", "doing b")
    assert seen[-1][0] == pytest.approx(0.25)     # a's span ended where b begins
    step(1.0, "b done")
    assert seen[-1] == (pytest.approx(0.25 + 0.75 / 7), "b done")
    phases.cost(a=100.0)                      # a phase already run is not re-costed
    phases.start("c", "doing c")(0.5)
    assert seen[-1][0] == pytest.approx(0.25 + 0.75 / 7 + 0.5 * 0.75 * 6 / 7)
    phases.done()
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1] == (1.0, "done")


def _dilate_and_label(labels, accepted, r_chan, r_px):
    """merge_parts as it was: dilate the accepted voxels over the whole cube, label the parts."""
    from scipy import ndimage

    from astroml_core.tasks.hi.linker import grow

    n = int(labels.max())
    lut_acc = np.r_[False, np.asarray(accepted, bool)]
    merged, m = ndimage.label(grow(lut_acc[labels], r_chan, r_px))
    owner = np.zeros(n + 1, np.int64)
    inside = labels > 0
    owner[labels[inside]] = merged[inside]
    owner[1:][~lut_acc[1:]] = m + 1 + np.arange(int((~lut_acc[1:]).sum()))
    used, first = np.unique(owner[1:], return_index=True)
    used = used[np.argsort(first)]
    lut = np.zeros(int(owner.max()) + 1, np.int32)
    lut[used] = np.arange(1, len(used) + 1)
    return lut[owner][labels] * inside, [np.flatnonzero(owner[1:] == u) for u in used]


@pytest.mark.parametrize("seed", range(4))
def test_merging_on_the_mask_voxels_equals_dilating_the_cube(seed):
    rng = np.random.default_rng(seed)
    shape = (120, 40, 40)
    labels = np.zeros(shape, np.int32)
    for k in range(1, 41):                    # small boxes, many within 16 channels and a pixel of another
        c, y, x = rng.integers(0, 110), rng.integers(0, 37), rng.integers(0, 37)
        labels[c:c + rng.integers(1, 8), y:y + rng.integers(1, 4), x:x + rng.integers(1, 4)] = k
    n = int(labels.max())
    accepted = rng.random(n) < 0.7
    got_labels, got_parts = merge_parts(labels, accepted, 16, 1)
    want_labels, want_parts = _dilate_and_label(labels, accepted, 16, 1)
    assert len(got_parts) < n - 3, "the case merges too little to test"
    np.testing.assert_array_equal(got_labels, want_labels)
    assert len(got_parts) == len(want_parts)
    for a, b in zip(got_parts, want_parts):
        np.testing.assert_array_equal(a, b)
