"""The classic baseline: SoFiA-2's smooth-and-clip (S+C) finder, linker and reliability filter.

Following Serra+2015 / Westmeier+2021: the cube is normalised by each channel's robust noise, smoothed
with several spatial (Gaussian, in beam units) and spectral (boxcar) kernels, and every voxel beyond
``threshold`` × the smoothed cube's own noise joins the mask (positive and negative separately; :mod:`.smooth_clip`). The
linker merges nearby voxels into sources; the reliability filter compares each positive source with
the density of *negative* sources (pure noise) in (log peak, log sum, log mean) S/N space and keeps
those with reliability ≥ ``reliability``. Sources are then measured by :mod:`.measure`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from astropy.table import QTable
from scipy import stats

from .disc_fit import fit_sources
from .measure import CubeGeometry, measure_sources
from .linker import link, relabel
from .noise import normalise
from .progress import PER_SOURCE_FIT, PER_SOURCE_MEASURE, Phases, Report, baseline_costs, quiet
from .smooth_clip import smooth_and_clip

__all__ = ["SofiaConfig", "sofia_find"]


@dataclass(frozen=True)
class SofiaConfig:
    """S+C kernels and filters (SoFiA-2 defaults adapted to a 2.5-pixel beam)."""

    spatial_fwhm_beams: tuple[float, ...] = (0.0, 1.0, 2.0)   # extra Gaussian smoothing, FWHM in beams
    spectral_channels: tuple[int, ...] = (0, 3, 7, 15)       # boxcar widths in channels (0: none)
    threshold: float = 4.0                                   # clip level in each smoothed cube's σ
    merge_px: int = 2                                        # linker radius, pixels
    merge_chan: int = 4                                      # linker radius, channels
    min_px: int = 4                                          # smallest source footprint (pixels)
    min_chan: int = 3                                        # fewest channels
    reliability: float = 0.9                                 # keep sources at least this reliable
    min_snr: float = 4.0                                     # integrated S/N floor before reliability
    sample: int = 1_000_000                                  # voxels used for each noise estimate


def _clip(norm: np.ndarray, cfg: SofiaConfig, beam_px: float, phases: Phases):
    """The S+C masks (positive, negative) for ``cfg``'s kernels, each kernel reported to ``phases``."""
    step = phases.start("smooth", "smoothing and clipping")
    return smooth_and_clip(norm, beam_px, cfg.spatial_fwhm_beams, cfg.spectral_channels, cfg.threshold, cfg.sample,
                           progress=step)


def _label_stats(norm: np.ndarray, labels: np.ndarray, n: int, sign: float):
    """Per-source (peak, sum, count) of ``sign`` × normalised values, reading only labelled voxels."""
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    values = sign * norm.ravel()[flat]
    peak = np.full(n + 1, -np.inf)
    np.maximum.at(peak, lab, values)
    total = np.bincount(lab, weights=values, minlength=n + 1)
    count = np.bincount(lab, minlength=n + 1)
    return peak[1:], total[1:], count[1:]


def _parameters(peak: np.ndarray, total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """(log peak, log sum, log mean) S/N of each source, for the reliability KDE."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.column_stack([np.log10(np.maximum(peak, 1e-3)), np.log10(np.maximum(total, 1e-3)),
                                np.log10(np.maximum(total / np.maximum(count, 1), 1e-3))])


def _reliability(p_pos: np.ndarray, p_neg: np.ndarray) -> np.ndarray:
    """R = (P − N) / P from Gaussian KDEs of positive and negative sources (SoFiA's method)."""
    if len(p_pos) == 0:
        return np.zeros(0)
    if len(p_neg) < 4 or len(p_pos) < 4:  # too few to estimate densities: trust what passed the clip
        return np.ones(len(p_pos))
    try:
        kde_pos = stats.gaussian_kde(p_pos.T)
        kde_neg = stats.gaussian_kde(p_neg.T, bw_method=kde_pos.factor)
    except np.linalg.LinAlgError:
        return np.ones(len(p_pos))
    dens_pos = kde_pos(p_pos.T) * len(p_pos)
    dens_neg = kde_neg(p_pos.T) * len(p_neg)
    return np.clip((dens_pos - dens_neg) / np.maximum(dens_pos, 1e-30), 0, 1)


def sofia_find(data: np.ndarray, geom: CubeGeometry, config: SofiaConfig | None = None, *,
               origin: tuple[int, int, int] = (0, 0, 0),
               progress: Report = quiet) -> tuple[QTable, np.ndarray]:
    """Find and measure HI sources: (catalogue QTable in SDC2 columns + reliability, label cube).

    ``data`` is (n_channels, ny, nx) in Jy/beam (a tile at ``origin`` = (channel, y, x) of a cube that
    ``geom`` describes); ``progress(fraction, text)`` hears of every phase as it moves (:mod:`.progress`).
    """
    cfg = config or SofiaConfig()
    phases = Phases(progress, baseline_costs(np.size(data), len(cfg.spatial_fwhm_beams) * len(cfg.spectral_channels)))
    phases.start("normalise", "normalising by the noise")
    norm, sigma = normalise(np.asarray(data, dtype=np.float32), cfg.sample)
    beam_px = geom.beam_major_arcsec / geom.pixel_arcsec
    pos, neg = _clip(norm, cfg, beam_px, phases)
    phases.start("link", "linking sources of both signs")
    lab_pos, n_pos = link(pos, cfg.merge_chan, cfg.merge_px, cfg.min_chan, cfg.min_px)
    lab_neg, n_neg = link(neg, cfg.merge_chan, cfg.merge_px, cfg.min_chan, cfg.min_px)
    stats_pos = _label_stats(norm, lab_pos, n_pos, +1)
    phases.start("reliability", f"reliability of {n_pos} sources against {n_neg} negative ones")
    rel = _reliability(_parameters(*stats_pos), _parameters(*_label_stats(norm, lab_neg, n_neg, -1)))
    _, total, count = stats_pos
    # noise is correlated over a beam: a sum of n voxels has σ ≈ √(n · beam area) in per-voxel σ units
    snr_int = total / np.sqrt(np.maximum(count, 1) * geom.beam_area_px)
    idx = np.arange(1, n_pos + 1)
    keep = [k for k, r, s in zip(idx, rel, snr_int) if r >= cfg.reliability and s >= cfg.min_snr]
    labels, n = relabel(lab_pos, keep)
    phases.cost(measure=PER_SOURCE_MEASURE * n, characterise=PER_SOURCE_FIT * n)
    step = phases.start("measure", f"measuring {n} sources on their masks")
    noisy = geom if np.isfinite(geom.noise) and geom.noise > 0 else None
    use = noisy or replace(geom, noise=float(np.median(sigma)))   # keeps per-channel beams
    table = measure_sources(np.asarray(data, dtype=np.float32), labels, use, origin=origin, progress=step)
    step = phases.start("characterise", f"characterising {n} sources (disc fits)")
    table = fit_sources(table, np.asarray(data, dtype=np.float32), labels, use, origin=origin, progress=step)
    table["reliability"] = rel[np.array(keep, dtype=int) - 1] if keep else np.zeros(0)
    table["score"] = table["reliability"]
    phases.report(1.0, f"found {len(table)} sources")
    return table, labels
