"""Lazy readers of image planes from a FITS HDU: only the bytes asked for are read.

Plain FITS files are read with ``os.pread`` at computed offsets, so browsing a 4 GB cube never maps
it into the process (RSS stays flat) and threads never share a file position. Anything else
(tile-compressed or gzipped files) goes through astropy's lazy ``section``.
"""
from __future__ import annotations

import os
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

__all__ = ["PlaneReader", "PreadReader", "SectionReader"]


@dataclass(frozen=True)
class _Scaling:
    """FITS BSCALE/BZERO/BLANK applied per read, so nothing forces a whole-cube scaling pass."""

    bscale: float = 1.0
    bzero: float = 0.0
    blank: int | None = None

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Raw stored values → float32 physical values, BLANK and non-finite kept as NaN."""
        out = raw.astype(np.float32)
        if self.blank is not None and raw.dtype.kind in "iu":
            out[raw == self.blank] = np.nan
        if self.bscale != 1.0 or self.bzero != 0.0:
            out = out * np.float32(self.bscale) + np.float32(self.bzero)
        return out


class PlaneReader(ABC):
    """Reads 2-D planes and pixel columns of an N-D FITS array whose last two axes are (y, x).

    ``lead`` is the numpy index of the plane in the leading axes (e.g. ``(stokes, channel)``).
    """

    shape: tuple[int, ...]

    @abstractmethod
    def plane(self, lead: tuple[int, ...]) -> np.ndarray:
        """One (ny, nx) plane as float32."""

    @abstractmethod
    def column(self, leads: list[tuple[int, ...]], y: int, x: int) -> np.ndarray:
        """The value at (y, x) of each plane in ``leads``, float32."""

    def block(self, leads: list[tuple[int, ...]]) -> np.ndarray:
        """Several planes stacked, shape (len(leads), ny, nx)."""
        return np.stack([self.plane(lead) for lead in leads])

    def rows(self, lead: tuple[int, ...], y0: int, y1: int) -> np.ndarray:
        """Rows y0..y1-1 of one plane (all x)."""
        return self.plane(lead)[y0:y1]


class PreadReader(PlaneReader):
    """Positional reads from an uncompressed FITS data segment starting at byte ``offset``."""

    def __init__(self, path: str, offset: int, shape: tuple[int, ...], dtype: np.dtype,
                 scaling: _Scaling) -> None:
        self.path, self.offset, self.shape = path, offset, shape
        self.dtype = np.dtype(dtype).newbyteorder(">")
        self.scaling = scaling
        self._fd = os.open(path, os.O_RDONLY)
        self._plane_bytes = shape[-1] * shape[-2] * self.dtype.itemsize

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    def _plane_offset(self, lead: tuple[int, ...]) -> int:
        flat = int(np.ravel_multi_index(lead, self.shape[:-2])) if lead else 0
        return self.offset + flat * self._plane_bytes

    def plane(self, lead: tuple[int, ...]) -> np.ndarray:
        buf = os.pread(self._fd, self._plane_bytes, self._plane_offset(lead))
        raw = np.frombuffer(buf, dtype=self.dtype).reshape(self.shape[-2:])
        return self.scaling.apply(raw)

    def block(self, leads: list[tuple[int, ...]]) -> np.ndarray:
        offsets = [self._plane_offset(lead) for lead in leads]
        contiguous = all(b - a == self._plane_bytes for a, b in zip(offsets, offsets[1:]))
        if not contiguous:
            return super().block(leads)
        buf = os.pread(self._fd, self._plane_bytes * len(leads), offsets[0])
        raw = np.frombuffer(buf, dtype=self.dtype).reshape((len(leads),) + self.shape[-2:])
        return self.scaling.apply(raw)

    def rows(self, lead: tuple[int, ...], y0: int, y1: int) -> np.ndarray:
        row_bytes = self.shape[-1] * self.dtype.itemsize
        buf = os.pread(self._fd, row_bytes * (y1 - y0), self._plane_offset(lead) + y0 * row_bytes)
        return self.scaling.apply(np.frombuffer(buf, dtype=self.dtype).reshape(y1 - y0, self.shape[-1]))

    def column(self, leads: list[tuple[int, ...]], y: int, x: int) -> np.ndarray:
        item = self.dtype.itemsize
        pix = (y * self.shape[-1] + x) * item
        raw = b"".join(os.pread(self._fd, item, self._plane_offset(lead) + pix) for lead in leads)
        return self.scaling.apply(np.frombuffer(raw, dtype=self.dtype))


class SectionReader(PlaneReader):
    """Reads through astropy's ``hdu.section`` (tile-compressed or gzipped files).

    Raw integers come back unscaled (the file is opened with ``do_not_scale_image_data``), so ``scaling``
    is applied to them here; floats (and tile-compressed quantised floats, which astropy restores) are
    taken as they are. A file that ends early or holds corrupt tiles raises a typed error naming ``name``.
    """

    def __init__(self, hdu, name: str = "the file", scaling: _Scaling | None = None) -> None:
        self.hdu, self.name = hdu, name
        self.scaling = scaling or _Scaling()
        self.shape = tuple(hdu.shape)

    def _read(self, key) -> np.ndarray:
        """``hdu.section[key]`` as float32 physical values, with read failures turned into typed errors."""
        from ..errors import InvalidFITSError, TruncatedFITSError

        try:
            raw = np.asarray(self.hdu.section[key])
        except (EOFError, zlib.error) as exc:
            raise TruncatedFITSError(f"{self.name} ends before the data its header announces (a compressed stream "
                                     f"cut short: {_flat(exc)}); copy or download it again") from None
        except (OSError, ValueError, IndexError, TypeError, KeyError) as exc:
            raise InvalidFITSError(f"{self.name}: its compressed data cannot be read ({_flat(exc)}); the file is "
                                   "truncated or corrupt: copy it again, or check it with fitsverify") from None
        if raw.dtype.kind in "iu":
            return self.scaling.apply(raw)
        return raw.astype(np.float32, copy=False)

    def plane(self, lead: tuple[int, ...]) -> np.ndarray:
        return self._read(lead)

    def column(self, leads: list[tuple[int, ...]], y: int, x: int) -> np.ndarray:
        return np.array([self._read(lead + (y, x)) for lead in leads], dtype=np.float32).reshape(len(leads))


def _flat(exc: BaseException) -> str:
    """An exception's message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


def scaling_from_header(header) -> _Scaling:
    """The BSCALE/BZERO/BLANK of a header (BLANK only matters for integer data)."""
    blank = header.get("BLANK")
    return _Scaling(float(header.get("BSCALE", 1.0)), float(header.get("BZERO", 0.0)),
                    int(blank) if blank is not None else None)
