"""The spectra page's view: the widgets and layout, opening a file as a survey, drawing the chosen map and
colouring, and showing the selection that :class:`~.state.SpectraState` holds (stack, saliency, table)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import panel as pn

from astroml_core.display.scatter import ScatterData, render
from astroml_core.tasks.spectra.embed import LABELS
from astroml_core.service.worker import background
from astroml_core.tasks.spectra.store import add_map, map_key, prepare_survey, survey_key
from astroml_core.tasks.spectra.survey import Survey, scatter_data

from ...components.banner import Banner
from ...components.cube_source import CubeSource
from ...components.jobs import start_job
from ...components.locking import run_io, with_document_lock
from ...components.safe_text import md_text
from ...components.send_to_vetting import MAX_CANDIDATES, SendToVetting
from ...components.url_state import copy_link_button, link_path, open_linked_or_demo, sync_url
from .anomaly_table import AnomalyTable
from .combine import combine
from .confusion_view import ConfusionView
from .embedding_view import EmbeddingView
from .layout import layout
from .legend import legend_html, value_span
from .notes import notes_html
from .selection_view import SelectionView
from .state import SpectraState

__all__ = ["SpectraPage"]


class SpectraPage(SpectraState, pn.viewable.Viewer):
    """The page: its state (:class:`SpectraState`: projection, colouring, selection and the public methods a user
    or a lesson acts through) drawn by the widgets below."""

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.coords: np.ndarray | None = None          # the map on screen's points
        self._scatter: ScatterData | None = None
        self._value_span: tuple[float, float] | None = None
        self._summary = ""
        self._shown_title = "### No spectra open"    # the title of the set on screen, put back when an open fails
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
        self.selected = SelectionView(self, self.banner)
        self.stack, self.saliency, self.table = self.selected.stack, self.selected.saliency, self.selected.table
        self.selection_info = self.selected.info
        self.confusion = ConfusionView(on_cell=self._cell_selected, size=420)
        self.unexpected = AnomalyTable(width=560)
        self.anomalies = self.unexpected.widget
        self.anomalies.param.watch(self._anomaly_clicked, "selection")
        self.export_ecsv = pn.widgets.FileDownload(callback=partial(self.export, "ecsv"), filename="selection.ecsv",
                                                   label="Export ECSV", color="primary", width=130,
                                                   css_classes=["export-ecsv"])
        self.export_csv = pn.widgets.FileDownload(callback=partial(self.export, "csv"), filename="selection.csv",
                                                  label="Export CSV", width=120, css_classes=["export-csv"])
        self.send = SendToVetting(self._vetting_candidates, self._vetting_name, self.banner.error)
        self.copy_link = copy_link_button()
        self.param.watch(lambda e: with_document_lock(self._projection_changed), "projection")  # button-group
        self.param.watch(lambda e: with_document_lock(self._rebuild_scatter), "colour_by")      # events: unlocked
        self.param.watch(lambda e: self._selection_changed(), "selection")
        open_linked_or_demo(self.source)
        sync_url(self, {"file": "file", "projection": "projection", "colour_by": "colour"})

    # --- opening ------------------------------------------------------------------------------------
    def open(self, path: Path, label: str) -> None:
        """Analyse a spectra file on the inference service (one run for every session that opens this version of
        it); a bad file keeps the current survey."""
        self.title.object = f"### {md_text(label)}"
        self._opening = key = survey_key(path)
        start_job(prepare_survey, Path(path).resolve(), name="spectra analysis", key=key,
                  then=partial(self._if_latest, key, self._show_survey),
                  on_error=partial(self._if_latest, key, self._failed),
                  on_progress=partial(self._if_latest, key, self._report))

    def _if_latest(self, key, callback, *args) -> None:
        """``callback(*args)`` only for the file opened last: an earlier file's analysis that ends later is dropped."""
        if key == self._opening:
            callback(*args)

    def open_many(self, paths: list[Path], label: str) -> None:
        """Several spectrum files as one set (SDSS spec files, or any formats we read; written as one table on an
        I/O thread, then opened)."""
        run_io(partial(combine, paths), partial(self._open_combined, label), self.banner.error)

    def _open_combined(self, label: str, combined: Path) -> None:
        self.source.keep_until_session_ends(combined)
        self.open(combined, label)

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
        self.notes.param.update(object=notes_html(title, notes), visible=bool(notes))

    def _show_survey(self, survey: Survey) -> None:
        self.progress.visible = False
        self.banner.clear()
        self.survey = survey
        self.coords = None                     # the old map's points: nothing redraws them over the new set
        self.file = link_path(survey.spectra.path) if survey.spectra.path is not None else ""
        self._summary = self.status.object = self.summary()
        self._shown_title = self.title.object
        self._show_notes("How this file was read", survey.spectra.notes)
        self._hover = self.hover()
        self.unexpected.show(survey)
        self._show_confusion()
        self.select(np.zeros(0, np.int64), "")
        colours = self.colours(survey)
        self.narrow("colour_by", colours, colours[0])
        if not self.narrow("projection", self.projections(survey), "VAE latent"):   # a new one redraws by itself
            self._projection_changed()

    # --- the map ------------------------------------------------------------------------------------
    def _projection_changed(self) -> None:
        if self.survey is None:
            return
        method = self.method
        if method in self.survey.embeddings:
            self._show_map(method)
            return
        if self.coords is None:                # still computing: the map on screen stays, greyed and titled as such
            self._show_map("vae")
        self.map.wait(f"computing {self.projection}…")
        self._request_embedding(method)

    def _show_map(self, method: str) -> None:
        emb = self.survey.embeddings[method]
        self.coords = emb.coords
        self._rebuild_scatter()
        self.map.show(emb.coords, emb.axes, self._hover)
        self.map.title(LABELS[method])

    def _request_embedding(self, method: str) -> None:
        """Make ``method``'s map on the background queue (one run per file version and method), reporting its own
        progress."""
        self.status.object = f"{self._summary}<br>{self.projection}: computing (the map shown stays until then)…"
        path = self.survey.spectra.path
        start_job(add_map, self.survey, method, name=f"{method} map", key=map_key(path, method), queue=background(),
                  then=partial(self._embedding_ready, method), on_error=partial(self._map_failed, method),
                  on_progress=partial(self._map_progress, method))

    def _map_progress(self, method: str, fraction: float, message: str) -> None:
        """A map's own progress (t-SNE's iterations, UMAP's epochs) in the status and, while chosen, the map's title."""
        self._report(fraction, message)
        if self.method == method:
            self.map.wait(f"computing {self.projection}… {fraction:.0%}")

    def _map_failed(self, method: str, exc: BaseException) -> None:
        """A map that could not be made: the banner says why, the map still shown (greyed) that it will not come."""
        self._failed(exc)
        if self.method == method:
            self.map.wait(f"{self.projection} could not be made")

    def _embedding_ready(self, method: str, made: Survey | None = None) -> None:
        """``method``'s map is made on ``made``: this survey, or another session's copy of the same file (keyed runs
        share), or a set no longer open (ignored)."""
        if made is not None and made is not self.survey:
            if made.spectra.path is None or made.spectra.path != self.survey.spectra.path:
                return
            self.survey.embeddings.setdefault(method, made.embeddings[method])
        self.progress.visible = False
        self.status.object = self._summary
        if self.method == method:
            self._projection_changed()

    def _rebuild_scatter(self) -> None:
        if self.survey is None or self.coords is None:
            return
        self._scatter = scatter_data(self.survey, self.coords, by_truth=self.colour_by == "true class")
        classes = self._scatter.frame["cat"].to_numpy().astype(str)
        column = self.value_column           # the span once per colouring, not on every pan
        self._value_span = None if column is None else value_span(self._scatter.frame[column].to_numpy())
        self.legend.object = legend_html(self.colour_by, self._scatter.categories, classes, self._value_span)
        self.map.redraw()

    def _render(self, x_range, y_range, width, height) -> np.ndarray:
        if self._scatter is None:
            return np.zeros((2, 2), np.uint32)
        return render(self._scatter, x_range, y_range, width, height, value=self.value_column,
                      value_span=self._value_span, selected=self.selection)

    # --- selecting ----------------------------------------------------------------------------------
    def _geometry_selected(self, geometry: dict) -> None:
        if self.survey is None:
            return
        found = self.geometry_indices(self.coords, geometry)
        if found is not None:
            self.select(*found)

    def _cell_selected(self, i: int, j: int) -> None:
        """A click on the confusion matrix's cell (row ``i``, column ``j``)."""
        self.select_cell(*self.cell_names(i, j))

    def _selection_changed(self) -> None:
        if self.survey is not None:
            self.map.redraw()
        self.selected.show()

    # --- the unexpected, the confusion matrix, what leaves the page ----------------------------------
    def _anomaly_clicked(self, event) -> None:
        if event.new:
            i = self.unexpected.spectrum(event.new[0])
            with_document_lock(partial(self.select, np.array([i]), f"anomaly rank {event.new[0] + 1}"))

    def _show_confusion(self) -> None:
        shown = self.confusion_table()
        self.confusion.fig.visible = shown is not None
        if shown is not None:
            self.confusion.show(*shown)

    def _vetting_candidates(self) -> tuple:
        """The selection, most uncertain first, as spectrum candidates labelled by the classifier's classes."""
        from astroml_core.errors import InvalidVoteError
        from astroml_core.tasks.spectra.model import provenance as model_provenance
        from astroml_core.vetting.sources import spectra_candidates, spectra_labels

        if self.survey is None or not len(self.selection):
            raise InvalidVoteError("select spectra first (lasso or box on the map, or a confusion-matrix cell)")
        provenance = dict(model_provenance(), source=str(self.survey.spectra.path or ""))
        return ("spectrum", spectra_labels(self.survey.result.classes),
                spectra_candidates(self.survey, self.most_uncertain_first()[:MAX_CANDIDATES]), provenance)

    def _vetting_name(self) -> str:
        return f"Spectra: {len(self.selection):,} selected"

    def __panel__(self):
        return layout(self)
