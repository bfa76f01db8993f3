"""The deblending page: a multi-band image as a Lupton RGB composite or band by band, segmentation masks
of the model and the sep / photutils baselines over it, a source table with every method's flux (and
the truth on the demo field), and a clicked source's deblended stamps and residuals per band, with what
the network looked at to deblend it (integrated gradients)."""
from __future__ import annotations

import asyncio
import io
from concurrent.futures import CancelledError
from functools import partial
from pathlib import Path

import numpy as np
import panel as pn
import param
from astropy.table import QTable
from bokeh import palettes

from astroml_core.data import MultibandImage, open_multiband, truth_beside
from astroml_core.display import axis_labels, pixel_ticks, sky_ticks
from astroml_core.display.rgb import composite, rgba_uint32, segment_rgba
from astroml_core.service.worker import Cancelled, file_key, service
from astroml_core.tasks.deblend import METHODS, deblend_all, joined_table, model_image
from astroml_core.data.tables import table_bytes
from astroml_core.data.shown_paths import scrub_text, shown_path
from astroml_core.tasks.deblend.background import sky_subtracted
from astroml_core.tasks.deblend.detection import image_noise
from astroml_core.tasks.deblend.export import masks_bytes, regions_bytes, source_table
from astroml_core.tasks.deblend.model import cut_stamp

from ..components.banner import Banner
from ..components.cube_source import CubeSource
from ..components.cutout_view import CutoutView
from ..components.locking import next_tick, run_io, run_job, with_document_lock
from ..components.rgb_view import RGBView
from ..components.saliency_overlay import SaliencyContours
from ..components.safe_text import html_text, md_text
from ..components.send_to_vetting import SendToVetting
from ..components.stamp_grid import StampGrid
from ..components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url, url_query
from .spec import PageSpec

__all__ = ["SPEC", "DeblendPage"]


TITLE = "Deblending"
BLURB = ("Overlapping galaxies on g, r, i, z images: a colour composite with the segmentation masks "
         "of a deblending network and of sep (SExtractor) and photutils, per-source photometry side "
         "by side (and the truth on the simulated demo field), each galaxy's deblended image and "
         "residuals. Open the demo field or upload multi-band FITS.")


class DeblendPage(pn.viewable.Viewer):
    """Page state (view, stretch, method, mask display, selected source) and its widgets."""

    view = param.Selector(default="RGB", objects=["RGB"], doc="Colour composite or one band")
    q = param.Number(default=8.0, bounds=(1.0, 20.0), step=0.5, label="Lupton Q (asinh softening)")
    stretch = param.Number(default=20.0, bounds=(2.0, 200.0), step=1.0, label="Linear range (σ)")
    method = param.Selector(default="model", objects=list(METHODS), doc="Whose masks and table are shown")
    show_masks = param.Boolean(default=True, label="Show masks")
    contours = param.Boolean(default=False, label="Outlines only")
    opacity = param.Number(default=0.45, bounds=(0.0, 1.0), step=0.05, label="Mask opacity")
    band = param.Selector(default="r", objects=["r"], label="Band compared in the table")
    selected = param.Integer(default=None, allow_None=True, doc="Selected source (row of the method's table)")
    file = param.String(default="", doc="The open image, relative to the data root (for links)")
    deblended = param.Boolean(default=False, doc="Whether the image was deblended (a link then deblends it again)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.image: MultibandImage | None = None
        self.sigma: np.ndarray | None = None
        self.truth: QTable | None = None
        self.results: dict = {}
        self._residuals: dict[str, np.ndarray] = {}    # method → data − all its deblended images
        self._job = None
        self.banner = Banner()
        self.view_fig = RGBView(on_tap=self._tap)
        self.seen = SaliencyContours(self.view_fig.fig, "deblend")
        self.stamps = StampGrid()
        self.saliency = CutoutView(size=200, name="deblend-saliency", palette=palettes.RdBu11,
                                   title="What the model sees: click a source")
        self.source = CubeSource(on_path=self.open, on_paths=self.open, on_error=self.banner.error, demo_prefix="blends_",
                                 noun="image")
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
        self.progress = pn.indicators.Progress(value=0, max=100, width=160, visible=False)
        self.table = pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=320, width=640,
                                          layout="fit_columns", pagination=None, css_classes=["deblend-table"],
                                          widths={"id": 36, "RA (°)": 84, "Dec (°)": 74, "β": 44},
                                          stylesheets=[".tabulator, .tabulator-cell, .tabulator-col-title "
                                                       "{ font-size: 12px !important; } .tabulator-col-content "
                                                       "{ padding: 4px 3px !important; } .tabulator-col.tabulator-sortable "
                                                       ".tabulator-col-title { padding-right: 11px !important; }"])
        self.table_caption = pn.pane.HTML("", styles={"font-size": "12px"}, css_classes=["table-caption"], width=640)
        self.table.param.watch(self._row_clicked, "selection")
        self.send = SendToVetting(self._vetting_candidates, self._vetting_name, self.banner.error)
        self.downloads = pn.Row(*[pn.widgets.FileDownload(callback=partial(self._export, suffix), filename=f"sources{suffix}",
                                                          label=label, width=140, css_classes=[f"export{suffix.replace('.', '-')}"])
                                  for suffix, label in ((".ecsv", "Catalogue ECSV"), (".vot", "Catalogue VOTable"),
                                                        (".reg", "DS9 regions"), (".fits", "Masks FITS"))], visible=False)
        self.copy_link = copy_link_button()
        query = url_query()         # a link to a deblended image: read before it opens (which can be at once)
        self._linked = ({k: query[k] for k in ("view", "method", "band") if k in query}
                        if str(query.get("deblended")).lower() == "true" else None)
        open_linked_or_demo(self.source)
        sync_url(self, {"file": "file", "view": "view", "q": "q", "stretch": "stretch", "method": "method",
                        "show_masks": "masks", "contours": "outlines", "opacity": "opacity", "band": "band",
                        "deblended": "deblended"})

    # --- opening ------------------------------------------------------------------------------------
    def open(self, path: Path | list[Path], label: str) -> None:
        """Open a multi-band FITS image (or one file per band, uploaded together), its sky noise and any truth
        beside it (on an I/O thread); a bad file leaves the current image as it was."""
        run_io(partial(_read_image, path), partial(self._show_image, path, label), self.banner.error)

    def _show_image(self, path: Path, label: str, read: tuple) -> None:
        linked, self._linked = self._linked, None         # a link's view, method and band: deblend again, keep them
        self.banner.clear()
        self.image, self.sigma, self.truth = read
        image = self.image
        self.results, self._residuals = {}, {}
        self.param.update(view="RGB", selected=None)
        self.param.view.objects = ["RGB", *image.bands]
        self.param.band.objects = list(image.bands)
        self.stamps.set_bands(image.bands)
        self.band = "r" if "r" in image.bands else image.bands[0]
        self.method = "model" if len(image.bands) == 4 else "sep"
        self.title.object = f"### {md_text(label)}"
        self.file = link_path(path) if isinstance(path, Path) else ""
        px = f"{image.pixel_arcsec:.3f}″" if image.pixel_arcsec else "no WCS"
        self.notes.object = "<br>".join(f"· {html_text(scrub_text(note))}" for note in image.notes)
        psf = md_text(", ".join(f"{b} {f:.2f}″" for b, f in zip(image.bands, image.psf_fwhm_arcsec) if f))
        self.info.object = (f"**Bands** {md_text(', '.join(image.bands))} · **Size** {image.shape[1]} × {image.shape[0]} px · "
                            f"**Pixel** {px} · **Unit** {md_text(image.unit or 'raw (uncalibrated)')}" +
                            (f" · **PSF FWHM** {psf}" if psf else "") +
                            (f" · truth: {len(self.truth)} galaxies" if self.truth is not None else ""))
        self.status.object = "Press Deblend" + ("" if len(image.bands) == 4 else
                                                 " (the network needs g, r, i, z: sep and photutils run on any bands)")
        self.table.value = None
        self.downloads.visible = False
        self.deblended = False
        if linked:
            self.param.update({k: v for k, v in linked.items() if v in self.param[k].objects})
        self._draw_image()
        self._draw_axes()
        self._draw_masks()
        if linked:
            self.run()

    # --- running ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Deblend with every method that fits the image, on the inference service when served."""
        if self.image is None or self._job is not None:
            return
        self.run_button.disabled = True
        self.progress.param.update(value=0, visible=True)
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            try:
                self._done(deblend_all(self.image))
            except Exception as exc:
                self._failed(exc)
            return
        pn.state.execute(partial(self._run, doc, self.image))

    async def _run(self, doc, image) -> None:
        job = service().submit(deblend_all, image, name="deblending", key=("deblending", file_key(image.path)))
        self._job = job
        done = asyncio.wrap_future(job.future)
        while not done.done():
            await asyncio.wait([done], timeout=0.2)
            if not next_tick(doc, partial(self._report, job.fraction, job.message)):
                return               # the tab was closed: nobody to tell
        try:
            results = done.result()
        except (Cancelled, CancelledError):
            return
        except Exception as exc:
            next_tick(doc, partial(self._failed, exc))
            return
        next_tick(doc, partial(self._done, results))

    def _report(self, fraction: float, message: str) -> None:
        self.progress.value = int(100 * fraction)
        self.status.object = f"{message}… {fraction:.0%}"

    def _finish(self) -> None:
        self._job = None
        self.run_button.disabled = False
        self.progress.visible = False

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.status.object = "Deblending failed"
        self.banner.error(exc)

    def _done(self, results: dict) -> None:
        self._finish()
        self.results, self._residuals = results, {}
        self.deblended = True
        if self.method not in results:
            self.method = next(iter(results))
        counts = ", ".join(f"{m} {len(r.catalogue)}" for m, r in results.items())
        notes = results["model"].catalogue.meta.get("notes", []) if "model" in results else []
        self.status.object = "<br>".join([f"Sources found: {counts}", *(f"⚠ {html_text(note)}" for note in notes)])
        self._method_changed()

    # --- drawing ------------------------------------------------------------------------------------
    @param.depends("view", "q", "stretch", watch=True)
    def _draw_image(self) -> None:
        if self.image is None:
            return
        if self.view == "RGB":
            rgb = composite(self.image.data, self.sigma, q=self.q, stretch=self.stretch)
        else:
            b = self.image.bands.index(self.view)
            rgb = composite(self.image.data[b:b + 1], self.sigma[b:b + 1], q=self.q, stretch=self.stretch)
        self.view_fig.set_image(rgba_uint32(rgb))

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
        result = self.results.get(self.method)
        if result is None or not self.show_masks:
            self.view_fig.set_masks(None)
            return
        highlight = None if self.selected is None else self.selected + 1
        self.view_fig.set_masks(segment_rgba(result.segmap, opacity=self.opacity, contours=self.contours,
                                             highlight=highlight))

    @param.depends("method", "band", watch=True)
    def _method_changed(self) -> None:
        """Show the chosen method's masks and table (with the other methods' and the truth's flux)."""
        self.selected = None
        result = self.results.get(self.method)
        self.downloads.visible = result is not None
        if result is None:
            self.table.value = None
            self._draw_masks()
            return
        stem = Path(shown_path(self.image.path)).stem        # an upload's own name, not the server's
        for button in self.downloads:
            suffix = Path(button.filename).suffix
            button.filename = f"{stem}_{self.method}_{'masks' if suffix == '.fits' else 'sources'}{suffix}"
        others = {m: r.catalogue for m, r in self.results.items() if m != self.method}
        joined = joined_table(result.catalogue, others, self.truth, self.band)
        self.table.value = _frame(joined, self.image.bands, self.band)
        compared = ", ".join(list(others) + (["the truth"] if self.truth is not None else []))
        self.table_caption.object = (f"Flux per band from <b>{self.method}</b> ({html_text(self.image.unit or 'image units')}); "
                                     f"then the {html_text(self.band)}-band flux of the same source from {compared}."
                                     + (" β: the network's blendedness, from its deblended images (0 alone, → 1 buried)."
                                        if "blendedness" in joined.colnames else ""))
        self._draw_masks()
        self._show_selection()

    @param.depends("selected", watch=True)
    def _show_selection(self) -> None:
        result = self.results.get(self.method)
        self.seen.clear()
        if result is None or self.selected is None or self.selected >= len(result.catalogue):
            self.view_fig.set_marker(None, None)
            self.selection.object = "Click a source or a row"
            self.stamps.clear()
            self._select_row(None)
            return
        self._select_row(self.selected)
        row = result.catalogue[self.selected]
        self.view_fig.set_marker(float(row["x"]), float(row["y"]))
        fluxes = " · ".join(f"{html_text(b)} {row[f'flux_{b}']:.4g}" + (f" ± {row[f'flux_err_{b}']:.2g}" if f"flux_err_{b}" in row.colnames else "")
                            for b in self.image.bands)
        beta = f" · blendedness {row['blendedness']:.2f}" if "blendedness" in row.colnames else ""
        self.selection.object = f"<b>Source {self.selected}</b> ({self.method}) at pixel ({row['x']:.1f}, " \
                                f"{row['y']:.1f}): {fluxes} {html_text(self.image.unit)}{beta}"
        if self.method not in self._residuals:
            self._residuals[self.method] = np.nan_to_num(self.image.data - model_image(result, self.image.shape))
        cut, (y0, x0) = cut_stamp(self._residuals[self.method], float(row["x"]), float(row["y"]))
        self.stamps.show(result.stamps[self.selected], cut, x0, y0)
        self._show_saliency(result, self.selected)

    def _select_row(self, source: int | None) -> None:
        """Highlight the table row of ``source`` (none for None), as a click on the image selects it."""
        frame = self.table.value
        rows = [] if source is None or frame is None else [int(i) for i in np.flatnonzero(frame["id"].to_numpy() == source)]
        if self.table.selection != rows:
            self.table.selection = rows

    def _show_saliency(self, result, k: int) -> None:
        """Integrated gradients of the splitter's flux for source ``k``, summed over bands (the model only)."""
        empty = dict(x=[], y=[], w=[], h=[], angle=[])
        if self.method != "model":
            self.saliency.show(np.zeros((2, 2)), 0, 0, empty, "What the model sees: model sources only")
            return
        from astroml_core.registry import load_model
        from astroml_core.tasks.deblend.saliency import result_attribution

        image, x, y = self.image, float(result.catalogue["x"][k]), float(result.catalogue["y"][k])
        self.saliency.show(np.zeros((2, 2)), 0, 0, empty, "What the model sees: computing…")

        def done(out) -> None:
            att, (y0, x0) = out
            seg, _ = cut_stamp(result.segmap, x, y)
            own, others = seg == k + 1, (seg > 0) & (seg != k + 1)
            a = np.abs(att).sum(axis=0)
            ratio = (f" · {a[own].mean() / a[others].mean():.0f}× own/neighbours"
                     if own.any() and others.any() else "")
            self.saliency.show(att.sum(axis=0), x0, y0, dict(x=[x], y=[y], w=[6], h=[6], angle=[0]),
                               f"source {k}{ratio}")
            if self.selected == k and self.method == "model":     # still the source shown
                self.seen.show(att.sum(axis=0), x0, y0)

        run_job(lambda progress: result_attribution(load_model("deblend_unet"), image, result, k),
                done, lambda exc: self.saliency.show(np.zeros((2, 2)), 0, 0, empty, f"What the model sees: {exc}"),
                name="deblend saliency", key=("deblend saliency", file_key(image.path), k))

    def _export(self, suffix: str) -> io.BytesIO:
        """The shown method's catalogue (ECSV or VOTable, with units and provenance), its masks' ellipses as
        DS9 regions, or its masks as FITS."""
        result = self.results[self.method]
        if suffix == ".fits":
            return io.BytesIO(masks_bytes(self.image, result))
        if suffix == ".reg":
            return io.BytesIO(regions_bytes(self.image, result))
        return io.BytesIO(table_bytes(source_table(self.image, result), suffix))

    # --- interaction --------------------------------------------------------------------------------
    def _tap(self, x: float, y: float) -> None:
        """A click on the image selects the source whose mask holds that pixel."""
        result = self.results.get(self.method)
        if result is None:
            return
        iy, ix = int(round(y)), int(round(x))
        if 0 <= iy < result.segmap.shape[0] and 0 <= ix < result.segmap.shape[1] and result.segmap[iy, ix] > 0:
            self.selected = int(result.segmap[iy, ix]) - 1

    def _row_clicked(self, event) -> None:
        if not event.new:
            return
        index = int(self.table.value.iloc[event.new[0]]["id"])
        with_document_lock(partial(setattr, self, "selected", index))

    def _vetting_candidates(self) -> tuple:
        """The shown method's galaxies as deblending candidates, most blended first."""
        from astroml_core.errors import InvalidVoteError
        from astroml_core.vetting.sources import DEBLEND_LABELS, deblend_candidates, model_provenance

        result = self.results.get(self.method)
        if result is None or self.image is None:
            raise InvalidVoteError("press Deblend first: there are no galaxies to send yet")
        provenance = (model_provenance("deblend_unet") if self.method == "model" else
                      {"model_name": self.method, "model_version": "", "card_sha256": ""})
        return "deblended_source", list(DEBLEND_LABELS), deblend_candidates(self.image, result, self.band), dict(
            provenance, source=str(self.image.path), description=f"{self.method} deblending, {self.band} band")

    def _vetting_name(self) -> str:
        return f"Deblending: {Path(str(self.image.path)).name} · {self.method}"

    def __panel__(self):
        controls = pn.Column(
            self.source, self.title, self.info, self.notes, self.copy_link,
            pn.widgets.RadioButtonGroup.from_param(self.param.view, css_classes=["view-choice"]),
            pn.widgets.FloatSlider.from_param(self.param.q, width=300),
            pn.widgets.FloatSlider.from_param(self.param.stretch, width=300),
            pn.Row(self.run_button, self.progress), self.status,
            pn.widgets.RadioButtonGroup.from_param(self.param.method, css_classes=["method-choice"]),
            pn.Row(pn.widgets.Checkbox.from_param(self.param.show_masks, css_classes=["show-masks"]),
                   pn.widgets.Checkbox.from_param(self.param.contours, css_classes=["mask-contours"])),
            pn.widgets.FloatSlider.from_param(self.param.opacity, width=300, css_classes=["mask-opacity"]),
            width=420)
        right = pn.Column(pn.pane.Bokeh(self.view_fig.fig), self.selection)
        lower = pn.Row(pn.Column(pn.widgets.Select.from_param(self.param.band, width=200), self.table_caption,
                                 self.table, self.downloads, self.send),
                       pn.Column(pn.pane.HTML("<b>Selected source</b>: deblended image and residual per band",
                                              styles={"font-size": "12px"}),
                                 pn.pane.Bokeh(self.stamps.layout),
                                 pn.Row(pn.pane.Bokeh(self.saliency.fig),
                                        pn.pane.HTML("<b>What the model sees</b>: integrated gradients of the "
                                                     "network's deblended flux of this source, all bands: pixels "
                                                     "that raised it (red) or lowered it (blue); × is the mean "
                                                     "|attribution| on its own mask over its neighbours'. Yellow "
                                                     "contours mark the same on the image.", width=170,
                                                     styles={"font-size": "12px"}))))
        return pn.Column(self.banner, pn.Row(controls, right), lower, sizing_mode="stretch_width")


def _read_image(path: Path | list[Path]) -> tuple:
    """(image with any sky left in it subtracted, its sky σ per band, the truth catalogue beside it or None, its
    fluxes in the image's unit): the file work of opening."""
    image = sky_subtracted(open_multiband(path))
    truth = truth_beside(path) if isinstance(path, Path) else None
    for band, factor in zip(image.bands, image.flux_scale) if truth is not None else ():
        if f"flux_{band}" in truth.colnames:
            truth[f"flux_{band}"] = truth[f"flux_{band}"] * factor
    return image, image_noise(image), truth


def _frame(table: QTable, bands, band: str):
    """The table as shown: id, RA/Dec, the network's blendedness β, flux per band, then the compared band's
    flux from the others."""
    import pandas as pd

    cols = {"id": np.asarray(table["id"]), "RA (°)": np.round(np.asarray(table["ra"], float), 5),
            "Dec (°)": np.round(np.asarray(table["dec"], float), 5)}
    if "blendedness" in table.colnames:
        cols["β"] = np.round(np.asarray(table["blendedness"], float), 2)
    for b in bands:               # Tabulator writes column titles as HTML: a band name from FILTER is text
        cols[html_text(b)] = np.round(np.asarray(table[f"flux_{b}"], float), 2)
    for name in [c.removesuffix(f"_{band}") for c in table.colnames if c.endswith(f"_{band}") and not c.startswith("flux_")]:
        cols[name] = np.round(np.asarray(table[f"{name}_{band}"], float), 2)
    return pd.DataFrame(cols)


# --- what a lesson step can do on this page: action(page, value) → True once applied ----------
def _lesson_deblend(page, _=None) -> bool:
    if not page.results and page._job is None and page.image is not None:
        page.run()
    return bool(page.results)


def _lesson_select_galaxy(page, k) -> bool:
    if page.method not in page.results or page.table.value is None or len(page.table.value) <= int(k):
        return False
    page.table.selection = [int(k)]
    return True


LESSON_ACTIONS = {"deblend": _lesson_deblend, "select": _lesson_select_galaxy}

SPEC = PageSpec(slug="deblend", title=TITLE, blurb=BLURB, factory=DeblendPage, order=20, actions=LESSON_ACTIONS)
