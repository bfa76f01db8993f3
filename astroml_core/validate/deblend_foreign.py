"""A foreign test set for the galaxy deblender: multi-band fields from a simulator written apart from
``astroml_core.sim.blends`` (issue 30).

The deblender is trained on ``sim/blends.py`` fields (bulge + disc GalSim galaxies, Moffat β = 3.5 PSF,
0.2" pixels, counts with zero point 27) and, with domain randomisation, on variations of them. This module
shares no code with that simulator — nothing is imported from ``astroml_core.sim`` — and differs from it on
purpose (other profiles, PSF family, units, depths, colours and placement), so that a network scored here is
scored on data it never saw. **Never train or tune on these fields**: they are a test set only.

Seeds: ``FOREIGN_SEEDS`` = 900000–900039. (Issue 30 proposed 80000–80039, but the shipped weights' stages
train on seeds TRAIN_SEED0 + first_field … = 50000–205999 of ``train/deblend.py``, 80000 among them; the
random stream here is also keyed (seed, 30) rather than the bare seed.)

Recipe, per seed (what differs from ``sim/blends`` in brackets):

- **Units**: pixels in nJy (AB zero point 31.4: m = 31.4 − 2.5 log10 f/nJy) [counts, ZP 27]. The FITS
  file (``ForeignField.hdulist``) says BUNIT = 'nJy' and MAGZERO = 31.4, with a TAN WCS.
- **Pixels**: 0.2" on most fields, 0.168" (HSC-like) when seed % 3 == 1 [always 0.2"].
- **PSF**: optics ⊗ atmosphere, ``galsim.Airy`` (λ/D for a 2.5, 4 or 8.2 m aperture, central obscuration
  0.3, λ = 477/623/763/905 nm in g/r/i/z) convolved with ``galsim.Kolmogorov``, whose FWHM is chosen so
  that the total FWHM is 0.6–1.0" (seeing drawn in r, scaled as λ^−0.2, ±0.02" per band) [Moffat β = 3.5,
  fixed FWHM]. On a quarter of the fields (seed % 4 == 3) the PSF is instead a Moffat with β = 3 (the
  independent test that exposed the deblender's failure used one), same FWHM draw. The recorded
  ``psf_fwhm_arcsec`` is measured on a finely sampled image of the PSF; ``psf_images`` are the PSFs drawn
  on the pixel grid (pixel response included), normalised to sum 1.
- **Depth and noise**: 5σ point-source depths 25.2/25.0/24.6/24.0 AB in g/r/i/z [fixed counts σ]; the
  pixel σ is σ_pix = F_5σ / (5 √n_eff), n_eff = 1/Σp² of the pixelised PSF, so a point source at the
  depth has optimal (PSF-weighted) S/N = 5 whatever the seeing and pixel. White Gaussian noise per band.
- **Galaxies** (GalSim, drawn with the pixel response): four kinds [bulge + disc only]
  - "disc": ``galsim.InclinedExponential`` (cos i ~ U(0.05, 1), scale height / radius ~ U(0.07, 0.13))
    [a sheared exponential];
  - "bulge+disc": that disc plus a Sérsic bulge, n ~ U(2, 5) in steps of 0.25 (GalSim caches one table
    per n), half-light radius U(0.15, 0.5) × the disc's, axis ratio U(0.6, 1) at the disc's angle, B/T in
    i ~ U(0.1, 0.7) [de Vaucouleurs n = 4, B/T U(0, 0.6)];
  - "clumpy": the disc (and a small bulge, B/T U(0, 0.2)) with 2–5 Gaussian star-forming knots
    (σ 0.04–0.12") placed on the inclined disc (radii ~ Γ(2) × scale radius, projected) carrying 5–20 %
    of the disc's i-band light, with a bluer SED;
  - "elliptical": a single Sérsic, n ~ U(2, 5), axis ratio U(0.45, 1).
  Sérsic profiles are truncated at 5 half-light radii (flux normalised inside), so a galaxy's total flux is
  what its stamp holds; stamps reach 5.5 half-light radii + 3 PSF FWHM.
- **Magnitudes and sizes**: i = 19–25 from N(<m) ∝ 10^{0.3 m}; half-light radius
  log10 r_e["] = −0.17 (i − 22) − 0.30 ± 0.18 dex, clipped 0.12–2.5" (ellipticals 0.8 × that)
  [0.33 slope, i 19–24, −0.2 slope, 0.15 dex].
- **Colours**: five SED-like templates of magnitudes relative to i (g, r, z offsets; passive, early
  spiral, late spiral, starburst, HII knot), each stretched by U(0.75, 1.25) (a crude redshift) with
  ±0.04 mag jitter per band; bulges and ellipticals take passive or early-spiral templates, discs early,
  late or starburst, knots the HII one [two fixed colour triples ± 0.1].
- **Placement**: a Poisson scatter (0.055 galaxies per arcsec², uniform over the field, edges included)
  plus, around 35 % of them, one (70 %) or two companions at 0.6–2.5 × the pair's combined observed radius
  (√(r_e² + (FWHM/2)²), summed), 0.5 mag brighter to 2 mag fainter [groups of 2–6 only]. Over the 40
  FOREIGN_SEEDS at 128 px: 1,848 objects, of which 221 isolated (β ≤ 0.1) and 192 blended (β > 0.1) with
  snr_r ≥ 20; ~0.3–0.5 s per field on one CPU core.

Truth (``ForeignField.truth``, an astropy QTable): id, x, y (pixels, 0-based, x = column), flux_g … flux_z
(nJy, the profile's total flux), blendedness β = 1 − Σ I_k² / Σ I_k I_all on the noiseless r + i image
(Bosch+2018), snr_r = √(Σ s_r²)/σ_r on the noiseless r image (optimal S/N), kind, plus mag_i, r_half
(arcsec), bt_i, n_sersic, n_clumps, cos_i and the templates. ``isolated`` holds every object's noiseless
PSF-convolved image (nJy), so ``noise_floor`` can fit every true shape to the noisy bands: the flux errors
that noise alone costs on these blends, the floor against which deblenders are scored.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import astropy.units as u
import galsim
import numpy as np
from astropy.io import fits
from astropy.table import QTable
from astropy.wcs import WCS

__all__ = ["ForeignField", "simulate_foreign_field", "noise_floor", "FOREIGN_SEEDS", "BANDS", "ZERO_POINT",
           "DEPTHS_5SIGMA", "TEMPLATES", "field_statistics", "blendedness_of"]

FOREIGN_SEEDS = tuple(range(900000, 900040))
BANDS = ("g", "r", "i", "z")
ZERO_POINT = 31.4                                  # AB magnitude of 1 nJy
DEPTHS_5SIGMA = (25.2, 25.0, 24.6, 24.0)           # 5σ point-source depth, AB, g r i z
WAVELENGTH_NM = (477.0, 623.0, 763.0, 905.0)
APERTURES_M = (2.5, 4.0, 8.2)
OBSCURATION = 0.3
MOFFAT_BETA = 3.0
PIXELS_ARCSEC = (0.2, 0.168)
DENSITY_PER_ARCSEC2 = 0.055
COMPANION_SHARE = 0.35
MAG_RANGE = (19.0, 25.0)
COUNT_SLOPE = 0.3
SERSIC_TRUNC = 5.0                                 # Sérsic truncation radius, half-light radii
KINDS = ("disc", "bulge+disc", "clumpy", "elliptical")
KIND_SHARES = (0.3, 0.35, 0.2, 0.15)
# magnitudes relative to i in (g, r, i, z): small SED-like templates of our own
TEMPLATES = {"passive": (1.40, 0.50, 0.0, -0.32), "early_spiral": (0.95, 0.36, 0.0, -0.20),
             "late_spiral": (0.62, 0.22, 0.0, -0.10), "starburst": (0.30, 0.08, 0.0, 0.02),
             "hii_knot": (-0.05, -0.08, 0.0, 0.12)}
_RNG_KEY = 30                                      # the issue number: keys this module's random streams
_GSPARAMS = galsim.GSParams(maximum_fft_size=8192)


@dataclass(frozen=True)
class ForeignField:
    """One foreign field: noisy bands (4, ny, nx) float32 in nJy per pixel, each object's noiseless image
    ``isolated`` (n, 4, ny, nx) float32 nJy, ``truth`` (QTable), per-band pixel σ (nJy), pixel scale, PSF FWHM
    (arcsec, measured), the pixelised PSFs (4, k, k) summing to 1, the PSF family, a TAN ``wcs`` and the seed."""

    images: np.ndarray
    isolated: np.ndarray
    truth: QTable
    sigma: np.ndarray
    bands: tuple[str, ...]
    pixel_arcsec: float
    psf_fwhm_arcsec: np.ndarray
    psf_images: np.ndarray
    psf_family: str
    wcs: WCS
    seed: int

    def hdulist(self, noise_card: bool = False) -> fits.HDUList:
        """A multi-extension FITS file: an empty primary with the recipe's cards, then one ImageHDU per band
        (EXTNAME = FILTER = band, BUNIT = 'nJy', MAGZERO = 31.4, the TAN WCS, PSF_FWHM in arcsec, PSFTYPE,
        MAG5SIG). With ``noise_card`` a SKYSIG card gives the pixel σ; by default there is none, as on a
        real coadd, and a reader measures it."""
        primary = fits.PrimaryHDU()
        h = primary.header
        h["ORIGIN"] = "astroml_core.validate.deblend_foreign"
        h["SEED"] = self.seed
        h["PSFTYPE"] = (self.psf_family, "PSF family of every band")
        h["PIXSCALE"] = (self.pixel_arcsec, "arcsec per pixel")
        h["COMMENT"] = "Foreign deblending test set (issue 30): never train or tune on it."
        hdus = [primary]
        for b, band in enumerate(self.bands):
            header = self.wcs.to_header()
            header["EXTNAME"] = band
            header["FILTER"] = band
            header["BUNIT"] = ("nJy", "per pixel")
            header["MAGZERO"] = (ZERO_POINT, "AB: m = MAGZERO - 2.5 log10(pixel sum)")
            header["PSF_FWHM"] = (round(float(self.psf_fwhm_arcsec[b]), 4), "arcsec")
            header["PSFTYPE"] = self.psf_family
            header["MAG5SIG"] = (DEPTHS_5SIGMA[b], "5 sigma point-source depth, AB")
            if noise_card:
                header["SKYSIG"] = (float(self.sigma[b]), "sky noise rms per pixel (nJy)")
            hdus.append(fits.ImageHDU(self.images[b], header=header))
        return fits.HDUList(hdus)


def _mag_to_njy(mag):
    return 10.0 ** (-0.4 * (np.asarray(mag, float) - ZERO_POINT))


def _psfs(seed: int, rng: np.random.Generator) -> tuple[str, list, np.ndarray]:
    """(family, GalSim PSF per band, target FWHM per band)."""
    family = "moffat3" if seed % 4 == 3 else "airy+kolmogorov"
    seeing_r = rng.uniform(0.62, 0.95)
    fwhm = np.clip(seeing_r * (np.array(WAVELENGTH_NM) / WAVELENGTH_NM[1]) ** -0.2 + rng.normal(0, 0.02, 4),
                   0.6, 0.985)
    aperture = float(rng.choice(APERTURES_M))
    psfs = []
    for b in range(4):
        if family == "moffat3":
            psfs.append(galsim.Moffat(beta=MOFFAT_BETA, fwhm=fwhm[b], gsparams=_GSPARAMS))
            continue
        lam_over_diam = WAVELENGTH_NM[b] * 1e-9 / aperture * 206264.806
        airy = galsim.Airy(lam_over_diam=lam_over_diam, obscuration=OBSCURATION, gsparams=_GSPARAMS)
        atmosphere = math.sqrt(max(fwhm[b] ** 2 - (1.0 * lam_over_diam) ** 2, 0.3 ** 2))
        psfs.append(galsim.Convolve(airy, galsim.Kolmogorov(fwhm=atmosphere, gsparams=_GSPARAMS)))
    return family, psfs, fwhm


def _colour(rng, names) -> np.ndarray:
    """Magnitude offsets (g, r, i, z) relative to i from a template picked in ``names``, stretched and jittered."""
    name = names[int(rng.integers(len(names)))]
    offsets = np.array(TEMPLATES[name]) * rng.uniform(0.75, 1.25) + rng.normal(0, 0.04, 4)
    offsets[2] = 0.0
    return offsets, name


def _galaxy(rng, mag_i: float) -> dict:
    """One galaxy's parameters (kind, sizes, fluxes per component and band)."""
    kind = KINDS[int(rng.choice(len(KINDS), p=KIND_SHARES))]
    r_e = float(np.clip(10 ** (-0.17 * (mag_i - 22) - 0.30 + rng.normal(0, 0.18)), 0.12, 2.5))
    f_i = float(_mag_to_njy(mag_i))
    pa = rng.uniform(0, 180)
    g = dict(kind=kind, mag_i=mag_i, pa=pa, n=np.nan, bt=0.0, n_clumps=0, cos_i=np.nan, bulge_t="", disc_t="")
    if kind == "elliptical":
        r_e *= 0.8
        n = round(rng.uniform(2, 5) * 4) / 4
        col, g["bulge_t"] = _colour(rng, ("passive", "early_spiral"))
        g.update(r_e=r_e, n=n, bt=1.0, q=rng.uniform(0.45, 1.0), bulge_flux=f_i * 10 ** (-0.4 * col), extent=r_e)
        return g
    cos_i = rng.uniform(0.05, 1.0)
    disc_col, g["disc_t"] = _colour(rng, ("early_spiral", "late_spiral", "starburst"))
    bt = {"disc": 0.0, "bulge+disc": rng.uniform(0.1, 0.7), "clumpy": rng.uniform(0.0, 0.2)}[kind]
    g.update(r_e=r_e, cos_i=cos_i, h_over_r=rng.uniform(0.07, 0.13), bt=bt, extent=r_e)
    disc_i = f_i * (1 - bt)
    if bt > 0:
        bulge_col, g["bulge_t"] = _colour(rng, ("passive", "early_spiral"))
        g.update(n=round(rng.uniform(2, 5) * 4) / 4, r_b=r_e * rng.uniform(0.15, 0.5), q=rng.uniform(0.6, 1.0),
                 bulge_flux=f_i * bt * 10 ** (-0.4 * bulge_col))
    if kind == "clumpy":
        k = int(rng.integers(2, 6))
        share = rng.uniform(0.05, 0.2)
        knot_col, _ = _colour(rng, ("hii_knot",))
        h = r_e / 1.6783                                  # exponential scale radius
        r = h * rng.gamma(2.0, 1.0, k)
        theta = rng.uniform(0, 2 * np.pi, k)
        x, y = r * np.cos(theta), r * np.sin(theta) * cos_i
        c, s = np.cos(np.radians(pa)), np.sin(np.radians(pa))
        g.update(n_clumps=k, knot_xy=np.column_stack([c * x - s * y, s * x + c * y]),
                 knot_sigma=rng.uniform(0.04, 0.12, k),
                 knot_flux=np.outer(rng.dirichlet(np.ones(k)) * disc_i * share, 10 ** (-0.4 * knot_col)))
        disc_i *= 1 - share
        g["extent"] = max(r_e, float(np.abs(g["knot_xy"]).max()) + 0.3)
    g["disc_flux"] = disc_i * 10 ** (-0.4 * disc_col)
    return g


def _profile(g: dict, b: int) -> galsim.GSObject:
    """The galaxy's profile in band ``b`` (before the PSF)."""
    parts = []
    if "disc_flux" in g:
        disc = galsim.InclinedExponential(np.arccos(g["cos_i"]) * galsim.radians, half_light_radius=g["r_e"],
                                          scale_h_over_r=g["h_over_r"], flux=g["disc_flux"][b], gsparams=_GSPARAMS)
        parts.append(disc.rotate(g["pa"] * galsim.degrees))
    if "bulge_flux" in g:
        r = g.get("r_b", g["r_e"])
        bulge = galsim.Sersic(g["n"], half_light_radius=r, trunc=SERSIC_TRUNC * r, flux=g["bulge_flux"][b],
                              gsparams=_GSPARAMS)
        parts.append(bulge.shear(q=g["q"], beta=g["pa"] * galsim.degrees))
    for (dx, dy), sig, flux in zip(g.get("knot_xy", ()), g.get("knot_sigma", ()), g.get("knot_flux", ())):
        parts.append(galsim.Gaussian(sigma=sig, flux=flux[b], gsparams=_GSPARAMS).shift(dx, dy))
    return parts[0] if len(parts) == 1 else galsim.Add(parts)


def _total_flux(g: dict) -> np.ndarray:
    total = np.zeros(4)
    for key in ("disc_flux", "bulge_flux"):
        if key in g:
            total += g[key]
    if "knot_flux" in g:
        total += g["knot_flux"].sum(axis=0)
    return total


def _draw(profile, psf, x: float, y: float, half: int, pixel: float, out: np.ndarray) -> None:
    """Draw ``profile`` ⊗ ``psf`` centred at (x, y) (0-based, x = column) into ``out`` (ny, nx), cut at its edges."""
    ix, iy = int(round(x)), int(round(y))
    ny, nx = out.shape
    x0, x1, y0, y1 = max(ix - half, 0), min(ix + half + 1, nx), max(iy - half, 0), min(iy + half + 1, ny)
    if x0 >= x1 or y0 >= y1:
        return
    stamp = galsim.Convolve(profile, psf).drawImage(nx=2 * half + 1, ny=2 * half + 1, scale=pixel,
                                                    offset=(x - ix, y - iy)).array
    out[y0:y1, x0:x1] = stamp[y0 - iy + half:y1 - iy + half, x0 - ix + half:x1 - ix + half]


def _wcs(rng, size_x: int, size_y: int, pixel: float) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [rng.uniform(30, 330), rng.uniform(-60, 60)]
    w.wcs.crpix = [(size_x + 1) / 2, (size_y + 1) / 2]
    w.wcs.cdelt = [-pixel / 3600, pixel / 3600]
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    w.wcs.equinox = 2000.0
    return w


def simulate_foreign_field(seed: int, size: int = 128) -> ForeignField:
    """The foreign field of ``seed``, ``size`` × ``size`` pixels (recipe in the module docstring)."""
    rng = np.random.default_rng([seed, _RNG_KEY])
    noise_rng = np.random.default_rng([seed, _RNG_KEY, 1])
    pixel = PIXELS_ARCSEC[1] if seed % 3 == 1 else PIXELS_ARCSEC[0]
    family, psfs, _ = _psfs(seed, rng)
    k = 41
    psf_images = np.stack([p.drawImage(nx=k, ny=k, scale=pixel).array for p in psfs]).astype(np.float64)
    psf_images /= psf_images.sum(axis=(1, 2), keepdims=True)
    n_eff = 1.0 / (psf_images ** 2).sum(axis=(1, 2))
    sigma = _mag_to_njy(DEPTHS_5SIGMA) / (5.0 * np.sqrt(n_eff))
    fine = pixel / 8
    measured = np.array([p.drawImage(nx=161, ny=161, scale=fine, method="no_pixel").calculateFWHM() for p in psfs])

    # placement: a Poisson scatter plus companions
    area = (size * pixel) ** 2
    n0 = int(rng.poisson(DENSITY_PER_ARCSEC2 * area))
    a, c = 10 ** (COUNT_SLOPE * MAG_RANGE[0]), 10 ** (COUNT_SLOPE * MAG_RANGE[1])

    def draw_mag():
        return float(np.log10(a + rng.uniform() * (c - a)) / COUNT_SLOPE)

    seeing = float(np.mean(measured[1:3]))
    gals, xy = [], []
    for _ in range(n0):
        g = _galaxy(rng, draw_mag())
        x, y = rng.uniform(-0.5, size - 0.5, 2)
        gals.append(g)
        xy.append((x, y))
        if rng.uniform() < COMPANION_SHARE:
            for _ in range(1 if rng.uniform() < 0.7 else 2):
                gc = _galaxy(rng, float(np.clip(g["mag_i"] + rng.uniform(-0.5, 2.0), *MAG_RANGE)))
                radius = (math.hypot(g["r_e"], seeing / 2) + math.hypot(gc["r_e"], seeing / 2)) / pixel
                sep, angle = rng.uniform(0.6, 2.5) * radius, rng.uniform(0, 2 * np.pi)
                xc, yc = x + sep * np.cos(angle), y + sep * np.sin(angle)
                if -0.5 <= xc < size - 0.5 and -0.5 <= yc < size - 0.5:
                    gals.append(gc)
                    xy.append((xc, yc))
    n = len(gals)
    isolated = np.zeros((n, 4, size, size), np.float32)
    for j, (g, (x, y)) in enumerate(zip(gals, xy)):
        half = int(min(max(math.ceil((5.5 * g["extent"] + 3 * measured.max()) / pixel), 10), 96))
        for b in range(4):
            _draw(_profile(g, b), psfs[b], x, y, half, pixel, isolated[j, b])
    noiseless = isolated.sum(axis=0, dtype=np.float64)
    images = (noiseless + noise_rng.normal(size=noiseless.shape) * sigma[:, None, None]).astype(np.float32)

    blendedness = blendedness_of(isolated)
    snr_r = np.sqrt((isolated[:, 1].astype(np.float64) ** 2).sum(axis=(1, 2))) / sigma[1]
    flux = np.array([_total_flux(g) for g in gals]).reshape(n, 4)
    truth = QTable()
    truth["id"] = np.arange(n, dtype=np.int64)
    truth["x"] = np.array([p[0] for p in xy], float)
    truth["y"] = np.array([p[1] for p in xy], float)
    for b, band in enumerate(BANDS):
        truth[f"flux_{band}"] = flux[:, b] * u.nJy
    truth["blendedness"] = blendedness
    truth["snr_r"] = snr_r
    truth["kind"] = np.array([g["kind"] for g in gals], dtype="U12")
    truth["mag_i"] = np.array([g["mag_i"] for g in gals], float)
    truth["r_half"] = np.array([g["r_e"] for g in gals], float) * u.arcsec
    truth["bt_i"] = np.array([g["bt"] for g in gals], float)
    truth["n_sersic"] = np.array([g["n"] for g in gals], float)
    truth["n_clumps"] = np.array([g["n_clumps"] for g in gals], np.int64)
    truth["cos_i"] = np.array([g["cos_i"] for g in gals], float)
    truth["bulge_template"] = np.array([g["bulge_t"] for g in gals], dtype="U12")
    truth["disc_template"] = np.array([g["disc_t"] for g in gals], dtype="U12")
    truth.meta.update(seed=seed, origin="astroml_core.validate.deblend_foreign", psf_family=family,
                      pixel_arcsec=pixel, zero_point=ZERO_POINT, depths_5sigma=list(DEPTHS_5SIGMA),
                      note="foreign test set: never train or tune on it")
    return ForeignField(images, isolated, truth, sigma.astype(np.float64), BANDS, float(pixel), measured,
                        psf_images.astype(np.float32), family, _wcs(rng, size, size, pixel), int(seed))


def blendedness_of(isolated: np.ndarray) -> np.ndarray:
    """Bosch+2018 blendedness β_k = 1 − Σ I_k² / Σ I_k I_all of each object (n, 4, ny, nx) on the noiseless r + i
    image: 0 when nothing else overlaps it, → 1 when others dominate its pixels."""
    ri = isolated[:, 1].astype(np.float64) + isolated[:, 2]
    own = (ri ** 2).sum(axis=(1, 2))
    cross = (ri * ri.sum(axis=0)).sum(axis=(1, 2))
    return np.clip(np.where(cross > 0, 1 - own / np.where(cross > 0, cross, 1), 0.0), 0.0, 1.0)


def noise_floor(field: ForeignField) -> np.ndarray:
    """Fluxes (n_gal, 4) in nJy from a joint least-squares fit of every object's true noiseless image to the noisy
    bands, amplitudes free: what "every true shape known, amplitudes fitted" achieves (compare with the in-image
    flux ``field.isolated.sum(axis=(2, 3))``, which equals the truth for objects well inside the field)."""
    from ..metrics.deblend import known_shape_fluxes

    return known_shape_fluxes(field.isolated, field.images)


def field_statistics(seeds=FOREIGN_SEEDS, size: int = 128, min_snr: float = 20.0) -> dict:
    """Counts and noise-floor errors over ``seeds``: galaxies, isolated (β ≤ 0.1) and blended (β > 0.1) with
    snr_r ≥ ``min_snr``, median |Δf/f| of the noise floor per band for each, and seconds per field."""
    n_all, iso_err, bl_err, times = 0, [], [], []
    for seed in seeds:
        t0 = time.perf_counter()
        f = simulate_foreign_field(seed, size)
        times.append(time.perf_counter() - t0)
        ref = f.isolated.sum(axis=(2, 3), dtype=np.float64)
        err = np.abs(noise_floor(f) / ref - 1)
        bright = np.asarray(f.truth["snr_r"]) >= min_snr
        blended = np.asarray(f.truth["blendedness"]) > 0.1
        n_all += len(f.truth)
        iso_err.append(err[bright & ~blended])
        bl_err.append(err[bright & blended])
    iso, bl = np.concatenate(iso_err), np.concatenate(bl_err)
    return dict(n_fields=len(seeds), n_galaxies=n_all, n_isolated=len(iso), n_blended=len(bl),
                median_err_isolated=dict(zip(BANDS, np.median(iso, axis=0).tolist())) if len(iso) else {},
                median_err_blended=dict(zip(BANDS, np.median(bl, axis=0).tolist())) if len(bl) else {},
                seconds_per_field=dict(median=float(np.median(times)), max=float(np.max(times)),
                                       total=float(np.sum(times))))
