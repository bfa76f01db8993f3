"""HI detection in overlapping tiles, so cubes larger than memory can be searched, in-process, in a local
pool of worker processes, or on a ``dask.distributed`` cluster, with a catalogue stitched without duplicates.

In this process every tile is sliced from the cube already open (its reader reads only the tile's voxels);
a spawned worker or a cluster node gets the file's path and opens it itself. Each tile is searched and keeps
the sources whose
centroid lies in its *core*: the tiles' cores partition the cube (boundaries in the middle of each
overlap), so a source seen by two tiles is kept once. The overlap (default 48 voxels) is wider than a
galaxy's spatial extent and most of a line's width, so a source cut by one tile is whole in the next.
A tile's own reliabilities rest on its few noise candidates, so it disc-fits (~0.4–1.3 s each) only the sources
above the score threshold and sends back the box of each less sure one, fitted once the whole cube's calibration
says it is worth it: on a 4.3 GB cube of noise the tiles had fitted ~150 noise candidates that the whole cube then
dropped (16.4 → 22.5 MB/s, ``python -m astroml_core.bench hi --big``).

A cube of at most :data:`ONE_PIECE_VOXELS` (the 512 × 256 × 256 demo cube) is searched as one piece in
this process, with no pool to start. Larger cubes are cut into :data:`DEFAULT_TILE` boxes, searched by
``workers`` processes (spawned, never forked: the app serves from threads). The tile is sized from the
baseline's measured peak, ~8 × the tile's float32 bytes above the process's own ~0.13 GB (a 256³ tile:
+0.52 GB; a 650 × 256 × 256 tile: +1.29 GB), so 2 workers stay within ~1.3 GB and the process tree
(the caller's ~0.3 GB included) under 2 GB.
"""
from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context

import numpy as np
from astropy.table import QTable, vstack

from ...data.cube import as_cube
from ...data.shown_paths import shown_path
from ...errors import AstroMLError
from .progress import Phases, Report, quiet, tile_costs

__all__ = ["Tile", "plan_tiles", "tiles_for", "default_workers", "detect_tile", "detect_tiled", "whole_cube_residuals",
           "DEFAULT_TILE", "DEFAULT_OVERLAP", "ONE_PIECE_VOXELS"]

DEFAULT_TILE = (176, 256, 256)       # channels, y, x: 46 MB of float32, ~0.65 GB peak per worker (baseline)
DEFAULT_OVERLAP = (48, 48, 48)
ONE_PIECE_VOXELS = 512 * 256 * 256   # the demo cube (128 MB): one tile, one process, no pool start-up


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


def tiles_for(shape: tuple[int, int, int], tile=DEFAULT_TILE, overlap=DEFAULT_OVERLAP) -> list[Tile]:
    """The tiles :func:`detect_tiled` searches: one piece when the default tile is asked for and the cube
    has at most :data:`ONE_PIECE_VOXELS`, else :func:`plan_tiles`."""
    if tuple(tile) == DEFAULT_TILE and int(np.prod(shape)) <= ONE_PIECE_VOXELS:
        tile = tuple(shape)
    return plan_tiles(tuple(shape), tile, overlap)


def default_workers(n_tiles: int) -> int:
    """Worker processes for ``n_tiles`` tiles: ``ASTROML_HI_WORKERS`` if set, else min(2, CPUs, tiles)."""
    env = os.environ.get("ASTROML_HI_WORKERS", "").strip()
    if env:
        try:
            wanted = int(env)
        except ValueError:
            raise AstroMLError(f"ASTROML_HI_WORKERS must be a whole number of processes, not '{env}'") from None
    else:
        wanted = min(2, os.cpu_count() or 1)
    return max(1, min(wanted, n_tiles))


def detect_tile(cube, method: str, tile: Tile, threshold: float | None = None,
                residuals: np.ndarray | None = None, defer_fits: bool = False, progress: Report = quiet) -> QTable:
    """Search one tile of ``cube``: an open :class:`~astroml_core.data.Cube` in this process, or its file's path
    on a worker process or cluster node (which opens it there); ``progress(fraction, text)`` hears of reading,
    loading the model and every phase of the search. ``residuals``: the tile's (ny, nx) sky pixels flagged by
    the whole-cube pre-pass (:func:`whole_cube_residuals`), None to let the tile flag its own. ``defer_fits``:
    the model's disc fits wait for the whole cube's reliabilities (one of several tiles)."""
    from ... import registry
    from .measure import geometry_of
    from .noise import robust_sigma

    n_voxels = int(np.prod(np.subtract(tile.stop, tile.start)))
    loaded = any(key[0] == "hi_unet" for key in registry._CACHE) if method == "model" else "scipy.stats" in sys.modules
    phases = Phases(progress, tile_costs(n_voxels, method, loaded))
    phases.start("read", "reading the cube")
    cube = as_cube(cube)
    (c0, y0, x0), (c1, y1, x1) = tile.start, tile.stop
    data = cube.subcube((c0, c1), (y0, y1), (x0, x1))
    geom = geometry_of(cube, noise=robust_sigma(data))
    if method == "baseline":
        phases.start("load", "loading the baseline finder")
        from .sofia import sofia_find

        table, _ = sofia_find(data, geom, origin=tile.start, progress=phases.start("search", "searching"))
        table["accepted"] = table["score"] >= (0.9 if threshold is None else threshold)
    else:
        from .model import config_from_card, model_find

        phases.start("load", "loading hi_unet")
        front, _ = registry.read_card("hi_unet")
        model = registry.load_model("hi_unet")
        table, _ = model_find(data, geom, model, config_from_card(front, threshold), origin=tile.start,
                              residuals=residuals, defer_fits=defer_fits, progress=phases.start("search", "searching"))
    centre = np.column_stack([np.asarray(table["chan"]), np.asarray(table["y"]), np.asarray(table["x"])]) \
        if len(table) else np.zeros((0, 3))
    out = table[_in_core(centre, tile)]
    if "noise_at" in table.meta:     # the tile's own noise candidates, for the whole cube's calibration
        out.meta["noise_at"] = table.meta["noise_at"][_in_core(table.meta["noise_at"][:, 1:], tile)]
    if "residual_spots" in table.meta:   # flagged continuum residuals (x, y): each tile reports its core's
        xy = np.asarray(table.meta["residual_spots"]).reshape(-1, 2)
        yx = np.column_stack([np.full(len(xy), tile.core_lo[0]), xy[:, 1], xy[:, 0]])
        out.meta["residual_spots"] = xy[_in_core(yx, tile)]
    return out


def _in_core(centre: np.ndarray, tile: Tile) -> np.ndarray:
    """Which (channel, y, x) positions lie in the tile's core (the cores partition the cube)."""
    return np.all((centre >= np.array(tile.core_lo) - 0.5) & (centre < np.array(tile.core_hi) - 0.5), axis=1)


def _calibrate_whole_cube(tables: list[QTable], n_voxels: int, threshold: float | None,
                          spots: np.ndarray | None = None) -> QTable:
    """One catalogue from the model's tiles, its reliabilities redone on every tile's noise candidates
    together: a cube searched in pieces is calibrated as one (and as it would be in one piece). ``spots``:
    residuals (x, y) the whole-cube pre-pass flagged, reported with the tiles' own."""
    from ...registry import read_card
    from .flagging import residual_note
    from .model import config_from_card, recalibrate

    noise = np.concatenate([t.meta.get("noise_at", np.zeros((0, 4)))[:, 0] for t in tables])
    spots = np.concatenate([np.zeros((0, 2)) if spots is None else np.reshape(spots, (-1, 2))] +
                           [np.reshape(t.meta.get("residual_spots", np.zeros((0, 2))), (-1, 2)) for t in tables])
    for t in tables:
        t.meta.clear()
    out = vstack(tables, metadata_conflicts="silent")
    out = recalibrate(out, noise, n_voxels, config_from_card(read_card("hi_unet")[0], threshold))
    if len(spots):     # tiles that share sky pixels (channel tiles, overlaps) report a spot once each
        spots = spots[[k for k in range(len(spots)) if not np.any(np.hypot(*(spots[:k] - spots[k]).T) < 8)]]
        out.meta["notes"].append(residual_note(spots))
        out.meta["residual_spots"] = [[round(float(x), 1), round(float(y), 1)] for x, y in spots]
    return out


def _fit_deferred(table: QTable, cube, threshold: float | None, progress: Report) -> QTable:
    """The disc fits and de-boosting the tiles deferred, for the whole cube's calibrated catalogue."""
    from ...registry import read_card
    from .measure import geometry_of
    from .model import config_from_card, finish_deferred

    return finish_deferred(table, geometry_of(cube, noise=1.0), config_from_card(read_card("hi_unet")[0], threshold),
                           progress)


def _client(address: str | None):
    address = address or os.environ.get("ASTROML_DASK_SCHEDULER")
    if not address:
        return None
    from distributed import Client

    return Client(address, set_as_default=False)


_QUEUE = None      # in a pool's worker process: where its tiles' progress goes (see _search_pool)


def _init_worker(method: str, queue=None) -> None:
    """One BLAS and one torch thread per worker process (the workers share the cores; more threads
    oversubscribe them); the baseline never loads torch (~0.18 GB per process). ``queue`` carries the
    tiles' progress back to the parent."""
    global _QUEUE
    _QUEUE = queue
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    if method != "baseline":
        import torch

        torch.set_num_threads(1)


def _search_reporting(search, k: int, path: str, method: str, tile: Tile, threshold: float | None,
                      residuals: np.ndarray | None = None) -> QTable:
    """``search`` tile ``k`` in a worker process, its progress sent to the parent as (k, fraction, text)."""
    def progress(fraction: float, text: str = "") -> None:
        if _QUEUE is not None:
            _QUEUE.put((k, fraction, text))

    return search(path, method, tile, threshold, progress=progress, residuals=residuals)


def _describe(k: int, tile: Tile) -> str:
    (c0, y0, x0), (c1, y1, x1) = tile.start, tile.stop
    return f"tile {k} (channels {c0}–{c1}, y {y0}–{y1}, x {x0}–{x1})"


class _TileProgress:
    """The search of ``n`` tiles as one report: the mean of the tiles' fractions, the latest tile's text."""

    def __init__(self, report: Report, n: int) -> None:
        self.report, self.fractions = report, np.zeros(n)

    def __call__(self, k: int, fraction: float, text: str = "") -> None:
        self.fractions[k] = max(self.fractions[k], min(float(fraction), 1.0))
        n = len(self.fractions)
        self.report(float(self.fractions.mean()), text if n == 1 else f"tile {k + 1} of {n}: {text}")


class _PhaseOnFirstCall:
    """A progress report that starts phase ``name`` when first called: the tiles' progress, which the pool only
    sends once its workers have flagged the whole band."""

    def __init__(self, phases: Phases, name: str, text: str = "searching"):
        self.phases, self.name, self.text, self.report = phases, name, text, None

    def __call__(self, fraction: float, text: str = "") -> None:
        if self.report is None:
            self.report = self.phases.start(self.name, self.text)
        self.report(fraction, text)


def _drain(queue, tiles: _TileProgress) -> None:
    """Pass on every progress message the workers have sent so far."""
    import queue as stdlib_queue

    while True:
        try:
            k, fraction, text = queue.get_nowait()
        except (stdlib_queue.Empty, OSError, ValueError):
            return
        tiles(k, fraction, text)


def _search_pool(path: str, method: str, tiles: list[Tile], threshold: float | None, workers: int,
                 progress: Report, search=detect_tile, flag: bool = False) -> tuple[list[QTable], np.ndarray | None]:
    """Search ``tiles`` in ``workers`` spawned processes: (tables in tile order, the whole-band residual map or
    None), progress as the tiles move. ``flag``: the residual pre-pass (:func:`whole_cube_residuals`) runs first,
    its sky blocks spread over the same workers."""
    tables: list[QTable | None] = [None] * len(tiles)
    context = get_context("spawn")
    queue = context.Queue()
    moved = _TileProgress(progress, len(tiles))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(method, queue)) as pool:
        residuals = whole_cube_residuals(path, tiles, method, map_blocks=pool.map) if flag else None
        flags = _tile_flags(residuals, tiles)
        futures = {pool.submit(_search_reporting, search, k, path, method, t, threshold, flags[k]): k
                   for k, t in enumerate(tiles)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                _drain(queue, moved)
                for future in sorted(done, key=futures.get):
                    k = futures[future]
                    exc = future.exception()
                    if exc is not None:
                        raise _tile_failed(path, _describe(k, tiles[k]), exc) from exc
                    tables[k] = future.result()
                    moved(k, 1.0, "searched")
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()    # stop tiles still running: the search has failed
            raise
    queue.close()      # only now: the workers have exited, their last messages flushed into the pipe
    return tables, residuals


def _tile_flags(residuals: np.ndarray | None, tiles: list[Tile]) -> list:
    """Each tile's (ny, nx) part of the residual map (None for all where there is none)."""
    return [None if residuals is None else residuals[t.start[1]:t.stop[1], t.start[2]:t.stop[2]] for t in tiles]


def detect_tiled(cube, method: str = "model", *, threshold: float | None = None, tile=DEFAULT_TILE,
                 overlap=DEFAULT_OVERLAP, scheduler: str | None = None, workers: int | None = None,
                 progress: Report = quiet) -> QTable:
    """Detect in tiles of ``cube`` (an open :class:`~astroml_core.data.Cube`, or a path), on the dask.distributed
    scheduler at ``scheduler`` (or ``ASTROML_DASK_SCHEDULER``) when given, else in ``workers`` local processes
    (default :func:`default_workers`; 1: in this process, from the open cube); returns one catalogue, ids
    renumbered, sorted by channel, the same whatever the workers.
    ``progress(fraction, text)`` hears of every phase of every tile (of whole tiles on a cluster)."""
    cube = as_cube(cube)
    path, shape = str(cube.path), cube.shape
    tiles = tiles_for(shape, tile, overlap)
    client = _client(scheduler)
    workers = default_workers(len(tiles)) if workers is None else max(1, min(int(workers), len(tiles)))
    defer = len(tiles) > 1      # one piece: its own reliabilities are the whole cube's, so it fits as it goes
    phases = Phases(progress, dict(flag=0.05, search=1.0, calibrate=0.005, characterise=0.05 if defer else 0.0,
                                   catalogue=0.005))
    phases.start("flag", "flagging continuum-subtraction residuals on the whole band")
    pooled = client is None and workers > 1
    residuals = None if pooled else whole_cube_residuals(cube, tiles, method)
    flags = _tile_flags(residuals, tiles)
    moved = _TileProgress(phases.start("search", "searching"), len(tiles)) if not pooled else None
    tables = []
    if client is not None:
        try:
            futures = client.map(partial(detect_tile, defer_fits=defer), [path] * len(tiles), [method] * len(tiles), tiles,
                                 [threshold] * len(tiles), flags, pure=False)
            for k, future in enumerate(futures):
                tables.append(client.gather(future))
                moved(k, 1.0, "searched on the cluster")
        finally:
            client.close()
    elif workers > 1:
        tables, residuals = _search_pool(path, method, tiles, threshold, workers, _PhaseOnFirstCall(phases, "search"),
                                         search=partial(detect_tile, defer_fits=defer), flag=True)
    else:
        for k, t in enumerate(tiles):
            tables.append(detect_tile(cube, method, t, threshold, progress=partial(moved, k), residuals=flags[k],
                                      defer_fits=defer))
    if method == "model":
        phases.start("calibrate", "calibrating reliabilities on the whole cube's noise candidates")
        from .flagging import spot_centres

        spots = None if residuals is None else spot_centres(residuals)
        out = _calibrate_whole_cube(tables, int(np.prod(shape)), threshold, spots)
        if defer:
            out = _fit_deferred(out, cube, threshold, phases.start("characterise", "characterising the sources"))
    else:
        out = vstack(tables, metadata_conflicts="silent")
    phases.start("catalogue", f"building the catalogue of {len(out)} sources")
    out.sort(["chan", "y", "x"])
    out["id"] = np.arange(len(out), dtype=np.int64)
    phases.report(1.0)
    return out


def whole_cube_residuals(cube, tiles: list[Tile], method: str, map_blocks=None) -> np.ndarray | None:
    """The cube's continuum-subtraction residual pixels (ny, nx), flagged on its whole band, when the model
    searches tiles too short in channels to tell a residual from a wide line (176 channels of 30 kHz are
    < 1,000 km/s + 64); None where each tile flags its own, or the band itself is too short. ``cube``: open, or
    its path; ``map_blocks``: how its sky blocks are flagged (:func:`.flagging.residual_map`)."""
    from .flagging import can_flag, residual_map
    from .measure import geometry_of
    from .model import flag_scales

    if method != "model":
        return None
    opened = as_cube(cube)
    sigma_px, channel_kms = flag_scales(geometry_of(opened, noise=1.0))
    if not can_flag(opened.shape[0], channel_kms) or all(can_flag(t.stop[0] - t.start[0], channel_kms) for t in tiles):
        return None
    return residual_map(cube, sigma_px, channel_kms, map_blocks=map_blocks)


def _tile_failed(path, where: str, exc: BaseException) -> AstroMLError:
    """The error for a tile whose search failed: the file as the user knows it and why, in words (a typed
    error's message; anything else only in the server's log, under a reference); the full path is kept
    on the error's ``path`` for logs (issue 34)."""
    if isinstance(exc, BrokenProcessPool):
        why = "its worker process died (out of memory?)"
    elif isinstance(exc, AstroMLError):
        why = str(exc)
    else:
        ref = os.urandom(3).hex()
        logging.getLogger(__name__).error("HI tile search failed in %s of %s (reference %s)", where, path, ref,
                                          exc_info=exc)
        why = f"an internal error (reference {ref}; the server's log has the details)"
    err = AstroMLError(f"HI detection failed in {where} of {shown_path(path)}: {why}")
    err.path = str(path)
    return err
