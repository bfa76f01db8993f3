"""Moment maps of a spectral cube: moment 0, 1, 2 and peak over a channel range, with a clip or a 3-D mask.

Definitions follow spectral-cube's ``SpectralCube.moment`` and CASA's ``immoments``, with w_c = S_c·|Δv_c|
the weight of channel c (S its value, Δv its width in the chosen velocity convention):

- moment 0 = Σ w_c (Jy/beam·km/s for a Jy/beam cube; the radio default);
- moment 1 = Σ w_c v_c / Σ w_c (km/s), the intensity-weighted velocity;
- moment 2 = √(Σ w_c (v_c − M1)² / Σ w_c) (km/s), the velocity dispersion. spectral-cube's ``moment(order=2)``
  is the variance (its square); its ``linewidth_sigma`` and CASA's moment 2 are this dispersion;
- peak = max_c S_c (the cube's unit).

Voxels count when finite, inside the mask (if any) and, with ``clip``, at or above clip × σ, σ being one robust
noise for the whole cube (1.4826 × MAD of up to 32 channels spread over the band) or, with
``noise="channel"``, each channel's own. Where nothing counts (or Σ w ≤ 0 for moments 1 and 2) a map is NaN.
The cube is read in blocks of channels (float32 throughout, float64 only in the 2-D sums), so memory stays
bounded. :func:`write_moment_fits` writes a map as a 2-D FITS image with the cube's celestial WCS.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits

from ..errors import InvalidFITSError, MissingWCSError, ShapeError
from ..tasks.hi.noise import robust_sigma
from ..tasks.hi.source_shape import axis_ratio, w20_half_width_hz

__all__ = ["KINDS", "MOMENT0_UNITS", "MomentMap", "VoxelMask", "catalogue_mask", "cube_noise", "moment_map",
           "moment_maps", "read_mask", "write_moment_fits"]

KINDS = ("moment0", "moment1", "moment2", "peak")
MOMENT0_UNITS = ("beam", "native", "pixel")     # Jy/beam·km/s, × the file's spectral unit, Jy·km/s per pixel
_NOISE_CHANNELS = 32
_BLOCK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class MomentMap:
    """One 2-D map and how it was made (what :func:`write_moment_fits` writes into the header)."""

    data: u.Quantity
    kind: str
    channels: tuple[int, int]
    convention: str
    clip: float | None = None
    sigma: u.Quantity | None = None
    noise: str = "cube"
    mask: str = "none"


class VoxelMask:
    """A boolean 3-D mask (True = source) read one block of channels at a time.

    ``array`` is anything sliceable along its first axis (an ndarray, a FITS memmap); nonzero is True.
    """

    def __init__(self, array, description: str) -> None:
        self._array, self.description = array, description
        self.shape = tuple(array.shape)

    def block(self, c0: int, c1: int) -> np.ndarray:
        """Mask of channels [c0, c1) as a bool array (c1 − c0, ny, nx)."""
        return np.asarray(self._array[c0:c1]) != 0


class _Footprints(VoxelMask):
    """A mask made of 2-D footprints, each over its own channel range (a catalogue's sources)."""

    def __init__(self, shape: tuple[int, int, int], parts: list[tuple[int, int, np.ndarray]], description: str):
        self.shape, self._parts, self.description = shape, parts, description

    def block(self, c0: int, c1: int) -> np.ndarray:
        out = np.zeros((c1 - c0,) + self.shape[1:], bool)
        for lo, hi, foot in self._parts:
            a, b = max(lo, c0), min(hi + 1, c1)
            if a < b:
                out[a - c0:b - c0] |= foot
        return out


def read_mask(source: str | os.PathLike | bytes, cube, *, name: str | None = None) -> VoxelMask:
    """A SoFiA-style mask FITS file (nonzero = source) as a :class:`VoxelMask` for ``cube``.

    ``source`` is a path or the file's bytes. Degenerate axes (a Stokes axis) are dropped.

    Raises
    ------
    InvalidFITSError when it is not FITS or holds no image; ShapeError when its shape is not the cube's.
    """
    name = name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "the mask file")
    try:
        hdul = fits.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source, memmap=True)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidFITSError(f"{name} is not a FITS file ({exc}); give the mask cube SoFiA wrote "
                               "(its *_mask.fits)") from None
    hdu = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) > 0), None)
    if hdu is None:
        raise InvalidFITSError(f"{name} holds no image; give the mask cube SoFiA wrote (its *_mask.fits)")
    data = hdu.data
    while data.ndim > 3 and data.shape[0] == 1:
        data = data[0]
    if tuple(data.shape) != tuple(cube.shape):
        raise ShapeError(f"{name} has shape {tuple(data.shape)} (channels, y, x) but the cube has {cube.shape}: "
                         "give the mask made from this cube")
    return VoxelMask(data, f"mask file {name}")


def catalogue_mask(cube, table, *, description: str = "detections") -> VoxelMask:
    """A mask of a finder's catalogue (SDC2 columns ra, dec, central_freq, w20, hi_size, pa, i): each source's
    ellipse (its HI size convolved with the beam, axis ratio from i, major axis at pa) over its W20 channels ± 1."""
    from astropy.coordinates import SkyCoord

    if cube.celestial is None:
        raise MissingWCSError("a mask from a catalogue needs the cube's celestial WCS to place its sources")
    pix = cube.pixel_scale.to_value(u.arcsec)
    beam = cube.beam.major.to_value(u.arcsec) if cube.beam is not None else 3 * pix
    ny, nx = cube.shape[1:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    parts = []
    for row in table:
        y, x = cube.pixel_of(SkyCoord(row["ra"], row["dec"], frame="icrs"))
        size = row["hi_size"].to_value(u.arcsec)
        q = axis_ratio(row["i"])
        major, minor = np.hypot(size, beam) / 2 / pix, np.hypot(size * q, beam) / 2 / pix
        pa = np.radians(row["pa"].to_value(u.deg))
        dx, dy = xx - x, yy - y
        along = -dx * np.sin(pa) + dy * np.cos(pa)     # East is −x: the major axis points to (−sin pa, cos pa)
        across = dx * np.cos(pa) + dy * np.sin(pa)
        foot = (along / major) ** 2 + (across / minor) ** 2 <= 1
        nu = row["central_freq"].to_value(u.Hz)
        half = w20_half_width_hz(row["w20"], nu, cube.rest_frequency) * u.Hz
        ends = sorted(cube.channel_of(nu * u.Hz + s * half) for s in (-1, 1))
        parts.append((max(0, ends[0] - 1), min(cube.n_channels - 1, ends[1] + 1), foot))
    return _Footprints(tuple(cube.shape), parts, f"{description} ({len(parts)} sources)")


def cube_noise(cube, channels: tuple[int, int] | None = None) -> u.Quantity:
    """Robust σ of the cube (1.4826 × MAD of up to 32 channels spread over ``channels``, all by default)."""
    rng = cube.channel_range(channels)
    picks = np.unique(np.linspace(rng.start, rng.stop - 1, min(_NOISE_CHANNELS, len(rng))).astype(int))
    return robust_sigma(np.stack([cube.channel(int(c)) for c in picks])) * cube.unit


def moment_map(cube, kind: str, channels: tuple[int, int] | None = None, **options) -> MomentMap:
    """One map of ``kind`` ('moment0', 'moment1', 'moment2' or 'peak'); options as :func:`moment_maps`."""
    return moment_maps(cube, channels, kinds=(kind,), **options)[kind]


def moment_maps(cube, channels: tuple[int, int] | None = None, *, kinds=KINDS, convention: str | None = None,
                clip: float | None = None, noise: str = "cube", mask: VoxelMask | None = None,
                moment0_unit: str = "beam") -> dict[str, MomentMap]:
    """Moment maps of ``kinds`` over channels [lo, hi] (all by default), in one chunked pass over the cube.

    Parameters
    ----------
    convention : velocity convention of moments 1 and 2 and of the channel widths ('radio', 'optical',
        'relativistic'; the cube's own by default).
    clip : keep voxels ≥ clip × σ (None or 0: keep all). ``noise`` picks σ: 'cube' (one robust σ) or
        'channel' (each channel's robust σ).
    mask : a :class:`VoxelMask` of the cube's shape; only True voxels count.
    moment0_unit : 'beam' (cube unit × km/s, the radio default), 'native' (× the cube's own spectral unit, Hz for
        a frequency cube) or 'pixel' (Jy·km/s per pixel, each channel's beam; needs a beam and a celestial WCS).
    """
    unknown = set(kinds) - set(KINDS)
    if unknown or moment0_unit not in MOMENT0_UNITS or noise not in ("cube", "channel"):
        raise ValueError(f"kinds must be among {KINDS}, moment0_unit among {MOMENT0_UNITS}, noise 'cube' or "
                         f"'channel'; got {sorted(unknown)}, {moment0_unit!r}, {noise!r}")
    if mask is not None and tuple(mask.shape) != tuple(cube.shape):
        raise ShapeError(f"the mask has shape {tuple(mask.shape)} but the cube has {cube.shape}: give a mask made "
                         "from this cube")
    rng = cube.channel_range(channels)
    conv = convention or cube.velocity_convention
    v = cube.velocities_in(conv).to_value(u.km / u.s)
    dv = cube.channel_widths(v)
    w0, unit0 = _moment0_weights(cube, moment0_unit, conv, dv)
    clip = float(clip) if clip else None
    sigma = cube_noise(cube, channels) if clip and noise == "cube" else None
    sums = _accumulate(cube, rng, v - v[rng].mean(), dv, w0, set(kinds), clip, sigma, noise, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        maps = _finish(sums, v[rng].mean(), set(kinds))
    units = {"moment0": unit0, "moment1": u.km / u.s, "moment2": u.km / u.s, "peak": cube.unit}
    meta = dict(channels=(rng.start, rng.stop - 1), convention=conv, clip=clip, sigma=sigma,
                noise=noise, mask="none" if mask is None else mask.description)
    return {k: MomentMap(maps[k] * units[k], k, **meta) for k in kinds}


def _moment0_weights(cube, unit: str, conv: str, dv: np.ndarray) -> tuple[np.ndarray, u.UnitBase]:
    """Per-channel weights and unit of moment 0, as in ``Cube.moment0`` and ``Cube.integrated_flux_map``."""
    if unit == "beam":
        return dv, cube.unit * u.km / u.s
    if unit == "native":
        native = cube.spectral_world.to(cube.spectral_unit, equivalencies=u.spectral()).value
        return cube.channel_widths(native), cube.unit * cube.spectral_unit
    areas = cube.beam_areas()
    if areas is None:
        raise MissingWCSError(f"{cube.path.name}: Jy·km/s per pixel needs the beam (BMAJ/BMIN) and the pixel size "
                              "(CDELT1/2); choose Jy/beam·km/s instead")
    per_beam = cube.unit * u.beam
    if per_beam.physical_type != "spectral flux density":
        raise ShapeError(f"{cube.path.name}: its unit {cube.unit} is not a flux density per beam (Jy/beam), so it "
                         "cannot be turned into Jy per pixel; choose Jy/beam·km/s instead")
    return dv / areas * per_beam.to(u.Jy), u.Jy * u.km / u.s


def _accumulate(cube, rng: range, dvel: np.ndarray, dv: np.ndarray, w0: np.ndarray, kinds: set, clip, sigma,
                noise: str, mask) -> dict[str, np.ndarray]:
    """Stream the channel range in blocks; return the 2-D sums (float64) and the peak (float32)."""
    ny, nx = cube.shape[1:]
    need_v = bool(kinds & {"moment1", "moment2"})
    sums = {k: np.zeros(ny * nx) for k in ("s0", "w", "wv", "wvv")}
    peak = np.full(ny * nx, -np.inf, np.float32)
    seen = np.zeros(ny * nx, bool)
    for chunk, block in cube.blocks(rng, max_bytes=_BLOCK_BYTES):
        start, stop = chunk.start, chunk.stop
        block = block.reshape(stop - start, -1)
        keep = np.isfinite(block)
        if clip:
            s = sigma.to_value(cube.unit) if noise == "cube" else _channel_sigma(block)[:, None]
            with np.errstate(invalid="ignore"):
                keep &= block >= clip * s
        if mask is not None:
            keep &= mask.block(start, stop).reshape(stop - start, -1)
        data = np.where(keep, block, np.float32(0))
        seen |= keep.any(axis=0)
        if "moment0" in kinds:
            sums["s0"] += w0[start:stop].astype(np.float32) @ data
        if need_v:
            _add_velocity_sums(sums, data * dv[start:stop, None].astype(np.float32), dvel[start:stop])
        if "peak" in kinds:
            np.fmax(peak, np.where(keep, block, -np.inf).max(axis=0), out=peak)
    out = {k: a.reshape(ny, nx) for k, a in sums.items()}
    out["peak"], out["seen"] = peak.reshape(ny, nx), seen.reshape(ny, nx)
    return out


def _add_velocity_sums(sums: dict, wd: np.ndarray, dvel: np.ndarray) -> None:
    """Add Σw, Σw·v, Σw·v² of one block (v relative to the range's middle): float32 products about the
    block's own middle velocity, shifted in float64, so a 50 km/s line far from the middle keeps its σ."""
    mid = float(dvel.mean())
    vel = (dvel - mid).astype(np.float32)
    w = wd.sum(axis=0, dtype=np.float64)
    wv = (vel @ wd).astype(np.float64)
    wvv = ((vel * vel) @ wd).astype(np.float64)
    sums["w"] += w
    sums["wv"] += wv + mid * w
    sums["wvv"] += wvv + 2 * mid * wv + mid * mid * w


def _channel_sigma(block: np.ndarray) -> np.ndarray:
    """Robust σ of each channel (row) of a (channels, pixels) block, from a strided sample of each."""
    step = max(1, block.shape[1] // 65536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array([robust_sigma(row[::step]) for row in block], np.float32)


def _finish(sums: dict, v_mid: float, kinds: set) -> dict[str, np.ndarray]:
    """Maps from the sums: NaN where no voxel counted, and moments 1 and 2 NaN where Σ w ≤ 0."""
    seen = sums["seen"]
    maps = {}
    if "moment0" in kinds:
        maps["moment0"] = np.where(seen, sums["s0"], np.nan).astype(np.float32)
    if kinds & {"moment1", "moment2"}:
        w = np.where(seen & (sums["w"] > 0), sums["w"], np.nan)
        m1 = sums["wv"] / w
        maps["moment1"] = (m1 + v_mid).astype(np.float32)
        var = sums["wvv"] / w - m1 * m1
        maps["moment2"] = np.sqrt(np.where(var >= 0, var, np.nan)).astype(np.float32)
    if "peak" in kinds:
        maps["peak"] = np.where(seen, sums["peak"], np.nan).astype(np.float32)
    return maps


def write_moment_fits(map: MomentMap | u.Quantity, cube, kind: str | None = None,
                      path: str | os.PathLike | io.IOBase | None = None, **meta) -> fits.HDUList:
    """Write a map as a 2-D FITS image with the cube's celestial WCS, BUNIT, beam and how it was made.

    ``map`` is a :class:`MomentMap` (its kind, channels, convention, clip and mask go into MOM* cards) or a
    2-D Quantity with those given in ``meta``. ``path`` may be a file name or a binary file object; the
    HDU list is returned either way.
    """
    if isinstance(map, MomentMap):
        info = dict(kind=map.kind, channels=map.channels, convention=map.convention, clip=map.clip,
                    sigma=map.sigma, noise=map.noise, mask=map.mask)
        data = map.data
    else:
        info, data = dict(kind=kind), u.Quantity(map)
    info.update({k: v for k, v in meta.items() if v is not None})
    if kind is not None:
        info["kind"] = kind
    header = cube.celestial.to_header() if cube.celestial is not None else fits.Header()
    header["BUNIT"] = (data.unit.to_string("fits") if data.unit != u.one else "", "unit of the map")
    if cube.beam is not None:
        header["BMAJ"], header["BMIN"] = cube.beam.major.to_value(u.deg), cube.beam.minor.to_value(u.deg)
        header["BPA"] = cube.beam.pa.to_value(u.deg)
    header["MOMENT"] = (str(info.get("kind", "")), "moment0, moment1, moment2 or peak")
    lo, hi = info.get("channels") or (0, cube.n_channels - 1)
    header["MOMCHAN0"], header["MOMCHAN1"] = (int(lo), "first channel used (0-based)"), (int(hi), "last channel used")
    f = cube.frequencies.to_value(u.Hz)
    header["MOMFREQ0"], header["MOMFREQ1"] = (float(f[lo]), "[Hz] frequency of MOMCHAN0"), (float(f[hi]), "[Hz]")
    header["RESTFRQ"] = cube.rest_frequency.to_value(u.Hz)
    header["MOMCONV"] = (str(info.get("convention") or cube.velocity_convention), "velocity convention")
    header["MOMCLIP"] = (float(info.get("clip") or 0.0), "kept voxels >= MOMCLIP x MOMNOISE (0: all)")
    if info.get("sigma") is not None:
        header["MOMNOISE"] = (float(u.Quantity(info["sigma"]).value), "noise sigma, in BUNIT of the cube")
    header["MOMNOISK"] = (str(info.get("noise", "cube")), "sigma: one per cube or per channel")
    header["MOMMASK"] = (str(info.get("mask", "none"))[:60], "mask used")
    header["ORIGIN"] = "AstroML Explorer"
    hdul = fits.HDUList([fits.PrimaryHDU(np.asarray(data.value, np.float32), header)])
    if path is not None:
        hdul.writeto(path, overwrite=True)
    return hdul
