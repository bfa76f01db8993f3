"""What the Regions tab reads in: a finished drag or lasso on the image as a Region, a region file's text
(size-limited, UTF-8 only) and the report of an import. No widgets: the tab calls these."""
from __future__ import annotations

import numpy as np

from astroml_core.analysis.regions import MAX_REGION_FILE_CHARS, Region
from astroml_core.errors import RegionFileError, TooLargeError

from ...components.safe_text import html_text

__all__ = ["region_from_drag", "region_file_text", "import_report", "MAX_VERTICES"]

MAX_VERTICES = 200
DRAG_SHAPES = ("box", "circle", "ellipse")


def region_from_drag(geometry: dict, mode: str) -> Region | None:
    """The region a select tool's geometry outlines: a rectangle is the ``mode``'s box, circle or ellipse (a box
    in Pan mode), a lasso a polygon; None for any other geometry."""
    if geometry.get("type") == "rect":
        shape = mode if mode in DRAG_SHAPES else "box"
        return Region.from_drag(shape, geometry["x0"], geometry["y0"], geometry["x1"], geometry["y1"])
    if geometry.get("type") == "poly":
        return Region.polygon(*_thinned(geometry["x"], geometry["y"]))
    return None


def _thinned(xs, ys) -> tuple[np.ndarray, np.ndarray]:
    """A lasso's outline cut to at most 200 vertices (every k-th point), which keeps its shape on screen."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    step = max(1, int(np.ceil(xs.size / MAX_VERTICES)))
    return xs[::step], ys[::step]


def region_file_text(data: bytes | str) -> str:
    """A region file's text, refused (typed errors) when over the size limit or not UTF-8, before any parsing."""
    if len(data) > MAX_REGION_FILE_CHARS:
        raise TooLargeError(f"the region file is {len(data):,} bytes, over the limit of "
                            f"{MAX_REGION_FILE_CHARS:,}: keep the regions you need")
    try:
        return data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise RegionFileError("the region file is not UTF-8 text: save it as a DS9 (.reg) or "
                              "CRTF (.crtf) text file") from None


def import_report(name: str, fmt: str, added: int, notes: list[str]) -> str:
    """How many regions a file gave, and what was skipped and why (escaped, the first five)."""
    said = f"{added} region{'s' * (added != 1)} imported from {html_text(name)} ({fmt.upper()})"
    if notes:
        said += "; skipped: " + "; ".join(html_text(n) for n in notes[:5]) + ("…" if len(notes) > 5 else "")
    return said
