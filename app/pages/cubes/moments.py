"""The cube page's moment tool: clip thresholds, a mask (none, the finder's detections, an uploaded SoFiA mask),
the maps of the views Moment 0/1/2 and Peak (from ``astroml_core.analysis.moments``, cached per channel range,
unit, convention, clip and mask), a diverging velocity colour map for moment 1, and "Save FITS" of the map shown.

Moments 1 and 2 are clipped at 3σ by default (noise makes unclipped velocity fields meaningless); moment 0 and
peak are not clipped unless asked, so the flux stays unbiased. σ is one robust noise for the whole cube.
"""
from __future__ import annotations

import io
from collections import OrderedDict
from functools import partial

import astropy.units as u
import panel as pn
import param

from astroml_core.analysis.moments import (MomentMap, catalogue_mask, moment_map, moment_maps, read_mask,
                                           write_moment_fits)
from astroml_core.errors import AstroMLError

from .cube_facts import convention, moment_map as moment0_map
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import html_text
from .state import MOMENT_VIEWS

__all__ = ["MomentTool", "MOMENT_VIEWS", "VELOCITY_CMAP"]

VELOCITY_CMAP = "RdBu (velocity)"          # blue approaching, red receding: what radio astronomers expect
_MASKS = {"none": "none", "the finder's detections": "detections", "an uploaded SoFiA mask": "file"}
_CACHE = 6                                 # maps kept per session (a 4k × 4k map is 64 MB)


class MomentTool(pn.viewable.Viewer):
    """Moment options and maps for a CubePage ``page``: the page asks :meth:`key` and :meth:`map_quantity`."""

    clip0 = param.Number(default=0.0, bounds=(0, None), step=0.5, label="Clip moment 0 / peak (σ)",
                         doc="Voxels below this many σ are left out of moment 0 and peak (0: keep all)")
    clip12 = param.Number(default=3.0, bounds=(0, None), step=0.5, label="Clip moments 1 / 2 (σ)",
                          doc="Voxels below this many σ are left out of moments 1 and 2 (0: keep all)")
    mask = param.Selector(default="none", objects=_MASKS, label="Mask")

    def __init__(self, page, **params) -> None:
        super().__init__(**params)
        self.page = page
        self._cache: OrderedDict[tuple, MomentMap] = OrderedDict()
        self._file_mask = None                  # (name, VoxelMask) of the uploaded SoFiA mask
        self._shown_cmap: str | None = None     # the colour map the user had before moment 1 turned it diverging
        self.upload = pn.widgets.FileInput(accept=".fits,.fit,.fits.gz", multiple=False, width=260,
                                           css_classes=["mask-upload"])
        self.upload.param.watch(self._uploaded, "value")
        self.status = pn.pane.HTML("", css_classes=["moment-status"], styles={"font-size": "13px"}, min_width=420)
        self.save = pn.widgets.FileDownload(callback=self._fits_bytes, filename="moment.fits", label="Save FITS",
                                            color="primary", width=140, css_classes=["save-moment"])
        self.param.watch(self._changed, ["clip0", "clip12", "mask"])
        page.param.watch(self._view_changed, "view")

    def __panel__(self):
        w = pn.widgets
        return pn.Column(
            pn.Row(w.FloatInput.from_param(self.param.clip0, width=170, css_classes=["clip0-input"]),
                   w.FloatInput.from_param(self.param.clip12, width=170, css_classes=["clip12-input"]),
                   w.Select.from_param(self.param.mask, width=220, css_classes=["mask-select"])),
            pn.Row(pn.pane.HTML("SoFiA mask (FITS, the cube's shape; nonzero = source):",
                                styles={"font-size": "13px"}), self.upload),
            pn.Row(self.save, self.status), name="Moments")

    # --- what the page asks ----------------------------------------------------------------------
    def key(self) -> tuple:
        """The part of the page's map key the moment options add: (clip, mask)."""
        return (self._clip(self.page.view), self._mask_key())

    def map_quantity(self, view: str, channels: tuple[int, int], unit: str, conv: str, *extra) -> u.Quantity:
        """The map of ``view`` over ``channels`` (computed, or from the cache); called off the event loop."""
        return self.moment(view, channels, unit, conv).data

    def moment(self, view: str, channels: tuple[int, int], unit: str = "", conv: str = "") -> MomentMap:
        """The MomentMap of a map view, from the cache when it was made before with the same options."""
        cube, kind = self.page.cube, MOMENT_VIEWS[view]
        conv = conv or convention(cube, self.page.velocity)
        clip, mask_key = self._clip(view), self._mask_key()
        key = (kind, tuple(channels), unit, conv, clip, mask_key)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        mask = self._mask()
        if kind in ("moment1", "moment2"):       # one pass gives both
            both = moment_maps(cube, channels, kinds=("moment1", "moment2"), convention=conv, clip=clip, mask=mask)
            for k, m in both.items():
                self._remember((k,) + key[1:], m)
            return both[kind]
        if clip is None and mask is None:        # the cube's own maps, as before (and as fast)
            q = moment0_map(cube, channels, unit or "native", self.page.velocity) if kind == "moment0" \
                else cube.peak(channels)
            made = MomentMap(q, kind, tuple(channels), conv)
        else:
            made = moment_map(cube, kind, channels, convention=conv, clip=clip, mask=mask,
                              moment0_unit=unit or "native")
        return self._remember(key, made)

    def _remember(self, key: tuple, m: MomentMap) -> MomentMap:
        self._cache[key] = m
        while len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return m

    def _clip(self, view: str) -> float | None:
        value = self.clip12 if view in ("Moment 1", "Moment 2") else self.clip0
        return float(value) if value else None

    def _mask_key(self):
        """What identifies the mask in use (a missing one has its own key, so asking for it says so)."""
        if self.mask == "file":
            return ("file", self._file_mask[0] if self._file_mask else None)
        if self.mask == "detections":
            rows = self.page.detections.shown()
            return ("detections", self.page.detections.method,
                    None if rows is None else tuple(int(i) for i in rows["id"]))
        return None

    def _mask(self):
        if self.mask == "file":
            if self._file_mask is None:
                raise AstroMLError("no SoFiA mask uploaded yet: upload the mask FITS file SoFiA wrote for this cube")
            return self._file_mask[1]
        if self.mask == "detections":
            rows = self.page.detections.shown()
            if rows is None:
                raise AstroMLError("no detections on this cube yet: press Detect below, then choose this mask")
            return catalogue_mask(self.page.cube, rows, description=f"{self.page.detections.method} detections")
        return None

    # --- reacting --------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new cube: maps and an uploaded mask belong to the old one."""
        self._cache.clear()
        self._file_mask = None
        self.status.object = ""

    def _changed(self, *events) -> None:
        with_document_lock(self._refresh)

    def _refresh(self) -> None:
        page = self.page
        if page.cube is not None and page.view != "Channel":
            page.refresh_plane()
        self.status.object = self._describe()

    def _describe(self) -> str:
        page = self.page
        if page.cube is None or page.view == "Channel":
            return "Choose a map view (Moment 0, 1, 2 or Peak) above the image."
        clip = self._clip(page.view)
        mask = {"none": "no mask", "detections": "the finder's detections as mask",
                "file": f"mask {self._file_mask[0]}" if self._file_mask else "no mask uploaded"}[self.mask]
        text = f"{page.view}: " + (f"voxels ≥ {clip:g}σ (one robust σ for the cube)" if clip else "no clip")
        return html_text(f"{text}, {mask}")

    def _view_changed(self, event) -> None:
        """Moment 1 turns a sequential colour map diverging (blue approaching, red receding) and back after."""
        page = self.page
        if event.new == "Moment 1" and page.cmap != VELOCITY_CMAP:
            self._shown_cmap = page.cmap
            page.cmap = VELOCITY_CMAP
        elif event.old == "Moment 1" and self._shown_cmap is not None and page.cmap == VELOCITY_CMAP:
            page.cmap, self._shown_cmap = self._shown_cmap, None
        self.status.object = self._describe()

    def _uploaded(self, event) -> None:
        if not event.new or self.page.cube is None:
            return
        name = self.upload.filename or "mask.fits"
        run_io(partial(read_mask, event.new, self.page.cube, name=name), partial(self._mask_read, name),
               self.page.banner.error)

    def _mask_read(self, name: str, mask) -> None:
        self._file_mask = (name, mask)
        if self.mask == "file":
            self._refresh()
        else:
            self.mask = "file"

    # --- saving ----------------------------------------------------------------------------------
    def _fits_bytes(self) -> io.BytesIO:
        """The map shown (or the channel) as FITS with the cube's WCS, for the download button."""
        page, buf = self.page, io.BytesIO()
        try:
            if page.view == "Channel":
                plane = page.cube.channel(page.channel) * page.cube.unit
                write_moment_fits(plane, page.cube, f"channel {page.channel}", buf,
                                  channels=(page.channel, page.channel))
                self.save.filename = f"channel_{page.channel}.fits"
            else:
                view, channels, unit, conv, *_ = page.map_key()
                m = self.moment(view, channels, unit, conv)
                write_moment_fits(m, page.cube, m.kind, buf)
                self.save.filename = f"{m.kind}_{m.channels[0]}-{m.channels[1]}.fits"
        except Exception as exc:
            page.banner.error(exc)
        buf.seek(0)
        return buf
