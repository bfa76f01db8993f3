"""What the cube page says about an open cube: its facts, its header repairs, the channel label in the
velocity convention the user chose, and the moment-0 map in the unit the user chose. No widgets here:
plain text builders (every string from the file escaped through ``safe_text``) and one map function."""
from __future__ import annotations

import astropy.units as u

from astroml_core.data import Cube
from astroml_core.display.units import pretty_unit

from ...components.safe_text import html_text, md_text

__all__ = ["VELOCITY_CHOICES", "MOMENT_UNITS", "banner_notes", "beam_pixels", "convention", "describe",
           "repairs_html", "channel_text", "moment_map", "sky_text"]

# the velocity convention shown: the file's own or one the user picks (values go into the URL)
VELOCITY_CHOICES = {"as in the file": "file", "radio": "radio", "optical": "optical",
                    "relativistic": "relativistic"}
# moment-0 units: the file's spectral unit, per beam in km/s, or Jy km/s per pixel (each channel's beam)
MOMENT_UNITS = {"× the file's spectral unit": "native", "× km/s (Jy/beam·km/s)": "beam",
                "Jy·km/s per pixel": "pixel"}
_SYMBOL = {"optical": "v<sub>opt</sub>", "radio": "v<sub>rad</sub>", "relativistic": "v"}


def convention(cube: Cube, choice: str) -> str:
    """The convention to show: the user's choice, or the cube's own for 'file'."""
    return cube.velocity_convention if choice in ("file", "", None) else choice


def describe(cube: Cube) -> str:
    """Markdown facts: shape, band, unit, pixel, beam (and whether it varies per channel), rest frequency."""
    f = cube.frequencies.to_value(u.MHz)
    lines = [f"**Shape** {cube.n_channels} channels × {cube.shape[1]} × {cube.shape[2]} px",
             f"**Band** {f.min():.3f}–{f.max():.3f} MHz, Δν {abs(f[1] - f[0]) * 1e3:.1f} kHz"
             if cube.n_channels > 1 else f"**Frequency** {f[0]:.3f} MHz",
             f"**Unit** {md_text(pretty_unit(cube.unit) or 'none')}"]
    if cube.pixel_scale is not None:
        lines.append(f"**Pixel** {cube.pixel_scale.to_value(u.arcsec):.2f}″")
    if cube.beam is not None:
        b = cube.beam
        text = (f"**Beam** {b.major.to_value(u.arcsec):.1f}″ × {b.minor.to_value(u.arcsec):.1f}″, "
                f"PA {b.pa.to_value(u.deg):.0f}°")
        if cube.beams is not None:
            majors = [x.major.to_value(u.arcsec) for x in cube.beams]
            text += (f" (median; the beam varies per channel, major {min(majors):.1f}″–{max(majors):.1f}″, "
                     "and each channel's is used for Jy per pixel)")
        elif b.source != "header":
            text += {"BMMAJ": " (from BMMAJ/BMMIN)", "history": " (from an AIPS HISTORY card)"}.get(b.source, "")
        lines.append(text)
    lines.append(f"**Rest frequency** {cube.rest_frequency.to_value(u.MHz):.4f} MHz")
    return "  \n".join(lines)


def banner_notes(cube: Cube) -> list[str]:
    """The banner's notes: every warning that is not a header repair, and one line pointing to the repairs."""
    others = [w for w in cube.warnings if w not in cube.repairs]
    if not cube.repairs:
        return others
    return others + [f"{len(cube.repairs)} header card(s) read other than as written or assumed: see "
                     "“Header repairs” under the cube's facts"]


def repairs_html(cube: Cube) -> str:
    """The header repairs as an escaped HTML list under a 'Header repairs' heading ('' when there are none)."""
    if not cube.repairs:
        return ""
    items = "".join(f"<li>{html_text(r)}</li>" for r in cube.repairs)
    return (f"<div class='header-repairs'><b>Header repairs</b> ({len(cube.repairs)}): cards read other than "
            f"as written, or assumed where missing<ul style='margin:4px 0 0 0;padding-left:18px'>{items}</ul></div>")


def channel_text(cube: Cube, i: int, choice: str, lead: str = "frequency") -> str:
    """'Channel i / n · f MHz · v = … km/s · z' in the chosen velocity convention (HTML); with ``lead`` 'radio'
    or 'optical' (the spectral axis shown) that velocity comes first, in bold."""
    conv = lead if lead in ("radio", "optical") else convention(cube, choice)
    f = cube.frequencies[i].to_value(u.MHz)
    v = cube.velocities_in(conv)[i].to_value(u.km / u.s)
    z = cube.rest_frequency.to_value(u.MHz) / f - 1
    velocity = f"{_SYMBOL[conv]} = {v:,.1f} km/s"
    if conv == lead:
        return (f"<b>{velocity}</b> ({conv}) · Channel <b>{i}</b> / {cube.n_channels - 1} · {f:.4f} MHz · "
                f"z = {z:.5f}")
    return (f"Channel <b>{i}</b> / {cube.n_channels - 1} · <b>{f:.4f} MHz</b> · {velocity} "
            f"({conv}) · z = {z:.5f}")


def moment_map(cube: Cube, channels: tuple[int, int], unit: str, choice: str) -> u.Quantity:
    """Moment 0 over ``channels`` in the chosen unit ('native', 'beam' or 'pixel'; see MOMENT_UNITS)."""
    if unit == "pixel":
        return cube.integrated_flux_map(channels, convention=convention(cube, choice))
    if unit == "beam":
        return cube.moment0(channels, velocity=True, convention=convention(cube, choice))
    return cube.moment0(channels)


def sky_text(cube: Cube, sky) -> str:
    """The pointer's sky position: RA/Dec in sexagesimal, or l/b in degrees for a Galactic cube."""
    if sky is None:
        return "no sky WCS"
    if not cube.celestial.wcs.ctype[0].startswith("RA"):
        g = sky.galactic
        return f"l {g.l.deg:.5f}°  b {g.b.deg:+.5f}°"
    return ("RA " + sky.icrs.ra.to_string(unit=u.hour, sep="hms", precision=2, pad=True)
            + "  Dec " + sky.icrs.dec.to_string(sep=("°", "′", "″"), precision=1, alwayssign=True, pad=True))


def beam_pixels(cube: Cube, channel: int | None) -> tuple:
    """(major, minor) in pixels and PA in degrees of the beam to draw: the channel's own when it varies (None:
    the representative beam, for maps); (None, None, None) without a beam or sky WCS."""
    beam, scale = cube.beam_at(channel), cube.pixel_scale
    if beam is None or scale is None:
        return None, None, None
    return (beam.major / scale).to_value(u.one), (beam.minor / scale).to_value(u.one), beam.pa.to_value(u.deg)
