"""``astroml info FILE [--as cube|image|spectra|lightcone]``: open any file we read and say what it holds.

The kind is decided from the headers (:func:`astroml_core.data.sniff.kind_of`) unless ``--as`` names it.
Each kind prints its first line ``kind: <kind>``, then what a user checks before running a task:

- cube: shape, unit, spectral range (in the axis' own quantity) and velocity convention, centre sky position,
  pixel scale, beam;
- image: bands, shape, unit and flux scale (file values → unit, when converted), centre sky position, pixel scale;
- spectra: how many, wavelength range;
- lightcone: cells, cell size, redshift range.

Centres are the sky position of the middle pixel ((n − 1) / 2, 0-based), in the WCS' own frame, in degrees to
1e-9 (and sexagesimal for equatorial frames). Every note or header repair the reader made, and every warning
it gave, is one ``note:`` line on stderr.
"""
from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np

from .errors import AstroMLWarning

__all__ = ["info", "add_info_command"]


def _centre(sky) -> str:
    """``<frame> lon lat deg`` to 1e-9 deg, with the sexagesimal form for equatorial frames."""
    lon, lat = sky.spherical.lon.deg, sky.spherical.lat.deg
    frame = sky.frame.name
    text = f"{frame} {lon:.9f} {lat:+.9f} deg"
    if frame in ("icrs", "fk5", "fk4"):
        text += f" ({sky.to_string('hmsdms', precision=3)})"
    return text


def _spectral_range(cube) -> str:
    """First and last channel in the axis' own quantity (frequency in MHz, velocity in km/s, wavelength in Å)."""
    import astropy.units as u

    values = cube.spectral_world
    kind = values.unit.physical_type
    shown = {"frequency": u.MHz, "length": u.AA}.get(str(kind), u.km / u.s)
    first, last = values[0].to(shown), values[-1].to(shown)
    return f"{first.value:.10g} … {last.value:.10g} {shown.to_string()}; velocity convention {cube.velocity_convention}"


def _info_cube(path, out: list[str], notes: list[str]) -> None:
    from .data import open_cube

    cube = open_cube(path)
    n, ny, nx = cube.shape
    out.append(f"{cube.path}: {n} channels × {ny} × {nx} pixels, unit {cube.unit}")
    out.append(f"spectral: {_spectral_range(cube)}")
    if cube.has_sky:
        out.append(f"centre: {_centre(cube.world(0, (ny - 1) / 2, (nx - 1) / 2).sky)}")
        out.append(f"pixel: {cube.pixel_scale:.4f}")
    else:
        out.append("centre: none (no celestial WCS: positions in pixels)")
    if cube.beam:
        out.append(f"beam: {cube.beam.major:.2f} × {cube.beam.minor:.2f}, PA {cube.beam.pa:.1f} ({cube.beam.source})")
    notes += [*getattr(cube, "repairs", ()), *cube.warnings]


def _info_image(path, out: list[str], notes: list[str]) -> None:
    from .data import open_multiband

    image = open_multiband(path)
    ny, nx = image.shape
    out.append(f"{image.path}: {len(image.bands)} band(s) {', '.join(image.bands)}; {ny} × {nx} pixels, "
               f"unit {image.unit or 'none given'}")
    scales = tuple(getattr(image, "flux_scale", ()) or ())
    if any(scale != 1 for scale in scales):
        out.append("flux scale: " + ", ".join(f"{band} × {scale:.6g}" for band, scale in zip(image.bands, scales))
                   + f" (file values → {image.unit})")
    if image.wcs is not None:
        out.append(f"centre: {_centre(image.wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2))}")
        out.append(f"pixel: {image.pixel_arcsec:.4f} arcsec")
    else:
        out.append("centre: none (no celestial WCS: positions in pixels)")
    notes += list(getattr(image, "notes", ()))


def _info_spectra(path, out: list[str], notes: list[str]) -> None:
    from .data.spectra import open_spectra

    spectra = open_spectra(path)
    wave = spectra.wavelength
    name = spectra.path or path
    out.append(f"{name}: {len(spectra)} spectr{'um' if len(spectra) == 1 else 'a'} of {len(wave)} pixels, {wave[0]:.2f} … {wave[-1]:.2f} Å (vacuum)")
    notes += list(getattr(spectra, "notes", ()))


def _info_lightcone(path, out: list[str], notes: list[str]) -> None:
    from .tasks.inference import open_lightcone

    lc = open_lightcone(path)
    nx, ny, nz = lc.tb.shape
    z = lc.redshift
    out.append(f"{path}: {nx} × {ny} × {nz} cells (x, y, line of sight) of {lc.cell_mpc:g} comoving Mpc, δT_b in mK")
    out.append(f"redshift: {np.nanmin(z):.4f} … {np.nanmax(z):.4f}"
               + ("; true parameters in the header" if lc.truth else ""))
    notes += list(getattr(lc, "notes", ()))


_READERS = {"cube": _info_cube, "image": _info_image, "spectra": _info_spectra, "lightcone": _info_lightcone}


def info(args: argparse.Namespace) -> int:
    """Print what ``args.file`` holds (kind sniffed from the headers or ``--as``); notes on stderr."""
    from .data.sniff import kind_of

    kind = getattr(args, "as_kind", None) or kind_of(args.file)
    out, notes = [f"kind: {kind}" + ("" if getattr(args, "as_kind", None) else " (from its headers)")], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", AstroMLWarning)
        _READERS[kind](args.file, out, notes)
    notes += [str(w.message) for w in caught if issubclass(w.category, AstroMLWarning)]
    print("\n".join(out))
    for note in dict.fromkeys(n for n in notes if n):
        print(f"note: {note}", file=sys.stderr)
    return 0


def add_info_command(sub) -> None:
    """``astroml info FILE [--as KIND]``."""
    p = sub.add_parser("info", help="validate any file we read (cube, image, spectra, lightcone) and print what it holds")
    p.add_argument("file", help="FITS file; its kind is decided from its headers")
    p.add_argument("--as", dest="as_kind", choices=tuple(_READERS), help="read it as this kind instead of the one its headers suggest")
    p.set_defaults(func=info)
