"""The HI cube page's state without widgets: what is shown (file, channel, view, stretch, limits, colour map,
pixel, conventions), the open cube, the plane on show and the logic on them (channel ↔ frequency, map keys,
display units, colour limits, readouts). Importable and testable headless; the page's view draws from it."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import param

from astroml_core.analysis.moments import moment_map
from astroml_core.tasks.hi.source_shape import w20_half_width_hz
from astroml_core.data import Cube
from astroml_core.display import INTERVALS, STRETCHES, limits
from astroml_core.display.units import display_unit
from astroml_core.errors import AstroMLError

from .cube_facts import MOMENT_UNITS, VELOCITY_CHOICES, convention, sky_text
from .image_view import COLORMAPS
from ...components.safe_text import html_text
from .spectral_axis import AXES, axis_label

__all__ = ["CubeState", "VIEWS", "MOMENT_VIEWS", "LIMITS_REVERSED"]

VIEWS = ["Channel", "Moment 0", "Moment 1", "Moment 2", "Peak"]
MOMENT_VIEWS = {"Moment 0": "moment0", "Moment 1": "moment1", "Moment 2": "moment2", "Peak": "peak"}
LIMITS_REVERSED = "the upper colour limit must be above the lower one"


class CubeState(param.Parameterized):
    """The cube page's parameters (lessons and links set them), the open cube and the plane shown."""

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
        self.plane: np.ndarray | None = None          # the plane shown, in the unit below
        self.plane_unit: u.UnitBase = u.one
        self.last_limits: tuple[float, float] | None = None   # the colour limits last drawn, in data units
        self._units: dict[str, tuple[float, str]] = {}
        self._maps: dict[tuple, tuple] = {}
        self._busy = False                           # True while several parameters change as one

    # --- the cube ----------------------------------------------------------------------------------
    def load(self, cube: Cube) -> None:
        """Make ``cube`` the open cube, on its middle channel, maps over all channels, no pixel chosen."""
        self.cube, self._maps, self._units, self._busy = cube, {}, {}, True
        n = cube.n_channels
        self.param.channel.bounds = (0, n - 1)
        self.param.moment_channels.bounds = (0, n - 1)
        self.param.update(channel=n // 2, moment_channels=(0, n - 1), pixel=None)
        self._busy = False

    def step(self, delta: int) -> None:
        """Move ``delta`` channels, wrapping round at the ends (the player loops)."""
        if self.cube is not None:
            self.channel = (self.channel + delta) % self.cube.n_channels

    def window(self, halfwidth: int) -> tuple[int, int]:
        """The channels [channel − halfwidth, channel + halfwidth], cut to the cube."""
        return max(0, self.channel - halfwidth), min(self.cube.n_channels - 1, self.channel + halfwidth)

    def frequency_mhz(self, channel: int | None = None) -> float:
        """The frequency (MHz) of ``channel`` (the one shown by default)."""
        return float(self.cube.frequencies[self.channel if channel is None else channel].to_value(u.MHz))

    def channel_at(self, freq_mhz: float) -> int:
        """The channel nearest ``freq_mhz``."""
        return self.cube.channel_of(freq_mhz * u.MHz)

    def inside(self, x: float | None, y: float | None) -> tuple[int, int] | None:
        """The pixel (y, x) under image position (x, y), or None off the cube (Bokeh sends NaN off the frame)."""
        if self.cube is None or x is None or y is None or not np.isfinite([x, y]).all():
            return None
        ix, iy = int(round(x)), int(round(y))
        ny, nx = self.cube.shape[1:]
        return (iy, ix) if 0 <= ix < nx and 0 <= iy < ny else None

    def beam_channel(self) -> int | None:
        """The channel whose beam is drawn: the one shown, or None (the cube's own beam) on a map."""
        return self.channel if self.view == "Channel" else None

    # --- the plane shown -----------------------------------------------------------------------------
    def map_key(self) -> tuple:
        """What identifies the map of the current view: view, channels, moment-0 unit, convention, options."""
        moment = self.view == "Moment 0" and self.moment_unit != "native"
        velocity = moment or self.view in ("Moment 1", "Moment 2")
        return (self.view, tuple(self.moment_channels), self.moment_unit if moment else "",
                convention(self.cube, self.velocity) if velocity else "") + self.map_options()

    def map_options(self) -> tuple:
        """Further parts of the map key (the page adds its moment tool's clip and mask)."""
        return ()

    def map_quantity(self, key: tuple) -> u.Quantity:
        """The map for ``key`` (slow on big cubes: the page runs it off the event loop)."""
        view, channels, unit, conv = key[:4]
        return moment_map(self.cube, MOMENT_VIEWS[view], channels, convention=conv or None,
                          moment0_unit=unit or "native").data

    def map_ready(self) -> bool:
        """Whether the plane of the current view can be shown now (a channel, or a map already made)."""
        return self.view == "Channel" or self.map_key() in self._maps

    def keep_map(self, key: tuple, q: u.Quantity) -> None:
        """Remember one map (they can be large) for when its key is shown."""
        self._maps = {key: (q.value, q.unit)}

    def take_plane(self) -> None:
        """Make the current view's plane the one shown: the channel, or its map (made here when not kept)."""
        if self.view == "Channel":
            self.plane, self.plane_unit = self.cube.channel(self.channel), self.cube.unit
            return
        key = self.map_key()
        if key not in self._maps:
            self.keep_map(key, self.map_quantity(key))
        self.plane, self.plane_unit = self._maps[key]

    # --- units and limits ----------------------------------------------------------------------------
    def display_unit(self, kind: str | None = None) -> tuple[float, str]:
        """(scale, label) for the plane shown (or, with ``kind="Channel"``, for channels), fixed per cube
        and unit from its first plane so labels never jump. Keyed by the plane's unit, not the view: while
        a moment map is still being computed the plane shown is a channel."""
        channel = kind == "Channel"
        unit = self.cube.unit if channel else self.plane_unit
        key = str(unit)
        if key not in self._units:
            plane = self.cube.channel(self.channel) if channel else self.plane
            self._units[key] = display_unit(unit, max(abs(v) for v in limits(plane, "99.5%")))
        return self._units[key]

    def shown_unit(self, unit) -> tuple[float, str] | None:
        """(scale, label) the page has shown ``unit`` in so far, or None."""
        return self._units.get(str(unit))

    def given_limits(self) -> tuple[float | None, float | None]:
        """Custom colour limits in data units ((None, None) when not custom); a reversed pair is an error."""
        if self.limits != "custom":
            return None, None
        scale, _ = self.display_unit()
        lo, hi = self.vmin / scale, self.vmax / scale
        if not hi > lo:
            raise AstroMLError(LIMITS_REVERSED)
        return lo, hi

    @param.depends("view", watch=True, on_init=False)
    def _reset_custom_limits(self) -> None:
        """Custom limits belong to one kind of map: a new view starts from the 99.5% interval."""
        if self.limits == "custom":
            self._busy, self.limits, self._busy = True, "99.5%", False

    def start_custom_limits(self) -> None:
        """Custom limits start from the limits in use, so typing one end keeps the other sensible."""
        if self.last_limits is None:
            return
        scale, _ = self.display_unit()
        self._busy = True
        self.param.update(vmin=float(f"{self.last_limits[0] * scale:.4g}"),
                          vmax=float(f"{self.last_limits[1] * scale:.4g}"))
        self._busy = False

    # --- texts ---------------------------------------------------------------------------------------
    def label_text(self) -> str:
        """The channel label; on a map, led by its channel range."""
        text = axis_label(self.cube, self.channel, self.spectral_axis, self.velocity)
        if self.view != "Channel":
            lo, hi = self.moment_channels
            flo, fhi = sorted(self.cube.frequencies[[lo, hi]].to_value(u.MHz))
            text = f"{self.view} over channels {lo}–{hi} ({flo:.3f}–{fhi:.3f} MHz)<br>" + text
        return text

    def readout_text(self, x: float | None, y: float | None) -> str | None:
        """Sky position, pixel and value (with unit) under image position (x, y); None off the cube."""
        pix = self.inside(x, y)
        if pix is None or self.plane is None:
            return None
        iy, ix = pix
        scale, unit = self.display_unit()
        where = sky_text(self.cube, self.cube.world(self.channel, y, x).sky)
        return f"{where} · pixel ({ix}, {iy}) · value {self.plane[iy, ix] * scale:.6g} {html_text(unit)}"

    def spectrum(self) -> tuple[np.ndarray, np.ndarray, str, str]:
        """The chosen pixel's spectrum: frequencies (MHz), flux in the display unit, title, y label."""
        iy, ix = self.pixel
        flux = self.cube.spectrum(iy, ix)
        scale, unit = self.display_unit("Channel")
        sky = self.cube.world(self.channel, iy, ix).sky
        where = sky.to_string("hmsdms", precision=1) if sky is not None else "no sky WCS"
        return (self.cube.frequencies.to_value(u.MHz), flux * scale,
                f"Spectrum at pixel ({ix}, {iy}) · {where} · {flux.size} channels", f"Flux density ({unit})")

    def source_place(self, row) -> tuple[int, float, float, tuple[float, float]]:
        """Where a catalogued source is: its channel, image position (x, y), and its W20 band in MHz."""
        from astropy.coordinates import SkyCoord

        cube = self.cube
        y, x = cube.pixel_of(SkyCoord(row["ra"], row["dec"], frame="icrs"))
        nu = row["central_freq"].to_value(u.Hz)
        half = float(w20_half_width_hz(row["w20"], nu, cube.rest_frequency))
        return cube.channel_of(nu * u.Hz), x, y, ((nu - half) / 1e6, (nu + half) / 1e6)

    def nearest_pixel(self, x: float, y: float) -> tuple[int, int]:
        """The pixel (y, x) nearest image position (x, y), clipped to the cube."""
        ny, nx = self.cube.shape[1:]
        return int(np.clip(round(y), 0, ny - 1)), int(np.clip(round(x), 0, nx - 1))
