"""Which HDUs of an image file are bands, and what the others are: variance, error, inverse variance, weight,
data-quality and context extensions (HST's SCI/ERR/DQ/WHT/CTX, MUSE's DATA/STAT/DQ, ...) are read by their
EXTNAME; a band's name comes from FILTER, BAND, HST's FILTNAM1/FILTER1/FILTER2, or a non-generic EXTNAME.
"""
from __future__ import annotations

import re

import numpy as np
from astropy.io import fits

__all__ = ["hdu_role", "band_name", "wavelength_key", "looks_like_mask"]

_ROLES = {
    "variance": {"STAT", "VAR", "VARIANCE", "VARIANCES"},
    "sigma": {"ERR", "ERROR", "ERRORS", "SIGMA", "NOISE", "RMS", "UNC", "UNCERT", "STDDEV"},
    "ivar": {"IVAR", "INVVAR", "IVARIANCE", "INV_VAR"},
    "dq": {"DQ", "MASK", "BPM", "FLAGS", "FLAG", "BADPIX", "QUALITY", "SDQ"},
    "weight": {"WHT", "WEIGHT", "WEIGHTS", "WT"},
    "other": {"CTX", "CON", "CONTEXT", "EXP", "EXPMAP", "SEG", "SEGMAP", "SEGM", "SEGMENTATION", "SKY", "BKG",
              "BACKGROUND", "MODEL", "PSF", "SAMP", "TIME"},
}
_GENERIC = {"", "PRIMARY", "SCI", "DATA", "IMAGE", "FLUX", "WSAIMAGE", "COMPRESSED_IMAGE", "IMG"}
_NOT_A_FILTER = {"", "CLEAR", "CLEAR1", "CLEAR2", "CLEAR1L", "CLEAR2L", "CLEAR1S", "CLEAR2S", "OPEN", "NONE", "N/A"}
# effective wavelengths (nm) for ordering bands given by letter (ugrizy, UBVRI, JHK)
_LETTERS = {"u": 355, "U": 365, "B": 445, "g": 475, "V": 551, "r": 620, "R": 658, "i": 760, "I": 806, "z": 900,
            "y": 990, "Y": 1020, "J": 1250, "H": 1650, "K": 2200}


def hdu_role(header: fits.Header) -> str | None:
    """'variance', 'sigma', 'ivar', 'dq', 'weight' or 'other' for an extension that is not a band (by EXTNAME or
    HDUNAME), None for one that is."""
    name = str(header.get("EXTNAME", header.get("HDUNAME", ""))).strip().upper()
    return next((role for role, names in _ROLES.items() if name in names), None)


def band_name(header: fits.Header, primary: fits.Header | None, fallback: str) -> tuple[str, str]:
    """(band name, the card it came from) from FILTER, BAND, FILTNAM1/2 (WFPC2), FILTER1/2 (ACS) in this HDU or the
    primary, else a non-generic EXTNAME, else ``fallback`` with 'no FILTER/BAND/EXTNAME card'."""
    for h in (header, primary):
        if h is None:
            continue
        for key in ("FILTER", "BAND", "FILTNAM1", "FILTNAM2", "FILTER1", "FILTER2"):
            value = h.get(key)
            if isinstance(value, str) and value.strip().upper() not in _NOT_A_FILTER:
                return value.strip(), key
    extname = str(header.get("EXTNAME", "")).strip()
    if extname.upper() not in _GENERIC:
        return extname, "EXTNAME"
    return fallback, ""


def wavelength_key(name: str) -> float | None:
    """Rough effective wavelength (nm) of a band name for ordering files: HST-style F606W, F160W (IR: × 10), or a
    leading survey letter (g, r, 'g.MP9401', 'HSC-G' → g); None when the name says nothing."""
    match = re.fullmatch(r"F(\d{3,4})[A-Z]{1,2}", name.strip().upper())
    if match:
        n = int(match.group(1))
        return n * 10.0 if n < 200 else float(n)
    base = re.sub(r"^(HSC|SDSS|DES|PS1|LSST|DECAM|MEGACAM|CFHT)[-_ ]?", "", name.strip(), flags=re.I)
    letter = re.match(r"([A-Za-z])(?:[^A-Za-z]|$|s$|p$)", base)
    if letter is None:
        return None
    key = letter.group(1)
    if key in _LETTERS:
        return float(_LETTERS[key])
    return float(_LETTERS[key.lower()]) if key.lower() in _LETTERS else None


def looks_like_mask(plane: np.ndarray) -> bool:
    """True for a plane of whole numbers that is at least half exactly 0 (a mask or segmentation map stored as an
    image extension) or constant: not a band of light."""
    finite = plane[np.isfinite(plane)]
    if finite.size == 0 or np.ptp(finite) == 0:
        return True
    return bool(np.all(finite == np.round(finite)) and np.count_nonzero(finite == 0) >= finite.size / 2)
