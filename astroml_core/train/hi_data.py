"""Training cubes for the HI U-Net drawn across the range real surveys make (issue 29), not one texture.

Each seed draws a sub-band of SDC2's 950–1150 MHz, a beam of 2–6 px FWHM (2.8" pixels), flat or
rising kinematics per galaxy, and a noise texture from :func:`..sim.hi_noise.random_noise_kind`;
the input is normalised by its own per-channel σ, as at inference.
"""
from __future__ import annotations

import numpy as np

from ..sim.hi import HICubeConfig, simulate_hi_cube
from ..sim.hi_noise import noise_field, random_noise_kind

__all__ = ["training_cube", "training_noise_cube", "random_geometry", "PIXEL_ARCSEC", "BEAM_PX"]

PIXEL_ARCSEC = 2.8
BEAM_PX = (2.0, 6.0)      # beam FWHM range, pixels
CHANNEL_HZ = 30e3


def random_geometry(rng: np.random.Generator, n_chan: int) -> tuple[float, float]:
    """(first channel frequency (Hz) on SDC2's 30 kHz grid within 950–1150 MHz, beam FWHM (arcsec))."""
    first = 950e6 + CHANNEL_HZ * rng.integers(0, max(1, int((200e6 - n_chan * CHANNEL_HZ) / CHANNEL_HZ)))
    return float(first), float(rng.uniform(*BEAM_PX) * PIXEL_ARCSEC)


def training_cube(seed: int, n_chan: int, ny: int, nx: int, density_factor: float,
                  mask_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(noise-normalised input float32 (n_chan, ny, nx), target bool) for one training seed.

    target: noiseless (Hanning-smoothed where the noise is) signal above ``mask_sigma`` × the
    channel's measured σ × the local σ(x, y) factor (relative to its median, which the per-channel σ
    already holds), so a source in a noisy corner is held to the same S/N; blanked channels are False.
    """
    from ..tasks.hi.noise import normalise

    rng = np.random.default_rng(seed)
    first, beam = random_geometry(rng, n_chan)
    sim = HICubeConfig(nx=nx, ny=ny, n_channels=n_chan, first_freq_hz=first, beam_arcsec=beam,
                       pixel_arcsec=PIXEL_ARCSEC, density_factor=density_factor, particles=3000,
                       kinematics="mixed", noise=random_noise_kind(rng))
    signal: list = []
    fields: list = []
    data, _, _ = simulate_hi_cube(int(rng.integers(2**31)), sim, signal_out=signal, noise_out=fields)
    norm, sigma = normalise(data)
    field = fields[0]
    local = (field.spatial / np.median(field.spatial)).astype(np.float32)
    target = signal[0] > (mask_sigma * sigma)[:, None, None] * local[None]
    target[~np.isfinite(field.channel_sigma)] = False
    return norm, target


def training_noise_cube(seed: int, shape: tuple[int, int, int]) -> np.ndarray:
    """A noise-only input (float32, normalised per channel as :func:`training_cube`'s) of a random
    texture and beam, for pure-noise tiles; its target is all False."""
    from ..tasks.hi.noise import normalise

    rng = np.random.default_rng(seed)
    n_chan = shape[0]
    first, beam = random_geometry(rng, n_chan)
    kind = random_noise_kind(rng)
    cfg = HICubeConfig(n_channels=n_chan, ny=shape[1], nx=shape[2], first_freq_hz=first, beam_arcsec=beam,
                       pixel_arcsec=PIXEL_ARCSEC)
    frac = (cfg.frequencies_hz - 950e6) / 200e6
    sigma0 = cfg.noise_jy_950 + frac * (cfg.noise_jy_1150 - cfg.noise_jy_950)   # SDC2's, as simulate_hi_cube
    data = noise_field(kind, tuple(shape), cfg.beam_sigma_px, sigma0, rng).data
    return normalise(data)[0]
