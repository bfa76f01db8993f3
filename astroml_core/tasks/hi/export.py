"""Catalogue files: ECSV, CSV, VOTable and DS9 regions (via the ``regions`` package)."""
from __future__ import annotations

import os
from pathlib import Path

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from .source_shape import axis_ratio
from ...data.tables import TABLE_FORMATS, write_table
from ...errors import AstroMLError

__all__ = ["write_catalogue", "to_regions", "FORMATS"]

FORMATS = {**TABLE_FORMATS, ".reg": "ds9"}


def to_regions(table: QTable):
    """One sky ellipse per source: major axis hi_size (at least the 7″ beam shown as 1″), axis ratio
    from the inclination (intrinsic q0 = 0.2), position angle PA East of North (regions' angle is
    measured from the longitude axis, so angle = PA + 90°)."""
    from regions import EllipseSkyRegion, Regions

    out = []
    for row in table:
        major = max(float(row["hi_size"].to_value(u.arcsec)), 1.0)
        q = float(axis_ratio(row["i"]))
        centre = SkyCoord(row["ra"], row["dec"], frame="icrs")
        region = EllipseSkyRegion(centre, width=major * u.arcsec, height=major * q * u.arcsec,
                                  angle=((float(row["pa"].to_value(u.deg)) + 90) % 360) * u.deg)
        region.meta["text"] = f"{int(row['id'])}"
        out.append(region)
    return Regions(out)


def write_catalogue(table: QTable, path: str | os.PathLike) -> Path:
    """Write a catalogue in the format its suffix names (.ecsv, .csv, .vot/.xml, or .reg for DS9 regions)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise AstroMLError(f"unknown catalogue format '{path.suffix}'; use one of {sorted(FORMATS)}")
    if path.suffix.lower() != ".reg":
        return write_table(table, path)
    to_regions(table).write(str(path), format="ds9", overwrite=True)
    return path
