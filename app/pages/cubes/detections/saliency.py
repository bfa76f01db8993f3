"""What hi_unet sees of a selected source: its integrated gradients summed over the source's channels, as a
cutout beside the table and as contours on the channel image. Runs through the app's job runner."""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh import palettes

from astroml_core.service.worker import file_key

from ....components.cutout_view import CutoutView
from ....components.jobs import start_job
from ....components.saliency_overlay import SaliencyContours
from .shapes import EMPTY_ELLIPSE

__all__ = ["saliency_views", "say", "show_saliency"]

HALF_SIZE = 24          # pixels either side of the source
CHANNEL_MARGIN = 16     # channels either side of its W20 range


def saliency_views(fig) -> tuple[CutoutView, SaliencyContours]:
    """The saliency cutout (a figure for the panel) and its contours on the image ``fig``."""
    cutout = CutoutView(size=210, name="saliency", palette=palettes.RdBu11, title="What the model sees (select a source)")
    return cutout, SaliencyContours(fig, "cube")


def say(cutout: CutoutView, text: str) -> None:
    """An empty saliency cutout titled ``text``."""
    cutout.show(np.zeros((2, 2)), 0, 0, EMPTY_ELLIPSE, f"What the model sees: {text}")


def show_saliency(cutout: CutoutView, seen: SaliencyContours, cube, channels: tuple[int, int],
                  yx: tuple[float, float], outline: dict, current: Callable[[], bool]) -> None:
    """Start hi_unet's attribution around pixel ``yx`` over ``channels``; draw the cutout with ``outline`` when
    it ends, and the contours too while ``current()`` (the source is still the selected one)."""
    (lo, hi), (y, x), r = channels, yx, HALF_SIZE
    c0, c1 = max(lo - CHANNEL_MARGIN, 0), min(hi + CHANNEL_MARGIN + 1, cube.n_channels)
    y0, y1 = max(int(round(y)) - r, 0), min(int(round(y)) + r, cube.shape[1])
    x0, x1 = max(int(round(x)) - r, 0), min(int(round(x)) + r, cube.shape[2])
    block = np.nan_to_num(cube.subcube((c0, c1), (y0, y1), (x0, x1)))
    centre = ((lo + hi) // 2 - c0, int(round(y)) - y0, int(round(x)) - x0)
    say(cutout, "computing…")

    def done(result) -> None:
        mask, att = result
        inside = np.abs(att[mask]).mean() / max(np.abs(att[~mask]).mean(), 1e-12)
        cutout.show(att.sum(axis=0), x0, y0, outline, f"hi_unet sees · ch {c0}–{c1 - 1} ({inside:.0f}×)")
        if current():
            seen.show(att.sum(axis=0), x0, y0)

    start_job(_attribution, block, centre, name="HI saliency", then=done, on_error=lambda exc: say(cutout, str(exc)),
              key=("HI saliency", file_key(cube.path), c0, c1, y0, y1, x0, x1))


def _attribution(block: np.ndarray, centre: tuple[int, int, int], progress=None):
    """hi_unet's (source mask, integrated gradients) for ``block`` around ``centre``, asked of the HI task."""
    from astroml_core.tasks.hi.saliency import explain

    return explain(block, centre)
