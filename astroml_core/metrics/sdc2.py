"""HI catalogues scored by the community's own SDC2 scorer (``ska_sdc.Sdc2Scorer``), plus completeness
and purity against integrated S/N computed from the scorer's own matches."""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import ShapeError

__all__ = ["SDC2_COLUMNS", "SDC2_UNITS", "Sdc2Result", "score_sdc2", "completeness_purity"]

SDC2_COLUMNS = ("id", "ra", "dec", "hi_size", "line_flux_integral", "central_freq", "pa", "i", "w20")
SDC2_UNITS = {"ra": u.deg, "dec": u.deg, "hi_size": u.arcsec, "line_flux_integral": u.Jy * u.Hz,
              "central_freq": u.Hz, "pa": u.deg, "i": u.deg, "w20": u.km / u.s}


@dataclass(frozen=True)
class Sdc2Result:
    """The scorer's verdict: total score, counts, and (submission id → truth id) matches."""

    score: float
    n_det: int
    n_match: int
    n_false: int
    matches: dict[int, int]
    per_property_accuracy: dict[str, float]

    @property
    def purity(self) -> float:
        return self.n_match / self.n_det if self.n_det else float("nan")


def _frame(table: QTable):
    """QTable with SDC2 columns (any compatible units) → the pandas frame ska-sdc expects."""
    import pandas as pd

    missing = [c for c in SDC2_COLUMNS if c not in table.colnames]
    if missing:
        raise ShapeError(f"catalogue lacks SDC2 column(s) {missing}; need {list(SDC2_COLUMNS)}")
    data = {"id": np.asarray(table["id"], dtype=np.int64)}
    for name, unit in SDC2_UNITS.items():
        col = table[name]
        data[name] = np.asarray(col.to_value(unit) if getattr(col, "unit", None) else col, dtype=float)
    return pd.DataFrame(data)


def score_sdc2(submission: QTable, truth: QTable) -> Sdc2Result:
    """Score a catalogue against a truth catalogue with ska-sdc's Sdc2Scorer (quietly)."""
    with warnings.catch_warnings():  # pkg_resources and pandas deprecation notices at import
        warnings.simplefilter("ignore")
        from ska_sdc import Sdc2Scorer

    if len(submission) == 0:
        return Sdc2Result(0.0, 0, 0, 0, {}, {})
    logging.disable(logging.INFO)  # the scorer logs every step at INFO on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = Sdc2Scorer(_frame(submission), _frame(truth)).run(detail=True)
    finally:
        logging.disable(logging.NOTSET)
    matches = {}
    df = result.match_df
    if df is not None and len(df):
        matches = {int(s): int(t) for s, t in zip(df["id"], df["id_t"])}
    col_acc = getattr(result, "column_acc_pc", None)  # absent when nothing matched
    acc = {} if col_acc is None else {str(k): float(v) for k, v in dict(col_acc).items()}
    return Sdc2Result(float(result.value), int(result.n_det), int(result.n_match), int(result.n_false),
                      matches, acc)


def completeness_purity(result: Sdc2Result, truth: QTable,
                        bins: tuple[float, ...] = (0, 3, 5, 8, 12, 20, np.inf)) -> QTable:
    """Completeness (truth sources matched) per integrated-S/N bin of the truth; the overall purity
    and detection count go in ``meta`` (a false detection has no true S/N to be binned by)."""
    snr = np.asarray(truth["snr"], dtype=float)
    matched_truth = np.isin(np.asarray(truth["id"]), list(result.matches.values()))
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        sel = (snr >= lo) & (snr < hi)
        n = int(sel.sum())
        rows.append((lo, hi, n, int(matched_truth[sel].sum()),
                     matched_truth[sel].mean() if n else np.nan))
    out = QTable(rows=rows, names=("snr_min", "snr_max", "n_true", "n_found", "completeness"))
    out.meta["purity"] = result.purity
    out.meta["n_det"] = result.n_det
    return out
