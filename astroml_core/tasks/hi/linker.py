"""The linker: voxels of a detection mask → labelled sources, merging near neighbours, dropping specks."""
from __future__ import annotations

import mmap

import numpy as np
from scipy import ndimage

__all__ = ["grow", "link", "relabel", "label_cube"]

_SMALL_BYTES = 4 * 2**20


def label_cube(shape: tuple[int, ...]) -> np.ndarray:
    """A zeroed int32 label cube mapped in 4 KB pages. Labels are written only at their few voxels, but numpy
    advises 2 MB huge pages for big arrays, so scattered writes made every 2 MB resident: the demo cube's
    labels held 128 MB of memory for 8 MB written, twice per sign, the HI search's peak."""
    nbytes = int(np.prod(shape)) * 4
    if nbytes < _SMALL_BYTES:
        return np.zeros(shape, np.int32)
    pages = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(pages, np.int32).reshape(shape)


def grow(mask: np.ndarray, r_chan: int, r_px: int) -> np.ndarray:
    """Box dilation by (±r_chan, ±r_px, ±r_px), done axis by axis (much faster than a 3-D structure)."""
    out = mask.view(np.uint8)
    for axis, r in ((0, r_chan), (1, r_px), (2, r_px)):
        if r > 0:
            out = ndimage.maximum_filter1d(out, 2 * r + 1, axis=axis)
    return out.astype(bool)


def link(mask: np.ndarray, merge_chan: int, merge_px: int, min_chan: int, min_px: int) -> tuple[np.ndarray, int]:
    """Label mask voxels, merging those within (merge_chan, merge_px); keep sources spanning at least
    ``min_chan`` channels and ``min_px`` pixels. Returns (labels 1..n on mask voxels, n).

    The same sources, numbered alike, as labelling the box-dilated mask (:func:`grow`) with face
    connectivity, but worked out on the mask's voxels alone (a mask holds ~1e-4 of a cube's voxels,
    so no pass over the whole cube but the final write): two voxels join when their dilated boxes
    overlap or share a face, i.e. |Δ| ≤ 2r + 1 on every axis with equality on at most one.
    """
    flat = np.flatnonzero(mask)
    labels = label_cube(mask.shape)
    if flat.size == 0:
        return labels, 0
    coords = np.stack(np.unravel_index(flat, mask.shape), axis=1)
    radius = np.array([merge_chan, merge_px, merge_px])
    group = _groups(coords, radius)
    n_groups = int(group.max()) + 1
    n_chan = np.bincount(np.unique(group * mask.shape[0] + coords[:, 0]) // mask.shape[0], minlength=n_groups)
    plane = coords[:, 1] * mask.shape[2] + coords[:, 2]
    n_pix = np.bincount(np.unique(group * (mask.shape[1] * mask.shape[2]) + plane) // (mask.shape[1] * mask.shape[2]),
                        minlength=n_groups)
    # ndimage.label numbers the dilated mask's parts in raster order of their first voxel: the smallest
    # dilated-box corner among the part's voxels
    corner = np.ravel_multi_index(tuple(np.maximum(coords - radius, 0).T), mask.shape)
    first = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(first, group, corner)
    keep = np.flatnonzero((n_chan >= min_chan) & (n_pix >= min_px))
    keep = keep[np.argsort(first[keep], kind="stable")]
    lut = np.zeros(n_groups, np.int32)
    lut[keep] = np.arange(1, len(keep) + 1)
    labels.reshape(-1)[flat] = lut[group]
    return labels, len(keep)


# the 10 neighbouring cells in one half-space that touch a cell along an edge or a corner
_DIAGONALS = [o for o in np.ndindex(3, 3, 3) if sum(v != 1 for v in o) >= 2
              and next(v for v in o if v != 1) == 2]


def _groups(coords: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Group id (0..g-1) of each voxel (rows of ``coords``) under the linking rule of :func:`link`.

    Voxels are binned in cells of 2r + 1 on each axis, so a cell's voxels are all linked and only
    neighbouring cells can link: face neighbours through their facing extremes, edge and corner
    neighbours (not already joined) by checking their voxel pairs.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = 2 * radius + 1
    cell = coords // size + 1                          # ≥ 1: a neighbour's key never wraps
    dims = cell.max(axis=0) + 2
    steps = np.array([dims[1] * dims[2], dims[2], 1])
    key = cell @ steps
    order = np.argsort(key, kind="stable")
    ukey, start, inv = np.unique(key[order], return_index=True, return_inverse=True)
    sc = coords[order]
    n_cells = len(ukey)
    count = np.diff(np.r_[start, len(sc)])
    lo = np.minimum.reduceat(sc, start, axis=0)
    hi = np.maximum.reduceat(sc, start, axis=0)

    def neighbours(offset):
        want = ukey + offset @ steps
        j = np.minimum(np.searchsorted(ukey, want), n_cells - 1)
        a = np.flatnonzero(ukey[j] == want)
        return a, j[a]

    edges_a, edges_b = [], []
    for axis in range(3):
        offset = np.zeros(3, int)
        offset[axis] = 1
        a, b = neighbours(offset)
        touch = lo[b, axis] - hi[a, axis] <= size[axis]
        edges_a.append(a[touch])
        edges_b.append(b[touch])

    def components(ea, eb):
        ea, eb = np.concatenate(ea), np.concatenate(eb)
        graph = coo_matrix((np.ones(len(ea), np.int8), (ea, eb)), shape=(n_cells, n_cells))
        return connected_components(graph, directed=False)[1]

    comp = components(edges_a, edges_b)
    for o in _DIAGONALS:
        a, b = neighbours(np.array(o) - 1)
        apart = comp[a] != comp[b]
        a, b = a[apart], b[apart]
        if a.size:
            linked = _pairs_link(sc, start, count, a, b, size)
            edges_a.append(a[linked])
            edges_b.append(b[linked])
    comp = components(edges_a, edges_b)
    group = np.empty(len(coords), np.int64)
    group[order] = comp[inv]
    _, group = np.unique(group, return_inverse=True)
    return group


def _pairs_link(sc: np.ndarray, start: np.ndarray, count: np.ndarray, a: np.ndarray, b: np.ndarray,
                size: np.ndarray, chunk: int = 4_000_000) -> np.ndarray:
    """For cell pairs (a, b), whether any voxel of a links to any of b (all their voxel pairs, in chunks)."""
    out = np.zeros(len(a), bool)
    total = count[a] * count[b]
    cum = np.cumsum(total)
    first = 0
    while first < len(a):
        done = int(cum[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(cum, done + chunk, side="right")))
        sel = np.arange(first, last)
        first = last
        t = total[sel]
        pair = np.repeat(sel, t)
        within = np.arange(t.sum()) - np.repeat(np.cumsum(t) - t, t)
        nb = count[b[pair]]
        d = np.abs(sc[start[a[pair]] + within // nb] - sc[start[b[pair]] + within % nb])
        ok = (d <= size).all(axis=1) & ((d == size).sum(axis=1) <= 1)
        out[np.unique(pair[ok])] = True
    return out


def relabel(labels: np.ndarray, keep: list[int]) -> tuple[np.ndarray, int]:
    """Keep only the listed labels, renumbered 1..len(keep) in that order. Only labelled voxels are read and
    written: the new cube's untouched zero pages cost no memory (a whole-cube lookup held a second full int32
    cube, the HI search's peak)."""
    flat = np.flatnonzero(labels)
    values = labels.reshape(-1)[flat]
    lut = np.zeros(int(values.max()) + 1 if values.size else 1, np.int32)
    lut[np.asarray(keep, dtype=int)] = np.arange(1, len(keep) + 1)
    out = label_cube(labels.shape)
    out.reshape(-1)[flat] = lut[values]
    return out, len(keep)
