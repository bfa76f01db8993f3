"""The spectra page: a survey's spectra in a 2-D map (UMAP, t-SNE, VAE latent or PCA) coloured by class,
uncertainty, anomaly score or redshift; lasso or box a region and read its spectra and table; the
classifier's confusion matrix, whose cells select their spectra; the most unexpected spectra; export."""
from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import numpy as np
import panel as pn
import param

from astroml_core.data.shown_paths import scrub_text, shown_path
from astroml_core.display.scatter import ScatterData, render
from astroml_core.metrics.spectra import confusion_matrix
from astroml_core.tasks.spectra import points_in_box, points_in_polygon, selection_table
from astroml_core.tasks.spectra.classify import UNKNOWN
from astroml_core.tasks.spectra.display_names import display_name, display_names
from astroml_core.tasks.spectra.embed import LABELS, MIN_FOR_NEIGHBOURS
from astroml_core.tasks.spectra.store import store
from astroml_core.tasks.spectra.survey import Survey, answers, scatter_data

from ..components.anomaly_table import TOP, AnomalyTable
from ..components.banner import Banner
from ..components.confusion_view import ConfusionView
from ..components.cube_source import CubeSource
from ..components.embedding_view import EmbeddingView
from ..components.locking import next_tick, run_io, run_job, with_document_lock
from ..components.safe_text import html_text, md_text
from ..components.send_to_vetting import MAX_CANDIDATES, SendToVetting
from ..components.spectra_stack import SaliencyView, SpectraStack, count
from ..components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .spec import PageSpec

__all__ = ["SPEC", "SpectraPage"]

TITLE = "Spectra"
BLURB = ("Tens of thousands of spectra in UMAP, t-SNE, VAE-latent or PCA maps, coloured by class, "
         "uncertainty or anomaly score: lasso a region and read its spectra, check the 13-class "
         "classifier's confusion matrix cell by cell, open the most unexpected spectra, export a selection.")

COLOURS = {"true class": None, "predicted class": None, "uncertainty": "uncertainty", "anomaly score": "anomaly",
           "redshift": "z"}
PROJECTIONS = {"UMAP": "umap", "t-SNE": "tsne", "VAE latent": "vae", "PCA": "pca"}


class SpectraPage(pn.viewable.Viewer):
    """Page state: projection, colouring and the selected spectra (indices into the survey)."""

    projection = param.Selector(default="UMAP", objects=list(PROJECTIONS), doc="Which 2-D map")
    colour_by = param.Selector(default="true class", objects=list(COLOURS), label="Colour by")
    selection = param.Array(default=np.zeros(0, np.int64), doc="Selected spectra (row indices)")
    file = param.String(default="", doc="The open spectra file, relative to the data root (for links)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.survey: Survey | None = None
        self._summary = ""
        self._shown_title = "### No spectra open"    # the title of the set on screen, put back when an open fails
        self._scatter: ScatterData | None = None
        self._coords: np.ndarray | None = None
        self._value_span: tuple[float, float] | None = None
        self._classes: np.ndarray | None = None
        self.banner = Banner()
        self.source = CubeSource(on_path=self.open, on_paths=self.open_many, on_error=self.banner.error,
                                 demo_prefix="spectra_", noun="spectra file")
        self.title = pn.pane.Markdown("### No spectra open", margin=(0, 10))
        self.status = pn.pane.HTML("", css_classes=["spectra-status"], styles={"font-size": "13px"}, margin=(0, 10))
        self.progress = pn.indicators.Progress(value=0, max=100, width=200, visible=False)
        self.notes = pn.pane.HTML("", css_classes=["spectra-notes"], styles={"font-size": "12px"}, margin=(0, 10),
                                  width=620, visible=False)
        self.map = EmbeddingView(render=self._render, on_select=self._geometry_selected, width=500, height=440)
        self.legend = pn.pane.HTML("", styles={"font-size": "11px"}, width=560, css_classes=["spectra-legend"])
        self.stack = SpectraStack(width=1020, height=400)
        self.saliency = SaliencyView(self.stack, width=1020)
        self.confusion = ConfusionView(on_cell=self._cell_selected, size=420)
        self.selection_info = pn.pane.HTML("No selection: lasso (or box) a region of the map",
                                           css_classes=["selection-info"], styles={"font-size": "13px"})
        self.table = pn.widgets.Tabulator(None, disabled=True, show_index=False, height=300, width=1060,
                                          pagination="local", page_size=10, layout="fit_columns",
                                          widths={"id": 170, "true_class": 170, "predicted_class": 170, "probability": 105,
                                                  "uncertainty": 105, "anomaly": 90, "z": 80, "snr": 80},
                                          css_classes=["selection-table"], selectable=1)
        self.table.param.watch(self._row_clicked, "selection")
        self.unexpected = AnomalyTable(width=560)
        self.anomalies = self.unexpected.widget
        self.anomalies.param.watch(self._anomaly_clicked, "selection")
        self.export_ecsv = pn.widgets.FileDownload(callback=partial(self._export, "ecsv"), filename="selection.ecsv",
                                                   label="Export ECSV", color="primary", width=130,
                                                   css_classes=["export-ecsv"])
        self.export_csv = pn.widgets.FileDownload(callback=partial(self._export, "csv"), filename="selection.csv",
                                                  label="Export CSV", width=120, css_classes=["export-csv"])
        self.send = SendToVetting(self._vetting_candidates, self._vetting_name, self.banner.error)
        self.copy_link = copy_link_button()
        open_linked_or_demo(self.source)
        sync_url(self, {"file": "file", "projection": "projection", "colour_by": "colour"})

    # --- opening ------------------------------------------------------------------------------------
    def open(self, path: Path, label: str) -> None:
        """Analyse a spectra file on the inference service (shared by every session); a bad file keeps the
        current survey."""
        self.title.object = f"### {md_text(label)}"
        job = store().open(path)
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            try:
                self._show_survey(job.future.result())
            except Exception as exc:
                self._failed(exc)
            return
        pn.state.execute(partial(self._await, doc, job, self._show_survey))

    def open_many(self, paths: list[Path], label: str) -> None:
        """Several spectrum files as one set (SDSS spec files, or any formats we read; written as one table on an
        I/O thread, then opened)."""
        run_io(partial(_combine, paths), partial(self._open_combined, label), self.banner.error)

    def _open_combined(self, label: str, combined: Path) -> None:
        self.source.keep_until_session_ends(combined)
        self.open(combined, label)

    async def _await(self, doc, job, then, report=None, failed=None) -> None:
        done = asyncio.wrap_future(job.future)
        while not done.done():
            await asyncio.wait([done], timeout=0.25)
            if not next_tick(doc, partial(report or self._report, job.fraction, job.message)):
                return               # the tab was closed: nobody to tell
        try:
            result = done.result()
        except Exception as exc:
            next_tick(doc, partial(failed or self._failed, exc))
            return
        next_tick(doc, partial(then, result))

    def _report(self, fraction: float, message: str) -> None:
        self.progress.param.update(value=int(100 * fraction), visible=True)
        self.status.object = (f"{self._summary}<br>" if self.survey is not None else "") + f"{message}… {fraction:.0%}"

    def _failed(self, exc: BaseException) -> None:
        from astroml_core.data.spectrum_formats import SUPPORTED_SPECTRUM_FORMATS
        from astroml_core.errors import UnsupportedFormatError

        self.progress.visible = False
        self.status.object = "Could not analyse this file" if self.survey is None else self._summary
        if self.survey is not None:                      # the set on screen stays: so do its title and notes
            self.title.object = self._shown_title
            self._show_notes("How this file was read", self.survey.spectra.notes)
        self.banner.error(exc)
        if isinstance(exc, UnsupportedFormatError):
            self._show_notes("Spectrum formats we read", SUPPORTED_SPECTRUM_FORMATS)

    def _show_notes(self, title: str, notes) -> None:
        """A titled list of lines (how the file was read, or the formats we read), escaped: they come from files."""
        items = "".join(f"<li>{html_text(scrub_text(n))}</li>" for n in notes)
        self.notes.param.update(object=f"<b>{html_text(title)}</b><ul style='margin:2px 0 0 0;padding-left:18px'>"
                                       f"{items}</ul>", visible=bool(notes))

    def _show_survey(self, survey: Survey) -> None:
        self.progress.visible = False
        self.banner.clear()
        self.survey = survey
        self._coords = None                    # the old map's points: nothing redraws them over the new set
        self.file = link_path(survey.spectra.path) if survey.spectra.path is not None else ""
        truth = survey.true_class
        colours = [c for c in COLOURS if (c != "true class" or truth is not None)
                   and (COLOURS[c] != "z" or "z" in survey.spectra.meta)]
        r = survey.result
        n = len(survey.spectra)
        said = answers(r)
        self._summary = (f"{n:,} spectr{'um' if n == 1 else 'a'} · classified by spectra_net · "
                         f"{(said == UNKNOWN).sum():,} UNKNOWN · {(r.anomaly > 3).sum():,} with anomaly score > 3")
        self.status.object = self._summary
        self._shown_title = self.title.object
        self._show_notes("How this file was read", survey.spectra.notes)
        self._hover = dict(id=np.asarray(survey.spectra.ids), label=display_names(truth if truth is not None else said),
                           predicted=display_names(said), p=r.probs.max(axis=1), anomaly=r.anomaly)
        self.unexpected.show(survey)
        self._show_confusion()
        self.selection = np.zeros(0, np.int64)
        self._narrow("colour_by", colours, colours[0])
        few = n < MIN_FOR_NEIGHBOURS              # too few for a neighbour graph: VAE latent and PCA only
        if not self._narrow("projection", [p for p in PROJECTIONS if not few or PROJECTIONS[p] in ("vae", "pca")],
                            "VAE latent"):        # a new projection redraws by itself
            self._projection_changed()

    def _narrow(self, name: str, allowed: list, fallback) -> bool:
        """Offer only ``allowed`` for the choice ``name``, moving its value to ``fallback`` first when it must
        change, so its widget never holds a value outside its options (the browser would send back None).
        True when the value moved."""
        moved = getattr(self, name) not in allowed
        if moved:
            self.param[name].objects = list(dict.fromkeys([*self.param[name].objects, *allowed]))
            setattr(self, name, fallback)
        self.param[name].objects = allowed
        return moved

    # --- the map ------------------------------------------------------------------------------------
    @param.depends("projection", watch=True)
    def _projection_chosen(self) -> None:
        with_document_lock(self._projection_changed)       # button-group events can arrive unlocked

    def _projection_changed(self) -> None:
        if self.survey is None:
            return
        method = PROJECTIONS[self.projection]
        if method not in self.survey.embeddings:
            self._request_embedding(method)
        if method in self.survey.embeddings:
            self._show_map(method)
        else:                                  # still computing: the map on screen stays, greyed and titled as such
            if self._coords is None:
                self._show_map("vae")
            self.map.wait(f"computing {self.projection}…")

    def _show_map(self, method: str) -> None:
        emb = self.survey.embeddings[method]
        self._coords = emb.coords
        self._rebuild_scatter()
        self.map.show(emb.coords, emb.axes, self._hover)
        self.map.title(LABELS[method])

    def _request_embedding(self, method: str) -> None:
        job = store().embedding(self.survey, method)
        self.status.object = f"{self._summary}<br>{self.projection}: computing (the map shown stays until then)…"
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            job.future.result()
            return
        pn.state.execute(partial(self._await, doc, job, lambda s: self._embedding_ready(method),
                                 partial(self._map_progress, method), partial(self._map_failed, method)))

    def _map_progress(self, method: str, fraction: float, message: str) -> None:
        """A map's own progress (t-SNE's iterations, UMAP's epochs) in the status and, while chosen, the map's title."""
        self._report(fraction, message)
        if PROJECTIONS[self.projection] == method:
            self.map.wait(f"computing {self.projection}… {fraction:.0%}")

    def _map_failed(self, method: str, exc: BaseException) -> None:
        """A map that could not be made: the banner says why, the map still shown (greyed) that it will not come."""
        self._failed(exc)
        if PROJECTIONS[self.projection] == method:
            self.map.wait(f"{self.projection} could not be made")

    def _embedding_ready(self, method: str) -> None:
        self.progress.visible = False
        self.status.object = self._summary
        if PROJECTIONS[self.projection] == method:
            self._projection_changed()

    @param.depends("colour_by", watch=True)
    def _colour_chosen(self) -> None:
        with_document_lock(self._rebuild_scatter)

    def _rebuild_scatter(self) -> None:
        if self.survey is None or self._coords is None:
            return
        self._scatter = scatter_data(self.survey, self._coords, by_truth=self.colour_by == "true class")
        self._classes = self._scatter.frame["cat"].to_numpy().astype(str)
        self._value_span = self._span()         # once per colouring, not on every pan
        self._legend()
        self.map.redraw()

    def _span(self) -> tuple[float, float] | None:
        """The 1–99% range of the colouring value (None when colouring by class)."""
        col = COLOURS[self.colour_by]
        if col is None:
            return None
        v = self._scatter.frame[col].to_numpy()
        return float(np.nanpercentile(v, 1)), float(np.nanpercentile(v, 99))

    def _render(self, x_range, y_range, width, height) -> np.ndarray:
        if self._scatter is None:
            return np.zeros((2, 2), np.uint32)
        return render(self._scatter, x_range, y_range, width, height, value=COLOURS[self.colour_by],
                      value_span=self._value_span, selected=self.selection)

    def _legend(self) -> None:
        from astroml_core.display.scatter import CATEGORY_COLOURS, VALUE_CMAP

        col = COLOURS[self.colour_by]
        if col is None:
            counts = dict(zip(*np.unique(self._classes, return_counts=True)))
            items = "".join(f"<span style='display:inline-block;margin:0 10px 2px 0;white-space:nowrap'><span style='"
                            f"display:inline-block;width:10px;height:10px;background:"
                            f"{CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]};margin-right:4px'></span>{html_text(display_name(c))} ({counts.get(c, 0):,})</span>"
                            for i, c in enumerate(self._scatter.categories))
        else:
            lo, hi = self._value_span
            grad = ", ".join(VALUE_CMAP)
            items = (f"<div>mean per screen pixel</div><div style='height:12px;width:200px;"
                     f"background:linear-gradient(to right, {grad})'></div><div style='display:flex;"
                     f"justify-content:space-between;width:200px'><span>{lo:.3g}</span><span>{hi:.3g}</span></div>")
        self.legend.object = f"<b>{self.colour_by}</b> (black: the selection)<br>{items}"

    # --- selecting ----------------------------------------------------------------------------------
    def _geometry_selected(self, geometry: dict) -> None:
        if self.survey is None:
            return
        if geometry.get("type") == "rect":
            index = points_in_box(self._coords, geometry["x0"], geometry["x1"], geometry["y0"], geometry["y1"])
            how = (f"box x {min(geometry['x0'], geometry['x1']):.3f}…{max(geometry['x0'], geometry['x1']):.3f}, "
                   f"y {min(geometry['y0'], geometry['y1']):.3f}…{max(geometry['y0'], geometry['y1']):.3f}")
        elif geometry.get("type") == "poly":
            index = points_in_polygon(self._coords, geometry["x"], geometry["y"])
            how = f"lasso of {len(geometry['x'])} vertices"
        else:
            return
        self._select(index, how)

    def _cell_selected(self, i: int, j: int) -> None:
        truth = self.survey.true_class
        rows = self._confusion_rows
        index = np.flatnonzero((truth == rows[i]) & (self.survey.result.pred == j))
        self._select(index, f"confusion cell true {rows[i]} → predicted {self.survey.result.classes[j]}")

    def _select(self, index: np.ndarray, how: str) -> None:
        self.selection = np.asarray(index, np.int64)
        noun = "spectrum" if len(index) == 1 else "spectra"
        self.selection_info.object = f"<b>{len(index):,} {noun} selected</b> ({html_text(how)})"

    @param.depends("selection", watch=True)
    def _selection_changed(self) -> None:
        if self.survey is None:
            return
        self.map.redraw()
        index = self.selection
        table = selection_table(self.survey, index)
        self.table.value = table.to_pandas()
        self._show_spectra(index[: self.stack.max_rows], index)

    def _show_spectra(self, shown: np.ndarray, index: np.ndarray) -> None:
        if len(index) == 0:
            self._show_atlas()
            self._show_saliency(None)
            return
        r = self.survey.result
        self.stack.show_selection(self.survey.spectra, shown, index,
                                  [_spectrum_name(self.survey.spectra.ids[i], r, i) for i in shown], list(r.pred[shown]))
        self._show_saliency(int(shown[0]))

    def _show_saliency(self, i: int | None) -> None:
        """Integrated gradients of spectrum ``i``'s predicted class, computed on the inference service."""
        wavelength = self.survey.spectra.wavelength
        if i is None:
            self.saliency.show(wavelength, None, "What the model sees: select a spectrum")
            return
        from astroml_core.registry import load_model
        from astroml_core.service.worker import file_key
        from astroml_core.tasks.spectra.saliency import integrated_gradients

        s = self.survey.spectra
        flux, ivar = s.rows(slice(i, i + 1))
        self.saliency.show(self.stack.wavelength_of(i, wavelength), None, f"What the model sees in {s.ids[i]}: computing…")
        run_job(lambda progress: integrated_gradients(load_model("spectra_net"), flux, ivar),
                partial(self._saliency_done, i), self.banner.error, name="spectrum saliency",
                key=("spectrum saliency", file_key(s.path), i) if s.path is not None else None)

    def _saliency_done(self, i: int, result) -> None:
        att, target = result
        name = self.survey.result.classes[int(target[0])]
        self.saliency.show(self.stack.wavelength_of(i, self.survey.spectra.wavelength), att[0],
                           f"What the model sees in {self.survey.spectra.ids[i]} (top of the stack): pixels that raised "
                           f"(green) or lowered (red) p({name}), integrated gradients")

    def _show_atlas(self) -> None:
        """With nothing selected: the median spectrum of each predicted class (the survey computes it once)."""
        rows, names, classes = self.survey.class_atlas()
        title = ("Median spectrum of each predicted class (observed frame): lasso the map to read spectra" if len(rows)
                 else "No spectrum was given a class (all UNKNOWN): lasso the map to read them and why")
        self.stack.show(self.survey.spectra.wavelength, rows, names, classes, None, None, title, max_rows=len(rows))

    def _row_clicked(self, event) -> None:
        """A click on a table row puts that spectrum on top of the stack."""
        if not event.new or self.survey is None:
            return
        page = self.table.value
        i = int(np.flatnonzero(np.asarray(self.survey.spectra.ids) == page.iloc[event.new[0]]["id"])[0])
        rest = [j for j in self.selection[: self.stack.max_rows - 1] if j != i]
        with_document_lock(partial(self._show_spectra, np.array([i] + rest), self.selection))

    # --- the unexpected and the confusion matrix ----------------------------------------------------
    def _anomaly_clicked(self, event) -> None:
        if not event.new:
            return
        i = self.unexpected.spectrum(event.new[0])
        with_document_lock(partial(self._select, np.array([i]), f"anomaly rank {event.new[0] + 1}"))

    def _show_confusion(self) -> None:
        truth = self.survey.true_class
        r = self.survey.result
        if truth is None:
            self.confusion.fig.visible = False
            return
        self.confusion.fig.visible = True
        classes = list(r.classes)
        rows = classes + sorted(set(truth) - set(classes))
        self._confusion_rows = np.array(rows)
        index = {c: i for i, c in enumerate(rows)}
        t = np.array([index[c] for c in truth])
        full = confusion_matrix(t, r.pred, len(rows))[:, : len(classes)]
        normal = np.isin(truth, classes)
        acc = np.mean([full[i, i] / max(full[i].sum(), 1) for i in range(len(classes)) if full[i].sum()])
        self.confusion.show(full, rows, classes, f"{count(normal.sum())} of the 13 classes · macro accuracy {acc:.3f}")

    def _export(self, fmt: str):
        """The selection (or, with nothing selected, every spectrum) as ECSV or CSV bytes."""
        import io

        index = self.selection if len(self.selection) else np.arange(len(self.survey.spectra))
        buf = io.StringIO()
        selection_table(self.survey, index).write(buf, format="ascii.ecsv" if fmt == "ecsv" else "ascii.csv")
        return io.BytesIO(buf.getvalue().encode())

    def _vetting_candidates(self) -> tuple:
        """The selection, most uncertain first, as spectrum candidates labelled by the classifier's classes."""
        from astroml_core.errors import InvalidVoteError
        from astroml_core.vetting.sources import model_provenance, spectra_candidates, spectra_labels

        if self.survey is None or not len(self.selection):
            raise InvalidVoteError("select spectra first (lasso or box on the map, or a confusion-matrix cell)")
        index = self.selection[np.argsort(-self.survey.result.uncertainty[self.selection], kind="stable")]
        provenance = dict(model_provenance("spectra_net"), source=str(self.survey.spectra.path or ""))
        return ("spectrum", spectra_labels(self.survey.result.classes),
                spectra_candidates(self.survey, index[:MAX_CANDIDATES]), provenance)

    def _vetting_name(self) -> str:
        return f"Spectra: {len(self.selection):,} selected"

    def __panel__(self):
        controls = pn.Row(pn.Column(self.source, width=420),
                          pn.Column(pn.Row(self.title, self.copy_link), self.status, self.progress, self.notes,
                                    pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.projection,
                                                                                  css_classes=["projection-choice"]),
                                           pn.widgets.Select.from_param(self.param.colour_by, width=170,
                                                                        css_classes=["colour-choice"]))))
        tabs = pn.Tabs(("Confusion matrix", pn.pane.Bokeh(self.confusion.fig)),
                       ("The unexpected", pn.Column(
                           pn.pane.HTML(f"The {TOP} highest anomaly scores: click one to read it",
                                        styles={"font-size": "12px"}), self.anomalies)),
                       css_classes=["spectra-tabs"])
        top = pn.Row(pn.Column(pn.pane.Bokeh(self.map.fig), self.legend), tabs)
        below = pn.Column(pn.pane.Bokeh(self.stack.fig), pn.pane.Bokeh(self.saliency.fig), self.selection_info,
                          pn.Row(self.export_ecsv, self.export_csv, self.send), self.table)
        return pn.Column(self.banner, controls, top, below, sizing_mode="stretch_width")


def _combine(paths: list[Path]) -> Path:
    """Several spectrum files read and written as one spectra table in the upload folder: SDSS spec files placed
    on one grid by whole pixels, any other mix opened one by one (each on the classifier's grid) and joined."""
    import uuid

    from astroml_core.config import settings
    from astroml_core.data.spectra import open_sdss_spec, open_spectra, write_spectra
    from astroml_core.data.spectrum_resample import concatenate
    from astroml_core.errors import AstroMLError

    try:
        spectra = open_sdss_spec(paths)
    except AstroMLError:
        cfg = settings()
        spectra = concatenate([open_spectra(p, max_bytes=cfg.max_cube_bytes) for p in paths],
                              [shown_path(p) for p in paths])
    path = write_spectra(settings().upload_dir / f"{uuid.uuid4().hex[:12]}_set_{len(paths)}.fits", spectra)
    path.chmod(0o600)                                   # like the uploads it is made from
    return path


def _spectrum_name(spectrum_id, result, i: int) -> str:
    """A drawn spectrum's name: its id and the classifier's answer in words (the reason when UNKNOWN)."""
    if result.label is not None and result.label[i] == UNKNOWN:
        return f"{spectrum_id} · Unknown: {result.reason[i]}"
    return f"{spectrum_id} · {display_name(result.pred_class[i])} (p {result.probs[i].max():.2f})"


# --- what a lesson step can do on this page: action(page, value) → True once applied ----------
def _lesson_select_cell(page, cell) -> bool:
    if page.survey is None or getattr(page, "_confusion_rows", None) is None:
        return False
    rows, classes = list(page._confusion_rows), list(page.survey.result.classes)
    page._cell_selected(rows.index(cell["truth"]), classes.index(cell["predicted"]))
    return True


def _lesson_clear(page, _=None) -> bool:
    if page.survey is None:
        return False
    page._select(np.zeros(0, np.int64), "cleared")
    return True


LESSON_ACTIONS = {"select_cell": _lesson_select_cell, "clear": _lesson_clear}

SPEC = PageSpec(slug="spectra", title=TITLE, blurb=BLURB, factory=SpectraPage, order=30, actions=LESSON_ACTIONS)
