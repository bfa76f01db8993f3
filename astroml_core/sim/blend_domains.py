"""Random observing domains for the deblender's training fields (issue 30: hold on images it was not
trained on): one draw per field of PSF family and widths, pixel scale, per-band depth and object mix.

Ranges: pixel scales 0.1–0.3" span Euclid VIS (0.1"), HSC (0.168"), LSST (0.2"), KiDS (0.214") and
DES/DECaLS (0.263"); FWHM 0.5–1.2" spans good to poor ground-based seeing; Moffat β 2–5 spans fits to real
PSFs (Trujillo et al. 2001: β ≈ 2.5–4.8), Kolmogorov is the turbulence limit (Fried 1966) and a double
Gaussian a core with a halo; depths ± 1.5 mag around LSST single visits reach from shallow to stacked data.

``TRAINING_DOMAIN`` states what the last training stage covered, for the page's "outside what training
covered" note; ``random_blend_config`` draws one field's :class:`~astroml_core.sim.blends.BlendConfig`.
"""
from __future__ import annotations

import numpy as np

from .blend_profiles import PSF_FAMILIES, PSFSpec
from .blends import BANDS, BlendConfig

__all__ = ["TRAINING_DOMAIN", "random_blend_config"]

_BASE_SKY = BlendConfig().sky_sigma

#: The ranges the domain-randomised training stage draws from (all uniform unless said otherwise).
#: pixel_arcsec: pixel scale ("/px); psf_fwhm_arcsec: every band's PSF FWHM ("); psf_families: the PSF
#: profiles (one per field, all bands); moffat_beta: Moffat β; double_gaussian_halo_ratio and
#: double_gaussian_halo_flux: halo width over core width and halo share of the flux; band_fwhm_spread:
#: relative spread of the bands' FWHM around the field's base (bluer bands wider); sky_sigma_counts: the
#: reference sky σ per band (counts/px, ZP 27) and depth_spread_mag: each band's depth shifted
#: independently by U(−x, x) mag (σ × 10^(0.4 U(−x, x))); mag_i: i magnitudes; galaxies_per_field: group
#: size of the 64 × 64 px fields; sersic_n: single-Sérsic indices (sersic_share of the galaxies); trunc_share:
#: share of bulge + disc galaxies with a truncated disc; size_scale_dex: per-galaxy shift of the
#: magnitude–size relation; half_light_radius_arcsec: clip of the disc/Sérsic half-light radius;
#: colour_spread_mag: per-galaxy shift of g−r, r−i, i−z beyond the templates' ± 0.1; ellipticity_max;
#: star_share: share of objects that are stars (point sources with the PSF).
TRAINING_DOMAIN = dict(
    bands=BANDS,
    stamp_px=(64, 64),
    pixel_arcsec=(0.1, 0.3),
    psf_fwhm_arcsec=(0.5, 1.2),
    psf_families=PSF_FAMILIES,
    moffat_beta=(2.0, 5.0),
    double_gaussian_halo_ratio=(2.0, 3.0),
    double_gaussian_halo_flux=(0.1, 0.3),
    band_fwhm_spread=0.1,
    sky_sigma_counts=_BASE_SKY,
    depth_spread_mag=1.5,
    mag_i=(19.0, 24.0),
    galaxies_per_field=(2, 6),
    sersic_n=(0.5, 6.0),
    sersic_share=0.35,
    trunc_share=0.3,
    size_scale_dex=0.3,
    half_light_radius_arcsec=(0.1, 2.5),
    colour_spread_mag=0.3,
    ellipticity_max=0.8,
    star_share=0.1,
)


def _band_fwhm(rng: np.random.Generator, n: int) -> tuple[float, ...]:
    """A base FWHM and per-band widths around it: a tilt (bluer wider) and a jitter, in all ± band_fwhm_spread."""
    d = TRAINING_DOMAIN
    lo, hi = d["psf_fwhm_arcsec"]
    spread = d["band_fwhm_spread"]
    base = rng.uniform(lo, hi)
    tilt = np.linspace(spread / 2, -spread / 2, n)            # g widest, z narrowest
    jitter = rng.uniform(-spread / 2, spread / 2, n)
    return tuple(float(f) for f in np.clip(base * (1 + tilt + jitter), lo, hi))


def random_blend_config(rng: np.random.Generator, nx: int = 64, ny: int = 64) -> BlendConfig:
    """One field's randomised domain (TRAINING_DOMAIN): PSF family and per-band FWHM, pixel scale, per-band
    sky σ and the object mix; one group of 2–6 objects on an ``nx`` × ``ny`` px field."""
    d = TRAINING_DOMAIN
    family = str(d["psf_families"][rng.integers(len(d["psf_families"]))])
    spec = PSFSpec(family, beta=round(float(rng.uniform(*d["moffat_beta"])), 1),
                   halo_ratio=round(float(rng.uniform(*d["double_gaussian_halo_ratio"])), 2),
                   halo_frac=round(float(rng.uniform(*d["double_gaussian_halo_flux"])), 2))
    n = len(d["bands"])
    fwhm = _band_fwhm(rng, n)
    pixel = float(rng.uniform(*d["pixel_arcsec"]))
    depth = rng.uniform(-d["depth_spread_mag"], d["depth_spread_mag"], n)
    sky = tuple(float(s) for s in np.asarray(d["sky_sigma_counts"]) * 10 ** (0.4 * depth))
    return BlendConfig(nx=nx, ny=ny, pixel_arcsec=pixel, psf_fwhm_arcsec=fwhm, psf=(spec,) * n, sky_sigma=sky,
                       n_groups=1, group_size=d["galaxies_per_field"], mag_range=d["mag_i"],
                       sersic_share=d["sersic_share"], trunc_share=d["trunc_share"], star_share=d["star_share"],
                       size_scale_dex=d["size_scale_dex"], colour_spread=d["colour_spread_mag"],
                       max_e=d["ellipticity_max"])
