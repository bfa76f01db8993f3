"""Server-side paths: only files under the configured data root may be opened."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import PathNotAllowedError

__all__ = ["truth_beside", "resolve_under_root", "list_fits"]

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz")


def resolve_under_root(path: str | os.PathLike, root: str | os.PathLike, *,
                       private: tuple[str | os.PathLike, ...] = ()) -> Path:
    """The real path of ``path`` (relative to ``root`` unless absolute) if it is a file inside ``root`` and
    outside the ``private`` folders (other sessions' uploads, caches).

    Symlinks and ``..`` are resolved first, so neither can lead outside the root. A path that cannot be a
    path (a NUL byte, longer than the file system allows) or that the system refuses to resolve raises
    PathNotAllowedError like any other refusal, with the offending name shortened.
    """
    from .fitsfile import MAX_NAME_CHARS, MAX_PATH_CHARS

    text = os.fspath(path)
    shown = _shown(text)
    if "\0" in text:
        raise PathNotAllowedError(f"'{shown}' contains a NUL byte, which no file name can hold: check the path")
    longest = max((len(part) for part in Path(text).parts), default=0)
    if len(text) > MAX_PATH_CHARS or longest > MAX_NAME_CHARS:
        raise PathNotAllowedError(f"a path of {len(text):,} characters (longest name {longest:,}) is longer than the "
                                  f"file system allows ({MAX_PATH_CHARS:,} in all, {MAX_NAME_CHARS} per name)")
    root = Path(root).resolve()
    candidate = Path(text)
    try:
        full = (candidate if candidate.is_absolute() else root / candidate).resolve()
        inside = full == root or root in full.parents
        is_file = inside and full.is_file()
    except (OSError, RuntimeError) as exc:   # ELOOP, ENAMETOOLONG after resolving links, EACCES ...
        raise PathNotAllowedError(f"'{shown}' cannot be resolved ({getattr(exc, 'strerror', None) or exc}); "
                                  "check the path") from None
    if not inside:
        raise PathNotAllowedError(f"'{shown}' is outside the data root; only files under it can be opened")
    if not is_file or _within(full, private):
        raise PathNotAllowedError(f"'{shown}' is not a file under the data root")
    return full


def _within(path: Path, folders) -> bool:
    """Whether ``path`` lies inside any of ``folders``."""
    return any(path.is_relative_to(Path(f).resolve()) for f in folders)


def _shown(text: str) -> str:
    """A path as a message shows it: NUL bytes as \\0, long paths cut to 80 characters."""
    text = text.replace("\0", "\\0")
    return text if len(text) <= 80 else f"{text[:60]}… ({len(text):,} characters)"


def list_fits(root: str | os.PathLike, *, limit: int = 500, scan_limit: int = 20_000,
              private: tuple[str | os.PathLike, ...] = ()) -> list[str]:
    """Paths (relative to ``root``) of FITS files under it, outside the ``private`` folders, sorted, the
    first ``limit`` of them.

    At most ``scan_limit`` files are looked at, so a huge archive tree cannot stall a page.
    """
    root = Path(root).resolve()
    found: list[str] = []
    if not root.is_dir():
        return found
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and not _within(Path(dirpath) / d, private)]
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
