"""The container every spectra loader returns: N spectra on one log10-λ grid with their metadata.

Apart from the loaders (:mod:`.spectra`, :mod:`.spectrum_resample`) so that each can build one without
importing the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import NonFiniteError

__all__ = ["SpectrumSet", "check_usable"]


@dataclass
class SpectrumSet:
    """N spectra on one log10-λ grid with per-spectrum metadata columns."""

    loglam: np.ndarray                  # (L,) log10 Å
    flux: np.ndarray                    # (N, L)
    ivar: np.ndarray                    # (N, L), 0 where no data
    and_mask: np.ndarray | None         # (N, L) SDSS bits or None
    ids: np.ndarray                     # (N,) str
    meta: dict[str, np.ndarray] = field(default_factory=dict)   # columns of length N (true_class, z, snr, ...)
    path: Path | None = None
    notes: tuple[str, ...] = ()         # every conversion made on reading (format, air → vacuum, resampling, ...)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def wavelength(self) -> np.ndarray:
        """Vacuum wavelength of each pixel, Å."""
        return 10.0 ** self.loglam

    def rows(self, index) -> tuple[np.ndarray, np.ndarray]:
        """(flux, ivar) of the rows ``index`` (slice or integer array) as float32, no-data pixels zeroed."""
        flux = np.asarray(self.flux[index], dtype=np.float32)
        ivar = np.asarray(self.ivar[index], dtype=np.float32)
        bad = ~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar <= 0)
        if bad.any():
            flux = np.where(bad, 0.0, flux).astype(np.float32)
            ivar = np.where(bad, 0.0, ivar).astype(np.float32)
        return flux, ivar


def check_usable(flux: np.ndarray, ivar: np.ndarray, name: str, what: str) -> None:
    """NonFiniteError when no pixel has finite flux with a positive, finite inverse variance."""
    good = np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)
    if not good.any():
        raise NonFiniteError(f"{name}: {what} no usable pixel (flux all NaN or infinite, or ivar 0 everywhere); "
                             "nothing to classify")
