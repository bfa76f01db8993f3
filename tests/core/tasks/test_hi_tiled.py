"""Tiled HI detection: tiles whose cores partition the cube, the same catalogue in tiles as in one
piece, and the same catalogue on a dask.distributed LocalCluster of 2 workers as in-process."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.data import open_cube
from astroml_core.sim.hi import HICubeConfig, write_hi_cube
from astroml_core.tasks.hi import detect
from astroml_core.tasks.hi.tiled import detect_tiled, plan_tiles

SMALL = HICubeConfig(nx=96, ny=96, n_channels=160, density_factor=8.0, particles=3000)
TILES = dict(tile=(96, 64, 64), overlap=(32, 32, 32))


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiled") / "cube.fits"
    write_hi_cube(path, 1003, None, SMALL)
    return path


def accepted(table):
    return table[np.asarray(table["accepted"])]


@pytest.mark.parametrize("shape", [(160, 96, 96), (650, 1286, 1286), (7, 3, 500)])
def test_tile_cores_partition_the_cube(shape):
    tiles = plan_tiles(shape, (96, 64, 64), (32, 32, 32)) if shape[0] < 600 else plan_tiles(shape)
    counts = np.zeros(shape, np.uint8) if np.prod(shape) < 5e6 else None
    total = 0
    for t in tiles:
        assert all(0 <= a <= lo < hi <= b <= n for a, lo, hi, b, n in zip(t.start, t.core_lo, t.core_hi, t.stop, shape))
        total += int(np.prod(np.subtract(t.core_hi, t.core_lo)))
        if counts is not None:
            counts[tuple(slice(lo, hi) for lo, hi in zip(t.core_lo, t.core_hi))] += 1
    assert total == int(np.prod(shape))
    if counts is not None:
        assert (counts == 1).all()


def test_tiled_detection_finds_the_same_sources_as_one_piece(cube_path):
    cube = open_cube(cube_path)
    whole = accepted(detect(cube, "model"))
    tiled = accepted(detect(cube, "model", **TILES))
    assert len(plan_tiles(cube.shape, **TILES)) >= 4
    assert len(whole) >= 2 and len(tiled) == len(whole)
    for a, b in zip(np.sort(whole["central_freq"].value), np.sort(tiled["central_freq"].value)):
        assert abs(a - b) < 30e3


def test_local_cluster_of_two_workers_gives_the_in_process_catalogue(cube_path):
    distributed = pytest.importorskip("distributed")
    in_process = accepted(detect_tiled(cube_path, "model", **TILES))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_cluster = accepted(detect_tiled(cube_path, "model", scheduler=cluster.scheduler_address, **TILES))
    assert len(on_cluster) == len(in_process) >= 2
    for col in ("central_freq", "ra", "dec", "line_flux_integral", "w20"):
        np.testing.assert_allclose(np.asarray(on_cluster[col]), np.asarray(in_process[col]), rtol=1e-5)
