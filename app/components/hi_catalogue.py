"""HI detections on the cube page: Detect (model or baseline) with progress, a reliability threshold that
filters live, ellipses on the channels each source spans, a linked table, export, and a compare mode
that draws the model, the baseline and the truth (simulated cubes) together, matched / false / missed
in their own colours."""
from __future__ import annotations

import asyncio
import io
from concurrent.futures import CancelledError
import tempfile
from functools import partial
from pathlib import Path

import astropy.units as u
import numpy as np
import panel as pn
import param
from astropy.table import QTable
from bokeh import palettes

from astroml_core.data import truth_beside
from astroml_core.metrics import score_sdc2

from .cutout_view import CutoutView
from .send_to_vetting import SendToVetting
from .locking import next_tick, run_job, with_document_lock
from .saliency_overlay import SaliencyContours
from .url_state import sync_url
from astroml_core.service.worker import Cancelled, file_key, service
from astroml_core.tasks.hi import detect, write_catalogue
from astroml_core.tasks.hi.cutouts import C_KMS, moment0, source_window

__all__ = ["DetectionPanel"]

MATCHED, FALSE, MISSED = "#2ca02c", "#e0302f", "#ff9f1c"
SCORE_PALETTE = palettes.Plasma256[40:]
EMPTY = dict(x=[], y=[], w=[], h=[], angle=[], color=[])
EMPTY_ELLIPSE = dict(x=[], y=[], w=[], h=[], angle=[])
TABLE_COLUMNS = {"id": "id", "ra": "RA (°)", "dec": "Dec (°)", "central_freq": "ν (MHz)",
                 "line_flux_integral": "S (Jy Hz)", "w20": "w20 (km/s)", "hi_size": "size (″)",
                 "pa": "PA (°)", "i": "i (°)", "score": "reliability"}


class DetectionPanel(pn.viewable.Viewer):
    """Runs detection for the page's cube and draws the result; ``page`` is the CubePage."""

    method = param.Selector(default="model", objects=["model", "baseline"])
    threshold = param.Number(default=0.5, bounds=(0.0, 1.0), step=0.01, label="Reliability threshold")
    show_truth = param.Boolean(default=False, label="Compare model · baseline · truth")
    source = param.Integer(default=None, allow_None=True, doc="Catalogue id of the selected source (for links)")

    def __init__(self, page, **params) -> None:
        super().__init__(**params)
        self.page = page
        self.catalogues: dict[str, QTable] = {}
        self._restoring: tuple[int, int, float] | None = None      # (source id, channel, threshold) from a link
        self._syncing = False          # the table's selection is being set to follow the source, not clicked
        self.truth: QTable | None = None
        self._busy = False
        self._verdicts: dict[str, object] = {}      # method → ska-sdc result against the truth
        self._scored: dict[tuple, object] = {}      # (method, row ids) → result: slider moves rescore nothing twice
        self.detect_button = pn.widgets.Button(label="Detect", color="primary", width=110, css_classes=["detect"])
        self.detect_button.on_click(lambda e: self.start())
        self._job = None
        self.cancel_button = pn.widgets.Button(label="Cancel", width=90, visible=False, css_classes=["detect-cancel"])
        self.cancel_button.on_click(lambda e: self.cancel())
        self.progress = pn.indicators.Progress(value=0, max=100, width=200, visible=False, css_classes=["detect-progress"])
        self.status = pn.pane.HTML("", css_classes=["detect-status"], styles={"font-size": "13px"})
        self.legend = pn.pane.HTML("", css_classes=["compare-legend"], styles={"font-size": "12px"})
        self.table = pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=300,
                                          width=640, widths={"id": 36}, css_classes=["hi-table"],
                                          pagination=None, layout="fit_columns",
                                          stylesheets=[".tabulator, .tabulator-cell, .tabulator-col-title "
                                                       "{ font-size: 12px !important; } .tabulator-cell "
                                                       "{ padding: 3px 6px !important; } .tabulator-col-content { padding: 4px 3px !important; } "
                                                       ".tabulator-col.tabulator-sortable .tabulator-col-title "
                                                       "{ padding-right: 11px !important; }"])
        self.table.param.watch(self._row_selected, "selection")
        self.cutout = CutoutView(size=210)
        self.saliency = CutoutView(size=210, name="saliency", palette=palettes.RdBu11,
                                   title="What the model sees (select a source)")
        self.seen = SaliencyContours(page.image.fig, "cube")      # the same, as contours on the channel
        self.downloads = pn.Row(*[pn.widgets.FileDownload(callback=partial(self._export, s), filename=f"hi_catalogue{s}",
                                                          label=f"Export {label}", width=150)
                                  for s, label in ((".ecsv", "ECSV"), (".vot", "VOTable"), (".reg", "DS9 regions"))],
                                visible=False)
        self.send = SendToVetting(self._vetting_candidates, self._vetting_name, page.banner.error)

    # --- running -----------------------------------------------------------------------------------
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
        """Detect on the page's cube, in a thread when served, reporting progress."""
        cube = self.page.cube
        if cube is None or self._busy:
            return
        self._busy = True
        self.detect_button.disabled = True
        self.cancel_button.visible = True
        self.progress.param.update(value=0, visible=True)
        self.status.object = f"Running {self.method}…"
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            try:
                self._done(detect(cube, self.method))
            except Exception as exc:
                self._failed(exc)
            return
        pn.state.execute(partial(self._run, doc, cube, self.method))

    async def _run(self, doc, cube, method: str) -> None:
        """Queue the job on the process's inference service; relay its progress until it ends."""
        job = service().submit(detect, cube, method, name=f"HI detection ({method})",
                               key=("HI detection", file_key(cube.path), method))
        self._job = job
        done = asyncio.wrap_future(job.future)
        while not done.done():
            await asyncio.wait([done], timeout=0.3)
            ahead = job.ahead
            message = f"queued behind {ahead} other job{'s' if ahead > 1 else ''}" if ahead else job.message
            if not next_tick(doc, partial(self._report, job.fraction, message)):
                return               # the tab was closed: nobody to tell
        try:
            table = done.result()
        except (Cancelled, CancelledError):
            next_tick(doc, self._cancelled)
            return
        except Exception as exc:
            next_tick(doc, partial(self._failed, exc))
            return
        next_tick(doc, partial(self._done, table))

    def cancel(self) -> None:
        """Cancel the running or queued detection."""
        if self._job is not None:
            self._job.cancel()

    def _cancelled(self) -> None:
        self._finish()
        self.status.object = "Detection cancelled"

    def _finish(self) -> None:
        self._busy, self._job = False, None
        self.detect_button.disabled = False
        self.cancel_button.visible = False
        self.progress.visible = False

    def _report(self, fraction: float, message: str) -> None:
        self.progress.value = int(100 * fraction)
        self.status.object = f"{message}… {fraction:.0%}"

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.status.object = "Detection failed"
        self.page.banner.error(exc)

    def _done(self, table: QTable) -> None:
        self._finish()
        method = table.meta.get("method", self.method)
        self.catalogues[method] = table
        if table.meta.get("notes"):
            self.page.banner.warn(list(table.meta["notes"]))   # the model says when this cube is unlike its training
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
        sync_url(self, {"method": "finder", "threshold": "threshold", "show_truth": "compare", "source": "source"})
        if self.source is not None and self.page.cube is not None:
            self._restoring = (self.source, self.page.channel, self.threshold)
            self.start()

    def _reselect(self, source: int, channel: int, threshold: float) -> None:
        self._restoring = None
        self.threshold = threshold
        rows = self.shown()
        hits = [] if rows is None else np.flatnonzero(np.asarray(rows["id"]) == source)
        if len(hits):
            self._highlight_source(rows)
            with_document_lock(partial(self.show, rows[int(hits[0])]))              # the source (next tick when served)
            with_document_lock(partial(setattr, self.page, "channel", channel))     # then the link's channel

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
            self.page.image.set_sources(dict(EMPTY, score=[], id=[]))
            self.page.image.set_truth(EMPTY)
            self.page.image.set_other(EMPTY)
            return
        frame = {label: (rows[c].to_value(u.MHz) if c == "central_freq" else
                         np.asarray(getattr(rows[c], "value", rows[c]))) for c, label in TABLE_COLUMNS.items()}
        import pandas as pd

        self.table.value = pd.DataFrame(frame).round({"RA (°)": 5, "Dec (°)": 5, "ν (MHz)": 4, "S (Jy Hz)": 3,
                                                      "w20 (km/s)": 1, "size (″)": 1, "PA (°)": 0, "i (°)": 0,
                                                      "reliability": 3})
        self._highlight_source(rows)
        default = float(self.catalogue.meta.get("threshold", np.nan))
        why = f"; {default:.2f} is the {self.method} finder's default cut" if np.isclose(self.threshold, default) else ""
        summary = f"{len(rows)} of {len(self.catalogue)} sources with reliability ≥ {self.threshold:.2f} ({self.method}{why})"
        if self.show_truth:
            other = self._other()
            if self.truth is not None:
                lines = [self._verdict(self.method, rows)] + ([self._verdict(*other)] if other else [])
                summary += "<br>" + "<br>".join(lines)
            self.legend.object = _legend(self.method, other[0] if other else None, self.truth is not None)
        self.status.object = summary
        self.overlay()

    def _covering(self, rows: QTable, channel: int) -> np.ndarray:
        """Which rows' W20 range (± one channel) covers ``channel``."""
        cube = self.page.cube
        nu = rows["central_freq"].to_value(u.Hz)
        half = rows["w20"].to_value(u.km / u.s) * nu**2 / (C_KMS * cube.rest_frequency.to_value(u.Hz)) / 2
        freqs = cube.frequencies.to_value(u.Hz)
        if freqs.size < 2:
            return np.ones(len(rows), bool)
        return np.abs(freqs[channel] - nu) <= half + abs(freqs[1] - freqs[0])

    def _ellipses(self, rows: QTable) -> dict:
        """Ellipse glyph data in pixels: centre, major axis hi_size (at least 0.8 beam), axis ratio from
        i, and the major axis at PA East of North (East is −x, so the angle from +x is PA + 90°)."""
        cube = self.page.cube
        pix = cube.pixel_scale.to_value(u.arcsec)
        beam = cube.beam.major.to_value(u.arcsec) if cube.beam else 3 * pix
        y, x = cube.pixel_of(_sky(rows)) if len(rows) else ([], [])
        major = np.maximum(rows["hi_size"].to_value(u.arcsec), 0.8 * beam) / pix
        q = np.sqrt(np.cos(np.radians(rows["i"].to_value(u.deg))) ** 2 * 0.96 + 0.04)
        return dict(x=list(np.atleast_1d(x)), y=list(np.atleast_1d(y)), w=list(major), h=list(major * q),
                    angle=list(np.radians(rows["pa"].to_value(u.deg) + 90)))

    def overlay(self) -> None:
        """Outline the shown sources (and the truth, in compare mode) whose line covers the page's channel."""
        rows = self.shown()
        page = self.page
        if rows is None or page.cube is None or page.cube.celestial is None:
            return
        on = rows[self._covering(rows, page.channel)]
        page.image.set_sources(dict(self._ellipses(on), score=list(np.asarray(on["score"], float)),
                                    id=[str(int(i)) for i in on["id"]], color=self._colours(self.method, on)))
        other = self._other() if self.show_truth else None
        if other is not None:
            method, table = other
            on = table[self._covering(table, page.channel)]
            page.image.set_other(dict(self._ellipses(on), color=self._colours(method, on, default="#4dd0e1")))
        else:
            page.image.set_other(EMPTY)
        if self.show_truth and self.truth is not None:
            found = self._verdicts.get(self.method)
            matched = set(found.matches.values()) if found is not None else set()
            truth = self.truth[self._covering(self.truth, page.channel)]
            page.image.set_truth(dict(self._ellipses(truth),
                                      color=[MATCHED if int(i) in matched else MISSED for i in truth["id"]]))
        else:
            page.image.set_truth(EMPTY)

    def _colours(self, method: str, rows: QTable, default: str | None = None) -> list[str]:
        """Outline colours: matched / false against the truth in compare mode, else by score."""
        verdict = self._verdicts.get(method)
        if self.show_truth and self.truth is not None:
            matched = set(verdict.matches) if verdict is not None else set()
            return [MATCHED if int(i) in matched else FALSE for i in rows["id"]]
        if default is not None:
            return [default] * len(rows)
        top = len(SCORE_PALETTE) - 1
        return [SCORE_PALETTE[int(np.clip(s, 0, 1) * top)] for s in np.asarray(rows["score"], float)]

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
        """Go to a source on the page and draw its moment-0 cutout over its W20 channels."""
        self.source = int(row["id"])
        self.page.show_source(row)
        w = source_window(self.page.cube, row)
        self.cutout.show(moment0(self.page.cube, w), w.x0, w.y0, self._ellipses(rows_of(row)),
                         f"Moment 0 · source {int(row['id'])} · ch {w.lo}–{w.hi}")
        self._show_saliency(row, (w.lo, w.hi), (w.y, w.x))

    def _show_saliency(self, row, channels: tuple[int, int], yx: tuple[float, float]) -> None:
        """Integrated gradients of hi_unet for this source, summed over channels (model finder only): a
        cutout beside the table and contours on the channel image."""
        self.seen.clear()
        if self.method != "model":
            self.saliency.show(np.zeros((2, 2)), 0, 0, EMPTY_ELLIPSE, "What the model sees: for hi_unet's sources")
            return
        from astroml_core.registry import load_model
        from astroml_core.tasks.hi.saliency import cutout_attribution

        cube = self.page.cube
        (lo, hi), (y, x), r = channels, yx, 24
        c0, c1 = max(lo - 16, 0), min(hi + 17, cube.n_channels)
        y0, y1 = max(int(round(y)) - r, 0), min(int(round(y)) + r, cube.shape[1])
        x0, x1 = max(int(round(x)) - r, 0), min(int(round(x)) + r, cube.shape[2])
        block = np.nan_to_num(cube.subcube((c0, c1), (y0, y1), (x0, x1)))
        centre = ((lo + hi) // 2 - c0, int(round(y)) - y0, int(round(x)) - x0)
        self.saliency.show(np.zeros((2, 2)), 0, 0, EMPTY_ELLIPSE, "What the model sees: computing…")

        def done(result) -> None:
            mask, att = result
            inside = np.abs(att[mask]).mean() / max(np.abs(att[~mask]).mean(), 1e-12)
            self.saliency.show(att.sum(axis=0), x0, y0, self._ellipses(rows_of(row)),
                               f"hi_unet sees · ch {c0}–{c1 - 1} ({inside:.0f}×)")
            if self.source == int(row["id"]):                   # still the selected source
                self.seen.show(att.sum(axis=0), x0, y0)

        def failed(exc) -> None:
            self.saliency.show(np.zeros((2, 2)), 0, 0, EMPTY_ELLIPSE, f"What the model sees: {exc}")

        run_job(lambda progress: cutout_attribution(load_model("hi_unet"), block, centre), done, failed,
                name="HI saliency", key=("HI saliency", file_key(cube.path), c0, c1, y0, y1, x0, x1))

    def _vetting_candidates(self) -> tuple:
        """Every candidate of the method's catalogue (above and below the threshold: the ones near it are
        what vetting is for), as HI-source candidates."""
        from astroml_core.errors import InvalidVoteError
        from astroml_core.vetting.sources import HI_LABELS, hi_candidates, model_provenance

        if self.catalogue is None or self.page.cube is None:
            raise InvalidVoteError("press Detect first: there are no HI candidates to send yet")
        table = self.catalogue.copy()
        table["accepted"] = np.asarray(table["score"]) >= self.threshold
        provenance = (model_provenance("hi_unet") if self.method == "model" else
                      {"model_name": "SoFiA-style baseline", "model_version": "", "card_sha256": ""})
        return "hi_source", list(HI_LABELS), hi_candidates(self.page.cube, table), dict(
            provenance, source=str(self.page.cube.path),
            description=f"{self.method} finder, threshold {self.threshold:.2f}")

    def _vetting_name(self) -> str:
        return f"HI: {Path(str(self.page.cube.path)).name} · {self.method}"

    def _export(self, suffix: str) -> io.BytesIO:
        """The rows shown, their meta stating the threshold they were cut at (not the finder's default)."""
        rows = self.shown()
        if rows is not None:
            rows = rows.copy()
            rows.meta["threshold"] = float(self.threshold)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_catalogue(rows if rows is not None else QTable(), Path(tmp) / f"hi_catalogue{suffix}")
            return io.BytesIO(path.read_bytes())

    def __panel__(self):
        return pn.Card(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.method, css_classes=["detect-method"]),
                   self.detect_button, self.cancel_button, self.progress),
            self.status, self.legend,
            pn.Row(pn.widgets.FloatSlider.from_param(self.param.threshold, width=260, css_classes=["threshold"]),
                   pn.widgets.Checkbox.from_param(self.param.show_truth, css_classes=["show-truth"])),
            pn.Row(self.table, pn.pane.Bokeh(self.cutout.fig, margin=(0, 10)),
                   pn.pane.Bokeh(self.saliency.fig, margin=(0, 10))),
            self.downloads, self.send,
            title="HI sources", collapsible=False, sizing_mode="stretch_width", css_classes=["hi-panel"])


def _legend(method: str, other: str | None, truth: bool) -> str:
    """What the outlines mean in compare mode."""
    swatch = '<span style="color:{};font-weight:bold">{}</span>'.format
    parts = [f"solid: {method}"] + ([f"dotted: {other} (accepted)"] if other else ["run the other finder to overlay it"])
    if truth:
        parts += ["dashed: truth", swatch(MATCHED, "matched"), swatch(FALSE, "false"), swatch(MISSED, "missed")]
    return " · ".join(parts)


def rows_of(row) -> QTable:
    """A one-row table from a table row."""
    return row.table[[row.index]]


def _sky(rows):
    from astropy.coordinates import SkyCoord

    return SkyCoord(rows["ra"], rows["dec"], frame="icrs")
