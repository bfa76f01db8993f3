"""Restoring beams as radio packages write them: ``Beam`` and ``read_beams``.

Read, in this order: CASA's per-channel beam table (a ``BEAMS`` binary-table extension with BMAJ, BMIN,
BPA, CHAN, POL columns, units in TUNITn; CASAMBM = T), the FITS cards BMAJ/BMIN/BPA (degrees),
GIPSY's BMMAJ/BMMIN/BMPA (arcsec, degrees), and the last AIPS ``HISTORY ... CLEAN BMAJ=`` card.
Each source other than BMAJ/BMIN/BPA is named in a repair sentence; a missing beam is said too.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.io import fits

__all__ = ["Beam", "read_beams"]


@dataclass(frozen=True)
class Beam:
    """Restoring beam: FWHM major/minor axes and position angle (East of North)."""

    major: u.Quantity
    minor: u.Quantity
    pa: u.Quantity
    source: str = "header"  # "header" (BMAJ/BMIN/BPA), "history" (AIPS CLEAN card), "BMMAJ" (GIPSY), "table"

    def area_pixels(self, pixel_scale: u.Quantity) -> float:
        """Beam solid angle in pixels: π·major·minor / (4 ln 2) / pixel²."""
        ratio = (self.major * self.minor / pixel_scale**2).to_value(u.one)
        return float(np.pi * ratio / (4 * np.log(2)))


def read_beams(hdul: fits.HDUList | None, header: fits.Header, n_channels: int, stokes_plane: int = 0,
               *, name: str = "the cube") -> tuple[Beam | None, tuple[Beam, ...] | None, list[str]]:
    """(representative beam, per-channel beams or None, sentences on where they came from).

    With a CASA ``BEAMS`` table the per-channel beams are those of the Stokes plane shown
    (``stokes_plane``, 0-based) and the representative beam is their median axes and angle.
    """
    table = _beam_table(hdul, n_channels, stokes_plane, name) if hdul is not None else None
    if table is not None:
        beams, notes = table
        major = np.median(u.Quantity([b.major for b in beams]).to_value(u.arcsec))
        minor = np.median(u.Quantity([b.minor for b in beams]).to_value(u.arcsec))
        pa = np.median(u.Quantity([b.pa for b in beams]).to_value(u.deg))
        rep = Beam(major * u.arcsec, minor * u.arcsec, pa * u.deg, "table")
        if len({(b.major.value, b.minor.value, b.pa.value) for b in beams}) == 1:
            return beams[0], None, notes
        return rep, beams, notes
    one, notes = _single_beam(header)
    return one, None, notes


def _single_beam(header: fits.Header) -> tuple[Beam | None, list[str]]:
    from radio_beam import Beam as RBeam
    from radio_beam.beam import NoBeamException

    if "BMAJ" not in header and "BMMAJ" in header:
        try:
            major = float(header["BMMAJ"])
            minor = float(header.get("BMMIN", major))
            pa = float(header.get("BMPA", 0.0))
        except (TypeError, ValueError):
            return None, [f"BMMAJ = {header['BMMAJ']!r} is not a number: no beam"]
        if major > 0 and minor > 0:
            note = "beam from BMMAJ/BMMIN (arcsec, as GIPSY writes them)" + ("" if "BMPA" in header else
                                                                               "; BMPA missing, PA 0° assumed")
            return Beam(major * u.arcsec, minor * u.arcsec, pa * u.deg, "BMMAJ"), [note]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rb = RBeam.from_fits_header(header)
    except (NoBeamException, ValueError, KeyError, TypeError):
        return None, []
    notes = []
    source = "header" if "BMAJ" in header else "history"
    if source == "history":
        notes.append("beam read from an AIPS CLEAN HISTORY card")
    elif "BMIN" not in header:
        notes.append("BMIN missing: a circular beam of BMAJ assumed")
    return Beam(rb.major.to(u.arcsec), rb.minor.to(u.arcsec), rb.pa.to(u.deg), source), notes


def _column_unit(table: fits.BinTableHDU, column: str, default: u.UnitBase) -> u.UnitBase:
    idx = [c.name.upper() for c in table.columns].index(column) + 1
    text = str(table.header.get(f"TUNIT{idx}", "")).strip()
    if not text:
        return default
    try:
        return u.Unit(text)
    except ValueError:
        return u.Unit(text.lower())


def _beam_table(hdul: fits.HDUList, n_channels: int, stokes_plane: int,
                name: str) -> tuple[tuple[Beam, ...], list[str]] | None:
    hdu = next((h for h in hdul if isinstance(h, fits.BinTableHDU) and h.name.upper() == "BEAMS"), None)
    if hdu is None:
        return None
    cols = [c.name.upper() for c in hdu.columns]
    if not {"BMAJ", "BMIN", "BPA"} <= set(cols):
        return None
    data = hdu.data
    major = np.asarray(data["BMAJ"], float) * _column_unit(hdu, "BMAJ", u.arcsec)
    minor = np.asarray(data["BMIN"], float) * _column_unit(hdu, "BMIN", u.arcsec)
    pa = np.asarray(data["BPA"], float) * _column_unit(hdu, "BPA", u.deg)
    chan = np.asarray(data["CHAN"], int) if "CHAN" in cols else np.arange(len(data))
    pol = np.asarray(data["POL"], int) if "POL" in cols else np.zeros(len(data), int)
    if stokes_plane not in set(pol.tolist()):
        stokes_plane = int(pol.min()) if pol.size else 0
    rows = {int(c): i for i, (c, p) in enumerate(zip(chan, pol)) if p == stokes_plane}
    missing = [c for c in range(n_channels) if c not in rows]
    if missing:
        from ..errors import InvalidFITSError
        raise InvalidFITSError(f"{name}: its BEAMS table has no beam for channel {missing[0]} (of {n_channels}); "
                               "write one row per channel (CHAN 0..n-1), or delete the table and give BMAJ/BMIN/BPA")
    beams = tuple(Beam(major[rows[c]].to(u.arcsec), minor[rows[c]].to(u.arcsec), pa[rows[c]].to(u.deg), "table")
                  for c in range(n_channels))
    return beams, [f"beam per channel from the BEAMS table ({n_channels} channels, CASA's CASAMBM convention)"]
