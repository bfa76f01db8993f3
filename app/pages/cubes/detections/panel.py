"""HI detections on the cube page: Detect (model or baseline) with progress, a reliability threshold that
filters live, ellipses on the channels each source spans, a linked table, export, and a compare mode
that draws the model, the baseline and the truth (simulated cubes) together, matched / false / missed
in their own colours."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import panel as pn
import param
from astropy.table import QTable

from astroml_core.data import truth_beside
from astroml_core.metrics import score_sdc2
from astroml_core.service.worker import file_key
from astroml_core.tasks.hi import detect
from astroml_core.tasks.hi.cutouts import moment0, source_window

from ....components.cutout_view import CutoutView
from ....components.jobs import JobPanel
from ....components.locking import with_document_lock
from ....components.send_to_vetting import SendToVetting
from ....components.url_state import sync_url
from .outputs import catalogue_bytes, vetting_candidates, vetting_name
from .saliency import saliency_views, say, show_saliency
from .shapes import EMPTY, MATCHED, MISSED, colours, covering, ellipses, legend, rows_of
from .table import source_table, table_frame

__all__ = ["DetectionPanel"]

URL_STATE = {"method": "finder", "threshold": "threshold", "show_truth": "compare", "source": "source"}


class DetectionPanel(pn.viewable.Viewer):
    """Runs detection on ``state.cube`` and draws the result on ``image`` (an ImageView); ``state`` is the page's
    state (its open ``cube`` and shown ``channel``), ``banner`` hears errors and notes, ``go_to(row)`` takes the
    page to a source."""

    method = param.Selector(default="model", objects=["model", "baseline"])
    threshold = param.Number(default=0.5, bounds=(0.0, 1.0), step=0.01, label="Reliability threshold")
    show_truth = param.Boolean(default=False, label="Compare model · baseline · truth")
    source = param.Integer(default=None, allow_None=True, doc="Catalogue id of the selected source (for links)")

    def __init__(self, state, image, banner, go_to: Callable[[object], None], **params) -> None:
        super().__init__(**params)
        self.state, self.image, self.banner, self.go_to = state, image, banner, go_to
        self.catalogues: dict[str, QTable] = {}
        self._restoring: tuple[int, int, float] | None = None      # (source id, channel, threshold) from a link
        self._syncing = False          # the table's selection is being set to follow the source, not clicked
        self.truth: QTable | None = None
        self._verdicts: dict[str, object] = {}      # method → ska-sdc result against the truth
        self._scored: dict[tuple, object] = {}      # (method, row ids) → result: slider moves rescore nothing twice
        self.detect_button = pn.widgets.Button(label="Detect", color="primary", width=110, css_classes=["detect"])
        self.detect_button.on_click(lambda e: self.start())
        self.status = pn.pane.HTML("", css_classes=["detect-status"], styles={"font-size": "13px"})
        self.job = JobPanel(banner, css="detect", status=self.status, trigger=self.detect_button, cancellable=True)
        self.legend = pn.pane.HTML("", css_classes=["compare-legend"], styles={"font-size": "12px"})
        self.table = source_table()
        self.table.param.watch(self._row_selected, "selection")
        self.cutout = CutoutView(size=210)
        self.saliency, self.seen = saliency_views(image.fig)      # what the model sees: cutout, contours
        self.downloads = pn.Row(*[pn.widgets.FileDownload(callback=partial(self._export, s), filename=f"hi_catalogue{s}",
                                                          label=f"Export {label}", width=150)
                                  for s, label in ((".ecsv", "ECSV"), (".vot", "VOTable"), (".reg", "DS9 regions"))],
                                visible=False)
        self.send = SendToVetting(self._vetting_candidates, self._vetting_name, banner.error)

    # --- running -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a detection runs or waits in the queue."""
        return self.job.busy

    def reset(self, cube_path: Path | None) -> None:
        """A new cube: forget the catalogue, load its truth when it is a simulated cube."""
        self.catalogues, self._scored = {}, {}
        self.source = None
        self.seen.clear()
        self.truth = truth_beside(cube_path) if cube_path is not None else None
        self.status.object = "" if self.truth is None else f"Truth catalogue available ({len(self.truth)} sources)"
        self.table.value = None
        self.downloads.visible = False
        self.draw()

    def start(self) -> None:
        """Detect on the open cube through the app's job runner (queued on the inference service when served),
        the bar and status following its phases."""
        cube = self.state.cube
        if cube is None or self.busy:
            return
        method = self.method
        self.job.run(detect, cube, method, name=f"running {method}", then=self._done, failed="Detection failed",
                     cancelled="Detection cancelled", key=("HI detection", file_key(cube.path), method))

    def cancel(self) -> None:
        """Cancel the running or queued detection."""
        self.job.cancel()

    def _done(self, table: QTable) -> None:
        """A finished catalogue: keep it, say the cube's notes, show it (and a link's source)."""
        method = table.meta.get("method", self.method)
        self.catalogues[method] = table
        if table.meta.get("notes"):
            self.banner.warn(list(table.meta["notes"]))   # the model says when this cube is unlike its training
        self._scored = {k: v for k, v in self._scored.items() if k[0] != method}   # a re-run: rescore
        if method == self.method:
            self._method_changed()
        else:
            self.draw()
        if self._restoring is not None and method == self.method:
            self._reselect(*self._restoring)

    def restore_from_url(self) -> None:
        """A link that names a selected source: detect again (the finders are deterministic), then select
        it and go back to the link's channel."""
        sync_url(self, URL_STATE)
        if self.source is not None and self.state.cube is not None:
            self._restoring = (self.source, self.state.channel, self.threshold)
            self.start()

    def _reselect(self, source: int, channel: int, threshold: float) -> None:
        self._restoring = None
        self.threshold = threshold
        rows = self.shown()
        hits = [] if rows is None else np.flatnonzero(np.asarray(rows["id"]) == source)
        if len(hits):
            self._highlight_source(rows)
            with_document_lock(partial(self.show, rows[int(hits[0])]))              # the source (next tick when served)
            with_document_lock(partial(setattr, self.state, "channel", channel))    # then the link's channel

    # --- showing -------------------------------------------------------------------------------------
    @property
    def catalogue(self) -> QTable | None:
        """The catalogue of the selected method, if it has been run on this cube."""
        return self.catalogues.get(self.method)

    def shown(self) -> QTable | None:
        """The catalogue rows at or above the threshold."""
        if self.catalogue is None:
            return None
        return self.catalogue[self.catalogue["score"] >= self.threshold]

    def _other(self) -> tuple[str, QTable] | None:
        """The other finder's accepted sources, when it has been run (for compare mode)."""
        other = next((m for m in self.param.method.objects if m != self.method), None)
        table = self.catalogues.get(other)
        return None if table is None else (other, table[np.asarray(table["accepted"], bool)])

    @param.depends("method", watch=True)
    def _method_chosen(self) -> None:
        with_document_lock(self._method_changed)

    def _method_changed(self) -> None:
        """Show the chosen method's catalogue (if run) at its own default threshold."""
        if self.catalogue is not None:
            self.threshold = float(self.catalogue.meta.get("threshold", 0.5))
        self.downloads.visible = self.catalogue is not None
        self.draw()

    def _verdict(self, method: str, rows: QTable) -> str:
        """Score ``rows`` against the truth; remember the matches and say how it went."""
        key = (method, tuple(int(i) for i in rows["id"]))
        if key not in self._scored:
            self._scored[key] = score_sdc2(rows, self.truth) if len(rows) else None
        res = self._verdicts[method] = self._scored[key]
        if res is None:
            return f"{method}: no sources"
        return (f"{method}: matched {res.n_match}, false {res.n_false}, missed {len(self.truth) - res.n_match}"
                f" · SDC2 score {res.score:.2f}")

    @param.depends("threshold", "show_truth", watch=True)
    def draw(self) -> None:
        """Refresh the table, the summary and the ellipses for the current channel."""
        rows = self.shown()
        self._verdicts = {}
        self.legend.object = ""
        if rows is None:
            self.table.value = None
            self.status.object = (f"{self.method} not run on this cube yet"
                                  if self.catalogues else self.status.object)
            self.image.set_sources(dict(EMPTY, score=[], id=[]))
            self.image.set_truth(EMPTY)
            self.image.set_other(EMPTY)
            return
        self.table.value = table_frame(rows)
        self._highlight_source(rows)
        self.status.object = self._summary(rows)
        self.overlay()

    def _summary(self, rows: QTable) -> str:
        """How many rows pass the threshold; in compare mode, each finder's verdict against the truth."""
        default = float(self.catalogue.meta.get("threshold", np.nan))
        why = f"; {default:.2f} is the {self.method} finder's default cut" if np.isclose(self.threshold, default) else ""
        summary = f"{len(rows)} of {len(self.catalogue)} sources with reliability ≥ {self.threshold:.2f} ({self.method}{why})"
        if self.show_truth:
            other = self._other()
            if self.truth is not None:
                lines = [self._verdict(self.method, rows)] + ([self._verdict(*other)] if other else [])
                summary += "<br>" + "<br>".join(lines)
            self.legend.object = legend(self.method, other[0] if other else None, self.truth is not None)
        return summary

    def overlay(self) -> None:
        """Outline the shown sources (and the truth, in compare mode) whose line covers the shown channel."""
        rows, cube, channel = self.shown(), self.state.cube, self.state.channel
        if rows is None or cube is None or cube.celestial is None:
            return
        compared = self.show_truth and self.truth is not None
        on = rows[covering(rows, cube, channel)]
        self.image.set_sources(dict(ellipses(on, cube), score=list(np.asarray(on["score"], float)),
                                    id=[str(int(i)) for i in on["id"]],
                                    color=colours(on, self._verdicts.get(self.method), compared)))
        other = self._other() if self.show_truth else None
        if other is not None:
            method, table = other
            on = table[covering(table, cube, channel)]
            self.image.set_other(dict(ellipses(on, cube),
                                      color=colours(on, self._verdicts.get(method), compared, default="#4dd0e1")))
        else:
            self.image.set_other(EMPTY)
        if compared:
            found = self._verdicts.get(self.method)
            matched = set(found.matches.values()) if found is not None else set()
            truth = self.truth[covering(self.truth, cube, channel)]
            self.image.set_truth(dict(ellipses(truth, cube),
                                      color=[MATCHED if int(i) in matched else MISSED for i in truth["id"]]))
        else:
            self.image.set_truth(EMPTY)

    def _highlight_source(self, rows: QTable) -> None:
        """Keep the table's highlighted row on the selected source as the rows change (none when it is filtered
        out), without going to it again."""
        hits = [] if self.source is None else [int(i) for i in np.flatnonzero(np.asarray(rows["id"]) == self.source)][:1]
        if self.table.selection != hits:
            self._syncing = True
            try:
                self.table.selection = hits
            finally:
                self._syncing = False

    def _row_selected(self, event) -> None:
        rows = self.shown()
        if self._syncing or not event.new or rows is None or event.new[0] >= len(rows):
            return
        with_document_lock(partial(self.show, rows[event.new[0]]))

    def show(self, row) -> None:
        """Go to a source on the page and draw its moment-0 cutout over its W20 channels (and, for the model's
        sources, what the model sees)."""
        cube, source = self.state.cube, int(row["id"])
        self.source = source
        self.go_to(row)
        w = source_window(cube, row)
        outline = ellipses(rows_of(row), cube)
        self.cutout.show(moment0(cube, w), w.x0, w.y0, outline, f"Moment 0 · source {source} · ch {w.lo}–{w.hi}")
        self.seen.clear()
        if self.method != "model":
            say(self.saliency, "for hi_unet's sources")
            return
        show_saliency(self.saliency, self.seen, cube, (w.lo, w.hi), (w.y, w.x), outline, lambda: self.source == source)

    # --- out of the panel ----------------------------------------------------------------------------
    def _vetting_candidates(self) -> tuple:
        return vetting_candidates(self.state.cube, self.catalogue, self.method, self.threshold)

    def _vetting_name(self) -> str:
        return vetting_name(self.state.cube, self.method)

    def _export(self, suffix: str):
        return catalogue_bytes(self.shown(), self.threshold, suffix)

    def __panel__(self):
        return pn.Card(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.method, css_classes=["detect-method"]),
                   self.detect_button, self.job.cancel_button, self.job.progress),
            self.status, self.legend,
            pn.Row(pn.widgets.FloatSlider.from_param(self.param.threshold, width=260, css_classes=["threshold"]),
                   pn.widgets.Checkbox.from_param(self.param.show_truth, css_classes=["show-truth"])),
            pn.Row(self.table, pn.pane.Bokeh(self.cutout.fig, margin=(0, 10)),
                   pn.pane.Bokeh(self.saliency.fig, margin=(0, 10))),
            self.downloads, self.send,
            title="HI sources", collapsible=False, sizing_mode="stretch_width", css_classes=["hi-panel"])
