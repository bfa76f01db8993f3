"""Names a person reads for the classifier's labels, and the SDSS CLASS / SUBCLASS a catalogue keeps.

Our labels join SDSS's two columns with an underscore, ``nan`` standing for an empty SUBCLASS (how the
GaSNet-II training set wrote it): ``GALAXY_nan`` is CLASS GALAXY with no subclass, ``QSO_BROADLINE`` CLASS
QSO, SUBCLASS BROADLINE. On the page they read "Galaxy (no subclass)" and "QSO: broad-line"; a catalogue
keeps CLASS and SUBCLASS as SDSS writes them, with ``UNKNOWN`` as its own CLASS when the classifier
declined to answer (issue 31).
"""
from __future__ import annotations

import numpy as np

__all__ = ["display_name", "display_names", "sdss_class", "sdss_columns", "label_from_sdss"]

_UNKNOWN = "UNKNOWN"
_SUBCLASS_TEXT = {
    "GALAXY": {"": "Galaxy (no subclass)", "AGN": "Galaxy: AGN", "STARFORMING": "Galaxy: star-forming",
               "STARBURST": "Galaxy: starburst"},
    "QSO": {"": "QSO (narrow/no lines)", "BROADLINE": "QSO: broad-line"},
}
_OTHER = {_UNKNOWN: "Unknown", "BAL_QSO": "QSO: broad absorption lines (BAL)", "WHITE_DWARF": "White dwarf",
          "CARBON_STAR": "Carbon star", "ARTEFACT": "Instrumental artefact"}


def sdss_class(label: str) -> tuple[str, str]:
    """(CLASS, SUBCLASS) of one of our labels, as SDSS writes them (SUBCLASS "" for none):
    ``GALAXY_nan`` → ("GALAXY", ""), ``STAR_K5`` → ("STAR", "K5"), ``UNKNOWN`` → ("UNKNOWN", "")."""
    label = str(label)
    head, _, sub = label.partition("_")
    if head not in ("GALAXY", "QSO", "STAR") or label in _OTHER:
        return label, ""
    return head, "" if sub.lower() in ("nan", "none", "") else sub


def display_name(label: str) -> str:
    """The readable name of a label: "Galaxy: AGN", "QSO (narrow/no lines)", "Star: A0", "Unknown"."""
    label = str(label)
    if label in _OTHER:
        return _OTHER[label]
    cls, sub = sdss_class(label)
    if cls in _SUBCLASS_TEXT:
        return _SUBCLASS_TEXT[cls].get(sub, f"{cls.title() if cls != 'QSO' else cls}: {sub.lower()}")
    if cls == "STAR":
        return f"Star: {sub}" if sub else "Star (no subclass)"
    return label


def display_names(labels) -> np.ndarray:
    """``display_name`` of each label in an array (labels repeat, so each distinct one is named once)."""
    labels = np.asarray(labels).astype(str)
    uniq, inverse = np.unique(labels, return_inverse=True)
    return np.array([display_name(u) for u in uniq], dtype=object)[inverse].astype(str).reshape(labels.shape)


def sdss_columns(labels) -> tuple[np.ndarray, np.ndarray]:
    """(CLASS, SUBCLASS) arrays for a catalogue from an array of our labels."""
    pairs = [sdss_class(lab) for lab in np.asarray(labels).astype(str).ravel()]
    return np.array([p[0] for p in pairs], dtype=str), np.array([p[1] for p in pairs], dtype=str)


def label_from_sdss(cls: str, subclass: str = "") -> str:
    """Our label from SDSS's CLASS and SUBCLASS (an empty, blank or NaN subclass → ``nan``)."""
    cls = str(cls).strip().upper()
    sub = str(subclass).strip()
    if cls == _UNKNOWN:
        return _UNKNOWN
    return f"{cls}_{sub if sub and sub.lower() != 'nan' else 'nan'}"
