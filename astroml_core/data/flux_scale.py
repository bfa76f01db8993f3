"""The flux scale of an image band from its header: what one pixel value is worth in nJy, or why it cannot be known.

Read, in this order: BUNIT as a flux density (nJy, µJy, mJy, Jy, erg/s/cm²/Hz, ...), BUNIT in (nano)maggies,
BUNIT in surface brightness or per beam (kept: Jy/beam needs the beam area, left to the user), f_λ BUNIT with a
pivot wavelength, then counts (COUNTS, ADU, DN, electrons, or a rate "/s") calibrated by PHOTFNU, PHOTFLAM with
PHOTPLAM (HST), FLUXMAG0, or an AB zero point (MAGZERO, MAGZPT, MAGZP, ZP, PHOTZP, ZEROPT; WFCAM's and VIRCAM's
are Vega and get their band's AB offset). Zero points and HST's
PHOTFLAM/PHOTFNU are taken as referring to a rate (counts per second, as HST and WFCAM define them): counts are
divided by EXPTIME first when it is known. Every step taken, or assumed, is one sentence in ``FluxScale.note``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u
from astropy.io import fits

__all__ = ["FluxScale", "flux_scale", "NANOMAGGY_NJY", "AB_ZP_NJY"]

NANOMAGGY_NJY = 3631.0                              # 1 nanomaggy = 3.631 µJy (SDSS: m_AB = 22.5 − 2.5 log10 f)
AB_ZP_NJY = 2.5 * math.log10(3631e9)                # 31.4: m_AB of 1 nJy
_C_ANGSTROM_S = 2.99792458e18                       # c in Å/s
_COUNTS = {"", "COUNT", "COUNTS", "CT", "CTS", "ADU", "ADUS", "DN", "ELECTRON", "ELECTRONS", "E-", "E"}
_ZERO_POINTS = ("MAGZERO", "MAGZPT", "MAGZP", "ZP", "PHOTZP", "ZEROPT", "ZPMAG")
_EXPOSURE = ("EXPTIME", "EXP_TIME", "TEXPTIME")
# Vega → AB offsets (m_AB − m_Vega) of cameras whose pipeline zero points (CASU's MAGZPT) are Vega magnitudes:
# WFCAM (UKIDSS) from Hewett et al. 2006, MNRAS 367, 454, table 7; VIRCAM (VISTA) from González-Fernández et al.
# 2018, MNRAS 474, 5459.
_VEGA_TO_AB = {"WFCAM": {"Z": 0.528, "Y": 0.634, "J": 0.938, "H": 1.379, "K": 1.900},
               "VIRCAM": {"Z": 0.502, "Y": 0.600, "J": 0.916, "H": 1.366, "KS": 1.827}}
RATE_SIGMA = 0.3     # a count image's pixel noise is at least about one count; a rate image's is far below


@dataclass(frozen=True)
class FluxScale:
    """``factor`` × a raw pixel value = its value in ``unit`` (``"nJy"`` per pixel when calibrated, else the raw
    unit with ``factor`` 1); ``note`` says which cards were used and what was assumed."""

    unit: str
    factor: float
    note: str

    @property
    def calibrated(self) -> bool:
        return self.unit == "nJy"


def _card(key: str, *headers: fits.Header):
    """(value, comment) of the first header holding ``key`` with a non-blank value, else (None, '')."""
    for header in headers:
        if header is not None and key in header and str(header[key]).strip() != "":
            return header[key], header.comments[key]
    return None, ""


def _number(key: str, *headers: fits.Header) -> float | None:
    value, _ = _card(key, *headers)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value).strip()) if value is not None else None
        except ValueError:
            return None
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _counts_unit(bunit: str) -> tuple[bool, bool]:
    """(is a count unit, is a rate) for BUNIT spellings like 'COUNTS/S', 'electrons/s', 'ADU', 'cts s-1'."""
    text = bunit.strip().upper().replace(" ", "")
    for suffix in ("/S", "/SEC", "/SECOND", "S-1", "S**-1", "S^-1", "PERSECOND", "PERSEC"):
        if text.endswith(suffix) and text[: -len(suffix)].rstrip("/*") in _COUNTS - {""}:
            return True, True
    return text in _COUNTS, False


def flux_scale(header: fits.Header, primary: fits.Header | None = None, *, band: str = "the band",
               pixel_sigma: float | None = None) -> FluxScale:
    """The flux scale of one band whose pixels carry ``header`` (cards missing there are looked up in ``primary``).

    ``pixel_sigma`` (the band's robust pixel noise in raw units) decides, when BUNIT is absent and HST cards need
    to know, whether the pixels are counts or counts per second (a noise far below one count means a rate).
    """
    raw = str(_card("BUNIT", header)[0] or "").strip()
    said = f"BUNIT = '{raw}'" if raw else "no BUNIT"
    lowered = raw.lower().replace(" ", "")
    if lowered in ("nanomaggy", "nanomaggies", "nmgy", "nmaggies"):
        return FluxScale("nJy", NANOMAGGY_NJY, f"{band}: {said}: 1 nanomaggy = 3.631 µJy, pixels in nJy.")
    if lowered in ("maggy", "maggies", "mgy"):
        return FluxScale("nJy", NANOMAGGY_NJY * 1e9, f"{band}: {said}: 1 maggy = 3631 Jy, pixels in nJy.")
    if "beam" in lowered:
        return FluxScale(raw, 1.0, f"{band}: {said}: a radio image per beam; photometry kept in {raw} (a flux in Jy "
                                   "needs the sum divided by the beam area in pixels).")
    counts, rate = _counts_unit(raw)
    if not counts:
        return _physical(raw, said, band, header, primary)
    return _counts(raw, said, band, rate, header, primary, pixel_sigma)


def _physical(raw: str, said: str, band: str, header, primary) -> FluxScale:
    """BUNIT that astropy reads as a unit: a flux density converts to nJy, f_λ with a pivot wavelength too."""
    try:
        unit = u.Unit(raw.replace("µ", "u").replace("Angstrom", "AA"), parse_strict="raise")
    except ValueError:
        return FluxScale(raw, 1.0, f"{band}: {said} is not a unit astropy reads: photometry in raw units ({raw}).")
    if unit.is_equivalent(u.nJy):
        return FluxScale("nJy", float(unit.to(u.nJy)), f"{band}: {said}: pixels converted to nJy.")
    if unit.is_equivalent(u.nJy / u.pix):
        return FluxScale("nJy", float((unit * u.pix).to(u.nJy)), f"{band}: {said}: pixels converted to nJy per pixel.")
    if unit.is_equivalent(u.Jy / u.sr):
        return _surface_brightness(unit, raw, said, band, header, primary)
    pivot = _number("PHOTPLAM", header, primary)
    if unit.is_equivalent(u.erg / u.s / u.cm**2 / u.AA) and pivot:
        factor = float((1 * unit).to(u.nJy, u.spectral_density(pivot * u.AA)).value)
        return FluxScale("nJy", factor, f"{band}: {said} is a flux per Å: converted to nJy at PHOTPLAM = {pivot:g} Å.")
    return FluxScale(raw, 1.0, f"{band}: {said} is not a flux density in Jy (or lacks PHOTPLAM for f_λ): "
                               f"photometry in raw units ({raw}).")


def _surface_brightness(unit, raw: str, said: str, band: str, header, primary) -> FluxScale:
    """Jy/sr-like BUNIT (Spitzer, WISE, JWST's MJy/sr) × the pixel's solid angle (PIXAR_SR, else the WCS) → nJy."""
    area, source = _number("PIXAR_SR", header, primary), "PIXAR_SR"
    if not area:
        from astropy.wcs import WCS

        try:
            celestial = WCS(header).celestial
            area = float(celestial.proj_plane_pixel_area().to_value(u.sr)) if celestial.has_celestial else None
        except Exception:
            area = None
        source = "the WCS's pixel area"
    if not area:
        return FluxScale(raw, 1.0, f"{band}: {said} is a surface brightness and the header gives no pixel area (PIXAR_SR "
                                   f"or a celestial WCS): photometry in raw units ({raw}).")
    factor = float((1 * unit * area * u.sr).to_value(u.nJy))
    return FluxScale("nJy", factor, f"{band}: {said} × the pixel's solid angle ({source}, {area:.4g} sr): pixels in nJy.")


def _counts(raw, said, band, rate, header, primary, pixel_sigma) -> FluxScale:
    """Counts (or a count rate) calibrated by PHOTFNU, PHOTFLAM + PHOTPLAM, FLUXMAG0 or an AB zero point."""
    name = raw or "counts"
    photfnu, photflam = _number("PHOTFNU", header, primary), _number("PHOTFLAM", header, primary)
    pivot = _number("PHOTPLAM", header, primary)
    fluxmag0 = _number("FLUXMAG0", header, primary)
    zp_key = next((k for k in _ZERO_POINTS if _number(k, header, primary) is not None), None)
    if fluxmag0:
        return FluxScale("nJy", 3631e9 / fluxmag0, f"{band}: {said}; FLUXMAG0 = {fluxmag0:g} (the {name} of a 0 mag AB "
                                                   "source): pixels in nJy.")
    if photfnu or (photflam and pivot):
        per_rate = photfnu * 1e9 if photfnu else photflam * pivot**2 / _C_ANGSTROM_S * 1e23 * 1e9
        cards = f"PHOTFNU = {photfnu:g} Jy s" if photfnu else f"PHOTFLAM = {photflam:g} with PHOTPLAM = {pivot:g} Å"
        if not raw:
            rate = pixel_sigma is not None and pixel_sigma < RATE_SIGMA
            why = (f"no BUNIT; the pixel noise ({pixel_sigma:.2g}) is far below one count, so the pixels are read as "
                   "counts/s" if rate else "no BUNIT: the pixels are taken as counts (HST's WFPC2/ACS pipeline files "
                   "hold counts)")
        else:
            why = said
        return _rate_scaled(per_rate, rate, why, cards, band, header, primary)
    if zp_key:
        zp, system = _ab_zero_point(_number(zp_key, header, primary), header, primary)
        per_rate = 10 ** (-0.4 * (zp - AB_ZP_NJY))
        why = said if raw else "no BUNIT: the pixels are taken as counts"
        one = name.removesuffix("/S").removesuffix("/s") if rate else name
        one = {"COUNTS": "count", "ELECTRONS": "electron"}.get(one.upper(), one)
        if not rate and not any(_number(k, header, primary) for k in _EXPOSURE):
            return FluxScale("nJy", per_rate, f"{band}: {why}; {zp_key} = {system} taken as the AB magnitude of 1 {one} as "
                                              "the pixels hold it (no EXPTIME): pixels in nJy.")
        cards = f"{zp_key} = {system} taken as the AB magnitude of 1 {one}/s"
        return _rate_scaled(per_rate, rate, why, cards, band, header, primary)
    unit = raw or "raw units"
    return FluxScale(raw, 1.0, f"{band}: no flux calibration in the header (BUNIT/MAGZERO/PHOTFLAM): photometry in "
                               f"{unit}.")


def _ab_zero_point(zp: float, header, primary) -> tuple[float, str]:
    """(AB zero point, how it was read): a WFCAM or VIRCAM zero point is Vega and gets its band's offset."""
    camera = str(_card("INSTRUME", header, primary)[0] or "").strip().upper()
    offsets = _VEGA_TO_AB.get(camera)
    if offsets is None:
        return zp, f"{zp:g}"
    band = str(_card("FILTER", header, primary)[0] or "").strip().upper()
    if band not in offsets:
        return zp, f"{zp:g} (a {camera} Vega zero point; no AB offset known for FILTER '{band}', so Vega)"
    return zp + offsets[band], f"{zp:g} (Vega, {camera}) + {offsets[band]:.3f} (its {band}-band AB − Vega) = {zp + offsets[band]:g}"


def _rate_scaled(per_rate: float, rate: bool, why: str, cards: str, band: str, header, primary) -> FluxScale:
    """nJy per pixel value for a calibration defined per count/s: counts are divided by EXPTIME first."""
    if rate:
        return FluxScale("nJy", per_rate, f"{band}: {why}; {cards}: pixels in nJy.")
    key = next((k for k in _EXPOSURE if _number(k, header, primary)), None)
    if key is None:
        return FluxScale("nJy", per_rate, f"{band}: {why}; {cards}; no EXPTIME, so the pixels are taken as a rate: "
                                          "pixels in nJy (divide by the exposure time if they are counts).")
    exptime = _number(key, header, primary)
    return FluxScale("nJy", per_rate / exptime, f"{band}: {why}; divided by {key} = {exptime:g} s; {cards}: pixels in nJy.")
