"""The deblending page: a multi-band image as a Lupton RGB composite or band by band, segmentation masks
of the model and the sep / photutils baselines over it, a source table with every method's flux (and
the truth on the demo field), and a clicked source's deblended stamps and residuals per band, with what
the network looked at to deblend it (integrated gradients). The image and stamps are Bokeh figures
(RGBA images redrawn in place); the state and everything computed from it live in :mod:`.state`."""
from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import numpy as np
import panel as pn
import param

from astroml_core.display import axis_labels, pixel_ticks, sky_ticks
from astroml_core.service.worker import file_key
from astroml_core.tasks.deblend import deblend_all
from astroml_core.tasks.deblend.field import open_field

from ...components.banner import Banner
from ...components.cube_source import CubeSource
from ...components.jobs import JobPanel
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import md_text
from ...components.send_to_vetting import SendToVetting
from ...components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url, url_query
from .layout import downloads, layout, source_table
from .rgb_view import RGBView
from .saliency import Saliency
from .stamp_grid import StampGrid
from .state import DeblendState, frame

__all__ = ["DeblendPage"]

URL_KEYS = {"file": "file", "view": "view", "q": "q", "stretch": "stretch", "method": "method", "show_masks": "masks",
            "contours": "outlines", "opacity": "opacity", "band": "band", "deblended": "deblended"}


class DeblendPage(DeblendState, pn.viewable.Viewer):
    """The page's widgets over its :class:`DeblendState`."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.banner = Banner()
        self.view_fig = RGBView(on_tap=self._tap)
        self.saliency = Saliency(self.view_fig.fig)
        self.stamps = StampGrid()
        self.source = CubeSource(on_path=self.open, on_paths=self.open, on_error=self.banner.error,
                                 demo_prefix="blends_", noun="image")
        self.title = pn.pane.Markdown("### No image open", margin=(0, 10), css_classes=["page-title"])
        self.info = pn.pane.Markdown("", css_classes=["image-info"], styles={"font-size": "13px"}, margin=(0, 10))
        self.notes = pn.pane.HTML("", css_classes=["image-notes"], styles={"font-size": "12px", "color": "#555"},
                                  margin=(0, 10), max_width=400, sizing_mode="stretch_width")
        self.status = pn.pane.HTML("", css_classes=["deblend-status"], styles={"font-size": "13px"}, margin=(0, 10),
                                   max_width=460, sizing_mode="stretch_width")
        self.selection = pn.pane.HTML("Click a source or a row", css_classes=["deblend-selection"],
                                      styles={"font-size": "13px"}, margin=(0, 10), width=560)
        self.run_button = pn.widgets.Button(label="Deblend", color="primary", width=120, css_classes=["deblend-run"])
        self.run_button.on_click(lambda e: self.run())
        self.jobs = JobPanel(self.banner, css="deblend", status=self.status, trigger=self.run_button, width=160)
        self.table = source_table()
        self.table_caption = pn.pane.HTML("", styles={"font-size": "12px"}, css_classes=["table-caption"], width=640)
        self.table.param.watch(self._row_clicked, "selection")
        self.send = SendToVetting(self.vetting_candidates, self.vetting_name, self.banner.error)
        self.downloads = downloads(lambda suffix: io.BytesIO(self.export(suffix)))
        self.copy_link = copy_link_button()
        query = url_query()         # a link to a deblended image: read before it opens (which can be at once)
        self._linked = ({k: query[k] for k in ("view", "method", "band") if k in query}
                        if str(query.get("deblended")).lower() == "true" else None)
        open_linked_or_demo(self.source)
        sync_url(self, URL_KEYS)

    @property
    def busy(self) -> bool:
        """True while a deblending runs."""
        return self.jobs.busy

    # --- opening ------------------------------------------------------------------------------------
    def open(self, path: Path | list[Path], label: str) -> None:
        """Open a multi-band FITS image (or one file per band, uploaded together), its sky noise and any truth
        beside it (on an I/O thread); a bad file leaves the current image as it was."""
        run_io(partial(open_field, path), partial(self._show_image, path, label), self.banner.error)

    def _show_image(self, path: Path, label: str, field) -> None:
        linked, self._linked = self._linked, None         # a link's view, method and band: deblend again, keep them
        self.banner.clear()
        self.load(field)
        self.stamps.set_bands(self.image.bands)
        self.title.object = f"### {md_text(label)}"
        self.file = link_path(path) if isinstance(path, Path) else ""
        self.notes.object = self.notes_html()
        self.info.object = self.info_markdown()
        self.status.object = self.ready_text()
        self.table.value = None
        self.downloads.visible = False
        if linked:
            self.param.update({k: v for k, v in linked.items() if v in self.param[k].objects})
        self._draw_image()
        self._draw_axes()
        self._draw_masks()
        if linked:
            self.run()

    # --- running ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Deblend with every method that fits the image, as a job of the app's runner."""
        if self.image is None or self.busy:
            return
        self.jobs.run(deblend_all, self.image, name="deblending", then=self._done, failed="Deblending failed",
                      key=("deblending", file_key(self.image.path)))

    def _done(self, results: dict) -> None:
        self.take_results(results)
        self.status.object = self.found_text()
        self._method_changed()

    # --- drawing ------------------------------------------------------------------------------------
    @param.depends("view", "q", "stretch", watch=True)
    def _draw_image(self) -> None:
        if self.image is not None:
            self.view_fig.set_image(self.rgb())

    def _draw_axes(self) -> None:
        ny, nx = self.image.shape
        wcs = self.image.wcs
        if wcs is not None:
            xt, yt = sky_ticks(wcs, "x", -0.5, nx - 0.5, -0.5), sky_ticks(wcs, "y", -0.5, ny - 0.5, -0.5)
            self.view_fig.set_axis_ticks(xt, yt, *axis_labels(wcs))
        else:
            self.view_fig.set_axis_ticks(pixel_ticks(0, nx - 1), pixel_ticks(0, ny - 1), "x (pixel)", "y (pixel)")

    @param.depends("show_masks", "contours", "opacity", "selected", watch=True)
    def _draw_masks(self) -> None:
        self.view_fig.set_masks(self.masks())

    @param.depends("method", "band", watch=True)
    def _method_changed(self) -> None:
        """Show the chosen method's masks and table (with the other methods' and the truth's flux)."""
        self.selected = None
        self.downloads.visible = self.result is not None
        if self.result is None:
            self.table.value = None
            self._draw_masks()
            return
        for button, name in zip(self.downloads, self.export_names()):
            button.filename = name
        joined = self.joined()
        self.table.value = frame(joined, self.image.bands, self.band)
        self.table_caption.object = self.caption_html(joined)
        self._draw_masks()
        self._show_selection()

    @param.depends("selected", watch=True)
    def _show_selection(self) -> None:
        result = self.result
        self.saliency.seen.clear()
        if result is None or self.selected is None or self.selected >= len(result.catalogue):
            self.view_fig.set_marker(None, None)
            self.selection.object = "Click a source or a row"
            self.stamps.clear()
            self._select_row(None)
            return
        k = self.selected
        self._select_row(k)
        self.view_fig.set_marker(float(result.catalogue["x"][k]), float(result.catalogue["y"][k]))
        self.selection.object = self.selection_html()
        cut, (y0, x0) = self.residual_stamp()
        self.stamps.show(result.stamps[k], cut, x0, y0)
        self.saliency.show(self.image, result, k, self.method,
                           still_shown=lambda: self.selected == k and self.method == "model")

    def _select_row(self, source: int | None) -> None:
        """Highlight the table row of ``source`` (none for None), as a click on the image selects it."""
        table = self.table.value
        rows = [] if source is None or table is None else [int(i) for i in np.flatnonzero(table["id"].to_numpy() == source)]
        if self.table.selection != rows:
            self.table.selection = rows

    # --- interaction --------------------------------------------------------------------------------
    def _tap(self, x: float, y: float) -> None:
        """A click on the image selects the source whose mask holds that pixel."""
        source = self.source_at(x, y)
        if source is not None:
            self.selected = source

    def _row_clicked(self, event) -> None:
        if not event.new:
            return
        index = int(self.table.value.iloc[event.new[0]]["id"])
        with_document_lock(partial(setattr, self, "selected", index))

    def __panel__(self):
        return layout(self)
