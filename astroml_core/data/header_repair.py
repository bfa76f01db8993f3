"""Read the WCS of the headers that CASA, AIPS, GIPSY, Miriad, SoFiA and spectral-cube write.

``read_wcs(header, naxis, name) -> (WCS, repairs)``: the header goes through astropy's ``WCS`` with
wcslib's fixers on (``fix=True``, ``translate_units='shd'``: unitfix turns 'DEGREE', 'M/S', 'KM/S', 'HZ'
into FITS units, celfix turns NCP into SIN and GLS into SFL, spcfix turns AIPS 'VELO-HEL'/'FELO-LSR'
into VOPT/VRAD and SPECSYS). Every change is returned as one plain sentence naming the card, what it
held and how it is now read. What wcslib does not repair is repaired here first, and said likewise:
upper-case 'ANGSTROM', a 'LINEAR' spectral axis in a length or frequency unit (MUSE), the non-FITS
'VELOCITY' type, and missing CUNITs on spectral axes (the FITS default is stated).

The world coordinates equal those of astropy's own ``WCS(header)`` wherever that reads the header.
Also here: the rest frequency (RESTFRQ/RESTFREQ, RESTWAV, GIPSY's FREQ0, else HI assumed and said) and the
brightness unit (BUNIT as astropy parses it, radio upper-case spellings and Westerbork units repaired, a
missing or unknown one said).
"""
from __future__ import annotations

import re
import warnings

import astropy.units as u
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from ..constants import HI_REST_HZ
from ..errors import InvalidFITSError, InvalidWCSError

__all__ = ["read_wcs", "SPECTRAL_NAMES", "HI_REST_FREQ", "brightness_unit", "default_spectral_unit", "rest_frequency"]

HI_REST_FREQ = HI_REST_HZ / 1e6 * u.MHz      # exactly 1420.40575177 MHz, as the header reader writes rest frequencies

# units wcslib's unitfix does not know, spelt as FITS wants
_OWN_UNITS = {"ANGSTROM": "Angstrom", "ANGSTROMS": "Angstrom", "MICRON": "um", "MICRONS": "um"}
SPECTRAL_NAMES = {"FREQ": "frequency", "VRAD": "radio velocity", "VOPT": "optical velocity",
                  "VELO": "relativistic velocity", "ZOPT": "redshift", "WAVE": "vacuum wavelength",
                  "AWAV": "air wavelength", "FELO": "optical velocity"}
_FRAMES = {"LSRK": "kinematic LSR", "LSRD": "dynamic LSR", "BARYCENT": "barycentric (heliocentric)",
           "TOPOCENT": "topocentric", "GEOCENTR": "geocentric", "GALACTOC": "galactocentric",
           "LOCALGRP": "local group", "CMBDIPOL": "CMB dipole", "SOURCE": "source rest frame"}
_VELOCITY_TYPES = ("VRAD", "VOPT", "VELO", "FELO")


def read_wcs(header: fits.Header, naxis: int, name: str) -> tuple[WCS, list[str]]:
    """The header's WCS (first ``naxis`` axes) after wcslib's and our repairs, and one sentence per repair.

    Raises
    ------
    InvalidWCSError naming the card when a unit does not fit its axis or a value cannot be read;
    InvalidWCSError when the matrix is singular.
    """
    h = header.copy()
    repairs: list[str] = []
    velref = h.get("VELREF")
    if isinstance(velref, str) and velref.strip().lstrip("+-").isdigit():
        h["VELREF"] = int(velref)
        repairs.append(f"VELREF = '{velref.strip()}' is a string: read as the number {int(velref)}")
    n = max(naxis, int(h.get("WCSAXES", 0) or 0))
    for k in range(1, n + 1):
        _own_unit(h, k, repairs)
        _own_ctype(h, k, repairs)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FITSFixedWarning)
            wcs = WCS(h, fix=True, translate_units="shd")
    except Exception as exc:  # astropy raises several wcslib error types
        raise _refusal(exc, h, name) from None
    if wcs.naxis > naxis:
        wcs = wcs.sub(naxis)
    messages = [str(w.message) for w in caught if issubclass(w.category, FITSFixedWarning)]
    repairs += _wcslib_repairs(h, wcs, messages)
    repairs += _missing_units(h, wcs)
    return wcs, list(dict.fromkeys(repairs))


def _own_unit(h: fits.Header, k: int, repairs: list[str]) -> None:
    unit = str(h.get(f"CUNIT{k}", "")).strip()
    if unit.upper() in _OWN_UNITS and unit != _OWN_UNITS[unit.upper()]:
        h[f"CUNIT{k}"] = _OWN_UNITS[unit.upper()]
        repairs.append(f"CUNIT{k} = '{unit}' read as {_OWN_UNITS[unit.upper()]}")


def _unit_of(h: fits.Header, k: int) -> u.UnitBase | None:
    text = str(h.get(f"CUNIT{k}", "")).strip()
    if not text:
        return None
    try:
        return u.Unit(text, format="fits")
    except ValueError:
        try:
            return u.Unit(text.lower() if text.isupper() else text)
        except ValueError:
            return None


def _own_ctype(h: fits.Header, k: int, repairs: list[str]) -> None:
    """A 'LINEAR' axis in a length/frequency unit (MUSE) and the non-FITS 'VELOCITY' become spectral types."""
    ctype = str(h.get(f"CTYPE{k}", "")).strip().upper()
    if ctype == "LINEAR" and k >= 3:
        unit = _unit_of(h, k)
        kind = unit.physical_type if unit is not None else None
        if kind == "length":
            h[f"CTYPE{k}"] = "AWAV"
            repairs.append(f"CTYPE{k} 'LINEAR' in {h[f'CUNIT{k}']} read as air wavelength (AWAV), as MUSE and "
                           "other optical spectrographs measure it")
        elif kind == "frequency":
            h[f"CTYPE{k}"] = "FREQ"
            repairs.append(f"CTYPE{k} 'LINEAR' in {h[f'CUNIT{k}']} read as frequency (FREQ)")
    elif ctype == "VELOCITY":
        radio = int(h.get("VELREF", 0) or 0) > 256
        h[f"CTYPE{k}"] = "VRAD" if radio else "VOPT"
        repairs.append(f"CTYPE{k} 'VELOCITY' is not a FITS type: read as "
                       + ("radio velocity (VRAD), as VELREF > 256 says" if radio else
                          "optical velocity (VOPT), the AIPS convention when VELREF does not say radio"))


_PAIR = re.compile(r"'([^']*)' -> '([^']*)'")
_SPC = re.compile(r"Changed CTYPE(\d+) from '([^']*)' to '([^']*)'"
                  r"(?:, and SPECSYS to '([^']*)')?(?: \(VELREF=(\d+)\))?")


def _wcslib_repairs(h: fits.Header, wcs: WCS, messages: list[str]) -> list[str]:
    """Sentences for what wcslib's unitfix, celfix and spcfix changed (datfix/obsfix only fill in dates)."""
    out: list[str] = []
    for msg in messages:
        if "'unitfix'" in msg:
            for old, new in _PAIR.findall(msg):
                cards = [f"CUNIT{k}" for k in range(1, wcs.naxis + 1) if str(h.get(f"CUNIT{k}", "")).strip() == old]
                out.append(f"{' and '.join(cards) or 'a CUNIT'} = '{old}' read as {new}")
        elif "'spcfix'" in msg:
            m = _SPC.search(msg)
            if m is None:
                continue
            k, old, new, specsys, velref = m.groups()
            what = SPECTRAL_NAMES.get(new[:4], new)
            if new.endswith("-F2W"):
                what += " on an axis linear in frequency"
            text = f"CTYPE{k} '{old}' (AIPS convention) read as {what} ({new})"
            if specsys:
                text += f", {_FRAMES.get(specsys, specsys)} (SPECSYS {specsys})"
            if old[:4] == "VELO" and velref is not None:
                if int(velref) > 256:
                    text += f", as VELREF = {velref} (> 256) says"
                elif "VELREF" in h:
                    text += f"; VELREF = {velref} does not say radio (> 256), so optical as AIPS defines it"
                else:
                    text += "; no VELREF says radio (> 256), so optical as AIPS defines it"
            out.append(text)
    for k in range(wcs.naxis):
        old = str(h.get(f"CTYPE{k + 1}", "")).strip()
        new = wcs.wcs.ctype[k]
        if old[4:] in ("-NCP", "-GLS") and new != old:
            why = ("NCP is SIN with PV2_1 = 0, PV2_2 = cot(CRVAL2)" if old.endswith("NCP") else
                   "GLS is the old name of the sinusoidal projection SFL")
            out.append(f"CTYPE{k + 1} '{old}' read as '{new}' ({why})")
    return out


def _missing_units(h: fits.Header, wcs: WCS) -> list[str]:
    """What was assumed for spectral axes without CUNIT (the FITS defaults)."""
    out = []
    spec = wcs.wcs.spec
    if spec >= 0 and not str(h.get(f"CUNIT{spec + 1}", "")).strip():
        kind = wcs.wcs.ctype[spec][:4].upper()
        unit = {"FREQ": "Hz", "WAVE": "m", "AWAV": "m"}.get(kind, "m/s" if kind in _VELOCITY_TYPES else None)
        if unit:
            out.append(f"CUNIT{spec + 1} missing: the {kind} axis is read in {unit}, the FITS default"
                       + (" (AIPS and GIPSY wrote velocities in m/s)" if unit == "m/s" else ""))
    return out


_CARD = re.compile(r"In (CUNIT\d+|CTYPE\d+|CRVAL\d+|CDELT\d+|PC\d+_\d+|CD\d+_\d+|PV\d+_\d+)\s*:\s*(.*)")


def _refusal(exc: Exception, h: fits.Header, name: str) -> Exception:
    text = " ".join(str(exc).split())
    if "singular" in text.lower():
        return InvalidWCSError(f"{name}: its WCS matrix is singular (a CDELTi of 0, or PCi_j / CDi_j cards with no "
                               "inverse), so its pixels have no sky or spectral position; fix those cards")
    m = _CARD.search(text)
    if m:
        card, why = m.groups()
        value = h.get(card, "")
        why = why.rstrip(".")
        hint = ("write a FITS unit that fits its CTYPE (deg for sky axes, Hz for FREQ, m/s or km/s for velocities, "
                "m or Angstrom for wavelengths)" if card.startswith("CUNIT") else f"fix {card}")
        return InvalidWCSError(f"{name}: {card} = '{value}' cannot be read ({why}); {hint}")
    m = re.search(r"\b(CTYPE\d+|CUNIT\d+)\b", text)
    if m:
        card = m.group(1)
        why = text.split(":")[-1].strip()[:120]
        return InvalidWCSError(f"{name}: {card} = '{h.get(card, '')}' cannot be read ({why}); "
                               f"write a FITS {card[:5]} (e.g. RA---SIN, FREQ, VRAD; deg, Hz, m/s)")
    return InvalidFITSError(f"{name}: its WCS cannot be read ({text[:160]}); check the CTYPE/CUNIT cards")


def default_spectral_unit(ctype: str) -> str:
    """AIPS wrote velocity axes without CUNIT, in m/s; wavelength defaults to m, frequency to Hz."""
    kind = ctype[:4].upper()
    return {"FREQ": "Hz", "WAVE": "m", "AWAV": "m", "ZOPT": ""}.get(kind, "m/s")


def rest_frequency(wcs: WCS, header: fits.Header, notes: list[str], *, needed: bool) -> u.Quantity:
    if wcs.wcs.restfrq > 0:
        return (wcs.wcs.restfrq * u.Hz).to(u.MHz)
    if wcs.wcs.restwav > 0:
        return (wcs.wcs.restwav * u.m).to(u.MHz, equivalencies=u.spectral())
    freq0 = header.get("FREQ0")
    if needed and isinstance(freq0, (int, float)) and freq0 > 0:
        notes.append(f"rest frequency from FREQ0 = {freq0:.9g} Hz (GIPSY's card; RESTFRQ missing)")
        return (float(freq0) * u.Hz).to(u.MHz)
    if needed:
        notes.append("no rest frequency in the header (RESTFRQ/RESTFREQ): assuming HI 21 cm, "
                     "1420.405752 MHz")
    return HI_REST_FREQ


_BUNIT_FIXES = {"JY/BEAM": "Jy/beam", "JY/BM": "Jy/beam", "MJY/BEAM": "mJy/beam", "JY/PIXEL": "Jy/pixel",
                "JY": "Jy", "MJY": "mJy", "KELVIN": "K", "W.U.": "5 mJy/beam", "WU": "5 mJy/beam"}


def brightness_unit(header: fits.Header, notes: list[str]) -> u.Unit:
    """BUNIT as astropy reads it; upper-case radio spellings and Westerbork units (1 W.U. = 5 mJy/beam) are
    repaired, with a sentence in ``notes``."""
    text = str(header.get("BUNIT", "")).strip()
    if not text:
        notes.append("BUNIT missing: values are shown without a unit")
        return u.dimensionless_unscaled
    try:
        return u.Unit(text, parse_strict="raise")
    except ValueError:
        pass
    fixed = _BUNIT_FIXES.get(text.upper().replace(" ", ""))
    if fixed is not None:
        notes.append(f"BUNIT = '{text}' read as {fixed}")
        return u.Unit(fixed)
    notes.append(f"BUNIT = '{text}' is not a unit astropy knows: values are shown without a unit")
    return u.dimensionless_unscaled
