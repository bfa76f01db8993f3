"""Several spectrum files dropped together, written as one spectra table to open as one set."""
from __future__ import annotations

from pathlib import Path

from astroml_core.data.shown_paths import shown_path

__all__ = ["combine"]


def combine(paths: list[Path]) -> Path:
    """Several spectrum files read and written as one spectra table in the upload folder: SDSS spec files placed
    on one grid by whole pixels, any other mix opened one by one (each on the classifier's grid) and joined."""
    import uuid

    from astroml_core.config import settings
    from astroml_core.data.spectra import open_sdss_spec, open_spectra, write_spectra
    from astroml_core.data.spectrum_resample import concatenate
    from astroml_core.errors import AstroMLError

    try:
        spectra = open_sdss_spec(paths)
    except AstroMLError:
        cfg = settings()
        spectra = concatenate([open_spectra(p, max_bytes=cfg.max_cube_bytes) for p in paths],
                              [shown_path(p) for p in paths])
    path = write_spectra(settings().upload_dir / f"{uuid.uuid4().hex[:12]}_set_{len(paths)}.fits", spectra)
    path.chmod(0o600)                                   # like the uploads it is made from
    return path
