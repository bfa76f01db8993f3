"""Whether a cube is like the cubes hi_unet was trained on: notes the catalogue carries when it is not.

The model saw HI (1.420 GHz rest frequency) cubes with beams of 2–6 pixels and channels of ~6–8 km/s.
A cube outside that can still be searched (smooth-and-clip and the reliability calibrate on the cube), but
the user is told, on the page, in the CLI and in the written catalogue, which assumptions no longer hold.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from ...data.header_repair import HI_REST_FREQ

__all__ = ["cube_notes", "TRAINED_BEAM_PX", "TRAINED_CHANNEL_KMS"]

TRAINED_BEAM_PX = (2.0, 6.0)
TRAINED_CHANNEL_KMS = (3.0, 16.0)
RADIO_MAX_HZ = 3e12                   # above 100 µm: not a radio cube     # trained on 6.3–7.6 km/s; 2× either way still resolves HI lines alike


def cube_notes(cube) -> list[str]:
    """Sentences on how ``cube`` differs from the training cubes (empty when it does not)."""
    notes = []
    freq = float(np.median(cube.frequencies.to_value(u.Hz)))
    if freq > RADIO_MAX_HZ:
        wavelength = (freq * u.Hz).to(u.um, equivalencies=u.spectral())
        return [f"the spectral axis lies at {wavelength:.3g} (optical/infrared), not in the radio: hi_unet finds HI "
                "in radio cubes; its detections here are bright line or continuum features, not HI sources"]
    rest = cube.rest_frequency.to_value(u.Hz) if cube.rest_frequency is not None else np.nan
    hi = HI_REST_FREQ.to_value(u.Hz)
    if not (np.isfinite(rest) and abs(rest / hi - 1) < 0.01):
        what = f"{rest / 1e9:.4g} GHz" if np.isfinite(rest) else "not given"
        notes.append(f"rest frequency {what}, not HI's 1.4204 GHz: the model was trained on HI cubes; line fluxes "
                     "stand, but HI sizes and masses from HI relations do not apply")
    if cube.beam is None:
        notes.append("no beam in the header (BMAJ/BMIN): a 3-pixel beam is assumed for smoothing and S/N")
    elif cube.pixel_scale is not None:
        beam_px = cube.beam.major.to_value(u.arcsec) / cube.pixel_scale.to_value(u.arcsec)
        if not TRAINED_BEAM_PX[0] * 0.75 <= beam_px <= TRAINED_BEAM_PX[1] * 1.5:
            notes.append(f"the beam spans {beam_px:.1f} pixels; the model was trained on beams of "
                         f"{TRAINED_BEAM_PX[0]:g}–{TRAINED_BEAM_PX[1]:g} pixels")
    width = _channel_kms(cube)
    if np.isfinite(width) and not TRAINED_CHANNEL_KMS[0] <= width <= TRAINED_CHANNEL_KMS[1]:
        notes.append(f"channels are {width:.3g} km/s wide; the model was trained on 6–8 km/s channels, so line "
                     "widths span other numbers of channels than it learned")
    return notes


def _channel_kms(cube) -> float:
    """Median channel width in km/s (radio convention about the cube's rest frequency), NaN when unknown."""
    try:
        v = cube.velocities_in("radio").to_value(u.km / u.s)
    except (u.UnitsError, ValueError, TypeError):   # no spectral axis that converts: nothing to compare
        return float("nan")
    return float(np.median(np.abs(np.diff(v)))) if v.size > 1 else float("nan")
