"""Posterior of the six reionisation/cosmology parameters from one 21 cm lightcone.

A lightcone file is FITS: δT_b as (line of sight, y, x) in mK (or K), CDELT1 the cell in comoving Mpc
(CUNIT1 'Mpc' or 'cMpc'), and the redshift of each slice from a REDSHIFT table (its z or comoving-distance
column) or from ZMIN and CDELT3 (:mod:`.lightcone_redshift`, which also says what it assumed). It is
resampled to the model's grid (4 Mpc cells, 672 slices = 2,688 Mpc from z = 6) by block-averaging, so a
140 × 140 × 2350 cube of 1.43 Mpc cells (92 MB) is read in well under a second. The whole width is read:
the model wraps the transverse sides, as a simulation box is periodic, so the same sky tiled gives the same
posterior. Only the training grid (128 Mpc boxes of 4 Mpc cells) is
calibrated, because the simulated sky itself changes with box and cell size: :func:`grid_notes` says so.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import QTable

from ...data.fitsfile import open_fits_checked
from ...data.shown_paths import shown_path
from ...errors import MissingWCSError, NonFiniteError, ShapeError
from ...sim.lightcone import PARAMETER_NAMES, PARAMETERS, LightconeConfig
from .lightcone_redshift import redshift_table, slice_redshifts

__all__ = ["LightconeData", "open_lightcone", "model_input", "available_slices", "grid_notes", "lightcone_posterior", "logit_draws",
           "posterior_summary", "parameter_unit"]

MODEL_GRID = LightconeConfig()


@dataclass(frozen=True)
class LightconeData:
    """A lightcone ready for inference: δT_b (x, y, line of sight) in mK, slice redshifts, cell size,
    and the true parameters and neutral fraction per slice when the file carries them."""

    tb: np.ndarray
    redshift: np.ndarray
    cell_mpc: float
    name: str
    truth: dict | None = None
    xhi: np.ndarray | None = None
    notes: tuple[str, ...] = ()         # what was assumed to read it (e.g. the cosmology behind slice redshifts)
    source: str = ""                    # the file as exports name it (data-root relative, or an upload's sent name)


def parameter_unit(name: str) -> u.Unit:
    """Astropy unit of a parameter's samples (log quantities are dimensionless)."""
    return {"e0": u.eV, "m_wdm": u.keV}.get(name, u.dimensionless_unscaled)


def _is_number(value) -> bool:
    """True for a finite int or float header value (not a bool, not a string)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def open_lightcone(path: str | os.PathLike, *, max_bytes: int | None = None) -> LightconeData:
    """Read and validate a lightcone FITS file (typed errors say what is wrong and what to do)."""
    hdul = open_fits_checked(path, max_bytes, memmap=False, scale=False)
    path = Path(hdul.filename() or path)
    name = path.name
    with hdul:
        hdu = hdul[0]
        header = hdu.header
        if header.get("NAXIS", 0) != 3:
            raise ShapeError(f"{name} is not a 3-D lightcone (NAXIS = {header.get('NAXIS', 0)}); "
                             "expected (line of sight, y, x)")
        if min(hdu.shape) < 1:
            raise ShapeError(f"{name} has an empty axis {hdu.shape[::-1]} (FITS order); nothing to infer from")
        cell = header.get("CDELT1")
        if cell is None or str(header.get("CUNIT1", "Mpc")).strip().lower() not in ("mpc", "cmpc"):
            raise MissingWCSError(f"{name} has no cell size: CDELT1 with CUNIT1 = 'Mpc' (comoving) is needed")
        if not _is_number(cell) or cell <= 0:
            raise MissingWCSError(f"{name}: CDELT1 = {cell!r} is not a positive cell size in comoving Mpc")
        unit = str(header.get("BUNIT", "mK")).strip()
        scale = {"mK": 1.0, "K": 1000.0}.get(unit)
        if scale is None:
            raise ShapeError(f"{name}: BUNIT '{unit}' is not a brightness temperature (mK or K)")
        z = slice_redshifts(hdul, hdu.shape[0], float(cell), name)
        cube = _image_data(hdu, path)
        bad = ~np.isfinite(cube)
        if bad.any():
            raise NonFiniteError(f"{name} has {int(bad.sum())} NaN or infinite cells; fill or flag them before inference")
        truth = {k: float(header[k]) for k in PARAMETER_NAMES if _is_number(header.get(k))} or None
        return LightconeData(np.moveaxis(cube, 0, -1) * scale, z.z, float(cell), name, truth, _xhi(hdul, hdu.shape[0]),
                             z.notes, shown_path(path))


def _xhi(hdul: fits.HDUList, n_los: int) -> np.ndarray | None:
    """The neutral fraction per slice from the REDSHIFT table's xhi column, when it is there and numeric."""
    table = redshift_table(hdul, "")
    column = next((c for c in table.columns.names if c.strip().lower() in ("xhi", "x_hi")), None) \
        if table is not None else None
    if column is None:
        return None
    try:
        xhi = np.asarray(table.data[column], dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return xhi if len(xhi) == n_los else None


def _image_data(hdu, path: Path) -> np.ndarray:
    """Float32 data of the image HDU (line of sight, y, x): integers scaled by BSCALE/BZERO with BLANK → NaN, read
    by position from a plain file (one copy of a 92 MB lightcone) or through astropy from a compressed one."""
    from ...data.cube import _reader_for

    reader = _reader_for(hdu, path)
    return reader.block([(c,) for c in range(hdu.shape[0])])


def _first_slice(data: LightconeData, z_min: float) -> float:
    """Fractional slice index where the redshift reaches ``z_min``."""
    z = data.redshift
    if np.isnan(z[1:]).all():
        if abs(z[0] - z_min) > 0.05:
            raise MissingWCSError(f"{data.name} starts at z = {z[0]:.2f}; without a REDSHIFT table it must start at z = {z_min}")
        return 0.0
    if z[0] > z_min + 0.05 or z[-1] < z_min:
        raise ShapeError(f"{data.name} covers z = {z[0]:.2f}–{z[-1]:.2f}; the model needs it from z = {z_min}")
    return float(np.interp(z_min, z, np.arange(len(z))))


def available_slices(data: LightconeData, grid: LightconeConfig = MODEL_GRID) -> int:
    """How many of the model's slices (from ``grid.z_min``) the lightcone holds."""
    start = int(round(_first_slice(data, grid.z_min)))
    return min(grid.n_los, int((data.tb.shape[2] - start) * data.cell_mpc / grid.cell_mpc + 1e-6))


def model_input(data: LightconeData, grid: LightconeConfig = MODEL_GRID):
    """δT_b on the model's grid as a torch tensor (X', Y', n_los), block-averaged from the file's cells; slices
    beyond the end of a shorter lightcone are zero (see :mod:`.lightcone_applicability`)."""
    import torch

    start = int(round(_first_slice(data, grid.z_min)))
    ratio = grid.cell_mpc / data.cell_mpc
    have = available_slices(data, grid)
    if have < grid.n_los // 7:
        raise ShapeError(f"{data.name} holds {have * grid.cell_mpc:.0f} Mpc of line of sight past z = {grid.z_min}; "
                         f"the model needs at least {grid.n_los // 7 * grid.cell_mpc:.0f} Mpc (to z ≈ 7)")
    n_t = int(round(data.tb.shape[0] / ratio))
    if n_t < 8 or data.tb.shape[1] / ratio < 8:
        raise ShapeError(f"{data.name} is {data.tb.shape[0] * data.cell_mpc:.0f} Mpc across; the model needs ≥ 32 Mpc")
    need = min(int(round(have * ratio)), data.tb.shape[2] - start)
    cube = torch.from_numpy(np.ascontiguousarray(data.tb[:, :, start:start + need]))[None, None]
    size = (n_t, int(round(data.tb.shape[1] / ratio)), have)
    mode = "area" if ratio >= 1 else "trilinear"
    out = torch.zeros(size[:2] + (grid.n_los,))
    out[:, :, :have] = torch.nn.functional.interpolate(cube, size=size, mode=mode)[0, 0]
    return out


def grid_notes(data: LightconeData, grid: LightconeConfig = MODEL_GRID) -> list[str]:
    """What the model does to a lightcone that is not on its training grid, in words for the user; the box
    widths it was trained and held out on come from its card."""
    from ...registry import read_card

    front = read_card("lightcone_flow")[0]
    low, high = front["trained_widths_mpc"][0], front["trained_widths_mpc"][-1]
    notes = []
    across = min(data.tb.shape[:2]) * data.cell_mpc
    if across > high + 1e-6:
        held = max(front["held_out_widths"], key=lambda w: w["box_mpc"])
        worst = min(held["coverage_68"], key=held["coverage_68"].get)
        label = next(p.label for p in PARAMETERS if p.name == worst)
        notes.append(f"This lightcone is {across:.0f} Mpc wide, wider than the model was trained on ({low:g}–{high:g} Mpc): "
                     f"on held-out {held['box_mpc']:g} Mpc boxes its 68 % intervals held the truth of {label} only "
                     f"{held['coverage_68'][worst]:.0%} of the time.")
    elif across < low - 1e-6:
        notes.append(f"This lightcone is {across:.0f} Mpc wide; the model was trained on {low:g}–{high:g} Mpc boxes, so "
                     "its posterior here is not calibrated.")
    if abs(data.cell_mpc - grid.cell_mpc) > 1e-6:
        notes.append(f"Its {data.cell_mpc:.3g} Mpc cells were averaged to the model's {grid.cell_mpc:g} Mpc: posteriors "
                     "on other grids are not calibrated (on our simulator run with 2 Mpc cells they missed the truth "
                     "by many times their width).")
    return notes


def lightcone_posterior(data: LightconeData, *, n_samples: int = 10_000, seed: int = 0, device=None) -> QTable:
    """``n_samples`` posterior samples (one column per parameter, with units; truth in ``meta``), from the posterior
    that the applicability check picks (``meta['applicability']``, ``meta['in_distribution']``)."""
    import torch

    from ...models.inference_nets import from_unit, prior_bounds
    from ...registry import load_model
    from ...service.device import choose_device
    from .lightcone_applicability import usable_length

    n_los = usable_length(available_slices(data))
    if n_los == 0:
        raise ShapeError(f"{data.name} holds too little line of sight past z = {MODEL_GRID.z_min} for the model")
    device = torch.device(device) if device is not None else choose_device()
    model = load_model("lightcone_flow", device)
    x = model_input(data)
    x[:, :, n_los:] = 0.0
    with torch.no_grad():
        z, verdict = logit_draws(model, model.members[0].moments(x.to(device)[None]), n_los, n_samples, seed)
    low, high = prior_bounds(PARAMETERS)
    samples = from_unit(torch.from_numpy(z).float(), low, high).numpy()
    table = QTable({p.name: samples[:, i] * parameter_unit(p.name) for i, p in enumerate(PARAMETERS)})
    z_range = [float(MODEL_GRID.z_min), _redshift_at(data, n_los)]
    table.meta.update(lightcone=data.source or data.name, truth=data.truth, model="lightcone_flow", z_range=z_range,
                      in_distribution=verdict.in_distribution, applicability=verdict.meta(),
                      notes=[*data.notes, *grid_notes(data), *_reading_notes(verdict, n_los, z_range)])
    return table


def logit_draws(model, moments, n_los: int, n_samples: int, seed: int = 0):
    """(draws (n, 6) in the prior's logit space, applicability verdict) for one lightcone's block moments
    (1, 2, X/2, Y/2, L/4) whose slices beyond ``n_los`` are zero (see :mod:`.lightcone_applicability`)."""
    import torch

    from .lightcone_applicability import judge, mixture_draws

    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        summaries = model.summaries(moments)
        summary = summaries[0][0].cpu().numpy()
        verdict = judge(summary, n_los)
        flow = lambda k: model.sample_summaries(summaries, k)[0].cpu().numpy() if k else np.zeros((0, len(PARAMETERS)))  # noqa: E731
        return mixture_draws(verdict, summary, flow, n_samples, rng), verdict


def _redshift_at(data: LightconeData, n_los: int, grid: LightconeConfig = MODEL_GRID) -> float:
    """Redshift of the far end of the first ``n_los`` model slices in the file."""
    index = _first_slice(data, grid.z_min) + n_los * grid.cell_mpc / data.cell_mpc - 1
    z = data.redshift
    return float(np.interp(index, np.arange(len(z)), z)) if np.isfinite(z).all() else float("nan")


def _reading_notes(verdict, n_los: int, z_range: list, grid: LightconeConfig = MODEL_GRID) -> list[str]:
    """What was read and which posterior is shown, in words."""
    notes = []
    if n_los < grid.n_los:
        notes.append(f"The model read z = {z_range[0]:g}–{z_range[1]:.1f} ({n_los * grid.cell_mpc:.0f} of its "
                     f"{grid.n_los * grid.cell_mpc:.0f} Mpc of line of sight): the posterior is the one fitted on "
                     "lightcones cut there, wider than for a whole lightcone, most of all for the X-ray and heating "
                     "parameters that the far end carries.")
    if verdict.weights["21cmfast"] > 0.5:
        notes.append(f"The lightcone looks like a 21cmFAST one (weight {verdict.weights['21cmfast']:.2f}): the posterior "
                     "is mostly the one calibrated on 21cmFAST lightcones (Gaussian in the prior's logit space); 21cmFAST "
                     "has no warm dark matter, so m_WDM keeps its prior there.")
    return notes


def posterior_summary(samples: QTable, truth: dict | None = None, params=PARAMETERS) -> QTable:
    """Median and central 68 % / 95 % intervals per parameter, with the truth when known."""
    rows = []
    for p in params:
        if p.name not in samples.colnames:
            continue
        v = np.asarray(samples[p.name].value if hasattr(samples[p.name], "value") else samples[p.name])
        q = np.quantile(v, [0.025, 0.16, 0.5, 0.84, 0.975])
        rows.append((p.name, p.label, p.unit, *q, np.nan if not truth else truth.get(p.name, np.nan)))
    names = ("parameter", "label", "unit", "q02.5", "q16", "median", "q84", "q97.5", "truth")
    return QTable(rows=rows, names=names)
