"""A foreign HI test set: SDC2-like cubes from a simulator written apart from ``astroml_core.sim.hi``.

Issue 29: our finder was trained on ``sim/hi.py`` cubes and lost purity on an independent simulator's
cube, so this module builds cubes that share no code with the training simulator (nothing is imported
from ``astroml_core.sim``) and differ from it on purpose, to score the finder on data it was never
trained or tuned on. Seeds are FOREIGN_SEEDS / FOREIGN_NOISE_SEEDS (70000+, 71000+); training uses
20000+, tuning 30000+, held-out 1000+. **Never train or tune on these cubes.**

Per seed, drawn and recorded in the header (``FG*`` cards) and ``truth.meta``:
- beam FWHM 2.5–5 px (2.8" pixels), channel width 18.5, 30 or 36.6 kHz, band inside 950–1150 MHz by
  default (``band_hi_hz`` allows up to 1400 MHz, but ska-sdc's Sdc2Scorer drops truth and submitted
  sources outside 0.95–1.15 GHz, and raises when no truth is left, so scored cubes stay in SDC2's band);
- noise: a Gaussian random field made in Fourier space whose spatial autocorrelation is a Gaussian of
  FWHM ρ × beam, ρ ∈ {0.7, 1.0, 1.5} cycled with the seed (not white noise convolved with the beam);
  Hanning smoothing [¼, ½, ¼] along frequency of noise and signal alike; then noise scaled to a target
  rms per channel of 20–40 µJy/beam varying smoothly across the band, with 1–3% of channels 1.5–3×
  noisier and 0–2 channels blanked to NaN;
- galaxies: HI masses from the Jones+2018 ALFALFA Schechter HIMF (α = −1.25, log M* = 9.94 h70⁻²,
  φ* = 4.5e-3 h70³ Mpc⁻³ dex⁻¹) above 10^7.5 M☉, redshifts uniform in comoving volume (flat ΛCDM, H0 = 67,
  Ω_m = 0.32); HI diameter from Wang+2016 (log D_HI[kpc] = 0.51 log M − 3.32, 0.06 dex); an exponential
  disc with a central depression Σ ∝ exp(−r/h)(1 − 0.6 exp(−(r/r_h)²)), r_h = 0.5–1.5 h, whose
  1 M☉/pc² isophote is at D_HI/2 (so hi_size = D_HI); a Polyex rotation curve (Giovanelli & Haynes 2002)
  V(r) = V0 (1 − e^{−r/r_PE})(1 + α r/r_PE), r_PE = 0.3–1.0 h, α = 0–0.06, with V0 from the baryonic
  Tully–Fisher relation M_b = 47 V⁴ (McGaugh 2012, 0.1 dex scatter), M_b = 1.4 M_HI (1 + M*/M_gas), M*/M_gas log-normal; isotropic dispersion 7–12 km/s; intrinsic
  thickness q0 = 0.1–0.25; cos i uniform, PA uniform; Monte-Carlo particles deposited cloud-in-cell and
  convolved with the (circular Gaussian) beam; flux ∫S dν [Jy Hz] = M_HI / (49.8 D_L²[Mpc]).
- source count (a flux floor with a target S/N mix, not the HIMF's own counts): a pool of POOL HIMF
  sources is drawn in the cube's light cone above the mass that a pilot draw shows can reach S/N 2 in this
  band, and POOL/2 more above 10^10.3 M☉ (the massive tail, oversampled; both density factors over the HIMF
  and the mass floor are recorded in truth.meta), its
  integrated S/N estimated, and N ~ Poisson(mean_sources × cube volume / 256×256×512) sources drawn from
  it per S/N bin (2–5, 5–10, 10–20, 20–50, 50–100, ≥100) in the fractions SNR_FRACTIONS, ~40% below
  S/N 10 (nothing below 2; a bin short of candidates hands its share to the next fainter one: S/N ≥ 100
  needs M_HI ≳ 10^11 M☉ at z ≈ 0.4 but ~10^10.5 M☉ at z ≈ 0.24, so the higher bands hold more). Sources
  are placed brightest first, whole inside the cube, at least 2 beams + both radii apart on the sky from
  any source whose profile comes near theirs in frequency.

Truth: SDC2's columns and units (pa of the receding major axis, East of North; w20 observed-frame;
hi_size the 1 M☉/pc² isophote diameter), plus snr = flux / (σ_chan Δν √(n_chan n_beams)), n_chan = W20 in
channels, n_beams = beam-convolved ellipse area / beam area, σ_chan the rms of the channel noise over the
source's W20 channels; and corr_beams (ρ), z, log_mhi.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.cosmology import FlatLambdaCDM
from astropy.io import fits
from astropy.table import QTable
from scipy import fft as sfft
from scipy.ndimage import convolve1d, gaussian_filter

from ..arrays import add_clipped

__all__ = ["ForeignCubeConfig", "simulate_foreign_cube", "simulate_foreign_noise", "write_foreign_cube",
           "foreign_draws", "FOREIGN_SEEDS", "FOREIGN_NOISE_SEEDS", "CORR_BEAMS", "CHANNEL_WIDTHS_HZ"]

FOREIGN_SEEDS = tuple(range(70000, 70008))
FOREIGN_NOISE_SEEDS = tuple(range(71000, 71003))
CORR_BEAMS = (0.7, 1.0, 1.5)
CHANNEL_WIDTHS_HZ = (18.5e3, 30e3, 36.6e3)
COSMO = FlatLambdaCDM(H0=67, Om0=0.32)
NU_HI = 1.42040575177e9   # Hz
C_KMS = 299792.458
SIGMA_PER_FWHM = 1 / (2 * np.sqrt(2 * np.log(2)))
HANNING = np.array([0.25, 0.5, 0.25])
FULL_VOLUME = 256 * 256 * 512
POOL = 60000                                   # HIMF candidates drawn per cube before the S/N selection
SNR_EDGES = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, np.inf)
SNR_FRACTIONS = (0.18, 0.22, 0.22, 0.20, 0.10, 0.08)   # 40% below S/N 10


@dataclass(frozen=True)
class ForeignCubeConfig:
    """Geometry of a foreign cube; per-seed instrument draws unless overridden (None = draw from the seed)."""

    nx: int = 256
    ny: int = 256
    n_channels: int = 512
    pixel_arcsec: float = 2.8
    ra_deg: float = 180.0             # SDC2's field centre: ska-sdc measures offsets from (180°, −30°)
    dec_deg: float = -30.0
    band_lo_hz: float = 950e6         # the band is drawn inside [band_lo_hz, band_hi_hz]; ska-sdc's scorer
    band_hi_hz: float = 1150e6        # drops every source outside 0.95–1.15 GHz, so that is the default
    mean_sources: float = 115.0       # per 256×256×512 voxels, scaled by volume
    log_mhi_min: float = 7.5
    particles: int = 8000             # Monte Carlo particles per galaxy
    beam_px: float | None = None      # FWHM, pixels (drawn 2.5–5)
    channel_hz: float | None = None   # drawn from CHANNEL_WIDTHS_HZ
    first_freq_hz: float | None = None
    corr_beams: float | None = None   # ρ; cycled over CORR_BEAMS with the seed
    galaxies: bool = True
    blanked: bool = True              # allow the 0–2 NaN channels


def foreign_draws(seed: int, config: ForeignCubeConfig | None = None) -> dict:
    """The instrument drawn for ``seed`` (beam, channel width, band, ρ, noise profile), from its own stream."""
    cfg = config or ForeignCubeConfig()
    rng = np.random.default_rng([seed, 1])
    beam = rng.uniform(2.5, 5.0)
    dnu = CHANNEL_WIDTHS_HZ[rng.integers(3)]
    band = cfg.n_channels * (cfg.channel_hz or dnu)
    f0 = rng.uniform(cfg.band_lo_hz, max(cfg.band_lo_hz, cfg.band_hi_hz - band))
    rho = CORR_BEAMS[seed % 3]
    lo, hi, bump = rng.uniform(20e-6, 40e-6), rng.uniform(20e-6, 40e-6), rng.uniform(-4e-6, 4e-6)
    t = np.linspace(0, 1, cfg.n_channels)
    sigma = np.clip(lo + (hi - lo) * t + bump * np.sin(np.pi * t), 20e-6, 40e-6)
    n_loud = int(round(rng.uniform(0.01, 0.03) * cfg.n_channels))
    loud = rng.choice(cfg.n_channels, n_loud, replace=False)
    sigma[loud] *= rng.uniform(1.5, 3.0, n_loud)
    n_blank = int(rng.integers(0, 3)) if cfg.blanked else 0
    blank = np.sort(rng.choice(np.setdiff1d(np.arange(cfg.n_channels), loud), n_blank, replace=False))
    return dict(beam_px=float(cfg.beam_px or beam), channel_hz=float(cfg.channel_hz or dnu),
                first_freq_hz=float(cfg.first_freq_hz or f0), corr_beams=float(cfg.corr_beams or rho),
                sigma_chan=sigma, loud_channels=np.sort(loud), blank_channels=blank)


# --- noise ------------------------------------------------------------------------------------
def _grf_noise(shape: tuple[int, int, int], acf_fwhm_px: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance Gaussian random field per channel whose spatial ACF is a Gaussian of FWHM acf_fwhm_px.

    P(k) is the Fourier transform of the ACF, exp(−2π² s² k²) for ACF exp(−r²/2s²); each plane's
    white-noise spectrum is shaped by √P and transformed back (periodic).
    """
    nch, ny, nx = shape
    s = acf_fwhm_px * SIGMA_PER_FWHM
    ky, kx = sfft.fftfreq(ny)[:, None], sfft.rfftfreq(nx)[None, :]
    amp = np.exp(-np.pi**2 * s**2 * (kx**2 + ky**2)).astype(np.float32)   # √P
    out = np.empty(shape, dtype=np.float32)
    for c0 in range(0, nch, 64):
        white = rng.standard_normal((min(64, nch - c0), ny, nx), dtype=np.float32)
        out[c0:c0 + 64] = sfft.irfft2(sfft.rfft2(white, workers=2) * amp, s=(ny, nx), workers=2)
    out /= out.std(axis=(1, 2), keepdims=True)
    return out


def _hanning(cube: np.ndarray) -> np.ndarray:
    """Hanning smoothing [¼, ½, ¼] along frequency (axis 0), zero beyond the band edges."""
    return convolve1d(cube, HANNING, axis=0, mode="constant")


def _noise_cube(cfg: ForeignCubeConfig, draws: dict, rng: np.random.Generator) -> np.ndarray:
    """Correlated, Hanning-smoothed noise scaled to the drawn rms per channel (Jy/beam)."""
    n = _hanning(_grf_noise((cfg.n_channels, cfg.ny, cfg.nx), draws["corr_beams"] * draws["beam_px"], rng))
    n /= n.std(axis=(1, 2), keepdims=True)
    n *= draws["sigma_chan"].astype(np.float32)[:, None, None]
    return n


# --- galaxies ---------------------------------------------------------------------------------
def _himf_log_mass(n: int, lo: float, rng: np.random.Generator) -> np.ndarray:
    """log M_HI from the Jones+2018 Schechter HIMF above 10^lo (inverse CDF on a grid)."""
    grid = np.linspace(lo, 11.5, 3000)
    x = 10 ** (grid - 9.94) / (70 / 67) ** 2
    cdf = np.cumsum(x ** -0.25 * np.exp(-x))
    return np.interp(rng.random(n), cdf / cdf[-1], grid)


def _himf_density(lo: float) -> float:
    """Comoving density (Mpc⁻³) of HI sources above 10^lo M☉ (same HIMF, φ* in h67 units)."""
    grid = np.linspace(lo, 11.5, 3000)
    x = 10 ** (grid - 9.94) / (70 / 67) ** 2
    return float(np.trapezoid(np.log(10) * 4.5e-3 * (67 / 70) ** 3 * x ** -0.25 * np.exp(-x), grid))


def _profile(x: np.ndarray, c: float) -> np.ndarray:
    """Σ(r)/Σ0 in units x = r/h: exponential with a central depression of width r_h = c h."""
    return np.exp(-x) * (1 - 0.6 * np.exp(-(x / c) ** 2))


def _isophote_ratio(mass: float, radius_pc: float, c: float) -> float:
    """x = R/h at which the disc of ``mass`` (M☉) has Σ = 1 M☉/pc² at radius R (outer branch)."""
    xs = np.linspace(0, 60, 6000)
    norm = np.trapezoid(xs * _profile(xs, c), xs)          # M = 2π Σ0 h² norm
    g = _profile(xs, c) * xs**2 / norm                       # Σ(R) R² / M × 2π
    target = 2 * np.pi * radius_pc**2 / mass
    k = int(np.argmax(g))
    if target >= g[k]:                                       # too thin to reach 1 M☉/pc²: the densest case
        return float(xs[k])
    return float(np.interp(-target, -g[k:], xs[k:]))


def _population(cfg: ForeignCubeConfig, draws: dict, rng: np.random.Generator, lo: float,
                n: int = POOL) -> dict[str, np.ndarray]:
    """n HIMF sources above 10^lo M☉ in the cube's light cone (a density factor, recorded, over the HIMF)."""
    dnu, f0 = draws["channel_hz"], draws["first_freq_hz"]
    f1 = f0 + dnu * (cfg.n_channels - 1)
    z_lo, z_hi = NU_HI / f1 - 1, NU_HI / f0 - 1
    area_sr = cfg.nx * cfg.ny * np.radians(cfg.pixel_arcsec / 3600) ** 2
    vol = (COSMO.comoving_volume(z_hi) - COSMO.comoving_volume(z_lo)).to_value(u.Mpc**3) * area_sr / (4 * np.pi)
    draws["density_factor"] = float(n / max(_himf_density(lo) * vol, 1e-9))
    draws["pool_log_mhi_min"] = float(lo)
    zg = np.linspace(z_lo, z_hi, 400)
    cv = COSMO.comoving_volume(zg).value
    z = np.interp(rng.random(n), (cv - cv[0]) / (cv[-1] - cv[0]), zg)
    log_m = _himf_log_mass(n, lo, rng)
    d_kpc = 10 ** (0.51 * log_m - 3.32 + rng.normal(0, 0.06, n))
    d_a_kpc = COSMO.angular_diameter_distance(z).to_value(u.kpc)
    d_l = COSMO.luminosity_distance(z).to_value(u.Mpc)
    gas_ratio = 10 ** rng.normal(0.0, 0.3, n)               # M*/M_gas
    m_b = 1.4 * 10**log_m * (1 + gas_ratio)
    v0 = (m_b / 47.0 * 10 ** rng.normal(0, 0.1, n)) ** 0.25
    cosi = rng.random(n)
    return dict(z=z, log_mhi=log_m, d_kpc=d_kpc, hi_size=np.degrees(d_kpc / d_a_kpc) * 3600,
                flux=10**log_m / (49.8 * d_l**2), v0=v0, alpha=rng.uniform(0.0, 0.06, n),
                rpe_h=rng.uniform(0.3, 1.0, n), dep_c=rng.uniform(0.5, 1.5, n), disp=rng.uniform(7, 12, n),
                q0=rng.uniform(0.1, 0.25, n), i=np.degrees(np.arccos(cosi)), pa=rng.uniform(0, 360, n))


def _particles(src: dict, k: int, n: int, rng: np.random.Generator):
    """(east, north) offsets in arcsec and rest-frame LOS velocities (km/s) of galaxy k's particles."""
    r_pc = src["d_kpc"][k] * 500.0
    c = src["dep_c"][k]
    h_pc = r_pc / _isophote_ratio(10 ** src["log_mhi"][k], r_pc, c)
    xs = np.linspace(0, 12, 2400)
    cdf = np.cumsum(xs * _profile(xs, c))
    r = np.interp(rng.random(n), cdf / cdf[-1], xs) * h_pc
    phi = rng.uniform(0, 2 * np.pi, n)
    zh = rng.normal(0, src["q0"][k] * r_pc, n)              # edge-on axis ratio ≈ q0 at the HI radius
    inc, pa = np.radians(src["i"][k]), np.radians(src["pa"][k])
    major = r * np.cos(phi)                                  # +major is the receding side
    minor = r * np.sin(phi) * np.cos(inc) + zh * np.sin(inc)
    rpe = src["rpe_h"][k] * h_pc
    v_rot = src["v0"][k] * (1 - np.exp(-r / rpe)) * (1 + src["alpha"][k] * r / rpe)
    v_los = v_rot * np.cos(phi) * np.sin(inc) + rng.normal(0, src["disp"][k], n)
    arcsec_per_pc = src["hi_size"][k] / (2 * r_pc)
    east = (major * np.sin(pa) - minor * np.cos(pa)) * arcsec_per_pc
    north = (major * np.cos(pa) + minor * np.sin(pa)) * arcsec_per_pc
    return east, north, v_los


def _width20(v: np.ndarray) -> float:
    """Rest-frame W20 (km/s): outermost 20%-of-peak crossings of the particles' velocity histogram."""
    edges = np.arange(v.min() - 10, v.max() + 12, 4.0)
    hist = np.histogram(v, bins=edges)[0].astype(float)
    hist = np.convolve(hist, [0.25, 0.5, 0.25], mode="same")
    level = 0.2 * hist.max()
    centres = 0.5 * (edges[1:] + edges[:-1])
    above = np.flatnonzero(hist >= level)
    i0, i1 = above[0], above[-1]
    left = np.interp(level, [hist[i0 - 1], hist[i0]], [centres[i0 - 1], centres[i0]]) if i0 > 0 else centres[i0]
    right = np.interp(level, [hist[i1 + 1], hist[i1]], [centres[i1 + 1], centres[i1]]) \
        if i1 + 1 < len(hist) else centres[i1]
    return float(right - left)


def _deposit(east, north, chan, weight: float, beam_sigma: float, pad: int):
    """Cloud-in-cell deposit of particles at (x, y, channel) into a padded box, beam-convolved on the sky."""
    x0, y0, c0 = np.floor(east.min()) - pad, np.floor(north.min()) - pad, np.floor(chan.min()) - 1
    shape = (int(np.floor(chan.max()) - c0) + 3, int(np.floor(north.max()) - y0) + pad + 2,
             int(np.floor(east.max()) - x0) + pad + 2)
    fx, fy, fc = east - x0, north - y0, chan - c0
    ix, iy, ic = np.floor(fx).astype(int), np.floor(fy).astype(int), np.floor(fc).astype(int)
    dx, dy, dc = fx - ix, fy - iy, fc - ic
    box = np.zeros(int(np.prod(shape)))
    for oc, wc in ((0, 1 - dc), (1, dc)):
        for oy, wy in ((0, 1 - dy), (1, dy)):
            for ox, wx in ((0, 1 - dx), (1, dx)):
                idx = np.ravel_multi_index((ic + oc, iy + oy, ix + ox), shape)
                box += np.bincount(idx, weights=wc * wy * wx, minlength=box.size)
    box = box.reshape(shape) * weight
    box = gaussian_filter(box, (0, beam_sigma, beam_sigma), mode="constant", truncate=4.5)
    return box.astype(np.float32), (int(c0), int(y0), int(x0))


def _snr(flux, w20_obs_kms, freq, hi_size, inc, q0, draws: dict, cfg: ForeignCubeConfig) -> np.ndarray:
    """Integrated S/N: flux / (σ_chan Δν √(n_chan n_beams)), σ_chan the rms over the W20 channels."""
    dnu, beam_as = draws["channel_hz"], draws["beam_px"] * cfg.pixel_arcsec
    n_chan = np.maximum(1.0, w20_obs_kms / C_KMS * freq / dnu)
    q = np.sqrt(np.cos(np.radians(inc)) ** 2 * (1 - q0**2) + q0**2)
    n_beams = np.hypot(hi_size, beam_as) * np.hypot(hi_size * q, beam_as) / beam_as**2
    sig2 = np.concatenate([[0.0], np.cumsum(draws["sigma_chan"] ** 2)])
    centre = (freq - draws["first_freq_hz"]) / dnu
    nsig = len(sig2) - 1
    lo = np.clip(np.floor(centre - n_chan / 2), 0, nsig - 1).astype(int)
    hi = np.clip(np.ceil(centre + n_chan / 2), lo + 1, nsig).astype(int)
    sigma = np.sqrt((sig2[hi] - sig2[lo]) / (hi - lo))
    return flux / (sigma * dnu * np.sqrt(n_chan * n_beams))


def _w20_guess(src: dict) -> np.ndarray:
    """Rough rest-frame W20 (km/s) before the particles exist: 2.2 V0 sin i + 5 σ_v."""
    return 2.2 * src["v0"] * np.sin(np.radians(src["i"])) + 5 * src["disp"]


def _guess_snr(src: dict, cfg: ForeignCubeConfig, draws: dict) -> np.ndarray:
    """Integrated S/N of pool sources from the guessed W20."""
    return _snr(src["flux"], _w20_guess(src) * (1 + src["z"]), NU_HI / (1 + src["z"]), src["hi_size"], src["i"],
                src["q0"], draws, cfg)


def _pool(cfg: ForeignCubeConfig, draws: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The candidate pool: a pilot draw finds the HI mass below which no source reaches S/N 2 in this band,
    the pool is drawn above it, plus POOL/2 above 10^max(lo+1, 10.3) M☉ so the bright bins find candidates."""
    pilot = _population(cfg, draws, rng, cfg.log_mhi_min, 20000)
    ok = _guess_snr(pilot, cfg, draws) >= 2
    lo = cfg.log_mhi_min if not ok.any() else max(cfg.log_mhi_min, float(np.min(pilot["log_mhi"][ok])) - 0.2)
    main = _population(cfg, draws, rng, lo)
    factor = draws["density_factor"]
    tail = _population(cfg, draws, rng, max(lo + 1.0, 10.3), POOL // 2)   # the rare massive, bright end
    draws["density_factor"], draws["tail_density_factor"] = factor, draws["density_factor"]
    return {k: np.concatenate([main[k], tail[k]]) for k in main}


def _select(src: dict, cfg: ForeignCubeConfig, draws: dict, rng: np.random.Generator) -> np.ndarray:
    """Indices kept: whole profile in band, drawn per integrated-S/N bin to SNR_FRACTIONS (brightest first)."""
    freq = NU_HI / (1 + src["z"])
    w20_guess = _w20_guess(src)
    snr = _guess_snr(src, cfg, draws)
    half_width = w20_guess * (1 + src["z"]) / C_KMS * freq
    f0, f1 = draws["first_freq_hz"], draws["first_freq_hz"] + draws["channel_hz"] * (cfg.n_channels - 1)
    inside = (freq - half_width - 3 * draws["channel_hz"] > f0) & (freq + half_width + 3 * draws["channel_hz"] < f1)
    target = rng.poisson(cfg.mean_sources * cfg.nx * cfg.ny * cfg.n_channels / FULL_VOLUME)
    per_bin = rng.multinomial(target, SNR_FRACTIONS)
    picked, short = [], 0
    for b in range(len(per_bin) - 1, -1, -1):          # brightest bin first; a shortfall moves one bin down
        pool = np.flatnonzero(inside & (snr >= SNR_EDGES[b]) & (snr < SNR_EDGES[b + 1]))
        n = per_bin[b] + short
        picked.append(rng.choice(pool, min(n, len(pool)), replace=False))
        short = max(0, n - len(pool))
    idx = np.concatenate(picked).astype(int)
    return idx[np.argsort(-snr[idx])]


def _place(src: dict, idx: np.ndarray, cfg: ForeignCubeConfig, draws: dict, rng: np.random.Generator):
    """Sky pixel positions for sources idx, ≥ 2 beams + both radii apart from any spectral neighbour."""
    beam = draws["beam_px"]
    freq = NU_HI / (1 + src["z"])
    half = (2 * src["v0"] + 30) * (1 + src["z"]) / C_KMS * freq / 2 + 2 * draws["channel_hz"]
    placed, xs, ys = [], [], []
    for k in idx:
        rad = src["hi_size"][k] / 2 / cfg.pixel_arcsec
        margin = rad + 1.5 * beam
        if 2 * margin >= min(cfg.nx, cfg.ny):
            continue
        for _ in range(60):
            x, y = rng.uniform(margin, cfg.nx - 1 - margin), rng.uniform(margin, cfg.ny - 1 - margin)
            ok = True
            for j, xj, yj in zip(placed, xs, ys):
                if abs(freq[k] - freq[j]) < half[k] + half[j]:
                    need = 2 * beam + rad + src["hi_size"][j] / 2 / cfg.pixel_arcsec
                    if (x - xj) ** 2 + (y - yj) ** 2 < need**2:
                        ok = False
                        break
            if ok:
                placed.append(k)
                xs.append(x)
                ys.append(y)
                break
    return np.array(placed, dtype=int), np.array(xs), np.array(ys)


# --- header and public API --------------------------------------------------------------------
def _header(cfg: ForeignCubeConfig, draws: dict, seed: int) -> fits.Header:
    """4-D SDC2-like header: RA---SIN, DEC--SIN, FREQ, STOKES (1 plane); JY/BEAM; RESTFREQ; beam."""
    h = fits.Header()
    h["BUNIT"] = "JY/BEAM"
    axes = [("RA---SIN", cfg.ra_deg, -cfg.pixel_arcsec / 3600, cfg.nx / 2, "deg"),
            ("DEC--SIN", cfg.dec_deg, cfg.pixel_arcsec / 3600, cfg.ny / 2, "deg"),
            ("FREQ", draws["first_freq_hz"], draws["channel_hz"], 1.0, "Hz"),
            ("STOKES", 1.0, 1.0, 1.0, "")]
    for k, (ctype, crval, cdelt, crpix, cunit) in enumerate(axes, start=1):
        h[f"CTYPE{k}"], h[f"CRPIX{k}"], h[f"CRVAL{k}"], h[f"CDELT{k}"] = ctype, crpix, crval, cdelt
        h[f"CUNIT{k}"] = cunit
    beam_deg = draws["beam_px"] * cfg.pixel_arcsec / 3600
    h["BMAJ"], h["BMIN"], h["BPA"] = beam_deg, beam_deg, 0.0
    h["RESTFREQ"] = NU_HI
    h["SPECSYS"] = "BARYCENT"
    h["RADESYS"], h["EQUINOX"] = "FK5", 2000.0
    h["TELESCOP"] = "SIMULATED"
    h["OBJECT"] = "astroml foreign HI test field"
    h["FGSEED"] = (seed, "hi_foreign seed (test only: never train/tune)")
    h["FGRHO"] = (draws["corr_beams"], "noise ACF FWHM / beam FWHM")
    h["FGBEAMPX"] = (draws["beam_px"], "beam FWHM in pixels")
    h["FGCHANHZ"] = (draws["channel_hz"], "channel width Hz")
    h["FGNSMIN"] = (float(np.min(draws["sigma_chan"])), "min channel rms Jy/beam")
    h["FGNSMAX"] = (float(np.max(draws["sigma_chan"])), "max channel rms Jy/beam")
    h["FGHANN"] = (True, "Hanning-smoothed along frequency")
    h["FGNBLANK"] = (len(draws["blank_channels"]), "NaN-blanked channels")
    return h


def _meta(seed: int, draws: dict) -> dict:
    return dict(seed=seed, simulator="astroml_core.validate.hi_foreign", corr_beams=draws["corr_beams"],
                beam_px=draws["beam_px"], channel_hz=draws["channel_hz"], first_freq_hz=draws["first_freq_hz"],
                sigma_chan_min=float(np.min(draws["sigma_chan"])), sigma_chan_max=float(np.max(draws["sigma_chan"])),
                loud_channels=[int(c) for c in draws["loud_channels"]],
                blank_channels=[int(c) for c in draws["blank_channels"]], hanning=True,
                density_factor=draws.get("density_factor", 0.0),
                tail_density_factor=draws.get("tail_density_factor", 0.0),
                pool_log_mhi_min=draws.get("pool_log_mhi_min", float("nan")),
                conventions="SDC2: w20 observed-frame (km/s); pa of the receding major axis, East of North; "
                            "hi_size = 1 Msun/pc^2 isophote diameter; test set only, never train or tune")


def simulate_foreign_cube(seed: int, config: ForeignCubeConfig | None = None, *,
                          signal_out: list | None = None) -> tuple[np.ndarray, fits.Header, QTable]:
    """One foreign cube: (data (1, n_channels, ny, nx) float32 Jy/beam, 4-D header, truth QTable).

    ``signal_out``, when a list, gets the noiseless Hanning-smoothed signal (n_channels, ny, nx) appended.
    """
    cfg = config or ForeignCubeConfig()
    draws = foreign_draws(seed, cfg)
    rng = np.random.default_rng([seed, 2])
    data = _noise_cube(cfg, draws, rng)
    signal = np.zeros_like(data)
    src = _pool(cfg, draws, rng) if cfg.galaxies else None
    if src is not None:
        idx = _select(src, cfg, draws, rng)
        idx, px, py = _place(src, idx, cfg, draws, rng)
    else:
        idx, px, py = np.zeros(0, int), np.zeros(0), np.zeros(0)
    dnu, f0 = draws["channel_hz"], draws["first_freq_hz"]
    beam_sigma = draws["beam_px"] * SIGMA_PER_FWHM
    beam_area = 2 * np.pi * beam_sigma**2
    w20 = np.zeros(len(idx))
    for n, k in enumerate(idx):
        east, north, v = _particles(src, k, cfg.particles, rng)
        w20[n] = _width20(v)
        nu_c = NU_HI / (1 + src["z"][k])
        chan = (nu_c / (1 + v / C_KMS) - f0) / dnu
        x = px[n] - east / cfg.pixel_arcsec
        y = py[n] + north / cfg.pixel_arcsec
        box, (c0, y0, x0) = _deposit(x, y, chan, src["flux"][k] / cfg.particles / dnu * beam_area,
                                     beam_sigma, int(np.ceil(4.5 * beam_sigma)) + 1)
        add_clipped(signal, box, (c0, y0, x0))
    signal = _hanning(signal)
    data += signal
    data[draws["blank_channels"]] = np.nan
    if signal_out is not None:
        signal_out.append(signal)
    header = _header(cfg, draws, seed)
    truth = _truth(src, idx, px, py, w20, header, draws, cfg)
    truth.meta.update(_meta(seed, draws))
    return data[None], header, truth


def _truth(src, idx, px, py, w20_rest, header, draws, cfg) -> QTable:
    """SDC2-column truth table with units, plus snr, corr_beams, z, log_mhi, x, y."""
    from astropy.wcs import WCS

    t = QTable()
    n = len(idx)
    sky = WCS(header).celestial.pixel_to_world(px, py) if n else None
    pick = (lambda key: src[key][idx]) if n else (lambda key: np.zeros(0))
    z = pick("z")
    t["id"] = np.arange(n, dtype=np.int64)
    t["ra"] = (sky.ra.deg if n else np.zeros(0)) * u.deg
    t["dec"] = (sky.dec.deg if n else np.zeros(0)) * u.deg
    t["hi_size"] = pick("hi_size") * u.arcsec
    t["line_flux_integral"] = pick("flux") * u.Jy * u.Hz
    t["central_freq"] = NU_HI / (1 + z) * u.Hz
    t["pa"] = pick("pa") * u.deg
    t["i"] = pick("i") * u.deg
    t["w20"] = w20_rest * (1 + z) * u.km / u.s
    t["snr"] = _snr(pick("flux"), w20_rest * (1 + z), NU_HI / (1 + z), pick("hi_size"), pick("i"), pick("q0"),
                    draws, cfg) if n else np.zeros(0)
    t["corr_beams"] = np.full(n, draws["corr_beams"])
    t["z"] = z
    t["log_mhi"] = pick("log_mhi")
    t["x"], t["y"] = px, py
    return t


def simulate_foreign_noise(seed: int, config: ForeignCubeConfig | None = None) -> tuple[np.ndarray, fits.Header]:
    """A pure-noise foreign cube (same noise as :func:`simulate_foreign_cube`, no galaxies): (data, header)."""
    cfg = replace(config or ForeignCubeConfig(), galaxies=False)
    data, header, _ = simulate_foreign_cube(seed, cfg)
    header["OBJECT"] = "astroml foreign HI noise-only field"
    return data, header


def write_foreign_cube(path: str | os.PathLike, seed: int, config: ForeignCubeConfig | None = None, *,
                       truth_path: str | os.PathLike | None = None) -> QTable:
    """Simulate and write a 4-D foreign cube as FITS (float32), its truth as ECSV if asked; returns the truth."""
    data, header, truth = simulate_foreign_cube(seed, config)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fits.PrimaryHDU(data.astype(np.float32), header).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    if truth_path is not None:
        truth.write(truth_path, format="ascii.ecsv", overwrite=True)
    return truth
