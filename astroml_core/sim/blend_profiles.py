"""PSF families and extra object kinds (single Sérsic, truncated discs, stars) for the blend simulator's
randomised domains, kept apart so that :mod:`astroml_core.sim.blends` stays readable.

- PSFs: Moffat (any β), Kolmogorov (atmospheric turbulence, Fried 1966) and a double Gaussian (a core and
  a wider halo, the classic model of a ground-based PSF's wings); each built at a given *total* FWHM.
- Stars: point sources along a simplified stellar locus in g−r, r−i, i−z (Covey et al. 2007: g−r from
  0.3 to 1.4 along the main sequence, r−i and i−z rising steeply for M dwarfs).
- single Sérsic profiles with n > 2 are truncated at SERSIC_TRUNC half-light radii (an untruncated n = 6
  profile's wings need FFTs ~10× larger; real wings sink into the sky well inside that radius);
- Sérsic indices, Moffat β and truncation radii are rounded to grids so that GalSim's per-shape lookup
  tables are reused (a fresh table per galaxy costs tens of ms).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["PSFSpec", "PSF_FAMILIES", "gsparams", "make_psf", "double_gaussian_sigma", "star_colours",
           "sersic_index", "galaxy_profile", "TRUNC_RATIOS"]

PSF_FAMILIES = ("moffat", "kolmogorov", "double_gaussian")
TRUNC_RATIOS = (2.5, 3.0, 4.0)   # truncation radius of a truncated disc, in half-light radii
SERSIC_TRUNC = 5.0               # single Sérsic profiles with n > 2 end at 5 half-light radii (their FFTs stay small)
SERSIC_STEP = 0.25               # grid of Sérsic indices


def _gsparams():
    """Looser FFT accuracy than GalSim's defaults (folding 1e-2): fast enough for 0.1"/px fields with
    broad-winged PSFs, still well under the noise of any training field."""
    import galsim

    return galsim.GSParams(folding_threshold=1e-2, maxk_threshold=2e-3, maximum_fft_size=4096)


@lru_cache(maxsize=1)
def gsparams():
    """The shared GSParams of the randomised path (one object, so GalSim's caches hit)."""
    return _gsparams()


@dataclass(frozen=True)
class PSFSpec:
    """One band's PSF shape; its FWHM comes from ``BlendConfig.psf_fwhm_arcsec``.

    family: one of PSF_FAMILIES. beta: Moffat index (2–5). halo_ratio: the halo's width over the core's
    (double Gaussian). halo_frac: the share of the flux in the halo (double Gaussian)."""

    family: str = "moffat"
    beta: float = 3.5
    halo_ratio: float = 2.5
    halo_frac: float = 0.2

    def __post_init__(self):
        if self.family not in PSF_FAMILIES:
            raise ValueError(f"unknown PSF family {self.family!r}: use one of {', '.join(PSF_FAMILIES)}")


@lru_cache(maxsize=4096)
def double_gaussian_sigma(fwhm: float, halo_ratio: float, halo_frac: float) -> float:
    """The core σ (arcsec) of a double Gaussian whose total profile has this FWHM (arcsec)."""
    from scipy.optimize import brentq

    k, f = halo_ratio, halo_frac
    peak = (1 - f) + f / k**2

    def excess(x):
        return (1 - f) * np.exp(-x * x / 2) + f / k**2 * np.exp(-x * x / (2 * k * k)) - peak / 2

    half = brentq(excess, 1e-3, 3 * k)        # half-maximum radius for a unit core σ
    return fwhm / (2 * half)


def make_psf(spec: PSFSpec, fwhm: float):
    """The GalSim profile (unit flux) of ``spec`` at a total FWHM of ``fwhm`` arcsec."""
    import galsim

    gsp = gsparams()
    if spec.family == "moffat":
        return galsim.Moffat(beta=round(float(spec.beta), 1), fwhm=fwhm, gsparams=gsp)
    if spec.family == "kolmogorov":
        return galsim.Kolmogorov(fwhm=fwhm, gsparams=gsp)
    s = double_gaussian_sigma(float(fwhm), float(spec.halo_ratio), float(spec.halo_frac))
    return galsim.Add([galsim.Gaussian(sigma=s, flux=1 - spec.halo_frac),
                       galsim.Gaussian(sigma=s * spec.halo_ratio, flux=spec.halo_frac)], gsparams=gsp)


def sersic_index(rng: np.random.Generator, lo: float = 0.5, hi: float = 6.0) -> float:
    """A Sérsic index ~ U(lo, hi), rounded to SERSIC_STEP (GalSim's table per index is then reused)."""
    return float(np.clip(np.round(rng.uniform(lo, hi) / SERSIC_STEP) * SERSIC_STEP, lo, hi))


def star_colours(rng: np.random.Generator) -> tuple[float, float, float]:
    """(g−r, r−i, i−z) of a random star on a simplified stellar locus (t = 0 early, 1 late M dwarf)."""
    t = float(rng.random())
    return 0.3 + 1.1 * t, 0.05 + 0.45 * t + 1.2 * t**4, 0.02 + 0.25 * t + 0.5 * t**4


@lru_cache(maxsize=256)
def _unit_sersic(n: float, trunc: float = 0.0):
    """A unit-flux Sérsic of half-light radius 1" truncated at ``trunc`` of them (0: never), built once per
    shape: dilating it keeps GalSim's per-shape tables (a new radius would otherwise mean a new table)."""
    import galsim

    return galsim.Sersic(n=n, half_light_radius=1.0, trunc=trunc, gsparams=gsparams())


def _component(n: float, trunc: float, radius: float, flux: float):
    return _unit_sersic(n, trunc).dilate(radius).withFlux(flux)


def galaxy_profile(gal: dict, band: int):
    """The GalSim profile (before the PSF) of one randomised-path object in one band, or None for a star."""
    import galsim

    kind = gal["kind"]
    if kind == "star":
        return None
    shear = galsim.Shear(e=gal["e"], beta=gal["beta"] * galsim.radians)
    if kind == "sersic":
        n = gal["sersic_n"]
        flux = gal["bulge_flux"][band] + gal["disc_flux"][band]
        return _component(n, SERSIC_TRUNC if n > 2 else 0.0, gal["r_disc"], flux).shear(shear)
    parts = []
    if gal["bulge_flux"][band] > 0:
        parts.append(_component(4.0, SERSIC_TRUNC, gal["r_bulge"], gal["bulge_flux"][band]))
    parts.append(_component(1.0, gal.get("trunc", 0.0), gal["r_disc"], gal["disc_flux"][band]))
    return galsim.Add(parts, gsparams=gsparams()).shear(shear)
