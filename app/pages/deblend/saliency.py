"""What the network looked at to deblend the selected source: integrated gradients of its deblended flux, in
a cutout beside the stamps and as contours on the image, computed as a job of the app's runner."""
from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh import palettes

from astroml_core.service.worker import file_key
from astroml_core.tasks.deblend.model import cut_stamp
from astroml_core.tasks.deblend.saliency import own_to_neighbours

from ...components.cutout_view import CutoutView
from ...components.jobs import start_job
from ...components.saliency_overlay import SaliencyContours

__all__ = ["Saliency", "EXPLAINED"]

EXPLAINED = ("<b>What the model sees</b>: integrated gradients of the network's deblended flux of this source, all "
             "bands: pixels that raised it (red) or lowered it (blue); × is the mean |attribution| on its own mask "
             "over its neighbours'. Yellow contours mark the same on the image.")
_NO_ELLIPSE = dict(x=[], y=[], w=[], h=[], angle=[])


def _attribution(image, result, k: int, progress=None):
    """Job: the splitter's integrated gradients for source ``k`` and the stamp's (y0, x0)."""
    from astroml_core.tasks.deblend.saliency import explain

    return explain(image, result, k)


class Saliency:
    """The cutout (``view``) and the contours on the image figure (``seen``)."""

    def __init__(self, image_fig) -> None:
        self.seen = SaliencyContours(image_fig, "deblend")
        self.view = CutoutView(size=200, name="deblend-saliency", palette=palettes.RdBu11,
                               title="What the model sees: click a source")

    def say(self, text: str) -> None:
        """An empty cutout titled ``What the model sees: <text>``."""
        self.view.show(np.zeros((2, 2)), 0, 0, _NO_ELLIPSE, f"What the model sees: {text}")

    def show(self, image, result, k: int, method: str, still_shown: Callable[[], bool]) -> None:
        """Compute and draw what the network saw of source ``k`` (the network's sources only); the contours go
        on the image only if ``still_shown()`` when the job ends."""
        if method != "model":
            self.say("model sources only")
            return
        self.say("computing…")
        x, y = float(result.catalogue["x"][k]), float(result.catalogue["y"][k])

        def draw(out) -> None:
            att, (y0, x0) = out
            ratio = own_to_neighbours(att, cut_stamp(result.segmap, x, y)[0], k + 1)
            title = f"source {k}" + (f" · {ratio:.0f}× own/neighbours" if np.isfinite(ratio) else "")
            self.view.show(att.sum(axis=0), x0, y0, dict(x=[x], y=[y], w=[6], h=[6], angle=[0]), title)
            if still_shown():
                self.seen.show(att.sum(axis=0), x0, y0)

        start_job(_attribution, image, result, k, name="deblend saliency", then=draw,
                  on_error=lambda exc: self.say(str(exc)), key=("deblend saliency", file_key(image.path), k))
