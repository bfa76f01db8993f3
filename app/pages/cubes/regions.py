"""The cube page's Regions tab: draw boxes, circles, ellipses and polygons on the image (or import DS9/CRTF
files), see each region's statistics for the shown channel and over the map channels, its spectrum beside the
pixel's, and export them all as DS9 or CRTF.

Drawing uses Bokeh's own select tools on the image, aimed only at this tab's outline glyph so they never
select anything else: a dragged box (BoxSelectTool) becomes a box, or the circle or ellipse inscribed in it,
as CARTA draws them; a lasso (LassoSelectTool) becomes a polygon. The geometry arrives as a
``SelectionGeometry`` event; the science is :mod:`astroml_core.analysis.regions`. A region's cube pass
(its bounding box, channel block by block) runs off the event loop; its per-channel sums then answer every
channel and channel range without reading the cube again.
"""
from __future__ import annotations

import io
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import panel as pn
import regions  # noqa: F401  with the page, built off the loop: else the first region drawn imports it
from bokeh.events import SelectionGeometry
from bokeh.models import BoxSelectTool, ColumnDataSource, LassoSelectTool

from astroml_core.analysis.regions import (Region, RegionChannels, channel_widths, parse_regions, region_channels,
                                           region_mask, serialize_regions)
from astroml_core.display.units import display_unit
from astroml_core.errors import AstroMLError

from ...components.locking import held, run_io, with_document_lock
from ...components.safe_text import html_text
from ...components.sources import replace_data
from .cube_facts import convention
from .region_input import import_report, region_file_text, region_from_drag
from .region_table import (OUTLINES_EMPTY, TABLE_CSS, TITLES, WIDTHS, RegionEntry, column_groups, outline_rows,
                           table_row)

__all__ = ["RegionTool", "MODES"]

MODES = {"Pan": "pan", "Box": "box", "Circle": "circle", "Ellipse": "ellipse", "Polygon": "polygon"}
STATISTICS = {"Sum": "sum", "Mean": "mean"}
_COLOURS = ["#ff9f1c", "#ffffff", "#ff4fd8", "#4df0ff", "#b6ff4d", "#ffd23f"]   # bright on every colour map; red is
                                                                                 # the pixel marker's
class RegionTool(pn.viewable.Viewer):
    """The Regions tab: drawing tools and outline glyph on the page's image, the table, import and export."""

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page
        self.entries: list[RegionEntry] = []
        self._counter = 0
        self._reading = ""
        self._make_glyphs(page.image.fig)
        self.mode = pn.widgets.RadioButtonGroup(options=MODES, value="pan", css_classes=["region-shape"],
                                                color="primary", variant="outline")
        self.statistic = pn.widgets.RadioButtonGroup(options=STATISTICS, value="sum", css_classes=["region-statistic"],
                                                     color="primary", variant="outline", width=140)
        self.table = pn.widgets.Tabulator(None, disabled=True, selectable=True, show_index=False,
                                          height=200, width=1160, pagination=None, widths=WIDTHS,
                                          css_classes=["regions-table"], stylesheets=TABLE_CSS,
                                          configuration={"columnDefaults": {"headerSort": False}})
        self.delete = pn.widgets.Button(label="Delete selected", width=130, css_classes=["region-delete"], disabled=True)
        self.clear_all = pn.widgets.Button(label="Delete all", width=100, css_classes=["region-clear"], disabled=True)
        self.upload = pn.widgets.FileInput(accept=".reg,.crtf,.txt", css_classes=["region-import"], width=230)
        self.exports = [pn.widgets.FileDownload(callback=partial(self._export, fmt), filename=f"regions.{ext}",
                                                label=f"Export {name}", width=130, disabled=True,
                                                css_classes=[f"region-export-{fmt}"])
                        for fmt, ext, name in (("ds9", "reg", "DS9"), ("crtf", "crtf", "CRTF"))]
        self.status = pn.pane.HTML("Choose a shape, then drag on the image (a polygon: draw its outline).",
                                   css_classes=["region-status"], styles={"font-size": "13px"})
        self._wire()

    def _make_glyphs(self, fig) -> None:
        """The outline glyph (and labels) on the image, and the two drawing tools aimed at it alone."""
        self.source = ColumnDataSource(dict(OUTLINES_EMPTY), name="cube-regions-source")
        self.renderer = fig.multi_line("xs", "ys", source=self.source, line_color="color", line_width="width",
                                       name="cube-regions")
        self.renderer.nonselection_glyph = self.renderer.glyph.clone()   # a drag selects lines: keep their look
        self.renderer.selection_glyph = self.renderer.glyph.clone()
        self.labels = ColumnDataSource(dict(x=[], y=[], label=[], color=[]), name="cube-regions-labels")
        fig.text("x", "y", text="label", source=self.labels, text_color="black", text_font_size="12px",
                 text_font_style="bold", text_align="center", text_baseline="middle", background_fill_color="color",
                 background_fill_alpha=0.8, padding=2)
        self.box_tool = BoxSelectTool(renderers=[self.renderer], continuous=False, name="region-box-tool",
                                      description="Draw a region: box, or the circle / ellipse inside the box")
        self.lasso_tool = LassoSelectTool(renderers=[self.renderer], continuous=False, name="region-polygon-tool",
                                          description="Draw a polygon region")
        fig.add_tools(self.box_tool, self.lasso_tool)
        fig.on_event(SelectionGeometry, self._drawn)
        self._pan = fig.toolbar.active_drag

    def _wire(self) -> None:
        self.mode.param.watch(self._mode_chosen, "value")
        self.statistic.param.watch(lambda e: with_document_lock(self._show_spectrum), "value")
        self.table.param.watch(lambda e: with_document_lock(self._row_chosen), "selection")
        self.delete.on_click(lambda e: with_document_lock(self.delete_selected))
        self.clear_all.on_click(lambda e: with_document_lock(self.reset))
        self.upload.param.watch(lambda e: self.import_text(e.new, self.upload.filename or "regions"), "value")
        page = self.page
        # another channel changes only the table: outlines and spectrum stay (a step must stay one small message)
        page.param.watch(lambda *e: self.entries and with_document_lock(self._fill_table), ["channel", "moment_channels"])
        page.param.watch(lambda e: with_document_lock(self._new_convention), "velocity")
        page.param.watch(lambda e: with_document_lock(self.reset), "file")

    def __panel__(self):
        files = pn.Row(pn.pane.HTML("Import DS9 / CRTF", styles={"font-size": "13px"}, margin=(12, 5, 0, 10)),
                       self.upload, *self.exports)
        return pn.Column(
            pn.Row(self.mode, pn.pane.HTML("Region spectrum:", styles={"font-size": "13px"}, margin=(12, 5, 0, 20)),
                   self.statistic, self.delete, self.clear_all),
            files, self.status, self.table, margin=(5, 0))

    # --- drawing ------------------------------------------------------------------------------------
    def _mode_chosen(self, event) -> None:
        """A shape makes its drawing tool the image's drag tool; Pan gives the drag back to panning."""
        tool = {"pan": self._pan, "polygon": self.lasso_tool}.get(event.new, self.box_tool)
        with_document_lock(lambda: setattr(self.page.image.fig.toolbar, "active_drag", tool))

    @held
    def _drawn(self, event) -> None:
        """A finished drag of a drawing tool: the region it outlines (a box drawn in Pan mode is a box)."""
        self.source.selected.indices = []
        geometry = event.geometry or {}
        if not event.final or self.page.cube is None:
            return
        try:
            region = region_from_drag(geometry, self.mode.value)
            if region is not None:
                self.add(region)
        except AstroMLError as exc:
            self.page.banner.error(exc)

    def add(self, region: Region) -> str:
        """Put a region on the image (named R1, R2, … unless it has a name) and start reading its sums."""
        cube = self.page.cube
        mask = region_mask(region, cube.shape[1:])          # off the image or empty: a typed error, nothing added
        self._counter += 1
        entry = RegionEntry(f"R{self._counter}", region.renamed(region.name or f"R{self._counter}"), mask,
                       _COLOURS[(self._counter - 1) % len(_COLOURS)], cube)
        self.entries.append(entry)
        self._outline()
        self._enable_buttons()         # now, while its cube pass runs: redrawing 4 buttons takes the browser ~50 ms
        self._reading = f"{html_text(entry.region.name)}: reading its {mask.n_pixels:,} pixels in every channel…"
        self.status.object = self._reading
        conv = convention(cube, self.page.velocity)
        run_io(partial(_timed, region_channels, cube, mask, convention=conv), partial(self._sums_read, entry),
               self.page.banner.error)
        return entry.id

    @held
    def _sums_read(self, entry: RegionEntry, timed: tuple[RegionChannels, float]) -> None:
        """A region's cube pass finished: its statistics and spectrum can be shown (unless the cube changed)."""
        sums, seconds = timed
        if entry.cube is not self.page.cube or entry not in self.entries:
            return
        entry.sums = sums
        if self.status.object == self._reading:           # an import's report stays
            self.status.object = (f"{len(self.entries)} region{'s' * (len(self.entries) != 1)} · "
                                   f"{html_text(entry.region.name)}: {entry.mask.n_pixels:,} pixels × "
                                   f"{sums.stop - sums.start} channels read in {seconds * 1000:.0f} ms")
        self.refresh()

    def _outline(self) -> None:
        """Redraw every region's outline and label; the one whose spectrum is shown is drawn thicker."""
        rows = outline_rows(self.entries, self._shown())
        replace_data(self.source, rows)
        replace_data(self.labels, {k: rows[k] for k in ("x", "y", "label", "color")})

    # --- table and spectrum -----------------------------------------------------------------------
    def _shown(self) -> RegionEntry | None:
        """The region whose spectrum is drawn: the one chosen in the table, else the newest."""
        chosen = [self.entries[i] for i in (self.table.selection or []) if i < len(self.entries)]
        return chosen[0] if chosen else (self.entries[-1] if self.entries else None)

    def refresh(self) -> None:
        """Outlines and the region spectrum now, the table of statistics (shown channel, map channels) next."""
        cube = self.page.cube
        if any(e.cube is not cube for e in self.entries):       # drawn on a cube no longer open
            self.entries = []
            self._outline()
        self._enable_buttons()
        if cube is None or not self.entries:
            self.table.value = None
            self._show_spectrum()
            return
        self._outline()
        self._show_spectrum()
        with_document_lock(self._fill_table)     # on the next tick: the spectrum reaches the browser first

    def _enable_buttons(self) -> None:
        """Delete and export only while there are regions (CRTF only on a cube with a celestial WCS)."""
        cube = self.page.cube
        for b in (self.delete, self.clear_all, *self.exports):
            b.disabled = not self.entries
        self.exports[1].disabled = not self.entries or cube is None or cube.celestial is None

    def _fill_table(self) -> None:
        """One row per region: its statistics in the shown channel and over the map channels."""
        cube = self.page.cube
        if cube is None or not self.entries:
            return
        scale, unit = self.page.display_unit("Channel")
        channel, (lo, hi) = self.page.channel, sorted(self.page.moment_channels)
        rows = [table_row(e, channel, lo, hi, scale) for e in self.entries]
        groups = column_groups(channel, lo, hi, unit)
        stem = Path(cube.path).stem
        self.exports[0].filename, self.exports[1].filename = f"{stem}_regions.reg", f"{stem}_regions.crtf"
        changed = {k: v for k, v in (("titles", TITLES), ("groups", groups)) if getattr(self.table, k) != v}
        self.table.param.update(value=pd.DataFrame(rows, columns=list(TITLES)), **changed)

    def _row_chosen(self) -> None:
        self._outline()
        self._show_spectrum()

    def _show_spectrum(self) -> None:
        """The chosen region's spectrum (sum or mean) beside the pixel's, on the spectrum's right-hand axis."""
        view, cube, entry = self.page.spectrum_view, self.page.cube, self._shown()
        if cube is None or entry is None or entry.sums is None:
            view.clear_region()
            return
        kind = self.statistic.value
        values = entry.sums.spectrum(kind)
        finite = values[np.isfinite(values)]
        scale, unit = display_unit(cube.unit, float(np.max(np.abs(finite))) if finite.size else 0.0)
        what = f"{kind} of {entry.mask.n_pixels:,} px" if kind == "sum" else f"mean of {entry.mask.n_pixels:,} px"
        view.show_region(cube.frequencies.to_value(u.MHz)[entry.sums.start:entry.sums.stop], values * scale,
                         f"{entry.region.name} ({kind})", f"Region {entry.region.name}, {what} ({unit})")

    def _new_convention(self) -> None:
        """Another velocity convention changes the channel widths of the line flux, not the sums."""
        cube = self.page.cube
        if cube is None:
            return
        widths = channel_widths(cube.velocities_in(convention(cube, self.page.velocity)).to_value(u.km / u.s))
        for e in self.entries:
            if e.sums is not None:
                e.sums = replace(e.sums, widths=widths[e.sums.start:e.sums.stop])
        self.refresh()

    # --- removing ---------------------------------------------------------------------------------
    def delete_selected(self) -> None:
        """Remove the regions chosen in the table."""
        gone = set(self.table.selection or [])
        self.entries = [e for i, e in enumerate(self.entries) if i not in gone]
        self.table.selection = []
        self._outline()
        self.refresh()

    def reset(self) -> None:
        """Remove every region (a new cube, or Delete all)."""
        self.entries, self._counter = [], 0
        self.table.selection = []
        self._outline()
        self.refresh()
        self.status.object = "Choose a shape, then drag on the image (a polygon: draw its outline)."

    # --- files ------------------------------------------------------------------------------------
    def import_text(self, data: bytes | str | None, filename: str) -> None:
        """Read a DS9 or CRTF file's regions onto the image (size-limited; its text is only ever shown escaped)."""
        cube = self.page.cube
        if not data or cube is None:
            return
        try:
            text = region_file_text(data)
        except AstroMLError as exc:
            self.page.banner.error(exc)
            return
        name = Path(filename).name
        run_io(partial(parse_regions, text, wcs=cube.celestial, filename=name),
               partial(self._imported, name), self.page.banner.error)

    def _imported(self, name: str, parsed) -> None:
        """Add a file's regions; say how many, and what was skipped and why (escaped)."""
        notes = list(parsed.skipped)
        added = 0
        for region in parsed.regions:
            try:
                self.add(region)
                added += 1
            except AstroMLError as exc:
                notes.append(str(exc))
        self.status.object = import_report(name, parsed.format, added, notes)

    def _export(self, fmt: str) -> io.StringIO:
        """Every region as DS9 or CRTF text, in sky coordinates when the cube has a celestial WCS."""
        cube = self.page.cube
        try:
            text = serialize_regions([e.region for e in self.entries], fmt, wcs=cube.celestial if cube else None)
        except AstroMLError as exc:
            self.page.banner.error(exc)
            text = ""
        return io.StringIO(text)


def _timed(fn, *args, **kwargs):
    """(fn's result, seconds it took): the page says how long a region's cube pass took."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start

