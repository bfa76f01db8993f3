"""Server-side paths: only files under the configured data root may be opened."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import PathNotAllowedError

__all__ = ["truth_beside", "resolve_under_root", "list_fits"]

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz")


def resolve_under_root(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """The real path of ``path`` (relative to ``root`` unless absolute) if it is a file inside ``root``.

    Symlinks and ``..`` are resolved first, so neither can lead outside the root.
    """
    root = Path(root).resolve()
    candidate = Path(path)
    full = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if full != root and root not in full.parents:
        raise PathNotAllowedError(f"'{path}' is outside the data root {root}; only files under it can be opened")
    if not full.is_file():
        raise PathNotAllowedError(f"'{path}' is not a file under the data root {root}")
    return full


def list_fits(root: str | os.PathLike, *, limit: int = 500, scan_limit: int = 20_000) -> list[str]:
    """Paths (relative to ``root``) of FITS files under it, sorted, the first ``limit`` of them.

    At most ``scan_limit`` files are looked at, so a huge archive tree cannot stall a page.
    """
    root = Path(root).resolve()
    found: list[str] = []
    if not root.is_dir():
        return found
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [str((Path(dirpath) / n).relative_to(root)) for n in filenames if n.lower().endswith(FITS_SUFFIXES)]
        seen += len(filenames)
        if seen >= scan_limit:
            break
    return sorted(found)[:limit]


def truth_beside(path: str | os.PathLike):
    """The truth catalogue written beside a simulated file (``<stem>_truth.ecsv``), or None."""
    from astropy.table import QTable

    path = Path(path)
    candidate = path.with_name(path.name.removesuffix(".fits") + "_truth.ecsv")
    return QTable.read(candidate) if candidate.exists() else None
