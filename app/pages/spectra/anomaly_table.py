"""The spectra page's "unexpected" list: the highest anomaly scores of a survey in a table whose every column
is readable (issue 34: at 1400 px its columns were cut), a click on a row naming that spectrum."""
from __future__ import annotations

import numpy as np
import panel as pn

from astroml_core.tasks.spectra.display_names import display_names
from astroml_core.tasks.spectra.survey import answers

__all__ = ["AnomalyTable", "STYLE"]

TOP = 50
# the columns share the table's width (about what a 1400 px window leaves beside the map); a long id or class
# name wraps onto a second line in its cell instead of being cut or pushing the table into a side scroll
WIDTHS = {"rank": 56, "id": 124, "anomaly": 84, "predicted": 140, "true": 156}
STYLE = (".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } "      # the page's size
         ".tabulator-row .tabulator-cell { padding: 3px 6px !important; white-space: normal !important; "
         "overflow-wrap: anywhere; } .tabulator-col-content { padding: 4px 6px !important; } "
         ".tabulator-col.tabulator-sortable .tabulator-col-title { padding-right: 12px !important; }")


class AnomalyTable:
    """The ``TOP`` most anomalous spectra: ``show(survey)`` fills it, ``spectrum(row)`` is a row's spectrum index."""

    def __init__(self, width: int = 560) -> None:
        self.widget = pn.widgets.Tabulator(None, disabled=True, show_index=False, height=430, width=width,
                                           pagination="local", page_size=10, selectable=1, layout="fit_columns",
                                           widths=WIDTHS, css_classes=["anomaly-table"], stylesheets=[STYLE])
        self._top = np.zeros(0, np.int64)

    def show(self, survey) -> None:
        """The survey's ``TOP`` highest anomaly scores, highest first."""
        import pandas as pd

        r = survey.result
        self._top = np.argsort(-r.anomaly)[:TOP]
        top = self._top
        cols = {"rank": np.arange(1, len(top) + 1), "id": np.asarray(survey.spectra.ids)[top],
                "anomaly": np.round(r.anomaly[top], 1), "predicted": display_names(answers(r)[top])}
        if survey.true_class is not None:
            cols["true"] = survey.true_class[top]
        self.widget.value = pd.DataFrame(cols)

    def spectrum(self, row: int) -> int:
        """The survey index of the spectrum on table row ``row``."""
        return int(self._top[row])
