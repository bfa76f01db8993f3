"""A spectral-major copy of a cube in memory, built on a background thread after the cube is opened.

A FITS cube is stored channel by channel, so a pixel's spectrum is one value in every plane: one read per
channel (512 on the demo cube, scattered over the file on a cold disk). Once the copy, shape (ny, nx,
n_channels) float32 in C order, is built, a spectrum is one contiguous slice and a moment-0 map one
matrix-vector product. Copies are shared per file by every session of the process and held within one
memory budget, ``ASTROML_SPECTRAL_COPY_MB`` (default 1024 MB): the least recently used copy goes first, and a
cube bigger than the whole budget gets none and is read from the file as before.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["SpectralCopy", "spectral_copy", "budget_bytes", "DEFAULT_BUDGET_MB"]

DEFAULT_BUDGET_MB = 1024
_BAND_BYTES = 32 * 2**20          # rows of every channel read at a time while building
_LOCK = threading.Lock()
_COPIES: OrderedDict[tuple, SpectralCopy] = OrderedDict()


def budget_bytes() -> int:
    """The memory the process may spend on spectral copies (``ASTROML_SPECTRAL_COPY_MB``, default 1024 MB)."""
    return int(float(os.environ.get("ASTROML_SPECTRAL_COPY_MB", DEFAULT_BUDGET_MB)) * 2**20)


class SpectralCopy:
    """The (ny, nx, n_channels) float32 copy of one cube; :attr:`ready` once :meth:`build` has finished."""

    def __init__(self, cube) -> None:
        n, ny, nx = cube.shape
        self.shape = (ny, nx, n)
        self.nbytes = 4 * n * ny * nx
        self.data: np.ndarray | None = None
        self.has_blank = False
        self.error: BaseException | None = None
        self._cube = cube
        self._done = threading.Event()

    @property
    def ready(self) -> bool:
        return self.data is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the build has ended (built or failed); True when the copy is ready."""
        self._done.wait(timeout)
        return self.ready

    def build(self) -> None:
        """Read the cube in bands of rows (all channels at once) and transpose each band into the copy."""
        cube, (ny, nx, n) = self._cube, self.shape
        try:
            out = np.empty(self.shape, np.float32)
            rows = max(1, _BAND_BYTES // (4 * n * nx))
            for y0 in range(0, ny, rows):
                y1 = min(ny, y0 + rows)
                band = cube.subcube((0, n), (y0, y1), (0, nx))
                out[y0:y1] = band.transpose(1, 2, 0)
                self.has_blank = self.has_blank or not bool(np.isfinite(band).all())
            self.data = out
        except Exception as exc:          # the plain reads still work: record why, serve from the file
            self.error = exc
        finally:
            self._cube = None
            self._done.set()

    def spectrum(self, y: int, x: int) -> np.ndarray:
        """The spectrum at pixel (y, x), a copy (callers may scale it in place)."""
        return self.data[y, x].copy()

    def integrate(self, channels: range, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Σ_c weight_c · value_c with blanks as 0, summed in float32; where any channel is finite) over ``channels``."""
        ny, nx, n = self.shape
        flat = self.data.reshape(ny * nx, n)[:, channels.start:channels.stop]
        w = np.asarray(weights[channels.start:channels.stop], np.float32)
        if not self.has_blank:
            return (flat @ w).reshape(ny, nx), np.ones((ny, nx), bool)
        finite = np.isfinite(flat)
        total = np.where(finite, flat, np.float32(0)) @ w
        return total.reshape(ny, nx), finite.any(axis=1).reshape(ny, nx)


def _key(cube) -> tuple:
    st = os.stat(cube.path)
    return str(cube.path), st.st_mtime_ns, st.st_size, tuple(cube.shape), cube._leads[0]


def spectral_copy(cube, *, budget: int | None = None, start: bool = True) -> SpectralCopy | None:
    """The copy of ``cube``'s file: the one built (or being built) already, else a new one whose build starts on
    a daemon thread (``start=False``: call :meth:`SpectralCopy.build` yourself). None when the cube alone is
    over the budget. Older copies are dropped, least recently used first, to keep the total within it."""
    budget = budget_bytes() if budget is None else budget
    n, ny, nx = cube.shape
    need = 4 * n * ny * nx
    if need > budget:
        return None
    key = _key(cube)
    with _LOCK:
        copy = _COPIES.get(key)
        if copy is not None and copy.error is None:
            _COPIES.move_to_end(key)
            return copy
        _COPIES.pop(key, None)
        while _COPIES and sum(c.nbytes for c in _COPIES.values()) + need > budget:
            _COPIES.popitem(last=False)
        copy = _COPIES[key] = SpectralCopy(cube)
    if start:
        threading.Thread(target=copy.build, name=f"spectral-copy {cube.path.name}", daemon=True).start()
    return copy
