"""The HI cube page: browse a FITS cube channel by channel, moment maps, spectra, sky coordinates.

Its state and the logic on it are :class:`.state.CubeState`; this module is the view: the image, spectrum,
tools and widgets (laid out by :mod:`.view`), and the callbacks between them and the state."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import astropy.units as u
import panel as pn
import param

from astroml_core.data import Cube, open_cube
from astroml_core.errors import AstroMLError
from astroml_core.display import colorbar_ticks, view_plane

from ...components.banner import Banner
from .cube_facts import banner_notes, beam_pixels, convention
from ...components.cube_source import CubeSource
from .image_view import ImageView
from ...components.locking import held, run_io, with_document_lock
from .player import Player
from ...components.safe_text import html_text
from .spectrum_view import SpectrumView
from ...components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .catalogue import CatalogueTool
from .detections import DetectionPanel
from .contours import ContourTool
from .map_runner import MapRunner
from .moments import MomentTool
from .pv import PVTool
from .regions import RegionTool
from .spectral_axis import SpectralAxisControl
from .state import LIMITS_REVERSED, CubeState
from .view import draw_ticks, layout, make_controls, show_facts, text_panes

__all__ = ["CubePage"]

URL_STATE = {"file": "file", "channel": "channel", "view": "view", "stretch": "stretch", "limits": "limits",
             "vmin": "vmin", "vmax": "vmax", "cmap": "cmap", "pixel": "pixel", "velocity": "velocity",
             "moment_unit": "flux", "spectral_axis": "axis"}
_MOVE_INTERVAL_S = 0.03
MAX_SCREEN_PX = 1024          # planes up to this size go to the browser whole; bigger ones as the visible crop


class CubePage(CubeState, pn.viewable.Viewer):
    """The cube page: its state (:class:`CubeState`), its widgets and the callbacks between them."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._pending_move: tuple[float | None, float | None] = (None, None)
        self._move_scheduled = False
        self.banner = Banner()
        self.image = ImageView(on_tap=self._tap_image, on_move=self._pointer, on_ranges=self._ranges)
        self._player = Player(self.image.source, lambda: self.step(+1))
        self.spectrum_view = SpectrumView(on_tap=self._tap_spectrum)
        self.detections = DetectionPanel(self, self.image, self.banner, go_to=self.show_source)
        self.source = CubeSource(on_path=self.open, on_error=self.banner.error)
        # The daily tools (regions, contours, PV slice, catalogue overlay): each adds its own tab.
        self.tools = pn.Tabs(name="cube-tools", dynamic=False, margin=(10, 0), max_width=1320)
        self.contours, self.pv = ContourTool(self), PVTool(self)
        self.catalogue_overlay, self.regions = CatalogueTool(self), RegionTool(self)
        self.tools.extend([("Contours", self.contours), ("PV slice", self.pv), ("Catalogue", self.catalogue_overlay),
                           ("Regions", self.regions)])
        self.tap_takers = [self.pv]                  # tools that may claim a tap on the image before pixel selection
        for name, pane in text_panes().items():
            setattr(self, name, pane)
        self._widgets = make_controls(self, self._player)
        self._image_pane = pn.pane.Bokeh(self.image.fig, margin=0)
        self.map_runner = MapRunner(self.map_quantity, self._map_made, self.banner.error, self._image_pane)
        self.moments, self.axis = MomentTool(self), SpectralAxisControl(self)
        self.tools.append(("Moments", self.moments))
        self.copy_link = copy_link_button()
        open_linked_or_demo(self.source)            # a shared link: its cube, then its view
        sync_url(self, URL_STATE, on_error=self._url_not_applied)
        self.detections.restore_from_url()

    def __panel__(self):
        return layout(self, self._widgets, self._image_pane)

    def _url_not_applied(self, values: dict) -> None:
        self.banner.warn([f"The link's view could not be restored in full ({', '.join(sorted(values))}): "
                          "the cube may have changed since the link was made."])

    # --- moving through the cube -------------------------------------------------------------------
    def map_around(self, halfwidth: int) -> None:
        """Show the moment-0 map of channels [channel − halfwidth, channel + halfwidth]."""
        if self.cube is None:
            return
        lo, hi = self.window(halfwidth)
        self._widgets["moments"].value = (lo, hi)
        self.param.update(moment_channels=(lo, hi), view="Moment 0")

    @held
    def step(self, delta: int) -> None:
        """Move ``delta`` channels, wrapping round; the image, labels, slider and overlays reach the browser
        as one message."""
        super().step(delta)

    # --- opening -----------------------------------------------------------------------------------
    def open(self, path: Path, label: str) -> None:
        """Open a cube file (on an I/O thread) and show its middle channel; a bad file leaves the current
        cube as it was."""
        run_io(partial(open_cube, path), partial(self._show_cube, path, label), self.banner.error)

    def _show_cube(self, path: Path, label: str, cube: Cube) -> None:
        cube.use_spectral_copy()               # spectra and moment-0 maps from memory once it is built
        self.load(cube)
        self.moments.reset()
        self._widgets["moments"].param.update(start=0, end=cube.n_channels - 1, value=tuple(self.moment_channels))
        self.banner.clear()
        self.banner.warn(banner_notes(cube))
        show_facts(self, label, cube)
        self.image.set_extent(*cube.shape[1:])
        self.set_velocity_axis()
        self.spectrum_view.show([], [], "Click a pixel in the image to see its spectrum", "Flux density")
        self.image.set_marker(None, None)
        self.spectrum_view.mark_width(None, None)
        self.detections.reset(path)
        self.file = link_path(path)
        self.refresh_plane()
        self.update_ticks()

    def set_velocity_axis(self) -> None:
        """Relabel the spectrum's velocity axis and the chosen spectral axis for the open cube."""
        c = self.cube
        self.spectrum_view.set_axis(c.rest_frequency.to_value(u.MHz), convention(c, self.velocity),
                                    c.frequencies.to_value(u.MHz))
        self.axis.apply()                                  # the chosen spectral axis below

    @param.depends("velocity", watch=True)
    def _on_velocity(self) -> None:
        """Another velocity convention: the label, the spectrum's velocity axis and a km/s map follow it."""
        if self.cube is None or self._busy:
            return
        self.set_velocity_axis()
        if self.map_ready():
            self.update_label()
        else:
            self.refresh_plane()

    # --- what is drawn -----------------------------------------------------------------------------
    def map_options(self) -> tuple:
        """The moment tool's clip and mask are part of every map's key."""
        return self.moments.key()

    def map_quantity(self, key: tuple) -> u.Quantity:
        """The map for ``key``, from the moment tool (which caches them)."""
        return self.moments.map_quantity(*key)

    @param.depends("view", "moment_channels", "moment_unit", watch=True)
    def refresh_plane(self) -> None:
        """Show the plane for the current view: the channel, or a moment map (made on a thread of its own)."""
        if self.cube is None or self._busy:
            return
        self._widgets["moments"].param.update(visible=self.view != "Channel", value=tuple(self.moment_channels))
        self._widgets["moment_unit"].visible = self.view == "Moment 0"
        if not self.map_ready():
            self.map_runner.start(self.map_key())
            return
        try:
            self.take_plane()
        except Exception as exc:
            self.banner.error(exc)
            return
        self._draw()
        self.update_label()

    def _map_made(self, key: tuple, q: u.Quantity) -> None:
        """A map is back: keep it, and show it if it is still the one asked for."""
        self.keep_map(key, q)
        if self.map_key() == key:
            self.refresh_plane()

    @param.depends("limits", watch=True)
    def _limits_mode(self) -> None:
        """Custom limits show their two inputs, filled from the limits in use."""
        custom = self.limits == "custom"
        self._widgets["vmin"].visible = self._widgets["vmax"].visible = custom
        if custom:
            self.start_custom_limits()

    @param.depends("stretch", "limits", "vmin", "vmax", watch=True)
    def _redraw(self) -> None:
        # select-widget changes can arrive outside the document lock: draw on the next tick, locked
        with_document_lock(self._draw)

    def _draw(self) -> None:
        """Stretch the current plane into the image and relabel the colour bar in data units."""
        if self.plane is None or self._busy:
            return
        # a plane that fits the screen goes whole, so zooming out never finds it cropped
        region = self.image.visible() if max(self.plane.shape) > MAX_SCREEN_PX else None
        try:
            lo, hi = self.given_limits()
        except AstroMLError as exc:
            self.banner.error(exc)
            return
        if LIMITS_REVERSED in self.banner.error_text:       # the pair is fixed: its error goes, any other stays
            self.banner.clear()
        interval = "99.5%" if self.limits == "custom" else self.limits
        view = view_plane(self.plane, interval=interval, stretch=self.stretch, region=region, vmin=lo, vmax=hi)
        self.image.show(view)
        d = view.display
        self.last_limits = (d.vmin, d.vmax)
        scale, unit = self.display_unit()
        self.image.set_colorbar(colorbar_ticks(d.vmin, d.vmax, d.stretch, scale), unit)
        self.limits_label.object = (f"Colour limits <b>{d.vmin * scale:.4g} … {d.vmax * scale:.4g}</b> "
                                    f"{html_text(unit)} ({self.limits}, {self.stretch})")

    @param.depends("cmap", watch=True)
    def _recolour(self) -> None:
        self.image.set_cmap(self.cmap)

    @param.depends("channel", watch=True)
    def _on_channel(self) -> None:
        """A new channel: its plane (or the map's label), the spectrum's marker, its beam, the overlays."""
        if self.cube is None or self._busy:
            return
        if self.view == "Channel":
            self.refresh_plane()
        else:
            self.update_label()
        self.spectrum_view.mark(self.frequency_mhz())
        if self.cube.beams is not None:                    # CASA per-channel beams: draw this channel's
            self.image.set_beam(*beam_pixels(self.cube, self.beam_channel()))
        self.detections.overlay()

    def update_label(self) -> None:
        """Rewrite the channel label (the axis, the convention or the channel changed)."""
        self.channel_label.object = self.label_text()

    def update_ticks(self) -> None:
        """Sky (or pixel) ticks and the beam for the visible part of the image."""
        if self.cube is None:
            return
        draw_ticks(self.image, self.cube, self.beam_channel())

    _display_unit = CubeState.display_unit      # old name, for test_cube_regions_state until it moves on

    # --- events from the plots ---------------------------------------------------------------------
    def _ranges(self) -> None:
        """After pan/zoom: new sky ticks; for big planes, re-rasterise the visible region."""
        self.update_ticks()
        if self.plane is not None and max(self.plane.shape) > MAX_SCREEN_PX:
            self._draw()

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
        text = self.readout_text(*self._pending_move)
        if text is not None:
            self.readout.object = text

    @held
    def _tap_image(self, x: float | None, y: float | None) -> None:
        if any(tool.take_tap(x, y) for tool in self.tap_takers):
            return
        pix = self.inside(x, y)
        if pix is not None:
            self.spectrum_view.mark_width(None, None)
            self.pixel = pix

    def show_source(self, row) -> None:
        """Go to a catalogued source: its channel, centred on it, its spectrum with W20 marked."""
        channel, x, y, (lo, hi) = self.source_place(row)
        self.param.update(view="Channel", channel=channel)
        self.image.centre_on(x, y)
        self.update_ticks()
        self.pixel = self.nearest_pixel(x, y)
        self.spectrum_view.mark_width(lo, hi)

    @param.depends("pixel", watch=True)
    def _show_spectrum(self) -> None:
        if self.cube is None or self.pixel is None:
            return
        try:
            freq, flux, title, label = self.spectrum()
        except Exception as exc:
            self.banner.error(exc)
            return
        self.spectrum_view.show(freq, flux, title, label)
        self.spectrum_view.mark(self.frequency_mhz())
        self.image.set_marker(self.pixel[1], self.pixel[0])

    def _tap_spectrum(self, freq_mhz: float) -> None:
        if self.cube is not None:
            self.channel = self.channel_at(freq_mhz)
