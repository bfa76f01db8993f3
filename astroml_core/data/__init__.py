"""Loaders and validated containers; every loader raises typed errors from :mod:`astroml_core.errors`."""
from .cube import HI_REST_FREQ, Beam, Cube, WorldCoord, as_cube, open_cube
from .multiband import MultibandImage, open_multiband
from .paths import list_fits, resolve_under_root, truth_beside
from .uploads import save_upload

__all__ = ["Cube", "Beam", "WorldCoord", "open_cube", "as_cube", "HI_REST_FREQ", "resolve_under_root", "list_fits", "save_upload",
           "MultibandImage", "open_multiband",
           "truth_beside"]
