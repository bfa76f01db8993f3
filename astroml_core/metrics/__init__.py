"""Scores and diagnostics: SDC2 catalogue scoring (the official ska-sdc scorer) and completeness/purity."""
from .sdc2 import SDC2_COLUMNS, SDC2_UNITS, Sdc2Result, completeness_purity, score_sdc2

__all__ = ["SDC2_COLUMNS", "SDC2_UNITS", "Sdc2Result", "score_sdc2", "completeness_purity"]
