"""Deblend an opened multi-band image with the model or a baseline, one call; and what the page shows
next to it: the summed model image for residuals and a table joining every method and the truth."""
from __future__ import annotations

import numpy as np
from astropy.table import QTable

from ...errors import AstroMLError, ShapeError
from ...progress import Progress, quiet
from .background import sky_subtracted
from .classic import photutils_deblend, sep_deblend
from .detection import image_noise
from .errors import FluxErrorModel, add_flux_errors
from .model import STAMP, DeblendResult, cut_stamp, model_deblend, summed_image
from .notes import model_notes

__all__ = ["METHODS", "deblend", "deblend_all", "model_image", "joined_table"]

METHODS = ("model", "sep", "photutils")
MODEL_BANDS = 4


def _baseline_result(images, catalogue: QTable, segmap: np.ndarray) -> DeblendResult:
    """Baselines have no deblended images: each source's stamp is the data inside its segment."""
    n = len(catalogue)
    stamps = np.zeros((n, len(images), STAMP, STAMP), np.float32)
    origins = np.zeros((n, 2), int)
    clean = np.nan_to_num(images)
    for k in range(n):
        cut, origins[k] = cut_stamp(clean, catalogue["x"][k], catalogue["y"][k])
        mine, _ = cut_stamp(segmap, catalogue["x"][k], catalogue["y"][k])
        stamps[k] = cut * (mine == k + 1)
    return DeblendResult(catalogue, segmap, stamps, origins)


def flux_error_model() -> FluxErrorModel | None:
    """The shipped network's flux-error table from its card (None for a card without one)."""
    from ...registry import read_card

    front, _ = read_card("deblend_unet")
    return FluxErrorModel.from_dict(front["flux_error"]) if "flux_error" in front else None


def deblend(image, method: str = "model", *, progress: Progress = quiet) -> DeblendResult:
    """Detect, segment and measure the galaxies of a :class:`~astroml_core.data.MultibandImage` (a band still
    carrying its sky gets a smooth background subtracted first: :func:`.background.sky_subtracted`); the image's
    notes (flux scale, extensions, sky) go to ``catalogue.meta["image_notes"]``."""
    if method not in METHODS:
        raise AstroMLError(f"unknown method '{method}'; choose one of {METHODS}")
    progress(0.0, f"running {method}")
    image = sky_subtracted(image)
    sigma = image_noise(image)
    if method == "model":
        if len(image.bands) != MODEL_BANDS:
            raise ShapeError(f"the deblending network was trained on g, r, i, z; this image has {len(image.bands)} "
                             "band(s): use sep or photutils")
        from ...registry import load_model

        result = model_deblend(image.data, image.bands, load_model("deblend_unet"), wcs=image.wcs, sigma=sigma)
        errors = flux_error_model()
        if errors is not None:
            add_flux_errors(result.catalogue, result.stamps / sigma[None, :, None, None], image.bands, errors)
        result.catalogue.meta["notes"] = model_notes(image, result, sigma)
    else:
        finder = sep_deblend if method == "sep" else photutils_deblend
        result = _baseline_result(image.data, *finder(image.data, image.bands, image.wcs, sigma))
    result.catalogue.meta.update(method=method, bands=list(image.bands), image_notes=list(image.notes))
    progress(1.0, "done")
    return result


def model_image(result: DeblendResult, shape: tuple[int, int]) -> np.ndarray:
    """The sum of every source's deblended stamp on the full (band, y, x) grid: data − this = residual."""
    return summed_image(result.stamps, result.origins, shape)


def joined_table(main: QTable, others: dict[str, QTable], truth: QTable | None, band: str,
                 max_sep_px: float = 3.0) -> QTable:
    """``main``'s rows with the ``band`` flux of the matched source of every other method and the truth."""
    from ...metrics.deblend import match_sources

    out = main.copy()
    for name, table in list(others.items()) + ([("truth", truth)] if truth is not None else []):
        col = np.full(len(out), np.nan)
        if f"flux_{band}" in table.colnames:
            for m, t in match_sources(table, out, max_sep_px).items():
                col[m] = float(table[f"flux_{band}"][t])
        out[f"{name}_{band}"] = col
    return out


def deblend_all(image, *, progress: Progress = quiet) -> dict[str, DeblendResult]:
    """Every method that can run on ``image`` (the model needs 4 bands): {method: result}."""
    methods = [m for m in METHODS if m != "model" or len(image.bands) == MODEL_BANDS]
    out = {}
    for i, method in enumerate(methods):
        progress(i / len(methods), f"running {method}")
        out[method] = deblend(image, method)
    progress(1.0, "done")
    return out
