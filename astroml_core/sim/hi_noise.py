"""Noise of HI cubes as real surveys make it, so a network trained on it meets the textures it will see.

One :class:`NoiseKind` describes a texture; :func:`noise_field` draws one realisation of it:
- spatial correlation: white noise through a Gaussian filter (exact, in Fourier space), ACF FWHM = ρ ×
  beam FWHM with ρ from 0.7 to 1.5 (SDC2's white-noise-convolved-with-the-beam is ρ = √2);
- Hanning smoothing along frequency ([¼, ½, ¼], as ASKAP/WALLABY, MeerKAT and WSRT cubes often are):
  adjacent channels correlate by 2/3; :func:`hanning` applies the same to the signal;
- per-channel σ: a smooth ripple (±0–30%), 'RFI' channels 1.5–4× noisier, NaN-blanked (flagged) channels;
- σ(x, y) ∝ 1/PB after primary-beam correction, PB a Gaussian centred in or near the field, capped
  at 3× the least noisy pixel;
- continuum-subtraction residuals: a beam-shaped blob times a spectrally smooth ripple (sinusoid of
  period 20–200 channels + a quadratic) of 1–6 σ, either sign, at a few bright-continuum positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

__all__ = ["NoiseKind", "NoiseField", "SDC2_CORR", "HANNING_VARIANCE", "random_noise_kind", "make_noise",
           "noise_field", "hanning", "correlated_noise", "primary_beam_factor", "measured_acf_fwhm",
           "adjacent_channel_correlation"]

SDC2_CORR = float(np.sqrt(2))     # ACF FWHM / beam FWHM of white noise convolved with the beam
HANNING_VARIANCE = 0.375          # ¼² + ½² + ¼²: per-channel variance left by Hanning smoothing
PB_MAX_CAP = 3.0
FWHM_TO_SIGMA = 1 / np.sqrt(8 * np.log(2))


@dataclass(frozen=True)
class NoiseKind:
    """One noise texture (the realisation, e.g. which channels are RFI, is drawn by :func:`noise_field`).

    corr_beams: ACF FWHM in beam FWHMs; hanning: Hanning-smoothed along frequency; ripple: fractional
    amplitude of the smooth per-channel σ ripple; rfi_fraction / nan_fraction: fractions of channels
    that are 1.5–4× noisier / NaN-blanked; pb_max: σ at the noisiest pixel over σ at the quietest
    (1 = flat; capped at 3); n_residuals: continuum-subtraction residuals in the field.
    """

    corr_beams: float = SDC2_CORR
    hanning: bool = False
    ripple: float = 0.0
    rfi_fraction: float = 0.0
    nan_fraction: float = 0.0
    pb_max: float = 1.0
    n_residuals: int = 0

    def __post_init__(self):
        if not 0.2 <= self.corr_beams <= 5:
            raise ValueError(f"corr_beams must be within 0.2–5 beam FWHMs, got {self.corr_beams}")
        if not (0 <= self.ripple < 1 and 0 <= self.rfi_fraction <= 1 and 0 <= self.nan_fraction < 1):
            raise ValueError("ripple, rfi_fraction and nan_fraction must be fractions (ripple, nan < 1)")
        if not 1 <= self.pb_max <= PB_MAX_CAP:
            raise ValueError(f"pb_max must be within 1–{PB_MAX_CAP:g}, got {self.pb_max}")
        if self.n_residuals < 0:
            raise ValueError("n_residuals must be >= 0")


@dataclass(frozen=True)
class NoiseField:
    """One realisation: data (n_chan, ny, nx) float32 with NaN channels; channel_sigma (n_chan,) the σ
    injected per channel at the quietest pixel (NaN where blanked); spatial (ny, nx) σ factor (min 1);
    residual_xy (k, 2) pixel positions (x, y) of the continuum residuals."""

    data: np.ndarray
    channel_sigma: np.ndarray
    spatial: np.ndarray
    residual_xy: np.ndarray


def random_noise_kind(rng: np.random.Generator) -> NoiseKind:
    """A texture from the range real cubes span; one in five is plain (only ρ varies), each feature
    otherwise on with its own probability."""
    corr = float(rng.uniform(0.7, 1.5))
    on = rng.random(7)
    if on[0] < 0.2:
        return NoiseKind(corr_beams=corr)
    return NoiseKind(
        corr_beams=corr,
        hanning=bool(on[1] < 0.5),
        ripple=float(rng.uniform(0, 0.3)) if on[2] < 0.5 else 0.0,
        rfi_fraction=float(rng.uniform(0, 0.05)) if on[3] < 0.4 else 0.0,
        nan_fraction=float(rng.uniform(0, 0.03)) if on[4] < 0.3 else 0.0,
        pb_max=float(rng.uniform(1, PB_MAX_CAP)) if on[5] < 0.5 else 1.0,
        n_residuals=int(rng.integers(1, 5)) if on[6] < 0.4 else 0,
    )


def hanning(cube: np.ndarray) -> np.ndarray:
    """[¼, ½, ¼] along axis 0 (frequency), zero beyond the band; flux (the sum) is kept inside it."""
    out = 0.5 * cube
    out[1:] += 0.25 * cube[:-1]
    out[:-1] += 0.25 * cube[1:]
    return out


def correlated_noise(shape: tuple[int, int, int], sigma_k_px: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise: white noise through a Gaussian of σ_k (px) in each channel (periodic, exact
    in Fourier space), so the ACF is a Gaussian of σ √2 σ_k."""
    n, ny, nx = shape
    white = rng.standard_normal(shape, dtype=np.float32)
    fy, fx = fft.fftfreq(ny), fft.rfftfreq(nx)
    gain = np.exp(-2 * np.pi**2 * sigma_k_px**2 * (fy[:, None] ** 2 + fx[None, :] ** 2))
    # Parseval over the full (two-sided) grid: variance after filtering = mean |H|²
    full = np.exp(-4 * np.pi**2 * sigma_k_px**2 * (fy[:, None] ** 2 + fft.fftfreq(nx)[None, :] ** 2))
    gain = (gain / np.sqrt(full.mean())).astype(np.complex64)
    spec = fft.rfft2(white, axes=(1, 2))
    spec *= gain
    return fft.irfft2(spec, s=(ny, nx), axes=(1, 2)).astype(np.float32)


def primary_beam_factor(ny: int, nx: int, pb_max: float, rng: np.random.Generator) -> np.ndarray:
    """σ factor ∝ 1/PB of a Gaussian PB centred in or near the field: 1 at the quietest pixel, pb_max
    at the noisiest (a field edge or corner)."""
    cy, cx = rng.uniform(-0.25, 1.25) * (ny - 1), rng.uniform(-0.25, 1.25) * (nx - 1)
    r2 = (np.arange(ny)[:, None] - cy) ** 2 + (np.arange(nx)[None, :] - cx) ** 2
    if pb_max <= 1:
        return np.ones((ny, nx), np.float32)
    span = r2.max() - r2.min()
    return np.exp((r2 - r2.min()) / span * np.log(min(pb_max, PB_MAX_CAP))).astype(np.float32)


def _channel_factors(kind: NoiseKind, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-channel σ factors: a smooth ripple, RFI channels 1.5–4×, NaN for blanked runs of channels."""
    c = np.arange(n)
    f = 1 + kind.ripple * np.sin(2 * np.pi * c / rng.uniform(64, 1024) + rng.uniform(0, 2 * np.pi))
    n_rfi = int(round(kind.rfi_fraction * n))
    if n_rfi:
        f[rng.choice(n, n_rfi, replace=False)] *= rng.uniform(1.5, 4, n_rfi)
    n_nan = int(round(kind.nan_fraction * n))
    while n_nan > 0:   # flagged channels come in runs of 1–4
        run = min(n_nan, int(rng.integers(1, 5)))
        start = int(rng.integers(0, n - run + 1))
        f[start:start + run] = np.nan
        n_nan -= run
    return f


def _add_residuals(data: np.ndarray, kind: NoiseKind, beam_sigma_px: float, sigma: np.ndarray,
                   spatial: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add continuum-subtraction residuals in place; returns their (x, y) pixel positions."""
    n, ny, nx = data.shape
    xy = np.column_stack([rng.uniform(0, nx - 1, kind.n_residuals), rng.uniform(0, ny - 1, kind.n_residuals)])
    c = np.linspace(-1, 1, n)
    sigma0 = np.nanmedian(sigma) if np.isfinite(sigma).any() else 0.0
    half = int(np.ceil(4 * beam_sigma_px))
    for x, y in xy:
        wave = np.sin(2 * np.pi * np.arange(n) / rng.uniform(20, 200) + rng.uniform(0, 2 * np.pi))
        wave = wave + np.polynomial.polynomial.polyval(c, rng.normal(0, 0.5, 3))
        amp = rng.uniform(1, 6) * rng.choice([-1.0, 1.0]) * sigma0 * spatial[int(round(y)), int(round(x))]
        y0, y1 = max(0, int(y) - half), min(ny, int(y) + half + 2)
        x0, x1 = max(0, int(x) - half), min(nx, int(x) + half + 2)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * beam_sigma_px**2))
        data[:, y0:y1, x0:x1] += (amp * wave / np.abs(wave).max())[:, None, None].astype(np.float32) * blob
    return xy


def noise_field(kind: NoiseKind, shape: tuple[int, int, int], beam_sigma_px: float, channel_sigma,
                rng: np.random.Generator) -> NoiseField:
    """One realisation of ``kind`` (Jy/beam, float32) around the nominal per-channel σ ``channel_sigma``.

    Hanning smoothing lowers the per-channel σ by √0.375 as it does in a real cube (the integrated
    noise over many channels stays); ``channel_sigma`` is the σ before smoothing.
    """
    n, ny, nx = shape
    sigma_k = kind.corr_beams * beam_sigma_px / np.sqrt(2)
    # two spare channels so the band's edge channels are smoothed like the rest (drawn either way, so
    # the same seed gives the same draws after this with Hanning on or off)
    data = correlated_noise((n + 2, ny, nx), sigma_k, rng)
    data = hanning(data)[1:-1] if kind.hanning else data[1:-1]
    sigma = np.broadcast_to(np.asarray(channel_sigma, np.float64), (n,)) * _channel_factors(kind, n, rng)
    spatial = primary_beam_factor(ny, nx, kind.pb_max, rng)
    data *= np.nan_to_num(sigma).astype(np.float32)[:, None, None]   # Hanning has already lowered it
    if kind.hanning:
        sigma = sigma * np.sqrt(HANNING_VARIANCE)
    data *= spatial[None]
    xy = _add_residuals(data, kind, beam_sigma_px, sigma, spatial, rng) if kind.n_residuals else np.zeros((0, 2))
    data[~np.isfinite(sigma)] = np.nan
    return NoiseField(data=data, channel_sigma=sigma, spatial=spatial, residual_xy=xy)


def make_noise(kind: NoiseKind, shape: tuple[int, int, int], beam_sigma_px: float, channel_sigma,
               rng: np.random.Generator) -> np.ndarray:
    """The noise cube of :func:`noise_field` (float32 Jy/beam, NaN in blanked channels)."""
    return noise_field(kind, shape, beam_sigma_px, channel_sigma, rng).data


def measured_acf_fwhm(noise: np.ndarray) -> float:
    """FWHM (px) of a Gaussian fitted to the spatial ACF of a noise plane or cube (finite channels),
    from the lags where the ACF is above 0.1; mean of the x and y axes."""
    cube = noise[None] if noise.ndim == 2 else noise
    cube = cube[np.isfinite(cube).all(axis=(1, 2))].astype(np.float64)
    cube = cube - cube.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(cube)) ** 2
    acf = np.fft.ifft2(power).real.mean(0)
    acf /= acf[0, 0]
    sigmas = []
    for line in (acf[0, :], acf[:, 0]):
        lags = np.arange(1, len(line) // 2)
        good = lags[line[lags] > 0.1]
        good = good[good == np.arange(1, len(good) + 1)]   # the contiguous run from lag 1
        if good.size == 0:
            return float("nan")
        # ln ACF = −lag²/(2σ²): least squares through the origin
        slope = np.sum(good**2 * np.log(line[good])) / np.sum(good.astype(float) ** 4)
        sigmas.append(np.sqrt(-1 / (2 * slope)))
    return float(np.mean(sigmas) / FWHM_TO_SIGMA)


def adjacent_channel_correlation(cube: np.ndarray) -> float:
    """Pearson correlation of each voxel with its neighbour along frequency (finite pairs only)."""
    a, b = cube[:-1].ravel().astype(np.float64), cube[1:].ravel().astype(np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
