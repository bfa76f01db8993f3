"""Spectra read from any format placed on the classifier's log-λ grid, flux conserved, ivar propagated.

The resampling is specutils' ``FluxConservingResampler`` written as one sparse overlap matrix, so a file of
hundreds of spectra is resampled in one product instead of a Python loop per spectrum: each output pixel
holds the flux density averaged over the parts of the input pixels it overlaps (weights: the overlap, in Å),
and its variance is Σ wᵢ² σᵢ² / (Σ wᵢ)² (Carnall 2017, the formula specutils implements). Input pixels with
no data (ivar 0 or not finite) take no part; an output pixel less than half covered by usable input gets
ivar 0, as do the pixels outside a file's wavelength range.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ShapeError
from .spectrum_set import SpectrumSet, check_usable

__all__ = ["Piece", "RawSpectra", "air_to_vacuum", "resample", "place_on_grid", "concatenate", "ascii_note",
           "MIN_COVERAGE"]

MIN_COVERAGE = 0.3          # the share of the grid a spectrum must cover to get a class (less: UNKNOWN, issue 31)


@dataclass
class Piece:
    """Rows sharing one wavelength array (a whole file, or one arm of a DESI file)."""

    wavelength: np.ndarray              # (M,) vacuum Å, increasing (or (N, M): one array per row)
    flux: np.ndarray                    # (N, M)
    ivar: np.ndarray                    # (N, M); 0 where no data
    mask: np.ndarray | None = None      # (N, M) integer bits, or None


@dataclass
class RawSpectra:
    """A file's spectra as read, before resampling: its format, pieces, ids, metadata and the conversions made."""

    fmt: str
    pieces: list[Piece]
    ids: np.ndarray
    meta: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    flux_unit: str = ""


def air_to_vacuum(wavelength: np.ndarray) -> np.ndarray:
    """Air wavelengths (Å) to vacuum with specutils' ``air_to_vac``: Morton (2000) from 2,500 Å, where it
    holds, Greisen et al. (2006) from 2,000 Å (far outside the classifier's grid); below 2,000 Å wavelengths
    are vacuum by convention and left as they are."""
    import astropy.units as u
    from specutils.utils.wcs_utils import air_to_vac

    w = np.asarray(wavelength, np.float64)
    out = w.copy()
    hi = w >= 2500.0
    if hi.any():
        out[hi] = air_to_vac(w[hi] * u.AA, method="Morton2000").to_value(u.AA)
    mid = (w >= 2000.0) & ~hi
    if mid.any():
        out[mid] = air_to_vac(w[mid] * u.AA, method="Greisen2006").to_value(u.AA)
    return out


def _edges(centres: np.ndarray) -> np.ndarray:
    """Pixel edges half-way between centres (the end pixels as wide as their neighbours)."""
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def _overlap(in_edges: np.ndarray, out_edges: np.ndarray):
    """Sparse (M_in, L_out) matrix of the length (Å) each input pixel shares with each output pixel."""
    from scipy.sparse import csr_matrix

    cuts = np.unique(np.concatenate([in_edges, out_edges]))
    mids = 0.5 * (cuts[1:] + cuts[:-1])
    i = np.searchsorted(in_edges, mids) - 1
    j = np.searchsorted(out_edges, mids) - 1
    keep = (i >= 0) & (i < in_edges.size - 1) & (j >= 0) & (j < out_edges.size - 1)
    return csr_matrix((np.diff(cuts)[keep], (i[keep], j[keep])), shape=(in_edges.size - 1, out_edges.size - 1))


def resample(wavelength: np.ndarray, flux: np.ndarray, ivar: np.ndarray, loglam: np.ndarray,
             ) -> tuple[np.ndarray, np.ndarray]:
    """(flux, ivar) of (N, M) spectra at vacuum ``wavelength`` (Å, increasing) on the log10-λ grid ``loglam``.

    Flux-conserving: see the module docstring. Returns float64 (N, L) arrays; no-data pixels have flux 0, ivar 0.
    """
    wavelength = np.asarray(wavelength, np.float64)
    flux = np.atleast_2d(np.asarray(flux, np.float64))
    ivar = np.atleast_2d(np.asarray(ivar, np.float64))
    if wavelength.shape[-1] > 1 and wavelength.ravel()[-1] < wavelength.ravel()[0]:   # frequency order: flip
        wavelength, flux, ivar = wavelength[..., ::-1], flux[:, ::-1], ivar[:, ::-1]
    if wavelength.ndim == 2 and len(wavelength) == 1:
        wavelength = wavelength[0]
    if wavelength.shape[-1] < 2 or (np.diff(wavelength, axis=-1) <= 0).any() or not np.isfinite(wavelength).all():
        raise ShapeError("the file's wavelengths are not finite and strictly monotonic; they cannot be resampled")
    out_edges = _edges(10.0 ** loglam)            # half-way between pixel centres, as specutils takes them
    good = np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)
    f = np.where(good, flux, 0.0)
    var = np.where(good, 1.0 / np.where(good, ivar, 1.0), 0.0)
    w_in = good.astype(np.float64)
    if wavelength.ndim == 1:
        rows = [(_overlap(_edges(wavelength), out_edges), slice(None))]
    else:
        rows = [(_overlap(_edges(wavelength[k]), out_edges), slice(k, k + 1)) for k in range(len(wavelength))]
    out_f = np.zeros((len(flux), loglam.size))
    out_iv = np.zeros_like(out_f)
    width = np.diff(out_edges)
    for matrix, sl in rows:
        sq = matrix.multiply(matrix).tocsr()
        wsum = (matrix.T @ w_in[sl].T).T
        fsum = (matrix.T @ (f[sl] * w_in[sl]).T).T
        vsum = (sq.T @ var[sl].T).T
        covered = wsum >= 0.5 * width
        safe = np.where(covered, wsum, 1.0)
        out_f[sl] = np.where(covered, fsum / safe, 0.0)
        v = vsum / safe ** 2
        out_iv[sl] = np.where(covered & (v > 0), 1.0 / np.where(v > 0, v, 1.0), 0.0)
    return out_f, out_iv


def coverage(wavelength: np.ndarray, loglam: np.ndarray) -> float:
    """The share of the grid's log-λ span that ``wavelength`` (Å) covers."""
    lo, hi = np.log10(np.nanmin(wavelength)), np.log10(np.nanmax(wavelength))
    return max(0.0, min(hi, loglam[-1]) - max(lo, loglam[0])) / (loglam[-1] - loglam[0])


def check_coverage(raw: RawSpectra, loglam: np.ndarray, name: str) -> float:
    """The share of the grid the file covers; ShapeError naming the wavelengths found and needed when it covers
    none of it. A file covering less than MIN_COVERAGE opens: the classifier answers UNKNOWN for it, with why."""
    waves = np.concatenate([np.ravel(p.wavelength) for p in raw.pieces])
    waves = waves[np.isfinite(waves) & (waves > 0)]
    if waves.size == 0:
        raise ShapeError(f"{name}: its wavelengths are not finite and positive; nothing to place on the grid")
    lo, hi = 10 ** loglam[0], 10 ** loglam[-1]
    share = coverage(waves, loglam)
    if share <= 0:
        raise ShapeError(f"{name} ({raw.fmt}): its spectra cover {_range_text(waves.min(), waves.max())}; "
                         f"the classifier reads optical spectra of {lo:,.0f}–{hi:,.0f} Å (vacuum) and needs at least "
                         f"{MIN_COVERAGE:.0%} of that range; open an optical spectrum of this object instead")
    return share


def _range_text(lo: float, hi: float) -> str:
    """A wavelength range in Å, or in cm with its frequencies when it is a radio range."""
    if lo >= 1e7:
        return f"{lo * 1e-8:.3g}–{hi * 1e-8:.3g} cm (radio, {2.99792458e12 / hi:,.0f}–{2.99792458e12 / lo:,.0f} MHz)"
    return f"{lo:,.0f}–{hi:,.0f} Å"


def place_on_grid(raw: RawSpectra, loglam: np.ndarray, name: str, path=None):
    """A :class:`~astroml_core.data.spectra.SpectrumSet` on ``loglam`` from a file's pieces: each resampled,
    then pieces that overlap (DESI's arms) averaged with inverse-variance weights."""
    share = check_coverage(raw, loglam, name)
    n = len(raw.ids)
    wsum = np.zeros((n, loglam.size))
    fsum = np.zeros_like(wsum)
    for piece in raw.pieces:
        f, iv = resample(piece.wavelength, piece.flux, piece.ivar, loglam)
        fsum += f * iv
        wsum += iv
    flux = np.where(wsum > 0, fsum / np.where(wsum > 0, wsum, 1.0), 0.0).astype(np.float32)
    ivar = wsum.astype(np.float32)
    lo, hi = 10 ** loglam[0], 10 ** loglam[-1]
    check_usable(flux, ivar, name, f"within {lo:,.0f}–{hi:,.0f} Å its spectra have")
    ids, meta, dropped = np.asarray(raw.ids).astype(str), dict(raw.meta), []
    empty = ~(ivar > 0).any(axis=1)
    if empty.any():          # unassigned fibres, sky fibres, broken rows: nothing to classify
        dropped = [f"{empty.sum()} of {n} spectra hold no usable pixel on the grid (ivar 0 throughout: unassigned or "
                   f"broken fibres): left out ({', '.join(ids[empty][:5])}{' …' if empty.sum() > 5 else ''})"]
        flux, ivar, ids = flux[~empty], ivar[~empty], ids[~empty]
        meta = {k: np.asarray(v)[~empty] for k, v in meta.items()}
        n = len(ids)
    waves = np.concatenate([np.ravel(p.wavelength) for p in raw.pieces])
    notes = [f"read as {raw.fmt}", *raw.notes,
             f"resampled flux-conserving from {np.nanmin(waves):,.1f}–{np.nanmax(waves):,.1f} Å onto the classifier's "
             f"{loglam.size:,} pixels of {lo:,.0f}–{hi:,.0f} Å (1e-4 log10 steps); pixels outside the file's range "
             "carry no data (ivar 0)", *dropped]
    if share < MIN_COVERAGE:
        notes.append(f"the file covers {share:.0%} of the classifier's {lo:,.0f}–{hi:,.0f} Å (it needs "
                     f"{MIN_COVERAGE:.0%} to tell the classes apart): its spectra are classified UNKNOWN; open a "
                     "spectrum of this object over a wider range for a class")
    if raw.flux_unit:
        notes.append(f"flux unit {raw.flux_unit} (kept for display; the classifier normalises each spectrum)")
    meta["flux_unit"] = np.array([raw.flux_unit or "unknown"] * n)
    meta["format"] = np.array([raw.fmt] * n)
    return SpectrumSet(loglam, flux, ivar, None, ids, meta, path, tuple(notes))


def concatenate(sets: list, names: list[str]):
    """One SpectrumSet from several on the same grid (several files uploaded together); each file's notes are
    kept, prefixed by its name. ShapeError when the grids differ."""
    first = sets[0]
    for s, name in zip(sets, names):
        if not np.array_equal(s.loglam, first.loglam):
            raise ShapeError(f"{name} is on another wavelength grid than {names[0]}; open them one at a time")
    keys = list(dict.fromkeys(k for s in sets for k in s.meta))
    meta = {}
    for k in keys:
        parts = [np.asarray(s.meta[k]) if k in s.meta else np.full(len(s), "" if any(
            np.asarray(t.meta[k]).dtype.kind in "US" for t in sets if k in t.meta) else np.nan) for s in sets]
        meta[k] = np.concatenate([p.astype(str) if any(q.dtype.kind in "US" for q in parts) else p for p in parts])
    masks = [s.and_mask for s in sets]
    mask = np.vstack([np.zeros(s.flux.shape, np.int32) if m is None else np.asarray(m, np.int32)
                      for s, m in zip(sets, masks)]) if any(m is not None for m in masks) else None
    notes = tuple(f"{name}: {note}" for s, name in zip(sets, names) for note in s.notes)
    return SpectrumSet(first.loglam, np.vstack([np.asarray(s.flux, np.float32) for s in sets]),
                       np.vstack([np.asarray(s.ivar, np.float32) for s in sets]), mask,
                       np.concatenate([np.asarray(s.ids).astype(str) for s in sets]), meta, None, notes)


_ASCII = {"Å": "Angstrom", "–": "-", "λ": "lambda", "·": "*", "σ": "sigma", "√": "sqrt", "ᵢ": "_i", "→": "->",
          "≤": "<=", "≥": ">=", "…": "...", "×": "x", "²": "^2", "’": "'"}


def ascii_note(note: str) -> str:
    """A note as FITS header text (ASCII only): Å → Angstrom, – → -, and so on; anything else → '?'."""
    for k, v in _ASCII.items():
        note = note.replace(k, v)
    return note.encode("ascii", "replace").decode("ascii")
