"""DS9 and CRTF region files, read and written by astropy's ``regions`` package, in sky or image coordinates."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from astropy.wcs import WCS

from ...errors import MissingWCSError, RegionError, RegionFileError, TooLargeError
from .shapes import Region, from_regions

__all__ = ["ParsedRegions", "FORMATS", "MAX_REGION_FILE_CHARS", "MAX_REGIONS", "guess_format", "parse_regions",
           "serialize_regions"]

FORMATS = ("ds9", "crtf")
MAX_REGION_FILE_CHARS = 512 * 1024   # a region file is text: half a megabyte is thousands of regions
MAX_REGIONS = 200                    # regions one file may bring


# --- files -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedRegions:
    """Regions read from a file, and one sentence per line or shape that was skipped (and why)."""

    regions: tuple[Region, ...]
    skipped: tuple[str, ...] = ()
    format: str = "ds9"


def guess_format(text: str, filename: str = "") -> str:
    """'crtf' for a CASA region file (``#CRTF`` first line or a ``.crtf`` name), else 'ds9'."""
    if filename.lower().endswith(".crtf") or text.lstrip().upper().startswith("#CRTF"):
        return "crtf"
    return "ds9"


def _repaired(text: str, fmt: str) -> str:
    """Defaults the files leave implicit, made explicit for the ``regions`` reader: DS9 shapes before any
    coordinate-system line are in image pixels (DS9's own default, physical, is the image here), and CRTF
    sky positions without a ``coord=`` are J2000 (CASA's default; ``regions`` would read them as pixels)."""
    if fmt == "ds9":
        return "image\n" + text
    if "coord=" not in text.lower() and not re.search(r"\d\s*pix\b", text, re.IGNORECASE):
        lines = text.splitlines()
        head = 1 if lines and lines[0].strip().upper().startswith("#CRTF") else 0
        return "\n".join(lines[:head] + ["global coord=J2000"] + lines[head:]) + "\n"
    return text


def parse_regions(text: str, *, format: str | None = None, wcs: WCS | None = None,
                  filename: str = "") -> ParsedRegions:
    """Read DS9 or CRTF region text (``format`` 'ds9' or 'crtf'; guessed from the text and ``filename``
    when None) into pixel regions, sky ones through the cube's celestial ``wcs``.

    Shapes without an area (points, lines, text) and sky shapes without a ``wcs`` are skipped and said in
    :attr:`ParsedRegions.skipped`. Raises TooLargeError over :data:`MAX_REGION_FILE_CHARS` or
    :data:`MAX_REGIONS`, RegionFileError when the text cannot be read or holds no usable region.
    """
    from regions import Regions

    if len(text) > MAX_REGION_FILE_CHARS:
        raise TooLargeError(f"the region file has {len(text):,} characters, over the limit of "
                            f"{MAX_REGION_FILE_CHARS:,}: split it, or keep the regions you need")
    fmt = (format or guess_format(text, filename)).lower()
    if fmt not in FORMATS:
        raise RegionFileError(f"region format {fmt!r} is not one of {', '.join(FORMATS)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = Regions.parse(_repaired(text, fmt), format=fmt)
        except Exception as exc:    # the regions parsers raise ValueError, unit and index errors on bad text
            raise RegionFileError(f"this is not a readable {fmt.upper()} region file ({_flat(exc)}); "
                                  f"write it as {_EXAMPLE[fmt]}") from None
    if len(found) > MAX_REGIONS:
        raise TooLargeError(f"the file holds {len(found)} regions, over the limit of {MAX_REGIONS}: keep the ones "
                            "you need")
    skipped = [_flat(w.message) for w in caught if "region" in str(w.message).lower()]
    out = []
    for obj in found:
        try:
            region = from_regions(obj, wcs)
        except (RegionError, MissingWCSError) as exc:
            skipped.append(str(exc))
            continue
        out.append(region)
    if not out:
        why = "; ".join(skipped[:3]) or "no region line"
        raise RegionFileError(f"no circle, ellipse, box or polygon could be read from this {fmt.upper()} file "
                              f"({why}); write regions as {_EXAMPLE[fmt]}")
    return ParsedRegions(tuple(out), tuple(skipped), fmt)


_EXAMPLE = {"ds9": "'fk5' then 'circle(180.0,-30.0,20\")' or 'image' then 'circle(100,120,8)'",
            "crtf": "'#CRTFv0' then 'circle[[180deg, -30deg], 20arcsec]'"}


def serialize_regions(regions: list[Region] | tuple[Region, ...], format: str = "ds9", *,
                      wcs: WCS | None = None) -> str:
    """DS9 or CRTF text of ``regions``: in sky coordinates through the cube's celestial ``wcs`` (ICRS for
    DS9, J2000 for CRTF), or in image pixels (DS9 only) without one.

    Raises RegionError for no regions, MissingWCSError for CRTF without a celestial WCS.
    """
    from regions import Regions

    fmt = format.lower()
    if fmt not in FORMATS:
        raise RegionFileError(f"region format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not regions:
        raise RegionError("there are no regions to write: draw or import one first")
    if fmt == "crtf" and wcs is None:
        raise MissingWCSError("CRTF region files hold sky coordinates, and this cube has no celestial WCS: "
                              "export DS9 regions (image pixels) instead")
    objs = Regions([r.to_regions(wcs) for r in regions])
    if fmt == "crtf":
        return objs.serialize(format="crtf", fmt=".8f")
    return objs.serialize(format="ds9", precision=8)


def _flat(exc: object) -> str:
    """A message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
