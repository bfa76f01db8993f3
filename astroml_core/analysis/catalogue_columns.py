"""Which columns of a source catalogue hold what: sky positions by UCD first (``pos.eq.ra;meta.main``,
``pos.galactic.lon`` ...), then by name (ra, RAJ2000, RA_ICRS, ALPHA_J2000, GLON ...); a frequency, velocity or
redshift; a line width; labels. Each choice is a :class:`ColumnUse` that says how it was found and which unit was
read or assumed, so a page can tell the user.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle
from astropy.table import Table

from ..errors import NoPositionColumnsError

__all__ = ["ColumnUse", "CatalogueColumns", "find_columns", "sky_degrees", "spectral_values", "width_values"]

# column names, lower case without '_', '-', ' ' or '.'; earlier names win (no lone "v" or "w": a V magnitude or
# a weight is not a velocity or a width)
_NAMES = {
    "ra": ("ra", "raj2000", "raicrs", "radeg", "ra2000", "alphaj2000", "alpha", "rightascension", "raobj"),
    "dec": ("dec", "decj2000", "dej2000", "deicrs", "decicrs", "decdeg", "dedeg", "dec2000", "deltaj2000", "delta",
            "declination", "de", "decobj"),
    "ra_fk4": ("rab1950", "ra1950", "alphab1950"),
    "dec_fk4": ("decb1950", "deb1950", "dec1950", "deltab1950"),
    "glon": ("glon", "l", "lii", "gall", "galon", "galacticlongitude"),
    "glat": ("glat", "b", "bii", "galb", "galat", "galacticlatitude"),
    "frequency": ("centralfreq", "freq", "frequency", "nuobs", "nu", "freqobs", "fobs", "fcen", "freqcen"),
    "optical": ("vopt", "cz", "vsys", "vhel", "vhelio", "vbary", "velocity", "vel", "hrv"),
    "radio": ("vrad", "vradio", "vlsr"),
    "redshift": ("z", "redshift", "zspec", "zobs", "zhel", "zbest"),
    "width": ("w20", "w50", "linewidthw20", "linewidth", "width", "wline", "fwhm"),
    "label": ("name", "id", "sourceid", "source", "designation", "objname", "object", "mainid", "galaxy"),
}
# UCD (UCD1+ and the old UCD1 spellings), lower case; a ``meta.main`` among a column's words ranks it first
_UCDS = {
    "ra": ("pos.eq.ra", "pos_eq_ra_main", "pos_eq_ra"), "dec": ("pos.eq.dec", "pos_eq_dec_main", "pos_eq_dec"),
    "glon": ("pos.galactic.lon", "pos_gal_lon"), "glat": ("pos.galactic.lat", "pos_gal_lat"),
    "frequency": ("em.freq",), "optical": ("spect.dopplerveloc.opt", "spect.dopplerveloc", "phys.veloc"),
    "radio": ("spect.dopplerveloc.radio",), "redshift": ("src.redshift",), "width": ("spect.line.width",),
    "label": ("meta.id", "id_main"),
}
_ROLE_TEXT = {"ra": "RA", "dec": "Dec", "ra_fk4": "RA (B1950)", "dec_fk4": "Dec (B1950)", "glon": "Galactic l",
              "glat": "Galactic b", "frequency": "frequency", "optical": "optical velocity",
              "radio": "radio velocity", "redshift": "redshift", "width": "line width", "label": "labels"}


@dataclass(frozen=True)
class ColumnUse:
    """One column read as one quantity: its role, its name in the file, how it was found, and the unit read."""

    role: str       # a key of _ROLE_TEXT
    column: str
    found_by: str   # "UCD pos.eq.ra;meta.main" or "name"
    unit: str = ""  # the unit used, with "(assumed)" when the file gave none

    def describe(self) -> str:
        """E.g. "RA from column RAJ2000 (UCD pos.eq.ra;meta.main, deg)"."""
        how = ", ".join(p for p in (self.found_by, self.unit) if p)
        return f"{_ROLE_TEXT[self.role]} from column {self.column} ({how})"


@dataclass(frozen=True)
class CatalogueColumns:
    """The columns a catalogue is placed with: a sky pair, optionally a spectral value, a width and labels."""

    lon: ColumnUse
    lat: ColumnUse
    frame: str                       # 'icrs', 'fk4' or 'galactic'
    spectral: ColumnUse | None = None
    width: ColumnUse | None = None
    label: ColumnUse | None = None

    def uses(self) -> tuple[ColumnUse, ...]:
        """Every column used, positions first."""
        return tuple(c for c in (self.lon, self.lat, self.spectral, self.width, self.label) if c is not None)


# --- finding columns ---------------------------------------------------------------------------------------
def _key(name: str) -> str:
    """A column name as compared with the name lists: lower case, no spaces, '_', '-', '.' or brackets."""
    return re.sub(r"[\s_\-.()]", "", name.lower())


def _ucd(table: Table, col: str) -> str:
    """A column's UCD (VOTable, or ECSV column meta), lower case; '' without one."""
    return str(table[col].info.meta.get("ucd", "") or "").strip().lower()


def _by_ucd(table: Table, role: str, taken: set[str]) -> ColumnUse | None:
    """The column whose UCD names ``role`` (one with ``meta.main`` first), or None."""
    hits = []
    for col in table.colnames:
        words = [w.strip() for w in _ucd(table, col).split(";")]
        if col in taken or not words[0]:
            continue
        for rank, ucd in enumerate(_UCDS.get(role, ())):
            if words[0] == ucd or (ucd == "meta.id" and "meta.id" in words and "meta.main" in words):
                hits.append((rank, "meta.main" not in words and not ucd.endswith("_main"), col))
    if not hits:
        return None
    col = min(hits)[2]
    return ColumnUse(role, col, f"UCD {table[col].info.meta['ucd']}")


def _by_name(table: Table, role: str, taken: set[str]) -> ColumnUse | None:
    """The column whose name is one of ``role``'s names (the earliest in the list), or None."""
    keys = {_key(c): c for c in reversed(table.colnames) if c not in taken}
    for name in _NAMES[role]:
        if name in keys:
            return ColumnUse(role, keys[name], "name")
    return None


def _find(table: Table, role: str, taken: set[str]) -> ColumnUse | None:
    """The column for ``role`` by UCD, else by name, among those not ``taken``; marks it taken."""
    use = _by_ucd(table, role, taken) or _by_name(table, role, taken)
    if use is not None:
        taken.add(use.column)
    return use


def find_columns(table: Table, galactic: bool = False) -> CatalogueColumns:
    """The catalogue's position columns (equatorial first, or Galactic l/b first when the cube is Galactic),
    its spectral and width columns and its label column, each by UCD first, then by name.

    Raises NoPositionColumnsError when no pair of sky columns is found.
    """
    pairs = [("ra", "dec", "icrs"), ("ra_fk4", "dec_fk4", "fk4"), ("glon", "glat", "galactic")]
    if galactic:
        pairs = pairs[2:] + pairs[:2]
    for lon_role, lat_role, frame in pairs:
        taken: set[str] = set()
        lon, lat = _find(table, lon_role, taken), _find(table, lat_role, taken)
        if lon is not None and lat is not None:
            break
    else:
        shown = ", ".join(table.colnames[:20]) + (" ..." if len(table.colnames) > 20 else "")
        raise NoPositionColumnsError(
            f"no sky position columns among {shown}: name them ra/dec (or RAJ2000/DEJ2000, RA_ICRS/DE_ICRS, "
            "GLON/GLAT), or give them the UCDs pos.eq.ra / pos.eq.dec")
    spectral = None
    for role in ("frequency", "optical", "radio", "redshift"):
        spectral = _find(table, role, taken)
        if spectral is not None and _numeric(table, spectral.column):
            break
        spectral = None
    width = _find(table, "width", taken) if spectral is not None else None
    width = width if width is not None and _numeric(table, width.column) else None
    return CatalogueColumns(lon, lat, frame, spectral, width, _find(table, "label", taken))


def _numeric(table: Table, col: str) -> bool:
    """True for integer or float columns (a spectral value or width must be a number)."""
    return table[col].dtype.kind in "iuf"


# --- values with units -------------------------------------------------------------------------------------
def _floats(column) -> np.ndarray:
    """A numeric column's values as floats, masked entries NaN."""
    values = np.ma.filled(np.ma.asarray(column, dtype=float), np.nan) if np.ma.isMaskedArray(column) \
        else np.asarray(getattr(column, "value", column), dtype=float)
    return np.asarray(values, dtype=float)


def sky_degrees(table: Table, use: ColumnUse, hours: bool) -> tuple[np.ndarray, ColumnUse]:
    """A sky column in degrees (NaN where unreadable) and its use with the unit read: the column's angular
    unit, degrees for plain numbers, sexagesimal text in hours (RA) or degrees."""
    col = table[use.column]
    unit = getattr(col, "unit", None)
    if col.dtype.kind in "iuf":
        if unit is not None and u.Unit(unit) == u.hour:            # VizieR's RA in "h": hours of angle
            return _floats(col) * 15.0, _with_unit(use, "h")
        if unit is not None and u.Unit(unit).physical_type == "angle":
            return (_floats(col) * u.Unit(unit)).to_value(u.deg), _with_unit(use, str(unit))
        return _floats(col), _with_unit(use, "deg (assumed)")
    texts = [str(v).strip() for v in np.ma.filled(np.ma.asarray(col).astype(str), "")]
    plain = _as_floats(texts)
    if plain is not None:
        return plain, _with_unit(use, "deg (assumed)")
    values = np.array([_sexagesimal(t, hours) for t in texts])
    return values, _with_unit(use, "sexagesimal " + ("hours" if hours else "degrees"))


def _as_floats(texts: list[str]) -> np.ndarray | None:
    """Text that is all plain numbers (or blank) as floats; None when any is not a number."""
    try:
        return np.array([float(t) if t else np.nan for t in texts])
    except ValueError:
        return None


_SEXAGESIMAL = re.compile(r"^([+-]?)(\d+(?:\.\d*)?)(?:[:hd°\s]+(\d+(?:\.\d*)?))?(?:[:m'\s]+(\d+(?:\.\d*)?))?[s\"]?$")


def _sexagesimal(text: str, hours: bool) -> float:
    """'12:30:00.5', '12h30m00.5s', '-30 00 00', '-30d00m00s' in degrees; NaN when it is no angle. The common
    forms by one regular expression (astropy's parser takes ~0.3 ms a value), others by astropy's Angle."""
    in_hours = hours and not re.search(r"[d°]", text)
    m = _SEXAGESIMAL.match(text)
    if m:
        sign, a, b, c = m.groups()
        value = float(a) + float(b or 0) / 60 + float(c or 0) / 3600
        return (-value if sign == "-" else value) * (15.0 if in_hours else 1.0)
    try:
        return float(Angle(text, unit=u.hourangle if in_hours else u.deg).to_value(u.deg))
    except (ValueError, u.UnitsError):
        return np.nan


def _with_unit(use: ColumnUse, unit: str) -> ColumnUse:
    """The same use, with the unit that was read or assumed."""
    return ColumnUse(use.role, use.column, use.found_by, unit)


def spectral_values(table: Table, use: ColumnUse) -> tuple[u.Quantity, ColumnUse]:
    """The spectral column as a Quantity: its own unit, else Hz/MHz/GHz (frequency) or km/s or m/s (velocity)
    judged from the size of the values; redshift is dimensionless."""
    col = table[use.column]
    values = _floats(col)
    unit = getattr(col, "unit", None)
    want = {"frequency": "frequency", "optical": "speed", "radio": "speed"}.get(use.role)
    if want is None:
        return values * u.one, _with_unit(use, "")
    if unit is not None and u.Unit(unit).physical_type == want:
        return values * u.Unit(unit), _with_unit(use, str(unit))
    typical = np.nanmedian(np.abs(values)) if np.isfinite(values).any() else 0.0
    if want == "frequency":
        guess = u.Hz if typical > 1e6 else u.MHz if typical > 100 else u.GHz
    else:
        guess = u.m / u.s if typical > 3e5 else u.km / u.s
    return values * guess, _with_unit(use, f"{guess} (assumed)")


def width_values(table: Table, use: ColumnUse) -> tuple[u.Quantity, ColumnUse]:
    """The line width: its own unit (km/s, m/s or a frequency), else km/s, or Hz for values too big to be
    km/s (SoFiA writes w20 in Hz for frequency cubes)."""
    col = table[use.column]
    values = _floats(col)
    unit = getattr(col, "unit", None)
    if unit is not None and u.Unit(unit).physical_type in ("speed", "frequency"):
        return values * u.Unit(unit), _with_unit(use, str(unit))
    typical = np.nanmedian(np.abs(values)) if np.isfinite(values).any() else 0.0
    guess = u.Hz if typical > 1e4 else u.km / u.s
    return values * guess, _with_unit(use, f"{guess} (assumed)")
