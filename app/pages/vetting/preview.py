"""A vetting candidate's preview drawn with axes and units: a spectrum, an HI source's moment-0 map and
spectrum, or a galaxy stamp with its mask outline."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import row
from bokeh.models import ColorBar, LinearColorMapper
from bokeh.plotting import figure

__all__ = ["preview_figure"]

FLUX_LABEL = "Flux (10⁻¹⁷ erg s⁻¹ cm⁻² Å⁻¹)"


def _spectrum(p: dict, title: str, width: int, height: int):
    fig = figure(title=title, frame_width=width, frame_height=height, tools="xpan,xwheel_zoom,box_zoom,reset,save",
                 x_axis_label="Wavelength, observed (Å)", y_axis_label=FLUX_LABEL, name="vet-preview-spectrum",
                 toolbar_location="below")
    flux = np.asarray(p["flux"], float)
    fig.line(np.asarray(p["wavelength"], float), flux, line_width=1.2, color="#1f4e99")
    finite = flux[np.isfinite(flux)]
    if finite.size:
        lo, hi = np.percentile(finite, [0.5, 99.5])
        pad = 0.1 * (hi - lo or 1.0)
        fig.y_range.update(start=lo - pad, end=hi + pad)
    return fig


def _outline(fig, mask, colour: str, width: float) -> None:
    mask = np.asarray(mask, float)
    if mask.any():
        ny, nx = mask.shape
        fig.contour(np.arange(nx), np.arange(ny), mask, levels=[0.5], line_color=colour, line_width=width)


def _image(img: np.ndarray, title: str, size: int, label: str, mask: np.ndarray | None = None,
           others: np.ndarray | None = None):
    img = np.asarray(img, float)
    ny, nx = img.shape
    finite = img[np.isfinite(img)]
    lo, hi = (np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0))
    fig = figure(title=title, frame_width=size, frame_height=int(size * ny / nx), match_aspect=True,
                 x_range=(-0.5, nx - 0.5), y_range=(-0.5, ny - 0.5), tools="pan,wheel_zoom,reset,save",
                 x_axis_label="x (pixel)", y_axis_label="y (pixel)", toolbar_location="below",
                 name="vet-preview-image")
    mapper = LinearColorMapper(palette="Greys256", low=lo, high=hi if hi > lo else lo + 1)
    fig.image([img], x=-0.5, y=-0.5, dw=nx, dh=ny, color_mapper=mapper)
    fig.add_layout(ColorBar(color_mapper=mapper, title=label, width=10), "right")
    if others is not None:
        _outline(fig, others, "#4fc3f7", 1)
    if mask is not None:
        _outline(fig, mask, "#ff7f0e", 2)
    return fig


def preview_figure(kind: str, p: dict, title: str, width: int = 560, height: int = 260):
    """The Bokeh layout of one candidate's preview arrays ``p`` (see astroml_core.vetting.sources)."""
    if kind == "spectrum":
        return _spectrum(p, title, width, height)
    if kind == "hi_source":
        mom0 = _image(p["moment0"], "Moment 0 over W20", height, "Jy/beam Hz", p.get("mask"))
        spec = figure(title="Spectrum over the source", frame_width=width - height - 60, frame_height=height,
                      x_axis_label="Frequency (MHz)", y_axis_label="Flux density (mJy)",
                      tools="xpan,xwheel_zoom,reset,save", toolbar_location="below", name="vet-preview-spectrum")
        spec.step(np.asarray(p["frequency_mhz"], float), np.asarray(p["spectrum_mjy"], float), mode="center",
                  color="#1f4e99")
        return row(mom0, spec)
    unit = str(p.get("unit", "flux"))
    data = _image(p["stamp"], "Image: its segment (orange), others (blue)", height, unit, p.get("mask"),
                  p.get("others"))
    if "model" not in p:
        return data
    return row(data, _image(p["model"], "Deblended galaxy", height, unit, p.get("mask")))
