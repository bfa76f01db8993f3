"""The selection on screen: its spectra stacked (or, with none, each class's median), what the model sees in
the top one (integrated gradients, on the inference service), a line saying what is selected and how, and
its table, whose rows put a spectrum on top of the stack."""
from __future__ import annotations

from functools import partial

import numpy as np
import panel as pn

from astroml_core.tasks.spectra import selection_table

from ...components.jobs import start_job
from ...components.locking import with_document_lock
from .anomaly_table import STYLE as TABLE_STYLE
from .spectra_stack import OBSERVED_AXIS, REST_AXIS, SaliencyView, SpectraStack
from .state import NO_SELECTION, SpectraState, spectrum_name

__all__ = ["SelectionView"]

WIDTHS = {"id": 150, "true_class": 150, "predicted_class": 150, "reason": 120, "probability": 110, "uncertainty": 110,
          "anomaly": 90, "z": 70, "snr": 70}
EXPORT_ONLY = ["label", "CLASS", "SUBCLASS"]     # in the exported file, not on screen: they repeat predicted_class


class SelectionView:
    """``show()`` draws ``state``'s selection; errors of the saliency job go to ``banner``."""

    def __init__(self, state: SpectraState, banner) -> None:
        self.state, self.banner = state, banner
        self.stack = SpectraStack(width=1020, height=400)
        self.saliency = SaliencyView(self.stack, width=1020)
        self.info = pn.pane.HTML(NO_SELECTION, css_classes=["selection-info"], styles={"font-size": "13px"})
        self.table = pn.widgets.Tabulator(None, disabled=True, show_index=False, height=300, width=1060,
                                          pagination="local", page_size=10, layout="fit_columns", widths=WIDTHS,
                                          hidden_columns=EXPORT_ONLY, stylesheets=[TABLE_STYLE],
                                          css_classes=["selection-table"], selectable=1)
        self.table.param.watch(self._row_clicked, "selection")

    def show(self) -> None:
        """The selection's line, table, stack and saliency."""
        index, survey = self.state.selection, self.state.survey
        self.info.object = self.state.selection_text() if self.state.how else NO_SELECTION
        if survey is None:
            return
        self.table.value = selection_table(survey, index).to_pandas()
        self._show_spectra(index[: self.stack.max_rows], index)

    def _show_spectra(self, shown: np.ndarray, index: np.ndarray) -> None:
        """Spectra ``shown`` (the first on top) of the selection ``index``; with none, each class's median."""
        if len(index) == 0:
            self._show_atlas()
            self._show_saliency(None)
            return
        survey = self.state.survey
        r = survey.result
        self.stack.show_selection(survey.spectra, shown, index,
                                  [spectrum_name(survey.spectra.ids[i], r, i) for i in shown], list(r.pred[shown]))
        self._show_saliency(int(shown[0]))

    def _show_saliency(self, i: int | None) -> None:
        """Integrated gradients of spectrum ``i``'s predicted class, computed on the inference service."""
        s = self.state.survey.spectra
        if i is None:
            self.saliency.show(s.wavelength, None, "What the model sees: select a spectrum")
            return
        from astroml_core.service.worker import file_key

        flux, ivar = s.rows(slice(i, i + 1))
        self.saliency.show(self.stack.wavelength_of(i, s.wavelength), None, f"What the model sees in {s.ids[i]}: computing…")
        start_job(_saliency, flux, ivar, name="spectrum saliency", then=partial(self._saliency_done, i),
                  on_error=self.banner.error, key=("spectrum saliency", file_key(s.path), i) if s.path is not None else None)

    def _saliency_done(self, i: int, result) -> None:
        att, target = result
        survey = self.state.survey
        name = survey.result.classes[int(target[0])]
        self.saliency.show(self.stack.wavelength_of(i, survey.spectra.wavelength), att[0],
                           f"What the model sees in {survey.spectra.ids[i]} (top of the stack): pixels that raised "
                           f"(green) or lowered (red) p({name}), integrated gradients")

    def _show_atlas(self) -> None:
        """With nothing selected: the median spectrum of each predicted class (the survey computes it once)."""
        survey = self.state.survey
        atlas = survey.class_atlas()
        rest = atlas.frame == "rest"
        frame = "rest frame, each at its redshift" if rest else "observed frame (no redshifts: lines smeared)"
        title = (f"Median of each predicted class, {frame}: lasso the map to read spectra" if atlas.rows
                 else "No spectrum was given a class (all UNKNOWN): lasso the map to read them and why")
        self.stack.show(survey.spectra.wavelength, atlas.rows, atlas.names, atlas.classes, None, 0.0 if rest else None,
                        title, max_rows=len(atlas.rows), row_lam=atlas.wavelengths,
                        axis=REST_AXIS if rest else OBSERVED_AXIS)

    def _row_clicked(self, event) -> None:
        """A click on a table row puts that spectrum on top of the stack."""
        if not event.new or self.state.survey is None:
            return
        page = self.table.value
        i = int(np.flatnonzero(np.asarray(self.state.survey.spectra.ids) == page.iloc[event.new[0]]["id"])[0])
        selection = self.state.selection
        rest = [j for j in selection[: self.stack.max_rows - 1] if j != i]
        with_document_lock(partial(self._show_spectra, np.array([i] + rest), selection))


def _saliency(flux: np.ndarray, ivar: np.ndarray, *, progress) -> tuple:
    """Integrated gradients of one spectrum's predicted class (a job on the inference service)."""
    from astroml_core.tasks.spectra.saliency import explain

    return explain(flux, ivar)
