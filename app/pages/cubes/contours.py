"""The cube page's Contours tab: contour lines over the image from this channel, another channel, the moment-0
or peak map, or a FITS image on the cube's grid; levels in σ or in data units, negatives dashed."""
from __future__ import annotations

from functools import partial

import panel as pn
from bokeh.models import ColumnDataSource

from astroml_core.analysis import contour_lines, levels_from_spec, parse_levels, plane_from_fits
from astroml_core.config import settings
from astroml_core.data import list_fits, resolve_under_root
from astroml_core.display import limits
from astroml_core.display.units import display_unit, pretty_unit

from .cube_facts import convention, moment_map
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import html_text

__all__ = ["ContourTool", "SOURCES"]

SOURCES = {"this channel": "channel", "another channel": "other", "moment 0": "moment0", "peak": "peak",
           "a FITS image": "file"}
MODES = {"× σ (robust noise)": "sigma", "data units": "data"}
_EMPTY = dict(xs=[], ys=[], level=[], dash=[])


class ContourTool(pn.viewable.Viewer):
    """Widgets and the image's contour glyph; ``draw()`` computes lines off the event loop, newest request wins."""

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page
        self.source = ColumnDataSource(dict(_EMPTY), name="cube-contours-source")
        self.renderer = page.image.fig.multi_line("xs", "ys", source=self.source, line_color="#ffffff",
                                                  line_width=1.2, line_dash="dash", name="cube-contours")
        self._request = 0
        self._following = False                 # contours of "this channel" are shown: redraw on a channel change
        self.levels = pn.widgets.TextInput(name="Levels", value="-3,3,5,10,20", width=200,
                                           css_classes=["contour-levels"])
        self.mode = pn.widgets.RadioButtonGroup(options=MODES, value="sigma", css_classes=["contour-mode"],
                                                button_type="primary", button_style="outline")
        self.plane = pn.widgets.Select(name="Contours of", options=SOURCES, value="channel", width=200,
                                       css_classes=["contour-plane"])
        self.other_channel = pn.widgets.IntInput(name="Channel", value=0, start=0, width=100, visible=False,
                                                 css_classes=["contour-channel"])
        self.path = pn.widgets.AutocompleteInput(name="FITS image under the data root", options=[], restrict=False,
                                                 min_characters=1, case_sensitive=False, search_strategy="includes",
                                                 width=300, visible=False, css_classes=["contour-path"])
        self.colour = pn.widgets.ColorPicker(name="Colour", value="#ffffff", width=80, css_classes=["contour-colour"])
        self.width = pn.widgets.FloatSlider(name="Line width", start=0.5, end=4, step=0.25, value=1.2, width=160,
                                            css_classes=["contour-width"])
        self.draw_button = pn.widgets.Button(name="Draw contours", button_type="primary", width=150,
                                             css_classes=["contour-draw"])
        self.clear_button = pn.widgets.Button(name="Clear", width=80, css_classes=["contour-clear"])
        self.status = pn.pane.HTML("No contours drawn", css_classes=["contour-status"], styles={"font-size": "13px"})
        self._wire()

    def _wire(self) -> None:
        self.draw_button.on_click(lambda e: with_document_lock(self.draw))
        self.clear_button.on_click(lambda e: with_document_lock(self.clear))
        self.plane.param.watch(self._show_plane_inputs, "value")
        self.colour.param.watch(lambda e: with_document_lock(partial(self._style, line_color=e.new)), "value")
        self.width.param.watch(lambda e: with_document_lock(partial(self._style, line_width=e.new)), "value")
        self.page.param.watch(self._channel_moved, "channel")
        self.page.param.watch(lambda e: self._forget_cube(), "file")

    def _style(self, **props) -> None:
        self.renderer.glyph.update(**props)

    def _show_plane_inputs(self, event) -> None:
        self.other_channel.visible = event.new == "other"
        self.path.visible = event.new == "file"
        if event.new == "file" and not self.path.options:
            cfg = settings()
            self.path.options = list_fits(cfg.data_root, private=cfg.private_dirs)

    def _forget_cube(self) -> None:
        """A new cube: its predecessor's contours and maps no longer apply."""
        self.clear()
        if self.page.cube is not None:
            self.other_channel.end = self.page.cube.n_channels - 1

    def _channel_moved(self, event) -> None:
        """Contours of 'this channel' follow the channel shown."""
        if self._following and self.plane.value == "channel":
            self.draw()

    # --- drawing ---------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self._request += 1                      # a computation still running must not draw afterwards
        self._following = False
        self.source.data = dict(_EMPTY)
        self.status.object = "No contours drawn"

    def draw(self) -> None:
        """Compute the contour lines of the chosen plane at the typed levels (on an I/O thread) and draw them."""
        if self.page.cube is None:
            return
        try:
            spec = parse_levels(self.levels.value)
            where = self._where()
        except Exception as exc:
            self.page.banner.error(exc)
            return
        self._request += 1
        self._following = self.plane.value == "channel"
        run_io(partial(self._compute, where, spec, self.mode.value), partial(self._show, self._request),
               self.page.banner.error)

    def _where(self) -> tuple:
        """What to contour, fixed now (the page may move on while the lines are computed)."""
        page, kind = self.page, self.plane.value
        if kind == "channel":
            return ("channel", page.channel)
        if kind == "other":
            return ("channel", int(self.other_channel.value))
        if kind == "file":
            cfg = settings()
            return ("file", resolve_under_root(self.path.value_input or self.path.value or "", cfg.data_root,
                                               private=cfg.private_dirs))
        unit = page.moment_unit if kind == "moment0" else ""
        return (kind, tuple(page.moment_channels), unit, convention(page.cube, page.velocity))

    def _plane_of(self, cube, where: tuple):
        """(plane, unit, label) of what to contour; maps come from the page's moments tool (and its cache)."""
        if where[0] == "channel":
            return cube.channel(where[1]), cube.unit, f"channel {where[1]}"
        if where[0] == "file":
            return (*plane_from_fits(where[1], cube), where[1].name)
        kind, channels, unit, conv = where
        moments = getattr(self.page, "moments", None)
        if moments is not None:
            q = moments.moment("Moment 0" if kind == "moment0" else "Peak", channels, unit, conv).data
        else:
            q = moment_map(cube, channels, unit or "native", conv) if kind == "moment0" else cube.peak(channels)
        name = "moment 0" if kind == "moment0" else "peak"
        return q.value, q.unit, f"{name} of channels {channels[0]}–{channels[1]}"

    def _scale_for(self, where: tuple, plane, unit) -> tuple[float, str]:
        """(scale, label) of the unit levels are typed in: a FITS image's own BUNIT; for the cube's planes the
        colour bar's unit when the page has shown a plane in that unit (so typed levels read as on the bar)."""
        if where[0] == "file":
            return 1.0, pretty_unit(unit) or "data units"
        shown = self.page.shown_unit(unit)
        return shown or display_unit(unit, max(abs(v) for v in limits(plane, "99.5%")))

    def _compute(self, where: tuple, spec: tuple, mode: str) -> dict:
        """Plane, levels and lines (runs on an I/O thread)."""
        plane, unit, label = self._plane_of(self.page.cube, where)
        scale, unit_label = self._scale_for(where, plane, unit)
        given = spec if mode == "sigma" else tuple(v / scale for v in spec)
        levels = levels_from_spec(given, plane, mode, unit)
        lines = contour_lines(plane, levels)
        return dict(lines=lines, levels=levels, scale=scale, unit=unit_label, label=label, spec=spec, mode=mode)

    def _show(self, request: int, result: dict) -> None:
        if request != self._request:            # a newer request (or a clear) came in meanwhile
            return
        xs, ys, level, dash = [], [], [], []
        for lv in result["lines"]:
            xs += lv.xs
            ys += lv.ys
            level += [lv.level] * lv.n_lines
            dash += ["dashed" if lv.dashed else "solid"] * lv.n_lines
        self.source.data = dict(xs=xs, ys=ys, level=level, dash=dash)
        self.status.object = self._describe(result)

    @staticmethod
    def _describe(result: dict) -> str:
        levels, scale, unit = result["levels"], result["scale"], html_text(result["unit"])
        counts = ", ".join(str(lv.n_lines) for lv in result["lines"])
        if levels.sigma is not None:
            values = ", ".join(f"{m:g}" for m in levels.multiples)
            what = f"({values}) × σ, σ = {levels.sigma * scale:.3g} {unit} (robust noise of the plane)"
        else:
            what = ", ".join(f"{v:g}" for v in result["spec"]) + f" {unit}"
        dashed = "; negative levels dashed" if any(levels.dashed) else ""
        return (f"<b>{len(levels.values)} levels</b> of {html_text(result['label'])}: {what}; lines per level "
                f"{counts}{dashed}")

    def __panel__(self):
        return pn.Row(
            pn.Column(pn.Row(self.plane, self.other_channel), self.path, pn.Row(self.levels, self.mode),
                      pn.Row(self.draw_button, self.clear_button), width=460),
            pn.Column(pn.Row(self.colour, self.width), self.status, width=480),
            name="Contours")

