"""Seeded SDSS-like spectra of 13 classes, plus "unexpected" kinds kept out of training.

Grid and noise follow SDSS BOSS coadds: log10 λ from 3.5798 in steps of 1e-4 (69 km/s per pixel),
3,840 pixels over 3,800–9,200 Å; flux in 1e-17 erg/s/cm²/Å with an inverse variance per pixel, zero
where a pixel carries no data (SDSS's convention), and an and_mask with the bit that says why.

Per spectrum: a class, its physical parameters (templates in :mod:`.spectral_templates`), a
brightness, a median S/N per pixel drawn log-uniformly in [2, 50] (SDSS galaxy spectra have medians of
~3–10, stars and quasars reach further), throughput falling at both ends of the range, sky-line
variance and residuals at the strong night-sky lines (O I 5577/6300/6364, Na D, OH bands beyond
6,800 Å), and bad-column runs and masked sky cores. Classes are defined as SDSS's pipeline defines
them: stellar subclasses by spectral type (T_eff), galaxies by BPT position and EW(Hα) (STARBURST when
EW(Hα) > 50 Å), quasars as BROADLINE when broad lines are detected; the parameter ranges leave a
margin around each boundary so a label means what it says.

Spectrum ``i`` of ``simulate_spectra(seed, n)`` depends only on (seed, i // CHUNK), so any chunk can
be re-made on its own and training streams never hold all spectra at once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit

from ..data.spectral_grid import DLOGLAM, LOGLAM0, N_PIXELS, loglam_grid
from .spectral_templates import C_KMS, carbon_star, galaxy, qso, star, white_dwarf

__all__ = ["CLASSES", "UNEXPECTED", "LOGLAM0", "DLOGLAM", "N_PIXELS", "SimulatedSpectra", "simulate_spectra",
           "simulate_kind", "ensure_demo_spectra", "DEMO_SPECTRA", "DEMO_SPECTRA_SEED", "iter_spectra", "loglam_grid", "write_simulated", "MASK_BADCOLUMN", "MASK_BRIGHTSKY"]

CLASSES = ("GALAXY_AGN", "GALAXY_STARBURST", "GALAXY_STARFORMING", "GALAXY_nan", "QSO_BROADLINE", "QSO_nan",
           "STAR_A0", "STAR_F5", "STAR_F9", "STAR_G2", "STAR_K1", "STAR_K3", "STAR_K5")
UNEXPECTED = ("BAL_QSO", "WHITE_DWARF", "CARBON_STAR", "ARTEFACT")
CHUNK = 1000
MASK_BADCOLUMN = 1 << 1        # SDSS and_mask bits: BADCOLUMN
MASK_BRIGHTSKY = 1 << 23       # BRIGHTSKY
SNR_RANGE = (2.0, 50.0)
DEMO_SPECTRA = "spectra_demo.fits"
DEMO_SPECTRA_SEED = 11
DEMO_SPECTRA_N = 40_000
DEMO_UNEXPECTED = 0.01
STAR_TEFF = {"STAR_A0": (9000, 11000), "STAR_F5": (6350, 6750), "STAR_F9": (5990, 6170),
             "STAR_G2": (5680, 5860), "STAR_K1": (5050, 5300), "STAR_K3": (4700, 4880), "STAR_K5": (4250, 4500)}
SKY_LINES = (5577.3, 5889.9, 5895.9, 6300.3, 6363.8, 6863.9, 6923.2, 7316.3, 7340.9, 7369.2, 7750.6, 7794.1,
             7821.5, 7913.7, 7964.7, 8344.6, 8399.2, 8430.2, 8465.4, 8505.0, 8827.1, 8885.8, 8919.6, 8943.4,
             8988.4, 9001.4)


@dataclass
class SimulatedSpectra:
    """A batch of simulated spectra with their truth (class or unexpected kind, redshift, S/N)."""

    loglam: np.ndarray      # (L,) log10 Å, vacuum
    flux: np.ndarray        # (N, L) float32, 1e-17 erg/s/cm²/Å
    ivar: np.ndarray        # (N, L) float32, 0 where no data
    and_mask: np.ndarray    # (N, L) int32 SDSS-style bits
    label: np.ndarray       # (N,) str: one of CLASSES or UNEXPECTED
    z: np.ndarray           # (N,) redshift
    snr: np.ndarray         # (N,) median S/N per pixel asked for

    def __len__(self) -> int:
        return len(self.label)


def _loguniform(rng, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _kauffmann(x: np.ndarray) -> np.ndarray:
    return 0.61 / (x - 0.05) + 1.3


def _kewley(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0.47, 0.61 / (np.minimum(x, 0.46) - 0.47) + 1.19, -np.inf)


def _stars(kind: str, n: int, loglam, rng) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = STAR_TEFF[kind]
    teff = rng.uniform(lo, hi, n)
    z = np.clip(rng.normal(0.0, 60.0, n), -300, 300) / C_KMS
    return star(loglam, teff, z, np.clip(rng.normal(1.0, 0.08, n), 0.8, 1.2)), z


GALAXY_PARAMS = {  # young fraction, D4000, EW(Hα) Å (log-uniform), BPT x, offset from the dividing line, σ km/s
    "GALAXY_nan": dict(young=(0.0, 0.1), d4000=(0.35, 0.5), ew=(0.01, 0.3), x=(-0.6, 0.0), dy=(-0.3, 0.3),
                       sigma=(100, 250), sii=(-0.4, 0.0), oii=(0.0, 0.5)),
    "GALAXY_STARFORMING": dict(young=(0.15, 0.5), d4000=(0.15, 0.35), ew=(5.0, 35.0), x=(-1.2, -0.5),
                               dy=(-0.5, -0.12), sigma=(40, 120), sii=(-0.6, -0.35), oii=(0.0, 0.5)),
    "GALAXY_STARBURST": dict(young=(0.5, 0.9), d4000=(0.05, 0.2), ew=(70.0, 300.0), x=(-1.4, -0.6),
                             dy=(-0.4, -0.12), sigma=(40, 120), sii=(-0.7, -0.4), oii=(0.1, 0.6)),
    "GALAXY_AGN": dict(young=(0.0, 0.3), d4000=(0.25, 0.45), ew=(3.0, 25.0), x=(-0.3, 0.3), dy=(0.15, 0.7),
                       sigma=(150, 350), sii=(-0.3, 0.1), oii=(0.3, 0.8)),
}


def _galaxies(kind: str, n: int, loglam, rng) -> tuple[np.ndarray, np.ndarray]:
    p = GALAXY_PARAMS[kind]
    u = lambda key: rng.uniform(*p[key], n)  # noqa: E731
    z = rng.uniform(0.02, 0.33, n)
    x = u("x")
    base = np.maximum(_kewley(x), -0.3) if kind == "GALAXY_AGN" else _kauffmann(x)
    y = np.clip(base + u("dy"), -1.2, 1.3)
    ebv = rng.uniform(0.0, 0.5, n)
    spec = galaxy(loglam, z, u("young"), u("d4000"), _loguniform(rng, *p["ew"], n), x, y, ebv, u("sigma"),
                  u("sii"), u("oii"))
    return spec, z


def _qsos(kind: str, n: int, loglam, rng, z_range=(0.1, 4.0)) -> tuple[np.ndarray, np.ndarray]:
    z = rng.uniform(*z_range, n)
    scale = _loguniform(rng, 0.5, 2.0, n) if kind != "QSO_nan" else _loguniform(rng, 0.02, 0.12, n)
    return qso(loglam, z, rng.uniform(-1.0, 0.0, n), scale, rng.uniform(2000, 8000, n), rng), z


def _bal_troughs(spec: np.ndarray, loglam, z, rng) -> None:
    """Broad absorption troughs blueward of N V, Si IV, C IV (and Mg II for a third: LoBALs), in place."""
    lam = 10.0 ** loglam
    n = len(z)
    v_min = rng.uniform(1000, 5000, n)
    v_max = v_min + rng.uniform(4000, 15000, n)
    depth = rng.uniform(0.5, 0.9, n)
    lines = [1240.1, 1397.6, 1549.1]
    lobal = rng.random(n) < 0.33
    for rest in lines + [2798.8]:
        v = C_KMS * (1 - lam[None, :] / (rest * (1 + z[:, None])))       # blueshift of each pixel
        inside = expit((v - v_min[:, None]) / 300) * expit(-(v - v_max[:, None]) / 300)
        d = depth if rest != 2798.8 else depth * lobal
        spec *= 1.0 - d[:, None] * inside


def _artefacts(loglam, rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Normal spectra broken by the instrument: a step between the arms, red fringing, or a dead stretch."""
    base, z = _normal(loglam, rng, rng.choice(CLASSES, n))
    lam = 10.0 ** loglam
    kind = rng.integers(3, size=n)
    split = rng.uniform(5900, 6100, n)[:, None]
    step = np.where(rng.random(n) < 0.5, rng.uniform(0.2, 0.45, n), rng.uniform(2.2, 4.0, n))[:, None]
    fringe = 1 + rng.uniform(0.3, 0.6, n)[:, None] * np.sin(2 * np.pi * lam[None, :] / rng.uniform(30, 80, n)[:, None])
    start = rng.integers(0, loglam.size - 600, n)[:, None]
    dead = (np.arange(loglam.size)[None, :] >= start) & (np.arange(loglam.size)[None, :] < start + rng.integers(200, 600, n)[:, None])
    factor = np.where(kind[:, None] == 0, np.where(lam[None, :] > split, step, 1.0),
                      np.where(kind[:, None] == 1, np.where(lam[None, :] > 7000, fringe, 1.0),
                               np.where(dead, 0.02, 1.0)))
    return base * factor, z


def _normal(loglam, rng, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noiseless spectra (B, L) and redshifts for an array of class names from CLASSES."""
    spec = np.empty((len(labels), loglam.size))
    z = np.empty(len(labels))
    for kind in np.unique(labels):
        sel = np.flatnonzero(labels == kind)
        spec[sel], z[sel] = simulate_kind(str(kind), len(sel), loglam, rng)
    return spec, z


def simulate_kind(kind: str, n: int, loglam: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noiseless spectra of one class or unexpected kind, with their redshifts."""
    if kind not in CLASSES + UNEXPECTED:
        raise ValueError(f"unknown spectrum kind {kind!r}; expected one of {CLASSES + UNEXPECTED}")
    if kind.startswith("STAR_"):
        return _stars(kind, n, loglam, rng)
    if kind.startswith("GALAXY_"):
        return _galaxies(kind, n, loglam, rng)
    if kind.startswith("QSO_"):
        return _qsos(kind, n, loglam, rng)
    if kind == "BAL_QSO":
        spec, z = _qsos("QSO_BROADLINE", n, loglam, rng, z_range=(1.8, 4.0))
        _bal_troughs(spec, loglam, z, rng)
        return spec, z
    if kind == "WHITE_DWARF":
        return white_dwarf(loglam, rng.uniform(10000, 30000, n), rng.uniform(15, 45, n)), np.zeros(n)
    if kind == "CARBON_STAR":
        return carbon_star(loglam, rng.uniform(2600, 3300, n), rng.uniform(0.4, 0.8, n)), np.zeros(n)
    return _artefacts(loglam, rng, n)


def _noise_shape(loglam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative σ per pixel (throughput at both ends, sky lines) and the sky-line profile alone."""
    lam = 10.0 ** loglam
    ends = 1 + 1.2 / (1 + np.exp((lam - 4300) / 120)) + 0.6 / (1 + np.exp(-(lam - 8700) / 200))
    sky = np.zeros((1, lam.size))
    for i, line in enumerate(SKY_LINES):
        strength = 6.0 if line in (5577.3, 6300.3) else 2.5
        sky += strength * np.exp(-0.5 * ((lam - line) / 1.6) ** 2)
    return ends * np.sqrt(1 + sky[0]), sky[0]


def _observe(clean: np.ndarray, loglam: np.ndarray, rng) -> tuple[np.ndarray, ...]:
    """Scale to a brightness, add noise, sky residuals and masks: (flux, ivar, and_mask, snr)."""
    n, L = clean.shape
    med = np.median(np.abs(clean), axis=1)
    level = _loguniform(rng, 1.0, 100.0, n)
    clean = clean * (level / np.maximum(med, 1e-30))[:, None]
    snr = _loguniform(rng, *SNR_RANGE, n)
    shape, sky = _noise_shape(loglam)
    sigma = (level / snr)[:, None] * shape[None, :] / np.median(shape)
    resid = rng.normal(0, 0.15, n)[:, None] * sky[None, :] * (level / snr)[:, None]
    flux = clean + resid + sigma * rng.standard_normal((n, L))
    ivar = 1.0 / sigma ** 2
    mask = np.zeros((n, L), np.int32)
    cores = (sky > 3.0)[None, :] & (rng.random((n, 1)) < 0.2)
    mask[cores] |= MASK_BRIGHTSKY
    for _ in range(3):
        has = rng.random(n) < 0.15
        start = rng.integers(0, L - 40, n)
        length = rng.integers(5, 40, n)
        cols = np.arange(L)[None, :]
        run = has[:, None] & (cols >= start[:, None]) & (cols < (start + length)[:, None])
        mask[run] |= MASK_BADCOLUMN
    bad = mask != 0
    flux[bad] = 0.0
    ivar[bad] = 0.0
    return flux.astype(np.float32), ivar.astype(np.float32), mask, snr


def _chunk(seed: int, chunk: int, n: int, kinds: tuple[str, ...], weights, domains: float = 0.0) -> SimulatedSpectra:
    rng = np.random.default_rng([seed, chunk])
    loglam = loglam_grid()
    labels = rng.choice(np.array(kinds), n, p=weights)
    if domains > 0:
        return _chunk_domains(rng, loglam, labels, domains)
    clean, z = _normal(loglam, rng, labels)
    flux, ivar, mask, snr = _observe(clean, loglam, rng)
    return SimulatedSpectra(loglam, flux, ivar, mask, labels.astype(str), z, snr)


def _chunk_domains(rng, loglam, labels: np.ndarray, share: float) -> SimulatedSpectra:
    """A chunk in which a fraction ``share`` of the spectra come from the randomised domains
    (:mod:`.spectra_domains`) and the rest from the default simulator."""
    from .spectra_domains import simulate_domain

    n, L = len(labels), loglam.size
    randomised = rng.random(n) < share
    flux, ivar = np.empty((n, L), np.float32), np.empty((n, L), np.float32)
    mask, z, snr = np.empty((n, L), np.int32), np.empty(n), np.empty(n)
    for sel, make in ((~randomised, None), (randomised, simulate_domain)):
        if not sel.any():
            continue
        if make is None:
            clean, z[sel] = _normal(loglam, rng, labels[sel])
            flux[sel], ivar[sel], mask[sel], snr[sel] = _observe(clean, loglam, rng)
        else:
            flux[sel], ivar[sel], mask[sel], z[sel], snr[sel] = make(labels[sel], loglam, rng)
    return SimulatedSpectra(loglam, flux, ivar, mask, labels.astype(str), z, snr)


def iter_spectra(seed: int, n: int, kinds: tuple[str, ...] = CLASSES, weights=None, *, domains: float = 0.0):
    """``simulate_spectra`` one chunk of ≤ CHUNK spectra at a time (training sets never sit whole in memory)."""
    for c in range((n + CHUNK - 1) // CHUNK):
        yield _chunk(seed, c, min(CHUNK, n - c * CHUNK), kinds, weights, domains)


def simulate_spectra(seed: int, n: int, kinds: tuple[str, ...] = CLASSES, weights=None, *,
                     domains: float = 0.0) -> SimulatedSpectra:
    """``n`` seeded spectra of the given kinds (default: the 13 classes in equal shares); a fraction ``domains``
    of them drawn from the randomised observing domains of :mod:`.spectra_domains` (default none: the
    simulator's own SDSS-like domain, unchanged)."""
    parts = list(iter_spectra(seed, n, kinds, weights, domains=domains))
    if len(parts) == 1:
        return parts[0]
    cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
    return SimulatedSpectra(parts[0].loglam, cat("flux"), cat("ivar"), cat("and_mask"), cat("label"), cat("z"),
                            cat("snr"))


def write_simulated(path: str | os.PathLike, seed: int, n: int, *, unexpected: float = 0.0) -> Path:
    """Simulate ``n`` spectra (a fraction ``unexpected`` of them from UNEXPECTED) and write a spectra FITS,
    one chunk at a time (memory stays that of one chunk, whatever ``n``)."""
    from ..data.spectra import SpectrumSet, write_spectra_parts

    kinds = CLASSES + (UNEXPECTED if unexpected > 0 else ())
    weights = None
    if unexpected > 0:
        weights = np.r_[np.full(len(CLASSES), (1 - unexpected) / len(CLASSES)),
                        np.full(len(UNEXPECTED), unexpected / len(UNEXPECTED))]

    def parts():
        for c, sim in enumerate(iter_spectra(seed, n, kinds, weights)):
            ids = np.array([f"sim-{seed}-{i:07d}" for i in range(c * CHUNK, c * CHUNK + len(sim.label))])
            yield SpectrumSet(sim.loglam, sim.flux, sim.ivar, sim.and_mask, ids,
                              {"true_class": sim.label, "z": sim.z, "snr": sim.snr})

    widths = {"ID": len(f"sim-{seed}-{max(n - 1, 0):07d}"), "TRUE_CLASS": max(len(k) for k in kinds)}
    return write_spectra_parts(path, parts(), n, widths)


def ensure_demo_spectra(folder: str | os.PathLike, *, n: int = DEMO_SPECTRA_N, seed: int = DEMO_SPECTRA_SEED) -> Path:
    """Make the demo survey (40,000 spectra, 1% of them unexpected kinds) in ``folder`` unless it is there."""
    path = Path(folder) / DEMO_SPECTRA
    if not path.exists():
        tmp = path.with_suffix(".part")
        write_simulated(tmp, seed, n, unexpected=DEMO_UNEXPECTED)
        os.replace(tmp, path)
    return path
