"""Image display maths shared by every image view: limits, stretches, colour-bar and sky ticks, rasterising.

UI-free (numpy + astropy only) so it is tested without a browser and reused by the CLI and benches.
"""
from .raster import Raster, rasterize
from .slicer import PlaneView, view_plane
from .stretch import INTERVALS, STRETCHES, DisplayImage, colorbar_ticks, limits, render, stretch
from .ticks import Tick, axis_labels, pixel_ticks, sky_ticks

__all__ = ["PlaneView", "view_plane", "INTERVALS", "STRETCHES", "DisplayImage", "limits", "stretch", "render", "colorbar_ticks",
           "Raster", "rasterize", "Tick", "sky_ticks", "pixel_ticks", "axis_labels"]
