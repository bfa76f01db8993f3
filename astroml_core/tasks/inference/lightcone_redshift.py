"""Redshift of every slice of a lightcone file, from whatever the file gives, and what was assumed to get it.

In order of preference:

1. a REDSHIFT table (our simulator writes one; 21cmFAST users often do) with a redshift column named ``z``,
   ``redshift``, ``REDSHIFT``, ``zred`` ... (any case): read as it is;
2. the same table with a comoving-distance column (``distance``, ``DC``, ``comoving_distance``, ``chi`` ...)
   whose TUNIT is a length (``Mpc``, ``kpc``, ``Mpc/h``): converted to redshift through the cosmology the header
   names (COSMO = 'Planck18', or H0 / OMEGA_M cards), else our simulator's (flat ΛCDM, H0 = 67.66, Ω_m = 0.31);
3. no table: ZMIN (the redshift of the first slice) and CDELT3 (comoving Mpc per slice, CUNIT3; CDELT1 when
   there is no CDELT3, the cells being cubic), through the same cosmology.

Distances are inverted by Newton steps on astropy's own ``comoving_distance`` (dD/dz = D_H / E(z)), so the
redshifts equal ``astropy.cosmology.z_at_value`` of the distances to its tolerance. Every assumption is a
note for the user (:class:`SliceRedshifts`); a table column that is none of these is a typed error that lists
the columns found and the names accepted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.io import fits

from ...errors import MissingWCSError, NonFiniteError, ShapeError
from ...sim.cosmology import H_LITTLE

__all__ = ["SliceRedshifts", "slice_redshifts", "header_cosmology", "redshift_at_distance", "length_unit",
           "Z_COLUMNS", "DISTANCE_COLUMNS", "SIM_OMEGA_M"]

Z_COLUMNS = ("z", "redshift", "redshifts", "zred", "z_slice", "lightcone_redshifts")
DISTANCE_COLUMNS = ("distance", "distances", "dc", "d_c", "comoving_distance", "comoving_distances",
                    "los_distance", "lightcone_distances", "chi")
SIM_OMEGA_M = 0.31              # our simulator's fiducial Ω_m (sim.lightcone.FIDUCIAL)
_OUR_ORIGIN = "astroml_core.sim.lightcone"
_OMEGA_M_KEYS = ("OMEGA_M", "OMEGAM", "OM0", "OMEGA_M0", "OMEGAM0")
_H0_KEYS = ("H0", "HUBBLE0")
_LITTLE_H_KEYS = ("LITTLEH", "HUBBLE", "HLITTLE", "H_LITTLE")
_PER_H = re.compile(r"(/\s*(little)?h\b|\bh\s*\^?\s*-1\b|\bh-1\b)", re.IGNORECASE)


@dataclass(frozen=True)
class SliceRedshifts:
    """Redshift of each slice (slice 0 nearest) and, in words, what was assumed to get it."""

    z: np.ndarray
    notes: tuple[str, ...] = ()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _first_number(header: fits.Header, keys: tuple[str, ...]):
    return next(((k, float(header[k])) for k in keys if _is_number(header.get(k))), (None, None))


def header_cosmology(header: fits.Header, name: str):
    """The astropy cosmology the header names, and a note when part or all of it was assumed (None otherwise).

    ``COSMO`` (or ``COSMOLOGY``) = an astropy realisation ('Planck18', 'WMAP9', ...); else H0 (km/s/Mpc, or the
    little h in LITTLEH) and OMEGA_M (or OM0) for a flat ΛCDM; a missing H0 is our simulator's 67.66, a missing
    Ω_m its 0.31. Radiation is left out (Tcmb0 = 0), as in our simulator.
    """
    from astropy.cosmology import FlatLambdaCDM, realizations

    named = header.get("COSMO", header.get("COSMOLOGY"))
    if isinstance(named, str) and named.strip():
        key = named.strip()
        known = {n.lower(): n for n in realizations.available}
        if key.lower() not in known:
            raise MissingWCSError(f"{name}: COSMO = '{key}' is not a cosmology astropy knows; use one of "
                                  f"{', '.join(realizations.available)}, or give H0 and OMEGA_M cards instead")
        return getattr(realizations, known[key.lower()]), None
    om_key, om = _first_number(header, _OMEGA_M_KEYS)
    h0_key, h0 = _first_number(header, _H0_KEYS)
    if h0 is None:
        h_key, little_h = _first_number(header, _LITTLE_H_KEYS)
        h0_key, h0 = (h_key, 100 * little_h) if little_h is not None else (None, None)
    if om is not None and not 0 < om <= 1:
        raise MissingWCSError(f"{name}: {om_key} = {om:g} is not a matter density between 0 and 1")
    if h0 is not None and not 20 <= h0 <= 200:
        raise MissingWCSError(f"{name}: {h0_key} gives H0 = {h0:g} km/s/Mpc, not a Hubble constant; write H0 in km/s/Mpc")
    ours = str(header.get("ORIGIN", "")).strip() == _OUR_ORIGIN
    cosmo = FlatLambdaCDM(H0=h0 or 100 * H_LITTLE, Om0=om or SIM_OMEGA_M, Tcmb0=0)
    if om is not None and h0 is not None or ours and om is not None:
        return cosmo, None
    if om is None and h0 is None:
        return cosmo, (f"the header names no cosmology (COSMO, or H0 and OMEGA_M), so distances were turned into "
                       f"redshifts with our simulator's: flat ΛCDM, H0 = {100 * H_LITTLE:g} km/s/Mpc, Ω_m = {SIM_OMEGA_M:g}")
    missing = f"H0 = {100 * H_LITTLE:g} km/s/Mpc" if h0 is None else f"Ω_m = {SIM_OMEGA_M:g}"
    return cosmo, f"the header gives {om_key if h0 is None else h0_key} but not {'H0' if h0 is None else 'OMEGA_M'}: " \
                  f"our simulator's {missing} was assumed to turn distances into redshifts"


def redshift_at_distance(cosmo, distance_mpc) -> np.ndarray:
    """Redshift at each comoving distance (Mpc) in ``cosmo``: astropy's ``z_at_value``, vectorised (a coarse
    table for the start, then Newton steps on ``comoving_distance``). ShapeError beyond the horizon or below 0."""
    d = np.asarray(distance_mpc, dtype=float)
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 3000.0, 400)])
    dgrid = cosmo.comoving_distance(grid).to_value(u.Mpc)
    if d.size and (d.min() < 0 or d.max() >= dgrid[-1]):
        raise ShapeError(f"comoving distances {d.min():.6g}–{d.max():.6g} Mpc are not all between 0 and the "
                         f"horizon ({dgrid[-1]:.0f} Mpc) of {cosmo.name or 'this cosmology'}")
    z = np.interp(d, dgrid, grid)
    d_h = cosmo.hubble_distance.to_value(u.Mpc)
    for _ in range(8):
        step = (cosmo.comoving_distance(z).to_value(u.Mpc) - d) * cosmo.efunc(z) / d_h
        z = np.maximum(z - step, 0.0)
        if not d.size or np.max(np.abs(step)) < 1e-11:
            break
    return z


def length_unit(text: str) -> u.UnitBase:
    """A length unit from a FITS unit string, reading 'cMpc' / 'ckpc' (comoving, as simulation codes write) as Mpc /
    kpc; ValueError or UnitsError when it is not one."""
    text = text.strip()
    if text.lower() in ("cmpc", "ckpc", "cgpc"):
        text = text[1:]
    unit = u.Unit(text, parse_strict="raise")
    unit.to(u.Mpc)
    return unit


def _column(hdu, names: tuple[str, ...]) -> str | None:
    return next((c for c in hdu.columns.names if c.strip().lower() in names), None)


def _numbers(hdu, column: str, name: str, n_los: int) -> np.ndarray:
    try:
        values = np.asarray(hdu.data[column], dtype=float).ravel()
    except (TypeError, ValueError):
        raise ShapeError(f"{name}: the REDSHIFT table's column '{column}' does not hold numbers") from None
    if len(values) != n_los:
        raise ShapeError(f"{name}: the REDSHIFT table has {len(values)} rows for {n_los} slices")
    if not np.isfinite(values).all():
        raise NonFiniteError(f"{name}: the REDSHIFT table's column '{column}' holds NaN or infinite values")
    return values


def _increasing(z: np.ndarray, name: str, what: str) -> np.ndarray:
    if len(z) > 1 and (np.diff(z) < 0).any():
        raise ShapeError(f"{name}: {what} must increase along the line of sight (slice 0 nearest)")
    return z


def _distance_unit(hdu, column: str, name: str) -> tuple[u.Unit, str | None]:
    """The column's length unit, and its TUNIT text when it is per h (Mpc/h: to be divided by h)."""
    index = hdu.columns.names.index(column) + 1
    text = str(hdu.header.get(f"TUNIT{index}", "") or "").strip()
    if not text:
        raise MissingWCSError(f"{name}: its REDSHIFT table has columns {list(hdu.columns.names)} but none named z or "
                              f"REDSHIFT, and its distance column '{column}' has no unit: set TUNIT{index} = 'Mpc' "
                              "(comoving) or add a column z")
    per_h = bool(_PER_H.search(text))
    bare = _PER_H.sub("", text).strip() or "Mpc"
    try:
        unit = length_unit(bare)
    except (ValueError, u.UnitsError):
        raise MissingWCSError(f"{name}: the distance column '{column}' has TUNIT{index} = '{text}', not a length; "
                              "write it in comoving Mpc (TUNIT = 'Mpc')") from None
    return unit, text if per_h else None


def _from_table(hdu, header: fits.Header, n_los: int, name: str) -> SliceRedshifts:
    column = _column(hdu, Z_COLUMNS)
    if column is not None:
        return SliceRedshifts(_increasing(_numbers(hdu, column, name, n_los), name,
                                          f"the REDSHIFT table's column '{column}'"))
    column = _column(hdu, DISTANCE_COLUMNS)
    if column is None:
        raise MissingWCSError(f"{name}: its REDSHIFT table has columns {list(hdu.columns.names)} but none named z or "
                              f"REDSHIFT; name the redshift column one of {', '.join(Z_COLUMNS)} (any case), or give "
                              f"comoving distances in Mpc in a column named one of {', '.join(DISTANCE_COLUMNS)}")
    unit, per_h = _distance_unit(hdu, column, name)
    distance = (_numbers(hdu, column, name, n_los) * unit).to_value(u.Mpc)
    cosmo, note = header_cosmology(header, name)
    if per_h:
        distance = distance / cosmo.h
    z = _increasing(_redshift_or_error(cosmo, distance, name, f"column '{column}'"), name,
                    f"the REDSHIFT table's column '{column}'")
    notes = [f"Slice redshifts come from the comoving distances in column '{column}' ({per_h or unit.to_string()}) "
             f"through {_describe(cosmo)}."]
    if note:
        notes.append(f"Assumed: {note}.")
    if per_h:
        notes.append(f"Its unit '{per_h}' was divided by h = {cosmo.h:g} to give Mpc.")
    return SliceRedshifts(z, tuple(notes))


def _redshift_or_error(cosmo, distance: np.ndarray, name: str, what: str) -> np.ndarray:
    try:
        return redshift_at_distance(cosmo, distance)
    except ShapeError as exc:
        raise ShapeError(f"{name}: {what}: {exc}") from None


def _describe(cosmo) -> str:
    what = f"astropy's {cosmo.name}" if cosmo.name else "flat ΛCDM"
    return f"{what} (H0 = {cosmo.H0.value:g} km/s/Mpc, Ω_m = {cosmo.Om0:g})"


def _from_zmin(header: fits.Header, n_los: int, cell: float, name: str) -> SliceRedshifts:
    zmin = float(header["ZMIN"])
    notes = []
    spacing, unit_text = header.get("CDELT3"), header.get("CUNIT3")
    if spacing is None:
        spacing, unit_text = cell, "Mpc"
        notes.append(f"There is no CDELT3: the slices were taken as {cell:g} Mpc apart, like the cells across (CDELT1).")
    if not _is_number(spacing) or spacing <= 0:
        raise MissingWCSError(f"{name}: CDELT3 = {spacing!r} is not a positive slice spacing; give it in comoving Mpc "
                              "(CUNIT3 = 'Mpc') or add a REDSHIFT table with a column z")
    if unit_text is None or not str(unit_text).strip():
        unit_text = "Mpc"
        notes.append(f"CUNIT3 is missing: CDELT3 = {spacing:g} was read as comoving Mpc.")
    try:
        step = (float(spacing) * length_unit(str(unit_text))).to_value(u.Mpc)
    except (ValueError, u.UnitsError):
        raise MissingWCSError(f"{name}: CUNIT3 = '{unit_text}' is not a length; with ZMIN the slices must be spaced in "
                              "comoving Mpc (CUNIT3 = 'Mpc'), or add a REDSHIFT table with a column z") from None
    if zmin < 0:
        raise MissingWCSError(f"{name}: ZMIN = {zmin:g} is not a redshift")
    cosmo, note = header_cosmology(header, name)
    distance = cosmo.comoving_distance(zmin).to_value(u.Mpc) + step * np.arange(n_los)
    z = _redshift_or_error(cosmo, distance, name, "ZMIN and CDELT3")
    z[0] = zmin
    notes.insert(0, f"There is no REDSHIFT table: slice redshifts come from ZMIN = {zmin:g} (slice 0) and {step:g} Mpc per "
                    f"slice through {_describe(cosmo)}.")
    if note:
        notes.append(f"Assumed: {note}.")
    return SliceRedshifts(z, tuple(notes))


def redshift_table(hdul: fits.HDUList, name: str):
    """The REDSHIFT extension as a table HDU, None when there is none; ShapeError when it is not a table."""
    if "REDSHIFT" not in [h.name.upper() for h in hdul]:
        return None
    hdu = hdul["REDSHIFT"]
    if not isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
        raise ShapeError(f"{name}: its REDSHIFT extension is an image, not a table; write it as a table with a "
                         "column z, as `astroml sim lightcone` does")
    return hdu


def slice_redshifts(hdul: fits.HDUList, n_los: int, cell: float, name: str) -> SliceRedshifts:
    """Redshift of each of the ``n_los`` slices of the lightcone in ``hdul[0]`` (cells of ``cell`` Mpc)."""
    header = hdul[0].header
    table = redshift_table(hdul, name)
    if table is not None:
        return _from_table(table, header, n_los, name)
    if _is_number(header.get("ZMIN")):
        return _from_zmin(header, n_los, cell, name)
    raise MissingWCSError(f"{name} gives no redshift per slice: add a REDSHIFT table (column z, or comoving distances "
                          "in Mpc), as `astroml sim lightcone` writes, or ZMIN and CDELT3 (Mpc per slice)")
