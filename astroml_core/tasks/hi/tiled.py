"""HI detection in overlapping tiles, so cubes larger than memory can be searched, in-process or on a
``dask.distributed`` cluster, with a catalogue stitched without duplicates.

Each tile is read from the file by its worker (only its voxels), searched, and keeps the sources whose
centroid lies in its *core*: the tiles' cores partition the cube (boundaries in the middle of each
overlap), so a source seen by two tiles is kept once. The overlap (default 48 voxels) is wider than a
galaxy's spatial extent and most of a line's width, so a source cut by one tile is whole in the next.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
from astropy.table import QTable, vstack

__all__ = ["Tile", "plan_tiles", "detect_tile", "detect_tiled", "DEFAULT_TILE", "DEFAULT_OVERLAP"]

DEFAULT_TILE = (512, 512, 512)       # channels, y, x: the demo cube is one tile; ≤ ~3 GB peak per tile
DEFAULT_OVERLAP = (48, 48, 48)


@dataclass(frozen=True)
class Tile:
    """Voxels [start, stop) per axis (channel, y, x) to read, and the core [lo, hi) whose sources it keeps."""

    start: tuple[int, int, int]
    stop: tuple[int, int, int]
    core_lo: tuple[int, int, int]
    core_hi: tuple[int, int, int]


def _axis(n: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(start, stop, core_lo, core_hi) of the tiles along one axis."""
    if n <= size:
        return [(0, n, 0, n)]
    step = size - overlap
    starts = sorted(set(list(range(0, n - size, step)) + [n - size]))
    stops = [s + size for s in starts]
    bounds = [0] + [(stops[k] + starts[k + 1]) // 2 for k in range(len(starts) - 1)] + [n]
    return [(s, e, bounds[k], bounds[k + 1]) for k, (s, e) in enumerate(zip(starts, stops))]


def plan_tiles(shape: tuple[int, int, int], tile=DEFAULT_TILE, overlap=DEFAULT_OVERLAP) -> list[Tile]:
    """Overlapping tiles covering a cube of ``shape``, their cores partitioning it."""
    axes = [_axis(n, min(t, n), o) for n, t, o in zip(shape, tile, overlap)]
    return [Tile((c[0], y[0], x[0]), (c[1], y[1], x[1]), (c[2], y[2], x[2]), (c[3], y[3], x[3]))
            for c in axes[0] for y in axes[1] for x in axes[2]]


def detect_tile(path: str, method: str, tile: Tile, threshold: float | None = None,
                progress: Callable[[float], None] = lambda f: None) -> QTable:
    """Search one tile of the cube at ``path`` (runs on any worker: it opens the file itself)."""
    from ...data import open_cube
    from .measure import geometry_of
    from .noise import robust_sigma

    cube = open_cube(path)
    (c0, y0, x0), (c1, y1, x1) = tile.start, tile.stop
    data = cube.subcube((c0, c1), (y0, y1), (x0, x1))
    geom = geometry_of(cube, noise=robust_sigma(data))
    if method == "baseline":
        from .sofia import sofia_find

        table, _ = sofia_find(data, geom, origin=tile.start, progress=progress)
        table["accepted"] = table["score"] >= (0.9 if threshold is None else threshold)
    else:
        from ...registry import load_model, read_card
        from .model import config_from_card, model_find

        front, _ = read_card("hi_unet")
        table, _ = model_find(data, geom, load_model("hi_unet"), config_from_card(front, threshold),
                              origin=tile.start, progress=progress)
    centre = np.column_stack([np.asarray(table["chan"]), np.asarray(table["y"]), np.asarray(table["x"])]) \
        if len(table) else np.zeros((0, 3))
    inside = np.all((centre >= np.array(tile.core_lo) - 0.5) & (centre < np.array(tile.core_hi) - 0.5), axis=1)
    return table[inside]


def _client(address: str | None):
    address = address or os.environ.get("ASTROML_DASK_SCHEDULER")
    if not address:
        return None
    from distributed import Client

    return Client(address, set_as_default=False)


def detect_tiled(path, method: str = "model", *, threshold: float | None = None, tile=DEFAULT_TILE,
                 overlap=DEFAULT_OVERLAP, scheduler: str | None = None,
                 progress: Callable[[float], None] = lambda f: None) -> QTable:
    """Detect in tiles, on the dask.distributed scheduler at ``scheduler`` (or ``ASTROML_DASK_SCHEDULER``)
    when given, else in this process; returns one catalogue, ids renumbered, sorted by channel."""
    from ...data import open_cube

    shape = open_cube(path).shape
    tiles = plan_tiles(shape, tile, overlap)
    client = _client(scheduler)
    tables = []
    if client is None:
        for k, t in enumerate(tiles):
            tables.append(detect_tile(str(path), method, t, threshold,
                                      progress=lambda f, k=k: progress((k + f) / len(tiles))))
    else:
        try:
            futures = client.map(detect_tile, [str(path)] * len(tiles), [method] * len(tiles), tiles,
                                 [threshold] * len(tiles), pure=False)
            for k, future in enumerate(futures):
                tables.append(client.gather(future))
                progress((k + 1) / len(tiles))
        finally:
            client.close()
    out = vstack(tables, metadata_conflicts="silent")
    out.sort(["chan", "y", "x"])
    out["id"] = np.arange(len(out), dtype=np.int64)
    return out

