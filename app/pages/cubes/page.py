"""The HI cube page: browse a FITS cube channel by channel, moment maps, spectra, sky coordinates."""
from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import astropy.units as u
import numpy as np
import panel as pn
import param

from astroml_core.data import Cube, open_cube
from astroml_core.errors import AstroMLError
from astroml_core.display import (INTERVALS, STRETCHES, axis_labels, colorbar_ticks, limits, pixel_ticks,
                                  sky_ticks, view_plane)
from astroml_core.display.units import display_unit

from ...components.banner import Banner
from ...components.cube_facts import (MOMENT_UNITS, VELOCITY_CHOICES, banner_notes, beam_pixels, convention,
                                     describe, repairs_html, sky_text)
from ...components.cube_source import CubeSource
from ...components.hi_catalogue import C_KMS, DetectionPanel
from ...components.image_view import COLORMAPS, ImageView
from ...components.locking import held, next_tick, run_io, with_document_lock
from ...components.player import Player
from ...components.safe_text import html_text, md_text, pre_text
from ...components.spectrum_view import SpectrumView
from ...components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .catalogue import CatalogueTool
from .contours import ContourTool
from .pv import PVTool
from .regions import RegionTool
from .moments import MomentTool
from .spectral_axis import AXES, SpectralAxisControl, axis_label

__all__ = ["CubePage"]

LIMITS_REVERSED = "the upper colour limit must be above the lower one"

VIEWS = ["Channel", "Moment 0", "Moment 1", "Moment 2", "Peak"]
URL_STATE = {"file": "file", "channel": "channel", "view": "view", "stretch": "stretch", "limits": "limits",
             "vmin": "vmin", "vmax": "vmax", "cmap": "cmap", "pixel": "pixel", "velocity": "velocity",
             "moment_unit": "flux", "spectral_axis": "axis"}
_MOVE_INTERVAL_S = 0.03
_SPINNER_AFTER_MS = 300       # a map computed faster than this shows no spinner
MAX_SCREEN_PX = 1024          # planes up to this size go to the browser whole; bigger ones as the visible crop


class CubePage(pn.viewable.Viewer):
    """Page state (channel, view, stretch, limits, colour map, selected pixel) and its widgets."""

    channel = param.Integer(default=0, bounds=(0, 1), doc="Channel shown (0-based)")
    view = param.Selector(default="Channel", objects=VIEWS, doc="Channel image, moment-0 or peak map")
    stretch = param.Selector(default="linear", objects=list(STRETCHES))
    limits = param.Selector(default="99.9%", objects=list(INTERVALS) + ["custom"])  # CARTA's default
    vmin = param.Number(default=0.0, label="Lower limit", doc="Custom lower colour limit, in the shown unit")
    vmax = param.Number(default=1.0, label="Upper limit", doc="Custom upper colour limit, in the shown unit")
    cmap = param.Selector(default="viridis", objects=list(COLORMAPS), label="Colour map")
    moment_channels = param.Range(default=(0, 1), bounds=(0, 1), label="Channels for the maps")
    pixel = param.Tuple(default=None, allow_None=True, length=2, doc="Selected pixel (y, x)")
    file = param.String(default="", doc="The open cube, relative to the data root (for links)")
    velocity = param.Selector(default="file", objects=VELOCITY_CHOICES, label="Velocity convention")
    moment_unit = param.Selector(default="beam", objects=MOMENT_UNITS, label="Moment-0 unit")
    spectral_axis = param.Selector(default="frequency", objects=AXES, label="Spectral axis")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.cube: Cube | None = None
        self._plane: np.ndarray | None = None
        self._plane_unit: u.UnitBase = u.one
        self._units: dict[str, tuple[float, str]] = {}
        self._last_limits: tuple[float, float] | None = None
        self._maps: dict[tuple, np.ndarray] = {}
        self._pending_move: tuple[float | None, float | None] = (None, None)
        self._move_scheduled = False
        self._pending_map: tuple | None = None        # the map being computed, for the delayed spinner
        self._busy = False
        self.banner = Banner()
        self.image = ImageView(on_tap=self._tap_image, on_move=self._pointer, on_ranges=self._ranges)
        self._player = Player(self.image.source, lambda: self.step(+1))
        self.spectrum_view = SpectrumView(on_tap=self._tap_spectrum)
        self.detections = DetectionPanel(self)
        self.source = CubeSource(on_path=self.open, on_error=self.banner.error)
        # The daily tools (regions, contours, PV slice, catalogue overlay): each adds its own tab.
        self.tools = pn.Tabs(name="cube-tools", dynamic=False, margin=(10, 0), max_width=1320)
        self.contours, self.pv = ContourTool(self), PVTool(self)
        self.tools.extend([("Contours", self.contours), ("PV slice", self.pv)])
        self.tap_takers = [self.pv]                  # tools that may claim a tap on the image before pixel selection
        self.catalogue_overlay = CatalogueTool(self)
        self.tools.append(("Catalogue", self.catalogue_overlay))
        self.regions = RegionTool(self)
        self.tools.append(("Regions", self.regions))
        self.title = pn.pane.Markdown("### No cube open", margin=(0, 10), css_classes=["page-title"])
        self.info = pn.pane.Markdown("", css_classes=["cube-info"], styles={"font-size": "13px"}, margin=(0, 10))
        self.repairs = pn.pane.HTML("", css_classes=["header-repairs"], visible=False, sizing_mode="stretch_width",
                                    styles={"font-size": "12px", "background": "#fff8e1", "padding": "4px 8px"})
        self.header_text = pn.pane.HTML("", styles={"font-size": "11px", "overflow": "auto"}, max_height=400,
                                        css_classes=["fits-header"], sizing_mode="stretch_width")
        self.channel_label = pn.pane.HTML("", css_classes=["channel-label"], styles={"font-size": "14px"},
                                          margin=(0, 10))
        self.limits_label = pn.pane.HTML("", css_classes=["limits-label"], margin=(0, 10))
        self.readout = pn.pane.HTML("Move the pointer over the image", css_classes=["pointer-readout"],
                                    styles={"font-family": "monospace", "font-size": "13px"}, margin=(0, 10),
                                    min_height=22)
        self._widgets = self._make_widgets()
        self._image_pane = pn.pane.Bokeh(self.image.fig, margin=0)
        self.moments, self.axis = MomentTool(self), SpectralAxisControl(self)
        self.tools.append(("Moments", self.moments))
        self.copy_link = copy_link_button()
        open_linked_or_demo(self.source)            # a shared link: its cube, then its view
        sync_url(self, URL_STATE, on_error=self._url_not_applied)
        self.detections.restore_from_url()

    def _url_not_applied(self, values: dict) -> None:
        self.banner.warn([f"The link's view could not be restored in full ({', '.join(sorted(values))}): "
                          "the cube may have changed since the link was made."])

    # --- widgets -------------------------------------------------------------------------------
    def _make_widgets(self) -> dict:
        w = dict(
            view=pn.widgets.RadioButtonGroup.from_param(self.param.view, color="primary",
                                                        variant="outline", label="", css_classes=["view-choice"],
                                                        width=340, stylesheets=[".bk-btn {padding: 6px 4px}"]),
            channel=pn.widgets.IntSlider.from_param(self.param.channel, label="Channel", width=245,
                                                    css_classes=["channel-slider"]),
            back=pn.widgets.Button(label="◀", width=45, css_classes=["channel-back"], description="Previous channel"),
            play=pn.widgets.Toggle(label="▶ Play", width=110, css_classes=["channel-play"], color="success"),
            forward=pn.widgets.Button(label="▶", width=45, css_classes=["channel-forward"], description="Next channel"),
            speed=pn.widgets.Select(options={"2 fps": 500, "5 fps": 200, "10 fps": 100}, value=200, width=90),
            moments=pn.widgets.IntRangeSlider(label=self.param.moment_channels.label, start=0, end=1,
                                              value=(0, 1), width=330, visible=False,
                                              css_classes=["moment-range"]),
            stretch=pn.widgets.Select.from_param(self.param.stretch, width=160, css_classes=["stretch-select"]),
            velocity=pn.widgets.Select.from_param(self.param.velocity, width=160, css_classes=["velocity-select"]),
            moment_unit=pn.widgets.Select.from_param(self.param.moment_unit, width=330, visible=False,
                                                     css_classes=["moment-unit"]),
            limits=pn.widgets.Select.from_param(self.param.limits, width=160, css_classes=["limits-select"]),
            cmap=pn.widgets.Select.from_param(self.param.cmap, width=160),
            halfwidth=pn.widgets.IntInput(label="± channels", value=20, start=1, width=90),
            around=pn.widgets.Button(label="Moment 0 around this channel", width=230, css_classes=["map-around"],
                                     description="Integrate the channels either side of the current one"),
            vmin=pn.widgets.FloatInput.from_param(self.param.vmin, width=160, visible=False, css_classes=["vmin-input"]),
            vmax=pn.widgets.FloatInput.from_param(self.param.vmax, width=160, visible=False, css_classes=["vmax-input"]),
        )
        # maps are slow on big cubes: recompute when the handle is released, not while dragging
        w["moments"].param.watch(lambda e: setattr(self, "moment_channels", e.new), "value_throttled")
        # button clicks can be processed outside the document lock: act on the next tick, locked
        w["around"].on_click(lambda e: with_document_lock(partial(self.map_around, w["halfwidth"].value)))
        w["back"].on_click(lambda e: with_document_lock(partial(self.step, -1)))
        w["forward"].on_click(lambda e: with_document_lock(partial(self.step, +1)))
        w["play"].param.watch(self._play, "value")
        w["speed"].param.watch(lambda e: self._player.restart(e.new), "value")
        return w

    def map_around(self, halfwidth: int) -> None:
        """Show the moment-0 map of channels [channel − halfwidth, channel + halfwidth]."""
        if self.cube is None:
            return
        lo, hi = max(0, self.channel - halfwidth), min(self.cube.n_channels - 1, self.channel + halfwidth)
        self._widgets["moments"].value = (lo, hi)
        self.param.update(moment_channels=(lo, hi), view="Moment 0")

    @held
    def step(self, delta: int) -> None:
        """Move ``delta`` channels, wrapping round at the ends (the player loops); the image, labels, slider
        and overlays reach the browser as one message."""
        if self.cube is not None:
            self.channel = (self.channel + delta) % self.cube.n_channels

    def _play(self, event) -> None:
        w = self._widgets
        w["play"].label = "❚❚ Pause" if event.new else "▶ Play"
        if event.new:
            self._player.start(w["speed"].value)
        else:
            self._player.stop()

    def __panel__(self):
        w = self._widgets
        controls = pn.Column(
            w["view"], pn.Row(w["channel"], self.axis.channel_input, self.axis.keys),
            pn.Row(w["back"], w["play"], w["forward"], w["speed"]), pn.Row(w["around"], w["halfwidth"]), w["moments"],
            pn.Row(self.axis.chooser, w["velocity"]), w["moment_unit"],
            self.channel_label,
            pn.Row(w["stretch"], w["limits"]), pn.Row(w["vmin"], w["vmax"]), w["cmap"], self.limits_label,
            self.info, self.repairs, pn.Card(self.header_text, title="FITS header", collapsed=True, width=340,
                               styles={"overflow": "auto"}),
            width=360, margin=(0, 10))
        plots = pn.Column(
            self._image_pane, self.readout,
            pn.pane.Bokeh(self.spectrum_view.fig, margin=(10, 0)), margin=0)
        return pn.Column(
            pn.Row(pn.Column(self.title, self.copy_link, width=380), self.source, margin=(0, 0, 5, 0)),
            self.banner,
            # side by side where both fit; in a narrower window (1280 px, lecturer mode) the image and its
            # colour bar go on top, whole, and the controls wrap below them
            pn.Row(controls, plots, styles={"flex-wrap": "wrap-reverse", "align-items": "start",
                                            "align-content": "start"}, sizing_mode="stretch_width"),
            self.tools,
            pn.Row(self.detections, max_width=1320),
            sizing_mode="stretch_width",
        )

    # --- opening -------------------------------------------------------------------------------
    def open(self, path: Path, label: str) -> None:
        """Open a cube file (on an I/O thread) and show its middle channel; a bad file leaves the current
        cube as it was."""
        run_io(partial(open_cube, path), partial(self._show_cube, path, label), self.banner.error)

    def _show_cube(self, path: Path, label: str, cube: Cube) -> None:
        self.cube, self._maps, self._units, self._busy = cube, {}, {}, True
        cube.use_spectral_copy()               # spectra and moment-0 maps from memory once it is built
        self.moments.reset()
        n = cube.n_channels
        self.param.channel.bounds = (0, n - 1)
        self.param.moment_channels.bounds = (0, n - 1)
        self.param.update(channel=n // 2, moment_channels=(0, n - 1), pixel=None)
        self._widgets["moments"].param.update(start=0, end=n - 1, value=(0, n - 1))
        self._busy = False
        self.banner.clear()
        self.banner.warn(banner_notes(cube))
        self.title.object = f"### {md_text(label)}"
        self.info.object = describe(cube)
        self.repairs.param.update(object=repairs_html(cube), visible=bool(cube.repairs))
        self.header_text.object = pre_text(cube.header.tostring(sep="\n", endcard=False, padding=False))
        self.image.set_extent(*cube.shape[1:])
        self._set_velocity_axis()
        self.spectrum_view.show([], [], "Click a pixel in the image to see its spectrum", "Flux density")
        self.image.set_marker(None, None)
        self.spectrum_view.mark_width(None, None)
        self.detections.reset(path)
        self.file = link_path(path)
        self._refresh_plane()
        self._update_ticks()

    def _set_velocity_axis(self) -> None:
        c = self.cube
        self.spectrum_view.set_axis(c.rest_frequency.to_value(u.MHz), convention(c, self.velocity),
                                    c.frequencies.to_value(u.MHz))
        self.axis.apply()                                  # the chosen spectral axis below

    @param.depends("velocity", watch=True)
    def _on_velocity(self) -> None:
        """Another velocity convention: the label, the spectrum's velocity axis and a km/s map follow it."""
        if self.cube is None or self._busy:
            return
        self._set_velocity_axis()
        if self.view != "Channel" and self._map_key() not in self._maps:
            self._refresh_plane()
        else:
            self._update_label()

    # --- what is drawn ---------------------------------------------------------------------------
    @param.depends("view", watch=True, on_init=False)
    def _reset_custom_limits(self) -> None:
        """Custom limits belong to one kind of map: a new view starts from the 99.5% interval."""
        if self.limits == "custom":
            self._busy, self.limits, self._busy = True, "99.5%", False

    @param.depends("view", "moment_channels", "moment_unit", watch=True)
    def _refresh_plane(self) -> None:
        """Show the plane for the current view: the channel, or a moment map (computed off the event loop)."""
        if self.cube is None or self._busy:
            return
        self._widgets["moments"].param.update(visible=self.view != "Channel", value=tuple(self.moment_channels))
        self._widgets["moment_unit"].visible = self.view == "Moment 0"
        key = self._map_key()
        if self.view != "Channel" and key not in self._maps:
            doc = pn.state.curdoc
            if doc is not None and doc.session_context is not None:
                self._pending_map = key
                doc.add_timeout_callback(partial(self._show_loading, key), _SPINNER_AFTER_MS)
                pn.state.execute(partial(self._compute_map, key))
                return
        try:
            if self.view == "Channel":
                self._plane, self._plane_unit = self.cube.channel(self.channel), self.cube.unit
            else:
                if key not in self._maps:                        # no server (tests, notebooks): just compute
                    self._store_map(key, self._map_quantity(key))
                self._plane, self._plane_unit = self._maps[key]
        except Exception as exc:
            self.banner.error(exc)
            return
        self._draw()
        self._update_label()

    def _map_key(self) -> tuple:
        moment = self.view == "Moment 0" and self.moment_unit != "native"
        velocity = moment or self.view in ("Moment 1", "Moment 2")
        return (self.view, tuple(self.moment_channels), self.moment_unit if moment else "",
                convention(self.cube, self.velocity) if velocity else "") + self.moments.key()

    def _map_quantity(self, key: tuple) -> u.Quantity:
        return self.moments.map_quantity(*key)

    def _store_map(self, key: tuple, q: u.Quantity) -> None:
        self._maps = {key: (q.value, q.unit)}  # keep one map: they can be large

    async def _compute_map(self, key: tuple) -> None:
        """Moment/peak maps read the whole channel range: do it in a thread so other sessions go on.

        Back from the thread, the page is updated in a next-tick callback, which holds the document lock.
        """
        doc = pn.state.curdoc
        try:
            q = await asyncio.to_thread(self._map_quantity, key)
        except Exception as exc:
            next_tick(doc, partial(self._map_done, key, None, exc))
            return
        next_tick(doc, partial(self._map_done, key, q, None))

    def _show_loading(self, key: tuple) -> None:
        """A map still computing after a moment gets the spinner; a quick one (from the in-memory copy) never
        flashes it, which would cost two more layouts of the page."""
        if self._pending_map == key:
            self._image_pane.loading = True

    @held
    def _map_done(self, key: tuple, q: u.Quantity | None, exc: BaseException | None) -> None:
        self._pending_map = None
        self._image_pane.loading = False
        if exc is not None:
            self.banner.error(exc)
            return
        self._store_map(key, q)
        if self._map_key() == key:
            self._refresh_plane()

    @param.depends("limits", watch=True)
    def _limits_mode(self) -> None:
        """Custom limits start from the limits in use, so typing one end keeps the other sensible."""
        custom = self.limits == "custom"
        self._widgets["vmin"].visible = self._widgets["vmax"].visible = custom
        if custom and self._last_limits is not None:
            scale, _ = self._display_unit()
            self._busy = True
            self.param.update(vmin=float(f"{self._last_limits[0] * scale:.4g}"),
                              vmax=float(f"{self._last_limits[1] * scale:.4g}"))
            self._busy = False

    @param.depends("stretch", "limits", "vmin", "vmax", watch=True)
    def _redraw(self) -> None:
        # select-widget changes can arrive outside the document lock: draw on the next tick, locked
        with_document_lock(self._draw)

    def _draw(self) -> None:
        """Stretch the current plane into the image and relabel the colour bar in data units."""
        if self._plane is None or self._busy:
            return
        # a plane that fits the screen goes whole, so zooming out never finds it cropped
        region = self.image.visible() if max(self._plane.shape) > MAX_SCREEN_PX else None
        scale, unit = self._display_unit()
        given = (self.vmin / scale, self.vmax / scale) if self.limits == "custom" else (None, None)
        if given[0] is not None and not given[1] > given[0]:
            self.banner.error(AstroMLError(LIMITS_REVERSED))
            return
        if LIMITS_REVERSED in self.banner.error_text:       # the pair is fixed: its error goes, any other stays
            self.banner.clear()
        interval = "99.5%" if self.limits == "custom" else self.limits
        view = view_plane(self._plane, interval=interval, stretch=self.stretch, region=region,
                          vmin=given[0], vmax=given[1])
        self.image.show(view)
        d = view.display
        self._last_limits = (d.vmin, d.vmax)
        self.image.set_colorbar(colorbar_ticks(d.vmin, d.vmax, d.stretch, scale), unit)
        self.limits_label.object = (f"Colour limits <b>{d.vmin * scale:.4g} … {d.vmax * scale:.4g}</b> {html_text(unit)} "
                                    f"({self.limits}, {self.stretch})")

    def _display_unit(self, kind: str | None = None) -> tuple[float, str]:
        """(scale, label) for the plane shown (or, with ``kind="Channel"``, for channels), fixed per cube
        and unit from its first plane so labels never jump. Keyed by the plane's unit, not the view: while
        a moment map is still being computed the plane shown is a channel."""
        channel = kind == "Channel"
        unit = self.cube.unit if channel else self._plane_unit
        key = str(unit)
        if key not in self._units:
            plane = self.cube.channel(self.channel) if channel else self._plane
            self._units[key] = display_unit(unit, max(abs(v) for v in limits(plane, "99.5%")))
        return self._units[key]

    @param.depends("cmap", watch=True)
    def _recolour(self) -> None:
        self.image.set_cmap(self.cmap)

    @param.depends("channel", watch=True)
    def _on_channel(self) -> None:
        if self.cube is None or self._busy:
            return
        if self.view == "Channel":
            self._refresh_plane()
        else:
            self._update_label()
        self.spectrum_view.mark(float(self.cube.frequencies[self.channel].to_value(u.MHz)))
        if self.cube.beams is not None:                    # CASA per-channel beams: draw this channel's
            self.image.set_beam(*beam_pixels(self.cube, self.channel if self.view == "Channel" else None))
        self.detections.overlay()

    def _update_label(self) -> None:
        c = self.cube
        text = axis_label(c, self.channel, self.spectral_axis, self.velocity)
        if self.view != "Channel":
            lo, hi = self.moment_channels
            flo, fhi = sorted(c.frequencies[[lo, hi]].to_value(u.MHz))
            text = f"{self.view} over channels {lo}–{hi} ({flo:.3f}–{fhi:.3f} MHz)<br>" + text
        self.channel_label.object = text

    def _update_ticks(self) -> None:
        if self.cube is None:
            return
        x0, x1, y0, y1 = self.image.visible()
        wcs = self.cube.celestial
        if wcs is not None:
            xt, yt = sky_ticks(wcs, "x", x0, x1, y0), sky_ticks(wcs, "y", y0, y1, x0)
        else:
            xt, yt = pixel_ticks(x0, x1), pixel_ticks(y0, y1)
        self.image.set_axis_ticks(xt, yt, *axis_labels(wcs))
        self.image.set_beam(*beam_pixels(self.cube, self.channel if self.view == "Channel" else None))

    # --- events from the plots -------------------------------------------------------------------
    def _ranges(self) -> None:
        """After pan/zoom: new sky ticks; for big planes, re-rasterise the visible region."""
        self._update_ticks()
        if self._plane is not None and max(self._plane.shape) > MAX_SCREEN_PX:
            self._draw()

    def _inside(self, x: float | None, y: float | None) -> tuple[int, int] | None:
        if self.cube is None or x is None or y is None or not np.isfinite([x, y]).all():
            return None             # Bokeh sends NaN when the pointer leaves the frame
        ix, iy = int(round(x)), int(round(y))
        ny, nx = self.cube.shape[1:]
        return (iy, ix) if 0 <= ix < nx and 0 <= iy < ny else None

    def _pointer(self, x: float | None, y: float | None) -> None:
        """Pointer moved: update the readout at most every 30 ms, always ending on the last position."""
        self._pending_move = (x, y)
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._flush_pointer()
        elif not self._move_scheduled:
            self._move_scheduled = True
            doc.add_timeout_callback(self._flush_pointer, int(_MOVE_INTERVAL_S * 1000))

    def _flush_pointer(self) -> None:
        """Cursor readout: sky position, pixel and value with unit."""
        self._move_scheduled = False
        pix = self._inside(*self._pending_move)
        if pix is None or self._plane is None:
            return
        y, x = self._pending_move[1], self._pending_move[0]
        iy, ix = pix
        value = self._plane[iy, ix]
        scale, unit = self._display_unit()
        where = sky_text(self.cube, self.cube.world(self.channel, y, x).sky)
        self.readout.object = f"{where} · pixel ({ix}, {iy}) · value {value * scale:.6g} {html_text(unit)}"

    @held
    def _tap_image(self, x: float | None, y: float | None) -> None:
        if any(tool.take_tap(x, y) for tool in self.tap_takers):
            return
        pix = self._inside(x, y)
        if pix is not None:
            self.spectrum_view.mark_width(None, None)
            self.pixel = pix

    def show_source(self, row) -> None:
        """Go to a catalogued source: its channel, centred on it, its spectrum with W20 marked."""
        from astropy.coordinates import SkyCoord

        cube = self.cube
        y, x = cube.pixel_of(SkyCoord(row["ra"], row["dec"], frame="icrs"))
        nu = row["central_freq"].to_value(u.Hz)
        half = row["w20"].to_value(u.km / u.s) * nu**2 / (C_KMS * cube.rest_frequency.to_value(u.Hz)) / 2
        self.param.update(view="Channel", channel=cube.channel_of(nu * u.Hz))
        self.image.centre_on(x, y)
        self._update_ticks()
        self.pixel = (int(np.clip(round(y), 0, cube.shape[1] - 1)), int(np.clip(round(x), 0, cube.shape[2] - 1)))
        self.spectrum_view.mark_width((nu - half) / 1e6, (nu + half) / 1e6)

    @param.depends("pixel", watch=True)
    def _show_spectrum(self) -> None:
        if self.cube is None or self.pixel is None:
            return
        iy, ix = self.pixel
        try:
            flux = self.cube.spectrum(iy, ix)
        except Exception as exc:
            self.banner.error(exc)
            return
        scale, unit = self._display_unit("Channel")
        sky = self.cube.world(self.channel, iy, ix).sky
        where = sky.to_string("hmsdms", precision=1) if sky is not None else "no sky WCS"
        self.spectrum_view.show(self.cube.frequencies.to_value(u.MHz), flux * scale,
                                f"Spectrum at pixel ({ix}, {iy}) · {where} · {flux.size} channels",
                                f"Flux density ({unit})")
        self.spectrum_view.mark(float(self.cube.frequencies[self.channel].to_value(u.MHz)))
        self.image.set_marker(ix, iy)

    def _tap_spectrum(self, freq_mhz: float) -> None:
        if self.cube is not None:
            self.channel = self.cube.channel_of(freq_mhz * u.MHz)
