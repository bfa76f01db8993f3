"""Seeded multi-band fields of blended galaxies drawn with GalSim, with per-galaxy truth.

Recipe (LSST-like; numbers in ../shared/SCIENCE.md where they come from a paper):
- bands g, r, i, z at 0.2"/px; Moffat PSFs (β = 3.5) with FWHM 0.85", 0.80", 0.75", 0.70";
- each galaxy a de Vaucouleurs bulge (Sérsic n = 4) plus an exponential disc (Sérsic n = 1), with
  bulge-to-total flux ratio B/T ~ U(0, 0.6), disc half-light radius from the magnitude–size relation of
  faint galaxies (log r_e ≈ −0.2 (m_i − 21) − 0.15 dex in arcsec, 0.15 dex scatter, clipped to
  0.15–2.5"), bulge radius 0.4–0.7 × the disc's, and ellipticity |e| ~ Rayleigh(0.25) (< 0.7) at a
  random angle shared by both components;
- i-band magnitudes 19–24 from the Euclidean-slope counts N(<m) ∝ 10^{0.33 m}; colours by component:
  red bulges (g−r 0.75, r−i 0.4, i−z 0.25) and blue discs (g−r 0.35, r−i 0.15, i−z 0.05), each ±0.1;
- fluxes on the AB scale with zero point 27 (1 count = 10^{−0.4 (27 − 48.6)} erg/s/cm²/Hz); Gaussian
  sky noise per band σ = 0.25, 0.2, 0.25, 0.4 counts per pixel (a point source of m_i = 24 has
  S/N ≈ 12 in i; LSST's single-visit depth, well short of its 10-year stack);
- placement in groups: a group of 2–6 galaxies whose members lie at offsets between 1 and 5 × the
  larger observed radius (half-light radius and PSF half-width in quadrature) from the first member
  (Boucaud+20 drew pairs between 1 and 4 radii), so blendedness spans 0 to ~0.9; groups are
  scattered over the field.

Randomised domains (training only; :mod:`astroml_core.sim.blend_domains` draws them): other PSF families
per band (``psf``), single Sérsic galaxies (``sersic_share``), truncated discs (``trunc_share``), stars
(``star_share``), wider sizes (``size_scale_dex``), colours (``colour_spread``) and ellipticities (``max_e``).
Their defaults are today's recipe and keep every default field bit-identical: the extra random draws come
from a second generator, seeded (seed, 1), used only when one of them is set; the truth then also has the
columns ``kind`` ("bulge+disc", "sersic", "star"), ``star`` and ``sersic_n``.

Truth per galaxy: position, flux per band (the profile's total flux), magnitudes, radii, B/T,
ellipticity, and blendedness β = 1 − Σ I_k² / Σ I_k I_all on the noiseless r+i image (Bosch+2018: 0
isolated, → 1 fully blended). Isolated noiseless images per galaxy and band come back for training
and scoring.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import QTable
from astropy.wcs import WCS

from ..errors import ShapeError
from .blend_profiles import TRUNC_RATIOS, PSFSpec, galaxy_profile, gsparams, make_psf, sersic_index, star_colours

__all__ = ["BlendConfig", "BlendField", "simulate_blends", "write_blend_field", "ensure_demo_blends", "BANDS",
           "DEMO_BLENDS", "DEMO_BLENDS_TRUTH", "DEMO_BLENDS_SEED"]

BANDS = ("g", "r", "i", "z")
ZERO_POINT = 27.0
DEMO_BLENDS = "blends_demo.fits"
DEMO_BLENDS_TRUTH = "blends_demo_truth.ecsv"
DEMO_BLENDS_SEED = 7
BULGE_COLOURS = (0.75, 0.40, 0.25)   # g−r, r−i, i−z
DISC_COLOURS = (0.35, 0.15, 0.05)


@dataclass(frozen=True)
class BlendConfig:
    """Field geometry, PSFs, noise and galaxy groups (defaults: a 64 × 64 px training stamp, one group).

    The randomised-domain options (defaults: today's recipe): ``psf`` one PSFSpec per band (None: Moffat
    ``psf_beta``); ``star_share`` of objects that are stars; ``sersic_share`` of the other objects that are
    single Sérsic profiles (n ~ U(0.5, 6)) instead of bulge + disc; ``trunc_share`` of the bulge + disc
    galaxies whose disc is truncated (at TRUNC_RATIOS half-light radii); ``size_scale_dex`` half-width of a uniform per-galaxy shift of the magnitude–size relation (dex);
    ``colour_spread`` half-width (mag) of a uniform per-galaxy shift of g−r, r−i, i−z; ``max_e`` the largest
    ellipticity."""

    nx: int = 64
    ny: int = 64
    pixel_arcsec: float = 0.2
    psf_fwhm_arcsec: tuple[float, ...] = (0.85, 0.80, 0.75, 0.70)
    psf_beta: float = 3.5
    sky_sigma: tuple[float, ...] = (0.25, 0.2, 0.25, 0.4)
    n_groups: int = 1
    group_size: tuple[int, int] = (2, 6)
    mag_range: tuple[float, float] = (19.0, 24.0)
    ra_deg: float = 150.1
    dec_deg: float = 2.2
    bands: tuple[str, ...] = field(default=BANDS)
    psf: tuple[PSFSpec, ...] | None = None
    sersic_share: float = 0.0
    trunc_share: float = 0.0
    star_share: float = 0.0
    size_scale_dex: float = 0.0
    colour_spread: float = 0.0
    max_e: float = 0.7

    def __post_init__(self):
        if self.psf is not None and len(self.psf) != len(self.psf_fwhm_arcsec):
            raise ShapeError(f"psf has {len(self.psf)} specs for {len(self.psf_fwhm_arcsec)} bands: give one per band")

    @property
    def varied(self) -> bool:
        """Whether any randomised-domain option that needs extra random draws is set."""
        return (self.psf is not None or self.sersic_share > 0 or self.trunc_share > 0 or self.star_share > 0
                or self.size_scale_dex > 0 or self.colour_spread > 0)


@dataclass(frozen=True)
class BlendField:
    """One simulated field: images (band, y, x), noiseless isolated galaxies (galaxy, band, y, x), truth."""

    images: np.ndarray
    isolated: np.ndarray
    truth: QTable
    wcs: WCS
    config: BlendConfig

    @property
    def noiseless(self) -> np.ndarray:
        return self.isolated.sum(axis=0)


def _magnitudes(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """i-band magnitudes from N(<m) ∝ 10^{0.33 m} between lo and hi (inverse-CDF sampling)."""
    a = 0.33 * np.log(10)
    u_ = rng.random(n)
    return np.log(np.exp(a * lo) + u_ * (np.exp(a * hi) - np.exp(a * lo))) / a


def _band_fluxes(mag_i: float, colours: tuple[float, float, float], rng: np.random.Generator,
                 shift: np.ndarray | None = None) -> np.ndarray:
    """Fluxes (counts, ZP 27) in g, r, i, z for an i magnitude and (g−r, r−i, i−z) colours ± 0.1 (+ shift)."""
    gr, ri, iz = np.asarray(colours) + rng.uniform(-0.1, 0.1, 3)
    if shift is not None:
        gr, ri, iz = np.array([gr, ri, iz]) + shift
    mags = np.array([mag_i + ri + gr, mag_i + ri, mag_i, mag_i - iz])
    return 10 ** (-0.4 * (mags - ZERO_POINT))


def _kind(gal: dict, cfg: BlendConfig, extra: np.random.Generator) -> None:
    """Make ``gal`` a star, a single Sérsic or a (maybe truncated) bulge + disc, from the extra generator."""
    gal.update(kind="bulge+disc", sersic_n=np.nan, trunc=0.0)
    if extra.random() < cfg.star_share:
        fluxes = _band_fluxes(gal["mag_i"], star_colours(extra), extra)
        gal.update(kind="star", bulge_flux=np.zeros_like(fluxes), disc_flux=fluxes, e=0.0)
    elif extra.random() < cfg.sersic_share:
        gal.update(kind="sersic", sersic_n=sersic_index(extra))
    elif extra.random() < cfg.trunc_share:
        gal["trunc"] = float(TRUNC_RATIOS[extra.integers(len(TRUNC_RATIOS))])


def _population(cfg: BlendConfig, rng: np.random.Generator, extra: np.random.Generator | None = None) -> list[dict]:
    """Galaxy parameters and positions (pixels), group by group; ``extra`` (the randomised-domain options'
    generator) is None on the default path, whose draws from ``rng`` are the same either way."""
    gals: list[dict] = []
    margin = 6
    for g in range(cfg.n_groups):
        n = int(rng.integers(cfg.group_size[0], cfg.group_size[1] + 1))
        mags = _magnitudes(n, *cfg.mag_range, rng)
        centre = np.array([rng.uniform(margin + 4, cfg.nx - margin - 4), rng.uniform(margin + 4, cfg.ny - margin - 4)])
        if cfg.n_groups == 1:
            centre = np.array([cfg.nx / 2, cfg.ny / 2]) + rng.uniform(-3, 3, 2)
        for k in range(n):
            log_r = -0.2 * (mags[k] - 21) - 0.15 + rng.normal(0, 0.15)
            if extra is not None and cfg.size_scale_dex > 0:
                log_r += extra.uniform(-cfg.size_scale_dex, cfg.size_scale_dex)
            # randomised path: at most 12.5 px (today's largest), as the network sees pixels and bigger ones cost
            r_disc = float(np.clip(10 ** log_r, 0.15, 2.5) if extra is None else
                           np.clip(10 ** log_r, 0.1, min(2.5, 12.5 * cfg.pixel_arcsec)))
            e = min(float(rng.rayleigh(0.25)), cfg.max_e)
            bt = float(rng.uniform(0, 0.6))
            shift = None if extra is None or cfg.colour_spread <= 0 else extra.uniform(-cfg.colour_spread,
                                                                                        cfg.colour_spread, 3)
            gal = dict(group=g, mag_i=float(mags[k]), r_disc=r_disc, r_bulge=r_disc * float(rng.uniform(0.4, 0.7)),
                       bt=bt, e=e, beta=float(rng.uniform(0, np.pi)),
                       bulge_flux=_band_fluxes(mags[k], BULGE_COLOURS, rng, shift) * bt,
                       disc_flux=_band_fluxes(mags[k], DISC_COLOURS, rng, shift) * (1 - bt))
            if extra is not None:
                _kind(gal, cfg, extra)
            if k == 0:
                pos = centre
            else:
                ref = gals[-k]  # the group's first member
                psf_r = np.mean(cfg.psf_fwhm_arcsec) / 2
                scale = np.hypot(max(ref["r_disc"], r_disc), psf_r) / cfg.pixel_arcsec   # observed radius (px)
                angle = rng.uniform(0, 2 * np.pi)
                pos = np.array([ref["x"], ref["y"]]) + rng.uniform(1.0, 5.0) * scale * np.array(
                    [np.cos(angle), np.sin(angle)])
            gal["x"], gal["y"] = float(np.clip(pos[0], 2, cfg.nx - 3)), float(np.clip(pos[1], 2, cfg.ny - 3))
            gals.append(gal)
    for gal in gals:       # a star's radii mean nothing (they set its group's spacing above, as a galaxy's would)
        if gal.get("kind") == "star":
            gal.update(r_disc=0.0, r_bulge=0.0, bt=0.0)
        elif gal.get("kind") == "sersic":
            gal.update(r_bulge=np.nan, bt=np.nan)
    return gals


def _draw(gal: dict, band: int, psf, cfg: BlendConfig) -> np.ndarray:
    """The noiseless image of one galaxy in one band on the full field (counts per pixel)."""
    import galsim

    if "kind" in gal:                  # the randomised path
        shape = galaxy_profile(gal, band)
        flux = gal["bulge_flux"][band] + gal["disc_flux"][band]
        profile = psf.withFlux(flux) if shape is None else galsim.Convolve(shape, psf, gsparams=gsparams())
    else:
        shear = galsim.Shear(e=gal["e"], beta=gal["beta"] * galsim.radians)
        parts = []
        if gal["bulge_flux"][band] > 0:
            parts.append(galsim.DeVaucouleurs(half_light_radius=gal["r_bulge"], flux=gal["bulge_flux"][band]))
        parts.append(galsim.Exponential(half_light_radius=gal["r_disc"], flux=gal["disc_flux"][band]))
        profile = galsim.Convolve(galsim.Add(parts).shear(shear), psf)
    image = galsim.ImageF(cfg.nx, cfg.ny, scale=cfg.pixel_arcsec)
    # GalSim puts the profile centre at the image's true centre plus the offset (pixels)
    offset = (gal["x"] - (cfg.nx - 1) / 2, gal["y"] - (cfg.ny - 1) / 2)
    profile.drawImage(image=image, offset=offset)
    return image.array


def field_wcs(cfg: BlendConfig) -> WCS:
    """A TAN WCS with North up, East left, centred on (ra_deg, dec_deg)."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [cfg.ra_deg, cfg.dec_deg]
    w.wcs.crpix = [(cfg.nx + 1) / 2, (cfg.ny + 1) / 2]
    w.wcs.cdelt = [-cfg.pixel_arcsec / 3600, cfg.pixel_arcsec / 3600]
    w.wcs.cunit = ["deg", "deg"]
    return w


def blendedness(isolated: np.ndarray) -> np.ndarray:
    """β_k = 1 − Σ I_k² / Σ I_k · I_all per galaxy, from (galaxy, y, x) noiseless images."""
    total = isolated.sum(axis=0)
    own = np.einsum("kyx,kyx->k", isolated, isolated)
    cross = np.einsum("kyx,yx->k", isolated, total)
    return np.where(cross > 0, 1 - own / np.maximum(cross, 1e-30), 0.0)


def simulate_blends(seed: int, config: BlendConfig | None = None) -> BlendField:
    """Simulate one field: noisy images per band, isolated noiseless galaxies and a truth QTable.

    Truth columns: id, group, x, y (pixels), ra, dec, flux_<band> (counts, ZP 27), mag_<band>,
    r_disc, r_bulge (arcsec), bt, e, blendedness; with randomised-domain options also kind, star, sersic_n
    (a star's radii, B/T and e are 0; a single Sérsic's r_disc is its half-light radius, its r_bulge and bt NaN).
    """
    import galsim

    cfg = config or BlendConfig()
    rng = np.random.default_rng(seed)
    gals = _population(cfg, rng, np.random.default_rng([seed, 1]) if cfg.varied else None)
    nb = len(cfg.bands)
    if cfg.psf is None:
        psfs = [galsim.Moffat(beta=cfg.psf_beta, fwhm=f) for f in cfg.psf_fwhm_arcsec]
    else:
        psfs = [make_psf(spec, f) for spec, f in zip(cfg.psf, cfg.psf_fwhm_arcsec)]
    isolated = np.zeros((len(gals), nb, cfg.ny, cfg.nx), np.float32)
    for k, gal in enumerate(gals):
        for b in range(nb):
            isolated[k, b] = _draw(gal, b, psfs[b], cfg)
    noise = rng.standard_normal((nb, cfg.ny, cfg.nx)).astype(np.float32) * np.asarray(cfg.sky_sigma, np.float32)[:, None, None]
    images = isolated.sum(axis=0) + noise
    wcs = field_wcs(cfg)
    truth = QTable()
    truth["id"] = np.arange(len(gals), dtype=np.int64)
    truth["group"] = np.array([g["group"] for g in gals], dtype=np.int64)
    truth["x"] = np.array([g["x"] for g in gals])
    truth["y"] = np.array([g["y"] for g in gals])
    sky = wcs.pixel_to_world(truth["x"], truth["y"])
    truth["ra"], truth["dec"] = sky.ra.deg * u.deg, sky.dec.deg * u.deg
    for b, band in enumerate(cfg.bands):
        flux = np.array([g["bulge_flux"][b] + g["disc_flux"][b] for g in gals])
        truth[f"flux_{band}"] = flux
        truth[f"mag_{band}"] = ZERO_POINT - 2.5 * np.log10(flux)
    truth["r_disc"] = np.array([g["r_disc"] for g in gals]) * u.arcsec
    truth["r_bulge"] = np.array([g["r_bulge"] for g in gals]) * u.arcsec
    truth["bt"] = np.array([g["bt"] for g in gals])
    truth["e"] = np.array([g["e"] for g in gals])
    detection = isolated[:, list(cfg.bands).index("r")] + isolated[:, list(cfg.bands).index("i")]
    truth["blendedness"] = blendedness(detection)
    if cfg.varied:
        truth["kind"] = np.array([g.get("kind", "bulge+disc") for g in gals], dtype=str)
        truth["star"] = truth["kind"] == "star"
        truth["sersic_n"] = np.array([g.get("sersic_n", np.nan) for g in gals], float)
    truth.meta.update(seed=seed, simulator="astroml_core.sim.blends", zero_point=ZERO_POINT, bands=list(cfg.bands))
    return BlendField(images, isolated, truth, wcs, cfg)


def write_blend_field(path: str | os.PathLike, seed: int, truth_path: str | os.PathLike | None = None,
                      config: BlendConfig | None = None) -> QTable:
    """Write a field as a multi-extension FITS file (one image HDU per band, with WCS, PSF FWHM, noise)."""
    sim = simulate_blends(seed, config)
    cfg = sim.config
    hdus = [fits.PrimaryHDU()]
    hdus[0].header["ORIGIN"] = "astroml_core.sim.blends"
    hdus[0].header["SEED"] = seed
    for b, band in enumerate(cfg.bands):
        header = sim.wcs.to_header()
        header["EXTNAME"] = band
        header["FILTER"] = band
        header["BUNIT"] = "count"
        header["MAGZERO"] = (ZERO_POINT, "AB zero point")
        header["PSF_FWHM"] = (cfg.psf_fwhm_arcsec[b], "arcsec, Moffat beta 3.5" if cfg.psf is None
                              else f"arcsec, {cfg.psf[b].family}")
        header["SKYSIG"] = (cfg.sky_sigma[b], "sky noise rms per pixel (counts)")
        hdus.append(fits.ImageHDU(sim.images[b], header=header))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fits.HDUList(hdus).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    if truth_path is not None:
        ttmp = Path(str(truth_path) + f".{os.getpid()}.tmp")
        sim.truth.write(ttmp, format="ascii.ecsv", overwrite=True)
        os.replace(ttmp, truth_path)
    return sim.truth


def demo_config() -> BlendConfig:
    """The demo field: 256 × 256 px (51") with 24 groups, about 90 galaxies."""
    return BlendConfig(nx=256, ny=256, n_groups=24)


def ensure_demo_blends(folder: str | os.PathLike, *, seed: int = DEMO_BLENDS_SEED) -> Path:
    """Make the demo blend field and its truth in ``folder`` unless they are there; returns the path."""
    folder = Path(folder)
    image, truth = folder / DEMO_BLENDS, folder / DEMO_BLENDS_TRUTH
    if not (image.exists() and truth.exists()):
        write_blend_field(image, seed, truth, demo_config())
    return image
