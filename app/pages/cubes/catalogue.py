"""The cube page's Catalogue tab: a VOTable, ECSV or CSV catalogue (uploaded, or a path under the data root)
drawn on the image as markers and labels, each source only on the channels its line spans; a table of the
sources, a click on one goes to it."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource

from astroml_core.analysis import PlacedCatalogue, place_catalogue, read_catalogue
from astroml_core.analysis.catalogue_overlay import MAX_CATALOGUE_BYTES
from astroml_core.config import settings
from astroml_core.data import resolve_under_root

from ...auth import current_user
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import html_text
from ...components.sources import replace_data
from ...components.upload import uploads_need_login

__all__ = ["CatalogueTool", "MARKERS"]

SUFFIXES = [".xml", ".vot", ".votable", ".ecsv", ".csv"]
UPLOAD_MAX_BYTES = 3 * 2**20       # a browser upload travels as one websocket message (base64), kept well under its limit
MARKERS = {"circle": "circle", "square": "square", "diamond": "diamond", "triangle": "triangle", "cross": "cross",
           "x": "x"}
_EMPTY = dict(x=[], y=[], label=[], row=[])
_WIDTHS = {"name": 100, "RA (°)": 100, "Dec (°)": 100, "l (°)": 100, "b (°)": 100, "x": 62, "y": 62, "channels": 95,
           "freq (MHz)": 110}
_TABLE_CSS = [".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } "
              ".tabulator-cell { padding: 3px 6px !important; } .tabulator-col-content { padding: 4px 3px !important; } "
              ".tabulator-col.tabulator-sortable .tabulator-col-title { padding-right: 11px !important; }"]


class CatalogueTool(pn.viewable.Viewer):
    """Catalogue file choice, marker style, the placed sources on the image (source ``cube-catalogue-source``)
    and their table; the markers follow the page's channel (or the moment maps' channel range)."""

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page
        self.catalogue = None                 # the table read, kept to place it again on another cube
        self.file_name = ""
        self.placed: PlacedCatalogue | None = None
        self.source = ColumnDataSource(dict(_EMPTY), name="cube-catalogue-source")
        fig = page.image.fig
        self.markers = fig.scatter("x", "y", source=self.source, marker="circle", size=16, fill_alpha=0,
                                   line_color="#ff9f1c", line_width=2, name="cube-catalogue")
        self.labels = fig.text("x", "y", text="label", source=self.source, text_color="#ff9f1c", text_font_size="12px",
                               text_font_style="bold", x_offset=10, y_offset=-6, background_fill_color="#20232a",
                               background_fill_alpha=0.55, name="cube-catalogue-labels")
        cfg = settings()
        self._cfg = cfg
        self.upload = pn.widgets.FileInput(accept=",".join(SUFFIXES), multiple=False, width=260,
                                           disabled=not _can_upload(), css_classes=["catalogue-upload"])
        self.path = pn.widgets.TextInput(label="…or a catalogue under the data root", width=260,
                                         placeholder=_demo_truth_hint(cfg), css_classes=["catalogue-path"])
        self.open_button = pn.widgets.Button(label="Open catalogue", color="primary", width=130,
                                             css_classes=["catalogue-open"])
        self.colour = pn.widgets.ColorPicker(label="Colour", value="#ff9f1c", width=70, css_classes=["catalogue-colour"])
        self.marker = pn.widgets.Select(label="Marker", options=MARKERS, value="circle", width=100,
                                        css_classes=["catalogue-marker"])
        self.size = pn.widgets.IntSlider(label="Size (screen px)", start=6, end=40, value=16, width=150,
                                         css_classes=["catalogue-size"])
        self.show_labels = pn.widgets.Checkbox(label="Labels", value=True, css_classes=["catalogue-labels"])
        self.status = pn.pane.HTML("No catalogue open: upload a VOTable, ECSV or CSV with RA/Dec columns.",
                                   css_classes=["catalogue-status"], styles={"font-size": "13px"}, width=420)
        self.table = pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=300, width=660,
                                          pagination="remote", page_size=10, layout="fit_columns", widths=_WIDTHS,
                                          css_classes=["catalogue-table"], stylesheets=_TABLE_CSS)
        self._wire()

    def _wire(self) -> None:
        """Widgets → actions; the page's channel, view and cube → a redraw or a new placement."""
        self.upload.param.watch(lambda e: self._uploaded(e.new, self.upload.filename), "value")
        self.open_button.on_click(lambda e: with_document_lock(partial(self.open_path, self.path.value)))
        self.colour.param.watch(lambda e: self._style(e.new, self.marker.value, self.size.value), "value")
        self.marker.param.watch(lambda e: self._style(self.colour.value, e.new, self.size.value), "value")
        self.size.param.watch(lambda e: self._style(self.colour.value, self.marker.value, e.new), "value")
        self.show_labels.param.watch(lambda e: setattr(self.labels, "visible", e.new), "value")
        self.table.param.watch(self._row_selected, "selection")
        self.page.param.watch(lambda *events: self.redraw(), ["channel", "view", "moment_channels"])
        self.page.param.watch(lambda e: self.place(), "file")

    def _style(self, colour: str, marker: str, size: int) -> None:
        """Restyle the markers and labels (locked: style events may arrive outside the document lock)."""
        with_document_lock(partial(self.markers.glyph.update, line_color=colour, marker=marker, size=size))
        with_document_lock(partial(self.labels.glyph.update, text_color=colour))

    # --- opening ---------------------------------------------------------------------------------------
    def _uploaded(self, data: bytes | None, name: str | None) -> None:
        """Read an uploaded catalogue (the bytes the browser sent), up to UPLOAD_MAX_BYTES."""
        if data:
            run_io(partial(read_catalogue, data, name or "upload", max_bytes=UPLOAD_MAX_BYTES),
                   partial(self.show, name or "upload"), self.page.banner.error)

    def open_path(self, text: str) -> None:
        """Read a catalogue under the data root (its path as typed)."""
        try:
            path = resolve_under_root(text or "", self._cfg.data_root, private=self._cfg.private_dirs)
        except Exception as exc:            # typed PathNotAllowedError, shown by the page
            self.page.banner.error(exc)
            return
        run_io(partial(read_catalogue, path), partial(self.show, path.name), self.page.banner.error)

    def show(self, name: str, table) -> None:
        """Keep a catalogue read from ``name`` and draw it on the open cube."""
        self.catalogue, self.file_name = table, name
        self.place()

    def place(self) -> None:
        """Place the kept catalogue on the page's cube (again after a new cube), off the event loop (sexagesimal
        text takes ~2 s per 100,000 rows), then fill the table and redraw."""
        cube = self.page.cube
        if self.catalogue is None or cube is None:
            self.placed = None
            self.redraw()
            return
        run_io(partial(place_catalogue, self.catalogue, cube), partial(self._placed, cube), self._not_placed)

    def _placed(self, cube, placed: PlacedCatalogue) -> None:
        """Show a placement, unless another cube has been opened meanwhile."""
        if cube is not self.page.cube:
            return
        self.placed = placed
        self.status.object = _status_html(self.file_name, placed)
        self.table.value = _rows(placed, cube)
        self.redraw()

    def _not_placed(self, exc: BaseException) -> None:
        """No position columns, or a cube without sky WCS: nothing drawn, the typed error in the banner."""
        self.placed = None
        self.status.object = f"{html_text(self.file_name)}: not drawn."
        self.table.value = None
        self.redraw()
        self.page.banner.error(exc)

    # --- drawing and going to a source -----------------------------------------------------------------
    def redraw(self) -> None:
        """Show the sources spanning the page's channel (or overlapping the moment maps' channel range)."""
        p, page = self.placed, self.page
        if p is None or page.cube is None:
            replace_data(self.source, dict(_EMPTY))
            return
        if page.view == "Channel":
            on = p.on_channel(page.channel)
        else:
            lo, hi = page.moment_channels
            on = (p.lo < 0) | ((p.lo <= hi) & (p.hi >= lo))
        idx = np.flatnonzero(on)
        replace_data(self.source, dict(x=p.x[idx].tolist(), y=p.y[idx].tolist(), label=[p.labels[i] for i in idx],
                                       row=idx.tolist()))

    def _row_selected(self, event) -> None:
        """A table row clicked: go to its source (on the next tick, locked)."""
        if event.new and self.placed is not None and event.new[0] < len(self.placed):
            with_document_lock(partial(self.go_to, event.new[0]))

    def go_to(self, i: int) -> None:
        """Centre the image on placed source ``i`` and show the channel of its line (its spectrum too)."""
        page, p = self.page, self.placed
        cube = page.cube
        span = p.span(i)
        if span is None:
            page.view = "Channel"
        else:
            centre = cube.channel_of(p.frequency[i] * u.Hz)
            page.param.update(view="Channel", channel=int(np.clip(centre, *span)))
        page.image.centre_on(p.x[i], p.y[i])
        page.update_ticks()
        page.pixel = page.nearest_pixel(p.x[i], p.y[i])
        if span is not None:
            f = cube.frequencies.to_value(u.MHz)
            page.spectrum_view.mark_width(float(min(f[span[0]], f[span[1]])), float(max(f[span[0]], f[span[1]])))

    def __panel__(self):
        """File choice, style and status on the left, the source table on the right."""
        note = pn.pane.Markdown(f"A VOTable, ECSV or CSV upload up to {UPLOAD_MAX_BYTES / 2**20:.0f} MB (by path: up to "
                                f"{MAX_CATALOGUE_BYTES / 2**20:.0f} MB); RA/Dec (or l/b) are found by UCD or by name.",
                                styles={"font-size": "12px"}, width=420, margin=(0, 10))
        return pn.Row(
            pn.Column(self.upload, note, pn.Row(self.path, pn.Column(pn.Spacer(height=18), self.open_button)),
                      pn.Row(self.colour, self.marker, self.size, pn.Column(pn.Spacer(height=22), self.show_labels)),
                      self.status, width=460),
            self.table, css_classes=["catalogue-tool"])


def _can_upload() -> bool:
    """Guests may upload unless ASTROML_UPLOADS=users (as for cubes)."""
    return not uploads_need_login() or current_user() is not None


def _demo_truth_hint(cfg) -> str:
    """The demo cube's truth catalogue as a path under the data root (the path box's placeholder)."""
    try:
        return f"e.g. {(Path(cfg.demo_dir).resolve().relative_to(Path(cfg.data_root).resolve())).as_posix()}" \
               "/hi_demo_truth.ecsv"
    except ValueError:
        return "a .xml, .ecsv or .csv file under the data root"


def _status_html(name: str, placed: PlacedCatalogue) -> str:
    """What was read, which columns were used as what, how many sources fall on the image; all escaped."""
    lines = [f"<b>{html_text(name)}</b>: {html_text(placed.summary())}"]
    lines += [html_text(use.describe()) for use in placed.columns.uses()]
    lines += [html_text(note) for note in placed.notes]
    return "<br>".join(lines)


def _rows(placed: PlacedCatalogue, cube) -> pd.DataFrame:
    """The table's rows: label, sky position, pixel, channel span and line frequency."""
    lon = placed.sky.spherical.lon.deg
    lat = placed.sky.spherical.lat.deg
    galactic = placed.columns.frame == "galactic"
    spans = [placed.span(i) for i in range(len(placed))]
    frame = {"name": list(placed.labels), ("l (°)" if galactic else "RA (°)"): np.round(lon, 5),
             ("b (°)" if galactic else "Dec (°)"): np.round(lat, 5), "x": np.round(placed.x, 1),
             "y": np.round(placed.y, 1), "channels": ["all" if s is None else f"{s[0]}–{s[1]}" for s in spans]}
    if placed.columns.spectral is not None:
        frame["freq (MHz)"] = np.round(placed.frequency / 1e6, 4)
    return pd.DataFrame(frame)
