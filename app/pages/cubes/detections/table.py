"""The HI panel's table of sources: its widget and the rows it shows (SDC2 columns in display units)."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import panel as pn
from astropy.table import QTable

__all__ = ["TABLE_COLUMNS", "source_table", "table_frame"]

TABLE_COLUMNS = {"id": "id", "ra": "RA (°)", "dec": "Dec (°)", "central_freq": "ν (MHz)",
                 "line_flux_integral": "S (Jy Hz)", "w20": "w20 (km/s)", "hi_size": "size (″)",
                 "pa": "PA (°)", "i": "i (°)", "score": "reliability"}
DECIMALS = {"RA (°)": 5, "Dec (°)": 5, "ν (MHz)": 4, "S (Jy Hz)": 3, "w20 (km/s)": 1, "size (″)": 1, "PA (°)": 0,
            "i (°)": 0, "reliability": 3}
_CSS = [".tabulator, .tabulator-cell, .tabulator-col-title { font-size: 12px !important; } .tabulator-cell "
        "{ padding: 3px 6px !important; } .tabulator-col-content { padding: 4px 3px !important; } "
        ".tabulator-col.tabulator-sortable .tabulator-col-title { padding-right: 11px !important; }"]


def source_table() -> pn.widgets.Tabulator:
    """The empty table (class ``hi-table``), one row selectable."""
    return pn.widgets.Tabulator(None, disabled=True, selectable=1, show_index=False, height=300, width=640,
                                widths={"id": 36}, css_classes=["hi-table"], pagination=None, layout="fit_columns",
                                stylesheets=_CSS)


def table_frame(rows: QTable):
    """The rows as a DataFrame of the table's columns, frequencies in MHz, rounded for reading."""
    import pandas as pd

    frame = {label: (rows[c].to_value(u.MHz) if c == "central_freq" else
                     np.asarray(getattr(rows[c], "value", rows[c]))) for c, label in TABLE_COLUMNS.items()}
    return pd.DataFrame(frame).round(DECIMALS)
