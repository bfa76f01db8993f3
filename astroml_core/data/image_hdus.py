"""Reading one image file into bands: which HDUs are bands and what the others are. Variance, error, inverse
variance, weight, data-quality and context extensions (HST's SCI/ERR/DQ/WHT/CTX, MUSE's DATA/STAT/DQ, ...) are
known by their EXTNAME and applied to their band (per-pixel σ, blank pixels) or skipped; a band's name comes from
FILTER, BAND, HST's FILTNAM1/FILTER1/FILTER2, or a non-generic EXTNAME. Pixels are read with the cube readers,
so BSCALE/BZERO/BLANK mean what the header says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..errors import NonFiniteError, ShapeError
from .cube import _open_fits, _reader_for

__all__ = ["Band", "read_bands", "hdu_role", "band_name", "wavelength_key", "looks_like_mask"]

_FULL_CHECK_BYTES = 256 * 2**20   # images above this are sampled for a finite pixel before being read

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


def _images(hdul: fits.HDUList, name: str) -> list[tuple[fits.Header, object]]:
    """(header, HDU) of every HDU with a non-empty image."""
    out = [(h.header, h) for h in hdul if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
           and h.header.get("NAXIS", 0) > 0 and all(n > 0 for n in h.shape)]
    if not out:
        raise ShapeError(f"{name} holds no image data (no HDU with NAXIS > 0)")
    return out


def _planes(hdu, path: Path) -> np.ndarray:
    """The HDU's pixels as float32 (band, y, x) in physical units: BSCALE/BZERO applied, BLANK and non-finite
    values NaN (the same readers as cubes, so a scaled integer image means what its header says)."""
    reader = _reader_for(hdu, path)              # ShapeError for 1-D data, TruncatedFITSError on a short file
    lead_shape = reader.shape[:-2]
    if sum(n > 1 for n in lead_shape) > 1:
        raise ShapeError(f"{path.name}: an image HDU has shape {reader.shape[::-1]} (FITS order); expected 2-D "
                         "planes or a 3-D cube with the band on the third axis")
    leads = list(np.ndindex(*lead_shape)) if lead_shape else [()]
    _check_sampled_finite(reader, leads, path.name)
    return reader.block(leads)


def _check_sampled_finite(reader, leads: list[tuple], name: str) -> None:
    """NonFiniteError, before reading it all, for an image above 256 MB whose sampled rows (64 spread rows in up to
    64 spread bands) are all blank: an all-NaN gigabyte is refused at once (smaller images are checked whole)."""
    ny, nx = reader.shape[-2:]
    if 4 * ny * nx * len(leads) <= _FULL_CHECK_BYTES:
        return
    rows = np.unique(np.linspace(0, ny - 1, min(ny, 64)).astype(int))
    bands = np.unique(np.linspace(0, len(leads) - 1, min(len(leads), 64)).astype(int))
    if not any(np.isfinite(reader.rows(leads[b], int(y), int(y) + 1)).any() for b in bands for y in rows):
        raise NonFiniteError(f"{name}: the {len(rows)} rows sampled in {len(bands)} of its {len(leads)} band(s) hold no "
                             "finite pixel (all NaN, blank or infinite); nothing to deblend")


@dataclass
class Band:
    """One band as read: its pixels (NaN blank), header, the file's primary header, name, file and per-pixel σ."""

    plane: np.ndarray
    header: fits.Header
    primary: fits.Header | None
    name: str
    path: Path
    noise: np.ndarray | None = None


def _no_chips(path: Path, science: list, primary: fits.Header) -> None:
    """ShapeError for several science extensions of one EXTNAME and one filter told apart by EXTVER: detector chips
    (HST's SCI,1 and SCI,2), different patches of sky, not bands."""
    names = {str(h.get("EXTNAME", "")).strip().upper() for h, _ in science}
    versions = [h.get("EXTVER") for h, _ in science]
    filters = {band_name(h, primary, "")[0] for h, _ in science}
    if len(science) > 1 and names != {""} and len(names) == 1 and len(set(versions)) == len(science) and len(filters) == 1:
        raise ShapeError(f"{path.name} holds {len(science)} {names.pop()} extensions (EXTVER "
                         f"{', '.join(str(v) for v in versions)}) of one filter {filters.pop() or ''}: detector chips, not "
                         "bands; give one chip (e.g. saved from astropy's fits.getdata(path, ('SCI', 1))) or a drizzled image")


def read_bands(path: Path, limit: int) -> tuple[list[Band], list[str]]:
    """The bands of one file and what was assumed: science HDUs (or a cube's planes) are bands; STAT/VAR, ERR and
    IVAR extensions give each band's per-pixel σ, DQ flags and zero WHT blank pixels, other extensions are skipped."""
    hdul = _open_fits(path, limit)
    primary = hdul[0].header
    hdus = _images(hdul, path.name)
    science = [(h, hdu) for h, hdu in hdus if hdu_role(h) is None]
    if not science:
        raise ShapeError(f"{path.name}: every image extension is auxiliary (EXTNAME "
                         f"{', '.join(str(h.get('EXTNAME')).strip() for h, _ in hdus)}); none holds the science image: "
                         "give the file with its SCI/DATA extension")
    _no_chips(path, science, primary)
    bands, owner, notes, named = [], [], [], {}
    for i, (header, hdu) in enumerate(science):
        block = _planes(hdu, path)
        if (i and len(block) == 1 and bands and block[0].shape == bands[0].plane.shape
                and not band_name(header, None, "")[1] and looks_like_mask(block[0])):
            notes.append(f"{path.name}: HDU {hdul.index_of(hdu)} holds only whole numbers, mostly 0 (a mask or "
                         "segmentation map) and no FILTER/BAND/EXTNAME: not read as a band.")
            continue
        if len(block) > 1:
            notes.append(f"{path.name}: a cube: its third axis (NAXIS3 = {len(block)}) read as bands band1…band{len(block)}.")
        for k, plane in enumerate(block):
            name, card = band_name(header, primary, f"band{len(bands) + 1}") if len(block) == 1 else (f"band{k + 1}", "cube")
            if len(block) == 1:
                named.setdefault(card, []).append(name)
            bands.append(Band(plane, header, primary, name, path))
            owner.append(i)
    for card, names in named.items():
        shown = ", ".join(f"'{n}'" for n in names)
        notes.append(f"{path.name}: band{'s' if len(names) > 1 else ''} {shown} from {card}." if card else
                     f"{path.name}: no FILTER/BAND/EXTNAME card: band{'s' if len(names) > 1 else ''} named {shown}.")
    for header, hdu in hdus:
        role = hdu_role(header)
        if role is not None:
            notes.append(_auxiliary(path, header, hdu, role, bands, owner, [h for h, _ in science]))
    return bands, notes


def _auxiliary(path: Path, header, hdu, role: str, bands: list[Band], owner: list[int], science: list) -> str:
    """Apply one non-band extension to the bands it belongs to (same EXTVER, else the first science HDU); its note."""
    extname = str(header.get("EXTNAME", header.get("HDUNAME", ""))).strip()
    ver = header.get("EXTVER")
    home = next((k for k, h in enumerate(science) if ver is not None and h.get("EXTVER") == ver), 0)
    mine = [b for b, o in zip(bands, owner) if o == home]
    aux = _planes(hdu, path)
    if role == "other" or not mine or aux.shape[1:] != mine[0].plane.shape or len(aux) not in (1, len(mine)):
        return f"{path.name}: {extname} is not a band (a context, exposure, model or other map): skipped."
    for b, band in enumerate(mine):
        values = aux[min(b, len(aux) - 1)]
        if role in ("dq", "weight"):
            bad = (values != 0) if role == "dq" else ~(values > 0)
            band.plane[bad] = np.nan
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = {"variance": np.sqrt(values), "sigma": values, "ivar": 1 / np.sqrt(values)}[role]
        band.noise = np.where(np.isfinite(sigma) & (sigma > 0), sigma, np.nan).astype(np.float32)
    if role in ("dq", "weight"):
        what = "non-zero data-quality flag" if role == "dq" else "weight of 0"
        return (f"{path.name}: {extname} is a {'data-quality' if role == 'dq' else 'weight'} map, not a band: "
                f"{int(np.isnan(mine[0].plane).sum()):,} blank pixels after setting those with a {what} blank.")
    how = {"variance": f"σ = √{extname}", "sigma": "σ as given", "ivar": f"σ = 1/√{extname}"}[role]
    return f"{path.name}: {extname} is the per-pixel {role if role != 'ivar' else 'inverse variance'} ({how}), not a band."
