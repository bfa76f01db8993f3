"""The cube page's PV slice tab: draw a line on the image (two taps, or typed endpoints), see the
position–velocity diagram along it, with offset (arcsec) and velocity (km/s, the page's convention) axes."""
from __future__ import annotations

from functools import partial

import astropy.units as u
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, Range1d
from bokeh.plotting import figure

from astroml_core.analysis import pv_slice, uniform_velocity
from astroml_core.display import limits
from astroml_core.display.units import display_unit

from .cube_facts import convention, sky_text
from .image_view import COLORMAPS
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import html_text

__all__ = ["PVTool"]

_LINE_COLOUR = "#ff9f1c"


class PVTool(pn.viewable.Viewer):
    """The line on the image, its endpoint inputs, the width, and the PV figure with its colour bar."""

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page
        self._first: tuple[float, float] | None = None
        self._request = 0
        self.line = ColumnDataSource(dict(x=[], y=[], end=[]), name="cube-pv-line-source")
        fig = page.image.fig
        fig.line("x", "y", source=self.line, line_color=_LINE_COLOUR, line_width=2.5, name="cube-pv-line")
        fig.scatter("x", "y", source=self.line, marker="circle", size=7, fill_color=_LINE_COLOUR,
                    line_color="black")
        fig.text("x", "y", text="end", source=self.line, text_color=_LINE_COLOUR, text_font_size="11px",
                 text_font_style="bold", x_offset=6, y_offset=-4)   # which end is the start (negative offsets)
        self.fig, self.image_source, self.mapper, self.colorbar = self._make_figure()
        self.hover = self.fig.select_one({"name": "cube-pv-hover"})
        self.draw_mode = pn.widgets.Toggle(name="Draw PV line", button_type="warning", width=140,
                                           css_classes=["pv-draw"])
        self.ends = {k: pn.widgets.FloatInput(name=k, value=None, width=80, css_classes=[f"pv-{k.replace(' ', '')}"])
                     for k in ("start x", "start y", "end x", "end y")}
        self.width = pn.widgets.IntInput(name="Width (px)", value=1, start=1, end=255, width=90,
                                         css_classes=["pv-width"])
        self.map_channels = pn.widgets.Checkbox(name="Only the channels of the moment maps", value=False,
                                                css_classes=["pv-map-channels"])
        self.compute_button = pn.widgets.Button(name="Compute PV", button_type="primary", width=130,
                                                css_classes=["pv-compute"])
        self.status = pn.pane.HTML("Press “Draw PV line”, then tap the line's two ends on the image",
                                   css_classes=["pv-status"], styles={"font-size": "13px"}, width=430)
        self.draw_mode.param.watch(self._mode_changed, "value")
        self.compute_button.on_click(lambda e: with_document_lock(self.compute))
        page.param.watch(lambda e: self._forget_cube(), "file")
        page.param.watch(lambda e: self._recompute(), "velocity")
        page.param.watch(lambda e: setattr(self.mapper, "palette", COLORMAPS[e.new]), "cmap")
        page.param.watch(self._map_range_moved, "moment_channels")

    @staticmethod
    def _make_figure():
        source = ColumnDataSource(dict(image=[], x=[], y=[], dw=[], dh=[]), name="cube-pv-source")
        mapper = LinearColorMapper(palette=COLORMAPS["viridis"], low=0, high=1, nan_color=(0, 0, 0, 0))
        fig = figure(name="cube-pv-figure", frame_width=520, frame_height=330,
                     tools="pan,wheel_zoom,box_zoom,reset,save",
                     x_axis_label="Offset (arcsec)", y_axis_label="Velocity (km/s)", toolbar_location="below",
                     x_range=Range1d(0, 1), y_range=Range1d(0, 1),
                     title="PV slice: draw a line on the image", background_fill_color="#20232a")
        image = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source, color_mapper=mapper)
        fig.add_tools(HoverTool(renderers=[image], name="cube-pv-hover"))
        fig.grid.visible = False
        colorbar = ColorBar(color_mapper=mapper, title="", width=14, name="cube-pv-colorbar", title_standoff=8)
        fig.add_layout(colorbar, "right")
        return fig, source, mapper, colorbar

    # --- the line -------------------------------------------------------------------------------------------
    def _mode_changed(self, event) -> None:
        self._first = None
        self.draw_mode.name = "Tap the two ends…" if event.new else "Draw PV line"
        if event.new:
            self.status.object = "Tap the start of the line on the image"

    def take_tap(self, x: float | None, y: float | None) -> bool:
        """True when a tap on the image belongs to the line being drawn (the page then selects no pixel)."""
        if not self.draw_mode.value or x is None or y is None:
            return False
        if self._first is None:
            self._first = (x, y)
            self._set_line([x], [y])
            self.status.object = "Now tap the end of the line"
            return True
        (x0, y0), self._first = self._first, None
        for key, value in zip(self.ends, (x0, y0, x, y)):
            self.ends[key].value = round(float(value), 2)
        self.draw_mode.value = False
        self.compute()
        return True

    def _set_line(self, xs: list[float], ys: list[float]) -> None:
        """The line (or its first point) on the image, its ends labelled."""
        self.line.data = dict(x=xs, y=ys, end=["start", "end"][:len(xs)])

    def _endpoints(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        values = [w.value for w in self.ends.values()]
        if any(v is None for v in values):
            return None
        return (values[0], values[1]), (values[2], values[3])

    # --- the diagram ----------------------------------------------------------------------------------------
    def compute(self) -> None:
        """The PV slice along the typed (or tapped) line, computed on an I/O thread, then drawn."""
        page, ends = self.page, self._endpoints()
        if page.cube is None:
            return
        if ends is None:
            self.status.object = "Give both ends of the line (tap them on the image or type x and y in pixels)"
            return
        self._set_line([ends[0][0], ends[1][0]], [ends[0][1], ends[1][1]])
        self._request += 1
        conv = convention(page.cube, page.velocity)
        channels = tuple(page.moment_channels) if self.map_channels.value else None
        run_io(partial(_slice_for_display, page.cube, *ends, int(self.width.value or 1), conv, channels),
               partial(self._show, self._request), page.banner.error)

    def _map_range_moved(self, event) -> None:
        """The maps' channels changed: the checkbox names them, and a PV limited to them follows."""
        self.map_channels.name = f"Only the channels of the moment maps ({event.new[0]}–{event.new[1]})"
        if self.map_channels.value:
            self._recompute()

    def _recompute(self) -> None:
        if self.image_source.data["image"]:
            self.compute()

    def _show(self, request: int, result: tuple) -> None:
        if request != self._request:
            return
        pv, data, v0, dv = result
        lo, hi = limits(data, "99.5%")
        scale, unit = display_unit(pv.unit, max(abs(lo), abs(hi)))
        off = pv.offsets.value
        step = off[1] - off[0]
        self.image_source.data = dict(image=[data * scale], x=[off[0] - step / 2], y=[v0 - dv / 2],
                                      dw=[off[-1] - off[0] + step], dh=[dv * data.shape[0]])
        self.mapper.update(low=lo * scale, high=hi * scale)
        self.colorbar.title = unit
        self.fig.x_range.update(start=off[0] - step / 2, end=off[-1] + step / 2)
        self.fig.y_range.update(start=v0 - dv / 2, end=v0 + dv * (data.shape[0] - 0.5))
        offset_unit = "arcsec" if pv.offsets.unit == u.arcsec else "pixels"
        self.fig.xaxis.axis_label = f"Offset ({offset_unit})"
        self.fig.yaxis.axis_label = f"Velocity ({pv.convention}, km/s)"
        self.hover.tooltips = [("offset", f"$x{{0.0}} {offset_unit}"), ("velocity", "$y{0,0.0} km/s"),
                               ("value", f"@image{{0.000}} {unit}")]
        (x0, y0), (x1, y1) = pv.start, pv.end
        self.fig.title.text = (f"PV slice: ({x0:.1f}, {y0:.1f}) → ({x1:.1f}, {y1:.1f}) px, "
                               f"width {pv.width} px, channels {pv.channels.start}–{pv.channels.stop - 1}")
        self.status.object = self._describe(pv)

    def _describe(self, pv) -> str:
        cube = self.page.cube
        ends = ""
        if pv.start_sky is not None:
            ends = (f"<br>start {html_text(sky_text(cube, pv.start_sky))}"
                    f"<br>end {html_text(sky_text(cube, pv.end_sky))}")
        return (f"<b>Length {pv.length.value:.1f} {pv.offsets.unit.to_string()}</b>, {pv.data.shape[1]} samples "
                f"(about one per pixel), width {pv.width} px averaged across; offsets from the line's centre, "
                f"negative towards the start{ends}")

    def _forget_cube(self) -> None:
        self._request += 1
        self._first = None
        self._set_line([], [])
        self.image_source.data = dict(image=[], x=[], y=[], dw=[], dh=[])
        for w in self.ends.values():
            w.value = None

    def __panel__(self):
        return pn.Row(
            pn.Column(pn.Row(self.draw_mode, self.width), pn.Row(*self.ends.values()), self.map_channels,
                      self.compute_button, self.status, width=440),
            pn.pane.Bokeh(self.fig, margin=(0, 10)),
            name="PV slice")


def _slice_for_display(cube, start, end, width: int, conv: str, channels) -> tuple:
    """The PV slice and its data on an even velocity grid (both on the I/O thread)."""
    pv = pv_slice(cube, start, end, width=width, convention=conv, channels=channels)
    return (pv, *uniform_velocity(pv))
