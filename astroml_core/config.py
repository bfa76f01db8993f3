"""Settings read from the environment, so that the app, the CLI and forked server processes agree."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "settings"]

_REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where data lives and how big an input may be.

    data_root : folder whose files the app may open by path (``ASTROML_DATA_ROOT``, default ``./data``).
    demo_dir : folder of the built-in demo data (``ASTROML_DEMO_DIR``, default ``<data_root>/demo``).
    upload_dir : where uploads are written (``ASTROML_UPLOAD_DIR``, default ``<data_root>/uploads``).
    max_upload_bytes : largest upload accepted (``ASTROML_MAX_UPLOAD_MB``, default 2048 MB).
    max_cube_bytes : largest FITS file opened (``ASTROML_MAX_CUBE_GB``, default 64 GB); a compressed file
        (``.fits.gz``, tile-compressed ``.fits.fz``) counts by the size its headers say it expands to.
    max_compression_ratio : a compressed FITS file that would expand past 64 MB *and* to more than this many
        times its size on disk is refused as a decompression bomb before any data is read
        (``ASTROML_MAX_COMPRESSION_RATIO``, default 100; real images compress 1.1–10×, blank blocks ~1000×).
    cache_dir : derived results kept between runs (``ASTROML_CACHE_DIR``, default ``<data_root>/cache``).
    demo_spectra : how many spectra the demo survey holds (``ASTROML_DEMO_SPECTRA``, default 40,000).
    vetting_db : SQLAlchemy URL of the vetting store (``ASTROML_VETTING_DB``, default a SQLite file
        ``<data_root>/vetting.sqlite``; ``postgresql+psycopg://user:pw@host/db`` for a shared deployment).
    """

    data_root: Path
    demo_dir: Path
    upload_dir: Path
    max_upload_bytes: int
    max_cube_bytes: int
    max_compression_ratio: float
    cache_dir: Path
    demo_spectra: int
    vetting_db: str

    @property
    def private_dirs(self) -> tuple[Path, Path]:
        """Folders under the data root that no path or link may name: every session's uploads, the caches."""
        return self.upload_dir, self.cache_dir

    @classmethod
    def from_env(cls) -> "Settings":
        """Read the settings from the ``ASTROML_*`` environment variables."""
        root = Path(os.environ.get("ASTROML_DATA_ROOT", _REPO_ROOT / "data")).resolve()
        return cls(
            data_root=root,
            demo_dir=Path(os.environ.get("ASTROML_DEMO_DIR", root / "demo")).resolve(),
            upload_dir=Path(os.environ.get("ASTROML_UPLOAD_DIR", root / "uploads")).resolve(),
            max_upload_bytes=int(float(os.environ.get("ASTROML_MAX_UPLOAD_MB", 2048)) * 2**20),
            max_cube_bytes=int(float(os.environ.get("ASTROML_MAX_CUBE_GB", 64)) * 2**30),
            max_compression_ratio=float(os.environ.get("ASTROML_MAX_COMPRESSION_RATIO", 100)),
            cache_dir=Path(os.environ.get("ASTROML_CACHE_DIR", root / "cache")).resolve(),
            demo_spectra=int(os.environ.get("ASTROML_DEMO_SPECTRA", 40_000)),
            vetting_db=os.environ.get("ASTROML_VETTING_DB", f"sqlite:///{root / 'vetting.sqlite'}"),
        )


def settings() -> Settings:
    """The current settings (read afresh, so tests and the CLI can change the environment)."""
    return Settings.from_env()
