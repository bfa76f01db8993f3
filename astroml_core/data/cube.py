"""Spectral cubes on disk, opened lazily and validated: ``open_cube(path) -> Cube``.

A ``Cube`` reads one channel or one spectrum at a time (never the whole file), knows its celestial
WCS, spectral axis (frequency and velocity with units), brightness unit and beam, and accepts the
archival conventions observatories wrote (AIPS NCP / VELO-xxx / FELO-xxx, beams in HISTORY cards,
Galactic frames, velocities in m/s, integer data with BLANK, 4-D cubes with a Stokes axis).
Header repairs (``header_repair``) and beams (``beams``: BMAJ, GIPSY BMMAJ, AIPS HISTORY, CASA's
per-channel BEAMS table) live in their own modules; every repair is a sentence in :attr:`Cube.repairs`.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from ..constants import C_KMS
from ..errors import (ArchivalHeaderWarning, AxisOrderError, HeaderRepairWarning, InvalidFITSError, InvalidWCSError,
                      MissingWCSError, NoCelestialWCSWarning, NonFiniteError, ShapeError, SpectralAxisError,
                      TruncatedFITSError, warn)
from ._reader import PlaneReader, PreadReader, SectionReader, scaling_from_header
from .beams import Beam, read_beams
from .fitsfile import checked_file, is_gzip, open_fits_checked
from .header_repair import HI_REST_FREQ, brightness_unit, default_spectral_unit, read_wcs, rest_frequency

__all__ = ["Cube", "Beam", "WorldCoord", "open_cube", "HI_REST_FREQ"]

_BITPIX = {8: np.uint8, 16: np.int16, 32: np.int32, 64: np.int64, -32: np.float32, -64: np.float64}
# spectral CTYPE (first 4 letters, after wcslib's fixes) → astropy doppler convention
_DOPPLER = {"VRAD": u.doppler_radio, "VOPT": u.doppler_optical, "FELO": u.doppler_optical,
            "VELO": u.doppler_relativistic, "ZOPT": u.doppler_optical}
CONVENTIONS = {"radio": u.doppler_radio, "optical": u.doppler_optical, "relativistic": u.doppler_relativistic}
_CHUNK_BYTES = 64 * 2**20
_FULL_SCAN_BYTES = 256 * 2**20   # cubes up to this size are checked whole for a finite value
_MAX_PROBES = 64                 # bigger ones at this many channels


@dataclass(frozen=True)
class WorldCoord:
    """World coordinates of one voxel: sky position (None without celestial WCS) and spectral values."""

    sky: SkyCoord | None
    frequency: u.Quantity
    velocity: u.Quantity
    velocity_convention: str


@dataclass(frozen=True)
class _SpectralAxis:
    """The cube's spectral WCS, its native unit (Hz, m/s, m or none for redshift) and Doppler kind."""

    wcs: WCS
    native_unit: u.UnitBase
    doppler: str | None
    rest_frequency: u.Quantity


class Cube:
    """A validated, lazily read spectral cube of shape (n_channels, ny, nx).

    Build it with :func:`open_cube`. Values are float32 in :attr:`unit`, blanks as NaN.
    :attr:`repairs` says, one sentence each, which header cards were read other than as written (and what
    was assumed for missing ones); :attr:`warnings` holds those and every other note. :attr:`beams` is
    the beam of every channel when it varies (CASA's BEAMS table), else None; :attr:`beam` is then the
    median beam.
    """

    def __init__(self, path: Path, header: fits.Header, reader: PlaneReader, leads: list[tuple],
                 celestial: WCS | None, spectral: _SpectralAxis, unit: u.UnitBase, beam: Beam | None,
                 notes: tuple[str, ...], repairs: tuple[str, ...] = (),
                 beams: tuple[Beam, ...] | None = None) -> None:
        self.path, self.header, self._reader, self._leads = path, header, reader, leads
        self.celestial, self._spec, self.unit, self.beam = celestial, spectral, unit, beam
        self.repairs, self.beams = repairs, beams
        self.warnings = repairs + tuple(n for n in notes if n not in repairs)
        self.rest_frequency = spectral.rest_frequency
        self._native_unit, self._doppler_name = spectral.native_unit, spectral.doppler
        ny, nx = reader.shape[-2:]
        self.shape = (len(leads), ny, nx)
        self._spectral = None            # a SpectralCopy once use_spectral_copy() is called

    def __repr__(self) -> str:
        return f"<Cube {self.path.name} shape={self.shape} unit={self.unit}>"

    @property
    def n_channels(self) -> int:
        return self.shape[0]

    @property
    def has_sky(self) -> bool:
        """True when the cube has a celestial WCS (else it is shown in pixel coordinates)."""
        return self.celestial is not None

    @property
    def pixel_scale(self) -> u.Quantity | None:
        """Angular size of a pixel along y (None without celestial WCS)."""
        if self.celestial is None:
            return None
        return abs(self.celestial.proj_plane_pixel_scales()[1]).to(u.arcsec)

    # --- spectral axis -------------------------------------------------------------------
    @cached_property
    def _native_values(self) -> u.Quantity:
        values = self._spec.wcs.pixel_to_world_values(np.arange(self.n_channels, dtype=float))
        return np.asarray(values, dtype=float) * self._native_unit

    @property
    def spectral_world(self) -> u.Quantity:
        """The spectral world value of every channel in the axis' own (SI) unit, as wcslib computes it."""
        return self._native_values

    @cached_property
    def frequencies(self) -> u.Quantity:
        """Frequency of every channel (Hz), converted from velocity axes with the rest frequency."""
        native = self._native_values
        if native.unit.physical_type == "frequency":
            return native.to(u.Hz)
        if native.unit.physical_type == "length":
            return native.to(u.Hz, equivalencies=u.spectral())
        if self._doppler_name == "ZOPT":
            native = (native.to_value(u.one) * u.one * C_KMS * u.km / u.s)
        return native.to(u.Hz, equivalencies=_DOPPLER[self._doppler_name](self.rest_frequency))

    @property
    def velocity_convention(self) -> str:
        """'radio', 'optical' or 'relativistic': the cube's own, or optical (cz) for frequency axes."""
        return {"VRAD": "radio", "VELO": "relativistic"}.get(self._doppler_name or "", "optical")

    @cached_property
    def velocities(self) -> u.Quantity:
        """Velocity of every channel (km/s) relative to the rest frequency, in :attr:`velocity_convention`."""
        return self.velocities_in(self.velocity_convention)

    def velocities_in(self, convention: str | None = None) -> u.Quantity:
        """Velocity of every channel (km/s) in ``convention`` ('radio', 'optical' or 'relativistic'; the
        cube's own by default), from the frequencies and the rest frequency."""
        convention = convention or self.velocity_convention
        if convention not in CONVENTIONS:
            raise ValueError(f"velocity convention {convention!r} is not one of {', '.join(CONVENTIONS)}")
        if convention == self.velocity_convention and "velocities" in self.__dict__:
            return self.velocities
        return self.frequencies.to(u.km / u.s, equivalencies=CONVENTIONS[convention](self.rest_frequency))

    @property
    def spectral_unit(self) -> u.Unit:
        """The unit of the cube's own spectral axis (Hz or km/s): the unit moment-0 integrates over."""
        return u.Hz if self._native_unit.physical_type == "frequency" else u.km / u.s

    def channel_of(self, frequency: u.Quantity) -> int:
        """Nearest channel to a frequency (or velocity, in the cube's convention)."""
        ref = self.frequencies if frequency.unit.physical_type == "frequency" else self.velocities
        return int(np.argmin(np.abs((ref - frequency).value)))

    # --- data access -----------------------------------------------------------------------
    def _check_channel(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n_channels:
            raise ShapeError(f"channel {i} is outside 0..{self.n_channels - 1}")
        return i

    def _check_pixel(self, y: int, x: int) -> tuple[int, int]:
        y, x = int(y), int(x)
        if not (0 <= y < self.shape[1] and 0 <= x < self.shape[2]):
            raise ShapeError(f"pixel (y={y}, x={x}) is outside the {self.shape[1]}×{self.shape[2]} image")
        return y, x

    def channel(self, i: int) -> np.ndarray:
        """The image of channel ``i`` (ny, nx), float32 in :attr:`unit`; reads only that plane."""
        return self._reader.plane(self._leads[self._check_channel(i)])

    def subcube(self, channels: tuple[int, int], ys: tuple[int, int], xs: tuple[int, int]) -> np.ndarray:
        """Voxels [c0, c1) × [y0, y1) × [x0, x1) as float32, reading only those rows of those channels."""
        (c0, c1), (y0, y1), (x0, x1) = channels, ys, xs
        if not (0 <= c0 < c1 <= self.n_channels and 0 <= y0 < y1 <= self.shape[1] and 0 <= x0 < x1 <= self.shape[2]):
            raise ShapeError(f"sub-cube {channels}×{ys}×{xs} is outside the cube {self.shape}")
        out = np.empty((c1 - c0, y1 - y0, x1 - x0), np.float32)
        for k, c in enumerate(range(c0, c1)):
            out[k] = self._reader.rows(self._leads[c], y0, y1)[:, x0:x1]
        return out

    def spectrum(self, y: int, x: int) -> np.ndarray:
        """The spectrum at pixel (y, x), float32 in :attr:`unit`, one value per channel (from the spectral
        copy once it is built, see :meth:`use_spectral_copy`)."""
        y, x = self._check_pixel(y, x)
        copy = self._spectral
        if copy is not None and copy.ready:
            return copy.spectrum(y, x)
        return self._reader.column(self._leads, y, x)

    def use_spectral_copy(self, budget: int | None = None):
        """Build (on a background thread) or join the spectral-major copy of this cube's file, which spectra and
        moment-0 maps read once it is ready; None (nothing changes) when the cube is over the memory budget
        (bytes; default ``ASTROML_SPECTRAL_COPY_MB``). See :mod:`astroml_core.data.spectral_copy`."""
        from .spectral_copy import spectral_copy

        self._spectral = spectral_copy(self, budget=budget)
        return self._spectral

    def blocks(self, channels: range, ys: tuple[int, int] | None = None, xs: tuple[int, int] | None = None, *,
               max_bytes: int = _CHUNK_BYTES):
        """Yield (channel range, float32 block) over ``channels`` in blocks of at most ``max_bytes``: whole planes,
        or only the box ``ys`` × ``xs`` (reading only its rows), so no caller ever holds the whole cube."""
        (y0, y1), (x0, x1) = ys or (0, self.shape[1]), xs or (0, self.shape[2])
        per_chunk = max(1, max_bytes // (4 * (y1 - y0) * (x1 - x0)))
        whole = (y0, y1, x0, x1) == (0, self.shape[1], 0, self.shape[2])
        for start in range(0, len(channels), per_chunk):
            chunk = channels[start:start + per_chunk]
            if whole:
                yield chunk, self._reader.block([self._leads[c] for c in chunk])
            else:
                yield chunk, self.subcube((chunk.start, chunk.stop), (y0, y1), (x0, x1))

    def _reduce(self, channels: range, step) -> None:
        for chunk, block in self.blocks(channels):
            step(block, chunk)

    def channel_range(self, channels) -> range:
        """Channels [lo, hi] (either order, clamped to the cube) as a range; all channels for None."""
        if channels is None:
            return range(self.n_channels)
        lo, hi = int(channels[0]), int(channels[1])
        lo, hi = max(0, min(lo, hi)), min(self.n_channels - 1, max(lo, hi))
        return range(lo, hi + 1)

    def moment0(self, channels: tuple[int, int] | None = None, *, velocity: bool = False,
                convention: str | None = None) -> u.Quantity:
        """Integrated intensity Σ S·|Δspectral| over channels [lo, hi] (all by default), NaN-safe.

        In :attr:`unit` × the cube's spectral unit (Jy/beam·Hz for frequency cubes, Jy/beam·km/s for
        velocity cubes), or × km/s with ``velocity=True`` (channel widths in ``convention``, the cube's own
        by default). Reads the channels in ~64 MB chunks so memory stays bounded.
        """
        if velocity:
            widths = self.channel_widths(self.velocities_in(convention).to_value(u.km / u.s))
            return self._integrate(channels, widths) * (self.unit * u.km / u.s)
        native = self._native_values.to(self.spectral_unit, equivalencies=u.spectral()).value
        return self._integrate(channels, self.channel_widths(native)) * (self.unit * self.spectral_unit)

    def integrated_flux_map(self, channels: tuple[int, int] | None = None, *,
                            convention: str | None = None) -> u.Quantity:
        """Line flux per pixel, Σ S_c / Ω_c · |Δv_c| in Jy·km/s, over channels [lo, hi] (all by default).

        S is in Jy/beam (or any flux per beam); Ω_c is the beam area in pixels of channel c — each
        channel's own beam when the cube has a per-channel beam table (CASA), else the one beam. Δv is
        the channel width in ``convention`` (the cube's own by default). Summing the map over a source
        gives its line flux in Jy km/s.

        Raises
        ------
        MissingWCSError without a beam or celestial WCS; ShapeError when the unit is not per beam.
        """
        if self.beam is None or self.pixel_scale is None:
            raise MissingWCSError(f"{self.path.name}: Jy·km/s per pixel needs the beam (BMAJ/BMIN) and the pixel "
                                  "size (CDELT1/2); the header lacks " + ("the beam" if self.beam is None else
                                                                          "a celestial WCS"))
        per_beam = self.unit * u.beam
        if per_beam.physical_type != "spectral flux density":
            raise ShapeError(f"{self.path.name}: its unit {self.unit} is not a flux density per beam (Jy/beam), "
                             "so it cannot be turned into Jy per pixel")
        scale = per_beam.to(u.Jy)
        areas = self.beam_areas()
        widths = self.channel_widths(self.velocities_in(convention).to_value(u.km / u.s)) / areas * scale
        return self._integrate(channels, widths) * (u.Jy * u.km / u.s)

    @staticmethod
    def channel_widths(values: np.ndarray) -> np.ndarray:
        """|Δ| of every channel from the channel centres (central differences), in the values' unit."""
        return np.abs(np.gradient(values)) if values.size > 1 else np.ones(1)

    def beam_at(self, channel: int | None = None) -> Beam | None:
        """The beam of ``channel`` (its own when the beam varies per channel), or :attr:`beam` for None."""
        if channel is None or self.beams is None:
            return self.beam
        return self.beams[self._check_channel(channel)]

    def beam_areas(self) -> np.ndarray | None:
        """Beam solid angle of every channel in pixels (per-channel beams when present); None without a beam
        or celestial WCS."""
        if self.beam is None or self.pixel_scale is None:
            return None
        return np.array([b.area_pixels(self.pixel_scale) for b in (self.beams or [self.beam] * self.n_channels)])

    def _integrate(self, channels, weights: np.ndarray) -> np.ndarray:
        """Σ weight_c · channel_c over the channel range, NaN where every channel is blank (float32)."""
        rng = self.channel_range(channels)
        copy = self._spectral
        if copy is not None and copy.ready:
            total, seen = copy.integrate(rng, weights)
            total[~seen] = np.nan
            return total.astype(np.float32)
        total = np.zeros(self.shape[1:], dtype=np.float64)
        seen = np.zeros(self.shape[1:], dtype=bool)

        def add(block: np.ndarray, chunk: range) -> None:
            finite = np.isfinite(block)
            if not finite.all():                         # blanks count as 0, and only there is a copy made
                block = np.where(finite, block, np.float32(0))
            total[...] += np.tensordot(np.asarray(weights[chunk.start:chunk.stop], np.float32), block, axes=(0, 0))
            seen[...] |= finite.any(axis=0)

        self._reduce(rng, add)
        total[~seen] = np.nan
        return total.astype(np.float32)

    def peak(self, channels: tuple[int, int] | None = None) -> u.Quantity:
        """Peak value along the spectral axis at each pixel (NaN where all blank), in :attr:`unit`."""
        best = np.full(self.shape[1:], -np.inf, dtype=np.float32)

        def take(block: np.ndarray, chunk: range) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                np.fmax(best, np.nanmax(block, axis=0), out=best)

        self._reduce(self.channel_range(channels), take)
        best[~np.isfinite(best)] = np.nan
        return best * self.unit

    def world(self, i: int, y: float, x: float) -> WorldCoord:
        """Sky position and frequency/velocity of voxel (channel i, pixel y, x)."""
        i = self._check_channel(i)
        sky = self.celestial.pixel_to_world(x, y) if self.celestial is not None else None
        return WorldCoord(sky, self.frequencies[i], self.velocities[i], self.velocity_convention)

    def pixel_of(self, sky: SkyCoord):
        """Pixel (y, x) of a sky position, floats (arrays for an array of positions); needs a celestial WCS."""
        if self.celestial is None:
            raise MissingWCSError("this cube has no celestial WCS")
        x, y = self.celestial.world_to_pixel(sky)
        if np.ndim(x) == 0:
            return float(y), float(x)
        return np.asarray(y, dtype=float), np.asarray(x, dtype=float)


# --- opening and validation ------------------------------------------------------------------
def as_cube(cube) -> Cube:
    """``cube`` itself when it is an open :class:`Cube`, else the cube at that path, opened (a worker process or
    cluster node is handed the path)."""
    return open_cube(cube) if isinstance(cube, (str, os.PathLike)) else cube


def open_cube(path: str | os.PathLike, *, max_bytes: int | None = None) -> Cube:
    """Open a FITS spectral cube lazily and validate it.

    Parameters
    ----------
    path : file path of a FITS cube (3-D, or 4-D with a degenerate Stokes axis).
    max_bytes : refuse files bigger than this (default: ``settings().max_cube_bytes``).

    Raises
    ------
    PathNotAllowedError, InvalidFITSError, TruncatedFITSError, ShapeError, AxisOrderError, InvalidWCSError,
    SpectralAxisError, NonFiniteError, TooLargeError, DecompressionBombError — each with a message saying
    what to do.
    """
    from ..config import settings

    path = checked_file(path)
    limit = settings().max_cube_bytes if max_bytes is None else max_bytes
    hdul = _open_fits(path, limit)
    hdu = _image_hdu(hdul, path.name)
    header = hdu.header
    shape = tuple(hdu.shape)
    if len(shape) < 3:
        raise ShapeError(f"{path.name} holds a {len(shape)}-D image {shape[::-1]}, not a cube: "
                         "a spectral cube needs two sky axes and a spectral axis")
    if len(shape) > 4:
        raise ShapeError(f"{path.name} has {len(shape)} axes; only 3-D cubes and 4-D cubes with a "
                         "single Stokes plane can be browsed")
    reader = _reader_for(hdu, path)
    notes: list[str] = []
    wcs, repairs = read_wcs(header, len(shape), path.name)
    _check_invertible(wcs, path.name)
    spec, stokes_axis = _classify_axes(wcs, header, path.name)
    leads, stokes_plane = _channel_leads(shape, spec, stokes_axis, wcs, notes, path.name)
    celestial = _celestial(wcs, notes, path.name)
    spectral = wcs.sub([spec + 1])
    native_unit = u.Unit(spectral.wcs.cunit[0] or default_spectral_unit(spectral.wcs.ctype[0]))
    kind = spectral.wcs.ctype[0][:4].upper()
    doppler = kind if kind in _DOPPLER else None
    if native_unit.physical_type not in ("frequency", "length") and doppler is None:
        raise SpectralAxisError(f"{path.name}: axis {spec + 1} ({spectral.wcs.ctype[0]}) is not a "
                                "frequency, velocity, wavelength or redshift axis")
    rest = rest_frequency(wcs, header, repairs, needed=doppler is not None)
    beam, beams, beam_notes = read_beams(hdul, header, len(leads), stokes_plane, name=path.name)
    (notes if beam is not None and beam.source == "table" else repairs).extend(beam_notes)  # a table is no repair
    unit = brightness_unit(header, repairs)
    if beam is None and "beam" in str(unit):
        repairs.append(f"no beam in the header (BMAJ/BMIN/BPA, BMMAJ/BMMIN, an AIPS CLEAN HISTORY card or a BEAMS "
                       f"table) although BUNIT is {unit}: no beam is drawn and Jy per pixel cannot be computed")
    cube = Cube(path, header, reader, leads, celestial, _SpectralAxis(spectral, native_unit, doppler, rest),
                unit, beam, tuple(notes), tuple(repairs), beams)
    _check_finite(cube, path.name)
    for note in repairs:
        warn(note, HeaderRepairWarning)
    for note in notes:
        warn(note, NoCelestialWCSWarning if "pixel coordinates" in note else ArchivalHeaderWarning)
    return cube


def _open_fits(path: Path, max_bytes: int | None = None) -> fits.HDUList:
    """The checked HDU list (headers read, truncation and decompression bombs refused), raw values unscaled:
    the readers apply BSCALE/BZERO/BLANK per read."""
    return open_fits_checked(path, max_bytes, memmap=False, scale=False)


def _image_hdu(hdul: fits.HDUList, name: str):
    """The first HDU holding image data (truncation is checked by ``_reader_for``)."""
    for hdu in hdul:
        if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)) and hdu.header.get("NAXIS", 0) > 0 \
                and all(n > 0 for n in hdu.shape):
            return hdu
    raise ShapeError(f"{name} holds no image data (no HDU with NAXIS > 0)")


def _reader_for(hdu, path: Path) -> PlaneReader:
    """A plane reader of the HDU's data: positional reads of a plain file, astropy's section otherwise."""
    shape = tuple(hdu.shape)
    if len(shape) < 2:
        raise ShapeError(f"{path.name} holds a 1-D array of {shape[0] if shape else 0} values, not an image: "
                         "give a file whose data has two sky axes (and bands or channels)")
    bitpix = hdu.header["BITPIX"]
    if bitpix not in _BITPIX:
        raise InvalidFITSError(f"{path.name}: BITPIX = {bitpix} is not a FITS data type")
    if isinstance(hdu, fits.CompImageHDU) or is_gzip(path):
        return SectionReader(hdu, path.name, scaling_from_header(hdu.header))
    info = hdu.fileinfo()
    need = info["datLoc"] + int(np.prod(shape)) * abs(bitpix) // 8
    size = path.stat().st_size
    if size < need:
        raise TruncatedFITSError(f"{path.name} is truncated: the header announces {need:,} bytes but "
                                 f"the file has {size:,}; copy or download it again")
    return PreadReader(str(path), info["datLoc"], shape, _BITPIX[bitpix], scaling_from_header(hdu.header))


def _check_invertible(wcs: WCS, name: str) -> None:
    """InvalidWCSError when the sky axes' matrix has no inverse (wcslib accepts a rank-deficient PC matrix,
    and every sky position would then map back to a NaN pixel)."""
    if wcs.has_celestial and not invertible(wcs.celestial):
        raise InvalidWCSError(f"{name}: the matrix of its sky axes (CDELT1/2 with PC1_1…PC2_2 or CD1_1…CD2_2) is "
                              "singular, so sky positions have no pixel; fix those cards")


def invertible(celestial: WCS) -> bool:
    """True when a 2-D WCS's pixel → sky matrix is finite and far from singular (scale-free test)."""
    m = np.asarray(celestial.pixel_scale_matrix, dtype=float)
    if m.shape != (2, 2) or not np.isfinite(m).all():
        return False
    norms = np.linalg.norm(m, axis=1)
    if (norms == 0).any():
        return False
    return abs(np.linalg.det(m / norms[:, None])) > 1e-9


def _classify_axes(wcs: WCS, header: fits.Header, name: str) -> tuple[int, int | None]:
    """(spectral axis index, stokes axis index or None), 0-based FITS order; checks the axis order."""
    ctypes = [c.upper() for c in wcs.wcs.ctype]
    spec = wcs.wcs.spec
    if spec < 0:
        k = next((i for i, c in enumerate(ctypes) if i >= 2 and not c.startswith("STOKES")), len(ctypes) - 1)
        ctype, cunit = header.get(f"CTYPE{k + 1}", ""), header.get(f"CUNIT{k + 1}", "")
        card = f"CTYPE{k + 1} = '{ctype}' (CUNIT{k + 1} = '{cunit}')"
        raise SpectralAxisError(f"{name}: no spectral axis among CTYPEs {ctypes}: {card} is not a spectral type; a "
                                "cube needs a FREQ, VRAD, VOPT, WAVE/AWAV (or AIPS VELO-/FELO-) axis, or a LINEAR one "
                                "with CUNIT in a length or frequency unit")
    stokes = next((k for k, c in enumerate(ctypes) if c.startswith("STOKES")), None)
    if wcs.wcs.lng >= 0 and (wcs.wcs.lng, wcs.wcs.lat) != (0, 1):
        raise AxisOrderError(f"{name}: the sky axes are FITS axes {wcs.wcs.lng + 1} and {wcs.wcs.lat + 1} "
                             f"({ctypes}); expected longitude, latitude, spectral as axes 1, 2, 3 — "
                             "reorder the cube (e.g. with spectral-cube or CASA imtrans)")
    if spec < 2:
        raise AxisOrderError(f"{name}: the spectral axis is FITS axis {spec + 1} ({ctypes[spec]}); "
                             "expected the two sky axes first (axes 1, 2) and the spectral axis after")
    return spec, stokes


def _channel_leads(shape: tuple, spec: int, stokes: int | None, wcs: WCS, notes: list[str],
                   name: str = "the cube") -> tuple[list[tuple], int]:
    """Numpy leading-axis index of every channel plane, picking Stokes I (or the only plane), and the index
    of the plane picked on the fourth axis."""
    ndim = len(shape)
    if ndim == 3:
        return [(c,) for c in range(shape[0])], 0
    other = 5 - spec  # the non-spectral extra FITS axis (2 or 3, 0-based), numpy index ndim-1-other
    n_other = shape[ndim - 1 - other]
    pick = 0
    if n_other > 1:
        if stokes != other:
            raise ShapeError(f"{name}: a 4-D cube with {n_other} planes on axis {other + 1}, which is not STOKES; only "
                             "a degenerate fourth axis can be browsed: cut it to one plane")
        values = wcs.sub([other + 1]).pixel_to_world_values(np.arange(n_other, dtype=float))
        hits = np.flatnonzero(np.isclose(np.asarray(values), 1.0))
        pick = int(hits[0]) if hits.size else 0
        notes.append(f"showing Stokes plane {pick + 1} of {n_other} (I when present)")
    spec_np, other_np = ndim - 1 - spec, ndim - 1 - other
    leads = []
    for c in range(shape[spec_np]):
        idx = [0, 0]
        idx[spec_np], idx[other_np] = c, pick
        leads.append(tuple(idx))
    return leads, pick


def _celestial(wcs: WCS, notes: list[str], name: str) -> WCS | None:
    if not wcs.has_celestial:
        notes.append(f"{name} has no celestial WCS: positions are shown in pixel coordinates")
        return None
    return wcs.celestial


def _check_finite(cube: Cube, name: str) -> None:
    """NonFiniteError if no value is finite. A few spread channels are read first; a cube of up to 256 MB is
    then scanned whole, a bigger one only at up to 64 channels spread across it, so an all-NaN gigabyte is
    refused in a fraction of a second instead of being read end to end."""
    n = cube.n_channels
    probe = np.unique(np.linspace(0, n - 1, min(8, n)).astype(int))
    if any(np.isfinite(cube.channel(int(c))).any() for c in probe):
        return
    plane_bytes = 4 * cube.shape[1] * cube.shape[2]
    if n * plane_bytes <= _FULL_SCAN_BYTES:
        found = False

        def look(block: np.ndarray, chunk: range) -> None:
            nonlocal found
            found = found or bool(np.isfinite(block).any())

        cube._reduce(range(n), look)
        if not found:
            raise NonFiniteError(f"{name}: every value is NaN, blank or infinite; nothing to show")
        return
    sample = np.unique(np.linspace(0, n - 1, int(min(n, _MAX_PROBES, max(1, _FULL_SCAN_BYTES // plane_bytes))))
                       .astype(int))
    if not any(np.isfinite(cube.channel(int(c))).any() for c in sample):
        raise NonFiniteError(f"{name}: the {len(sample)} channels sampled across its {n:,} hold no finite value (all "
                             "NaN, blank or infinite); if its signal lies in a few channels only, cut the cube to them")
