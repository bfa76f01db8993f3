"""A source catalogue (VOTable, ECSV or CSV) placed on a cube: pixel positions and channel spans.

:mod:`.catalogue_columns` finds the sky, spectral, width and label columns; here a file is read (size-limited,
typed errors) and its sources get pixel positions through the cube's WCS and the channels their lines span, so a
viewer can draw each source only there. Rows off the image or off the band are dropped and counted.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..constants import C_KMS
from ..data.tables import TABLE_FORMATS
from ..errors import InvalidTableError, MissingWCSError, TooLargeError
from .catalogue_columns import CatalogueColumns, ColumnUse, find_columns, sky_degrees, spectral_values, width_values

__all__ = ["ColumnUse", "CatalogueColumns", "PlacedCatalogue", "read_catalogue", "find_columns", "place_catalogue",
           "MAX_CATALOGUE_BYTES", "MAX_CATALOGUE_ROWS", "DEFAULT_WIDTH_KMS"]

MAX_CATALOGUE_BYTES = 20 * 2**20
MAX_CATALOGUE_ROWS = 100_000
DEFAULT_WIDTH_KMS = 200.0      # assumed line width (a typical galaxy's W20) when the catalogue has none
_FORMATS = {**TABLE_FORMATS, ".votable": "votable", ".tsv": "ascii.tab"}
_UNIT_IN_NAME = re.compile(r"^(.*\S)\s*\[([^\]]+)\]$")     # "ra [deg]": how write_table keeps units in a CSV


@dataclass(frozen=True)
class PlacedCatalogue:
    """The catalogue rows that fall on a cube's image, in pixels, with the channels each spans.

    ``rows`` index the table read; ``x``, ``y`` are pixel positions (column, row; centres at integers);
    ``lo``/``hi`` the first and last channel a source spans (-1 for both where it has no spectral value);
    ``frequency`` its line centre (Hz, NaN without one). The counts say what was left out and why.
    """

    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    frequency: np.ndarray
    labels: tuple[str, ...]
    sky: SkyCoord
    columns: CatalogueColumns
    n_rows: int
    n_off_image: int
    n_off_band: int
    n_unreadable: int
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def span(self, i: int) -> tuple[int, int] | None:
        """(first, last) channel of placed source ``i``, or None when it has no spectral value."""
        return None if self.lo[i] < 0 else (int(self.lo[i]), int(self.hi[i]))

    def on_channel(self, channel: int) -> np.ndarray:
        """Which placed sources to draw on ``channel``: those spanning it and those without a span."""
        return (self.lo < 0) | ((self.lo <= channel) & (channel <= self.hi))

    def summary(self) -> str:
        """One sentence: how many sources fall on the image, and how many were left out and why."""
        left = [f"{n} {why}" for n, why in ((self.n_off_image, "off the image"), (self.n_off_band, "outside the "
                "cube's band"), (self.n_unreadable, "with an unreadable position")) if n]
        return (f"{len(self)} of {self.n_rows} sources fall on the image" + (f" ({', '.join(left)})" if left else "")
                + ".")


# --- reading -----------------------------------------------------------------------------------------------
def read_catalogue(source: str | os.PathLike | bytes, name: str | None = None, *,
                   max_bytes: int = MAX_CATALOGUE_BYTES) -> Table:
    """A catalogue file (or its bytes, with its file ``name``) as a Table; the format from the suffix, else
    from the content (VOTable XML, ECSV, else CSV). CSV units written as "ra [deg]" become column units.

    Raises InvalidTableError (unreadable, empty), TooLargeError (over ``max_bytes`` or MAX_CATALOGUE_ROWS rows).
    """
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "catalogue"
    else:
        path = Path(source)
        name = name or path.name
        if path.stat().st_size > max_bytes:
            raise TooLargeError(f"{name} is {path.stat().st_size / 2**20:.1f} MB; catalogues up to "
                                f"{max_bytes / 2**20:.0f} MB are read: keep only the sources in the cube's field")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise TooLargeError(f"{name} is {len(data) / 2**20:.1f} MB; catalogues up to {max_bytes / 2**20:.0f} MB "
                            "are read: keep only the sources in the cube's field")
    fmt = _FORMATS.get(Path(name).suffix.lower()) or _sniff(data)
    table = _parse(data, fmt, name)
    if len(table) == 0:
        raise InvalidTableError(f"{name} holds no rows: give a catalogue with at least one source")
    if len(table) > MAX_CATALOGUE_ROWS:
        raise TooLargeError(f"{name} has {len(table):,} rows; up to {MAX_CATALOGUE_ROWS:,} are drawn: keep only "
                            "the sources in the cube's field")
    return _units_from_names(table) if fmt.startswith("ascii.csv") or fmt == "ascii.tab" else table


def _sniff(data: bytes) -> str:
    """The astropy format of a file with no telling suffix, from its first bytes."""
    head = data[:512].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<votable"):
        return "votable"
    return "ascii.ecsv" if head.startswith(b"# %ecsv") else "ascii.csv"


def _parse(data: bytes, fmt: str, name: str) -> Table:
    """Parse ``data`` as ``fmt``; any parser failure becomes an InvalidTableError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "votable":
                return Table.read(io.BytesIO(data), format="votable", use_names_over_ids=True, verify="ignore")
            return Table.read(data.decode("utf-8-sig").splitlines(), format=fmt)
    except Exception as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        kinds = {"votable": "a VOTable", "ascii.ecsv": "an ECSV table", "ascii.tab": "a tab-separated table"}
        raise InvalidTableError(f"{name} could not be read as {kinds.get(fmt, 'a CSV table')} ({why}); give a "
                                "VOTable (.xml, .vot), ECSV (.ecsv) or CSV (.csv) with a header line") from None


def _units_from_names(table: Table) -> Table:
    """Columns named "name [unit]" (as :func:`~astroml_core.data.tables.write_table` writes CSV) get the unit."""
    for col in list(table.colnames):
        m = _UNIT_IN_NAME.match(col)
        if m and m.group(1) not in table.colnames:
            try:
                unit = u.Unit(m.group(2))
            except ValueError:
                continue
            table.rename_column(col, m.group(1))
            table[m.group(1)].unit = unit
    return table


# --- placing on a cube ---------------------------------------------------------------------------------------
def _is_galactic(cube) -> bool:
    """True when the cube's sky axes are Galactic (GLON/GLAT): l/b columns are then looked for first."""
    return cube.celestial is not None and cube.celestial.wcs.ctype[0].upper().startswith("GLON")


def place_catalogue(table: Table, cube, columns: CatalogueColumns | None = None, *,
                    default_width_kms: float = DEFAULT_WIDTH_KMS) -> PlacedCatalogue:
    """Pixel positions (through the cube's celestial WCS) and channel spans of the catalogue's sources; rows
    off the image, off the cube's band or with an unreadable position are dropped and counted.

    A source with a frequency, velocity or redshift spans the channels within ± half its line width (observed
    frame; ``default_width_kms`` when the catalogue has no width column). Raises MissingWCSError for a cube
    without celestial WCS, NoPositionColumnsError when the table has no sky columns.
    """
    if cube.celestial is None:
        raise MissingWCSError("this cube has no celestial WCS, so catalogue positions have no pixel: open a cube "
                              "whose header has RA/Dec or GLON/GLAT axes")
    table = Table(table, copy=False)       # Quantity columns as Columns with units
    columns = columns or find_columns(table, galactic=_is_galactic(cube))
    lon, lon_use = sky_degrees(table, columns.lon, hours=columns.frame != "galactic")
    lat, lat_use = sky_degrees(table, columns.lat, hours=False)
    readable = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
    y, x = np.full(len(table), np.nan), np.full(len(table), np.nan)
    if readable.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sky = SkyCoord(lon[readable] * u.deg, lat[readable] * u.deg, frame=columns.frame)
            y[readable], x[readable] = cube.pixel_of(sky)
    ny, nx = cube.shape[1:]
    inside = readable & (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
    lo, hi, nu, spectral_use, width_use, notes = _spans(table, cube, columns, default_width_kms)
    in_band = lo != -2                 # a row without a spectral value (-1) is drawn on every channel
    keep = np.flatnonzero(inside & in_band)
    labels = _labels(table, columns.label, keep)
    used = CatalogueColumns(lon_use, lat_use, columns.frame, spectral_use, width_use, columns.label)
    kept_sky = SkyCoord(lon[keep] * u.deg, lat[keep] * u.deg, frame=columns.frame)
    return PlacedCatalogue(keep, x[keep], y[keep], lo[keep], hi[keep], nu[keep], labels, kept_sky, used, len(table),
                           int((readable & ~inside).sum()), int((inside & ~in_band).sum()), int((~readable).sum()),
                           tuple(notes))


def _labels(table: Table, use: ColumnUse | None, rows: np.ndarray) -> tuple[str, ...]:
    """Each kept row's label: its label column as text, else its row number (from 1)."""
    if use is None:
        return tuple(str(int(i) + 1) for i in rows)
    col = table[use.column]
    return tuple("" if np.ma.is_masked(col[i]) else str(col[i]).strip() for i in rows)


def _spans(table: Table, cube, columns: CatalogueColumns, default_width_kms: float):
    """(lo, hi, line centre in Hz, spectral use, width use, notes) per row; lo = hi = -1 without a spectral
    value, lo = hi = -2 when the span misses the cube's band."""
    n = len(table)
    lo, hi, nu = np.full(n, -1), np.full(n, -1), np.full(n, np.nan)
    if columns.spectral is None:
        return lo, hi, nu, None, None, ["no frequency, velocity or redshift column: every source is drawn on "
                                        "every channel"]
    rest = cube.rest_frequency.to_value(u.Hz)
    values, spectral_use = spectral_values(table, columns.spectral)
    role = columns.spectral.role
    if role == "frequency":
        nu = values.to_value(u.Hz)
    elif role == "redshift":
        nu = rest / (1 + values.value)
    else:
        doppler = u.doppler_radio if role == "radio" else u.doppler_optical
        nu = values.to_value(u.Hz, equivalencies=doppler(rest * u.Hz))
    notes = []
    if columns.width is not None:
        widths, width_use = width_values(table, columns.width)
    else:
        widths, width_use = np.full(n, default_width_kms) * u.km / u.s, None
        notes.append(f"no line-width column: each source is drawn over {default_width_kms:g} km/s around its line")
    widths = np.where(np.isfinite(widths.value), widths.value, default_width_kms
                      if widths.unit.physical_type == "speed" else np.nan) * widths.unit
    if widths.unit.physical_type == "frequency":
        half = np.abs(widths.to_value(u.Hz)) / 2
    elif role == "radio":
        half = np.abs(widths.to_value(u.km / u.s)) * rest / C_KMS / 2
    else:   # optical velocity, frequency or redshift: an observed-frame width, dν = ν² dv / (c ν_rest)
        half = np.abs(widths.to_value(u.km / u.s)) * nu**2 / (C_KMS * rest) / 2
    half = np.where(np.isfinite(half), half, 0.0)
    has = np.isfinite(nu)
    a, b = _channel_position(cube.frequencies.to_value(u.Hz), nu[has] - half[has]), \
        _channel_position(cube.frequencies.to_value(u.Hz), nu[has] + half[has])
    first = np.maximum(np.rint(np.minimum(a, b)), 0).astype(int)
    last = np.minimum(np.rint(np.maximum(a, b)), cube.n_channels - 1).astype(int)
    missed = first > last
    lo[has], hi[has] = np.where(missed, -2, first), np.where(missed, -2, last)
    nu[~has] = np.nan
    return lo, hi, nu, spectral_use, width_use, notes


def _channel_position(freqs: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Fractional channel of each frequency, extrapolated linearly past the band's ends."""
    if freqs.size < 2:
        return np.zeros_like(nu)
    order = np.argsort(freqs)
    f, idx = freqs[order], np.arange(freqs.size, dtype=float)[order]
    pos = np.interp(nu, f, idx)
    low_slope = (idx[1] - idx[0]) / (f[1] - f[0])
    high_slope = (idx[-1] - idx[-2]) / (f[-1] - f[-2])
    pos = np.where(nu < f[0], idx[0] + (nu - f[0]) * low_slope, pos)
    return np.where(nu > f[-1], idx[-1] + (nu - f[-1]) * high_slope, pos)
