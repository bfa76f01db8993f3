"""Noiseless spectra of stars, galaxies and quasars on a log-λ grid, built from physical ingredients.

All functions work on a batch: they take per-spectrum parameter arrays of length B and return a
(B, L) array of f_λ (arbitrary units) on the observed-frame grid ``lam`` (Å). Lines are Gaussians
in log λ (a velocity width), added only within ±6σ of their centre so a batch stays cheap.

Ingredients and the numbers behind them:
- Stars: a Planck continuum at T_eff with blue line blanketing for cool stars; absorption depths that
  follow the spectral type (Balmer strongest near A0, Ca II H&K, G band, Mg b, Na D, Ca I, Fe I growing
  towards K; TiO band heads below ~4,600 K), as in the MK classification atlases (Gray & Corbally 2009).
- Galaxies: an old population (4,600 K continuum, 4000 Å break of strength D, K-giant absorption) plus
  a young one (15,000 K, A-star Balmer absorption), and nebular emission: [O II] 3727, Hβ, [O III]
  4959/5007 (1:3), [O I] 6300, [N II] 6548/6584 (1:3), Hα, [S II] 6717/6731, with the Balmer decrement
  2.86 reddened by E(B−V). Line ratios are placed on the BPT diagram (Kauffmann+03, Kewley+01).
- Quasars: a power law f_ν ∝ ν^α (α ~ −0.5, Vanden Berk+01) with broad Lyα, N V, Si IV, C IV, C III],
  Mg II, Hγ, Hβ, Hα (FWHM 2,000–8,000 km/s), narrow [O III], and Lyα-forest absorption blueward of
  Lyα with the effective optical depth τ = 0.0036 (1 + z)^3.46 (Madau 1995).
"""
from __future__ import annotations

import numpy as np

from ..constants import C_KMS

__all__ = ["C_KMS", "planck", "add_lines", "star", "galaxy", "qso", "white_dwarf", "carbon_star"]

HC_K = 1.4388e8          # hc/k in Å·K

BALMER = (6562.8, 4861.3, 4340.5, 4101.7, 3970.1, 3889.1, 3835.4)
BALMER_STRENGTH = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
# (rest λ Å, σ Å at depth 1, T_eff at which the line reaches half its depth, how fast it grows cooler)
METAL_LINES = (
    (3933.7, 4.0, 7600.0, 2000.0),   # Ca II K
    (3968.5, 4.0, 7600.0, 2000.0),   # Ca II H
    (4226.7, 2.0, 5600.0, 1200.0),   # Ca I
    (4305.0, 9.0, 6600.0, 1500.0),   # G band (CH)
    (4383.5, 1.5, 6600.0, 2000.0),   # Fe I
    (5167.3, 1.5, 6200.0, 1400.0),   # Mg b
    (5172.7, 1.5, 6200.0, 1400.0),
    (5183.6, 1.5, 6200.0, 1400.0),
    (5269.5, 1.5, 6400.0, 1800.0),   # Fe I
    (5889.9, 2.0, 6000.0, 1300.0),   # Na D
    (5895.9, 2.0, 6000.0, 1300.0),
    (8542.1, 2.5, 7000.0, 3000.0),   # Ca triplet
    (8662.1, 2.5, 7000.0, 3000.0),
)
TIO_HEADS = (4954.6, 5166.7, 5448.0, 6158.6, 7053.8, 7666.0)
EMISSION = {"oii": 3728.0, "hd": 4101.7, "hg": 4340.5, "hb": 4861.3, "oiii4959": 4958.9, "oiii5007": 5006.8,
            "oi": 6300.3, "nii6548": 6548.0, "ha": 6562.8, "nii6584": 6583.5, "sii6717": 6716.4,
            "sii6731": 6730.8}
QSO_LINES = (  # rest λ, EW relative to the power law at that λ (Å, Vanden Berk+01 composite)
    (1215.7, 90.0), (1240.1, 15.0), (1397.6, 8.0), (1549.1, 25.0), (1908.7, 20.0), (2798.8, 30.0),
    (4340.5, 12.0), (4861.3, 45.0), (6562.8, 190.0))
K_LAMBDA = {"hb": 3.61, "ha": 2.53}   # Calzetti-like attenuation curve k(λ)


def planck(lam: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """B_λ(T) normalised to 1 at 5,500 Å: (B, L) for λ (L,) or (B, L) in Å and temperatures (B,) in K."""
    lam = np.atleast_2d(lam)
    x = HC_K / (lam * temperature[:, None])
    x0 = HC_K / (5500.0 * temperature[:, None])
    return (5500.0 / lam) ** 5 * np.expm1(x0) / np.expm1(np.minimum(x, 700.0))


def add_lines(spec: np.ndarray, loglam: np.ndarray, centre_A: np.ndarray, sigma_kms: np.ndarray,
              amplitude: np.ndarray) -> None:
    """Add Gaussian lines in place: centre (B,) observed Å, σ (B,) km/s, peak amplitude (B,) (signed)."""
    step = loglam[1] - loglam[0]
    px = (np.log10(np.maximum(centre_A, 1.0)) - loglam[0]) / step
    sig_px = np.maximum(sigma_kms / (C_KMS * np.log(10) * step), 0.3)
    half = int(np.ceil(6 * sig_px.max()))
    offsets = np.arange(-half, half + 1)
    idx = np.rint(px).astype(np.int64)[:, None] + offsets[None, :]
    ok = (idx >= 0) & (idx < spec.shape[1]) & (amplitude[:, None] != 0)
    prof = amplitude[:, None] * np.exp(-0.5 * ((idx - px[:, None]) / sig_px[:, None]) ** 2)
    rows = np.broadcast_to(np.arange(spec.shape[0])[:, None], idx.shape)
    np.add.at(spec, (rows[ok], idx[ok]), prof[ok])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _absorb(shape: np.ndarray, loglam: np.ndarray, rest_A: float, z: np.ndarray, sigma_A: np.ndarray,
            depth: np.ndarray) -> None:
    """Multiply-free absorption: subtract a Gaussian of fractional depth from a unit-continuum shape."""
    depth = np.broadcast_to(np.clip(depth, 0.0, 0.95), z.shape)
    add_lines(shape, loglam, rest_A * (1 + z), C_KMS * np.broadcast_to(sigma_A, z.shape) / rest_A, -depth)


def _band_heads(lam_rest: np.ndarray, heads, depth: np.ndarray, scale_A: float, towards_red: bool) -> np.ndarray:
    """Transmission of molecular bands: a sharp head, absorption fading over ``scale_A`` to one side."""
    t = np.ones((depth.size, lam_rest.shape[-1]))
    for head in heads:
        d = (lam_rest - head) if towards_red else (head - lam_rest)
        t *= 1.0 - depth[:, None] * np.where(d >= 0, np.exp(-np.maximum(d, 0) / scale_A), 0.0)
    return t


def stellar_absorption(loglam: np.ndarray, teff: np.ndarray, z: np.ndarray, metal: np.ndarray,
                       balmer_width: np.ndarray | None = None) -> np.ndarray:
    """Unit-continuum absorption pattern (B, L) of a star of T_eff at redshift z; ``metal`` scales metal depths."""
    shape = np.zeros((teff.size, loglam.size))
    balmer_depth = 0.12 + 0.55 * np.exp(-(((teff - 9500.0) / 3200.0) ** 2))
    if balmer_width is None:
        balmer_width = 2.0 + 10.0 * np.exp(-(((teff - 9500.0) / 2500.0) ** 2))
    for rest, strength in zip(BALMER, BALMER_STRENGTH):
        _absorb(shape, loglam, rest, z, balmer_width * (0.6 + 0.4 * strength), balmer_depth * strength)
    for rest, sigma, t_half, growth in METAL_LINES:
        depth = 0.75 * metal * _sigmoid((t_half - teff) / (0.35 * growth))
        _absorb(shape, loglam, rest, z, np.full(teff.size, sigma), depth)
    return 1.0 + shape


def star(loglam: np.ndarray, teff: np.ndarray, z: np.ndarray, metal: np.ndarray) -> np.ndarray:
    """Stellar spectra: Planck × blanketing × line absorption × TiO bands for the coolest types."""
    lam = 10.0 ** loglam
    lam_rest = lam[None, :] / (1 + z[:, None])
    cont = planck(lam, teff)
    blanket = np.exp(-metal[:, None] * _sigmoid((6500.0 - teff[:, None]) / 600.0) * 0.35 * (4000.0 / lam_rest) ** 4)
    tio = _band_heads(lam_rest, TIO_HEADS, 0.45 * _sigmoid((4450.0 - teff) / 120.0), 120.0, towards_red=True)
    return cont * blanket * tio * stellar_absorption(loglam, teff, z, metal)


def _emission(spec: np.ndarray, loglam: np.ndarray, z: np.ndarray, sigma_kms: np.ndarray,
              fluxes: dict[str, np.ndarray]) -> None:
    """Add emission lines of given integrated fluxes (same units as spec × Å) at redshift z."""
    for name, flux in fluxes.items():
        centre = EMISSION[name] * (1 + z)
        add_lines(spec, loglam, centre, sigma_kms, flux / (np.sqrt(2 * np.pi) * centre * sigma_kms / C_KMS))


def galaxy(loglam: np.ndarray, z: np.ndarray, young: np.ndarray, d4000: np.ndarray, ew_ha: np.ndarray,
           bpt_x: np.ndarray, bpt_y: np.ndarray, ebv: np.ndarray, sigma_kms: np.ndarray,
           sii_ha: np.ndarray, oii_hb: np.ndarray) -> np.ndarray:
    """Galaxy spectra: old + young continuum, 4000 Å break, absorption, nebular emission (EW(Hα) in Å).

    ``bpt_x`` = log [N II]6584/Hα, ``bpt_y`` = log [O III]5007/Hβ; ``young`` the young light fraction at 5,500 Å.
    """
    lam = 10.0 ** loglam
    lam_rest = lam[None, :] / (1 + z[:, None])
    b = z.size
    old = planck(lam_rest, np.full(b, 4600.0)) * (1.0 - d4000[:, None] * _sigmoid((4000.0 - lam_rest) / 25.0))
    old = old * stellar_absorption(loglam, np.full(b, 4700.0), z, np.ones(b))
    yng = planck(lam_rest, np.full(b, 15000.0)) * stellar_absorption(loglam, np.full(b, 9500.0), z, np.full(b, 0.3))
    atten = 10.0 ** (-0.4 * ebv[:, None] * 0.6 * (4.05 * (5500.0 / lam_rest) - 2.9))  # stars see ~0.44 of gas E(B−V)
    spec = ((1 - young)[:, None] * old + young[:, None] * yng) * atten
    # the continuum beside Hα sets the line fluxes through the equivalent width
    side = (lam_rest > 6600.0) & (lam_rest < 6640.0)             # beside Hα and its absorption trough
    cont_ha = (spec * side).sum(axis=1) / np.maximum(side.sum(axis=1), 1)
    f_ha = ew_ha * (1 + z) * cont_ha                       # observed EW = rest EW × (1 + z)
    f_hb = f_ha / (2.86 * 10.0 ** (0.4 * ebv * (K_LAMBDA["hb"] - K_LAMBDA["ha"])))
    f_nii = f_ha * 10.0 ** bpt_x
    f_oiii = f_hb * 10.0 ** bpt_y
    sii = f_ha * 10.0 ** sii_ha
    fluxes = {"ha": f_ha, "hb": f_hb, "hg": 0.47 * f_hb, "hd": 0.26 * f_hb, "nii6584": f_nii,
              "nii6548": f_nii / 3.0, "oiii5007": f_oiii, "oiii4959": f_oiii / 3.0,
              "oi": f_ha * 10.0 ** (bpt_x - 1.0 + 0.6 * (bpt_y > 0.3)),
              "sii6717": 0.55 * sii, "sii6731": 0.45 * sii, "oii": f_hb * 10.0 ** oii_hb}
    _emission(spec, loglam, z, sigma_kms, fluxes)
    return spec


def qso(loglam: np.ndarray, z: np.ndarray, alpha_nu: np.ndarray, line_scale: np.ndarray, fwhm_kms: np.ndarray,
        rng: np.random.Generator) -> np.ndarray:
    """Quasar spectra: power law + broad lines (EWs × ``line_scale``) + narrow [O III] + Lyα forest."""
    lam = 10.0 ** loglam
    lam_rest = lam[None, :] / (1 + z[:, None])
    spec = (lam[None, :] / 5500.0) ** (-(2.0 + alpha_nu[:, None]))
    sigma = fwhm_kms / 2.3548
    for rest, ew in QSO_LINES:
        centre = rest * (1 + z)
        cont = (centre / 5500.0) ** (-(2.0 + alpha_nu))
        flux = line_scale * ew * (1 + z) * cont                 # observed EW = rest EW × (1 + z)
        sigma_A = centre * sigma / C_KMS
        add_lines(spec, loglam, centre, sigma, flux / (np.sqrt(2 * np.pi) * sigma_A))
    oiii = 5006.8 * (1 + z)
    cont = (oiii / 5500.0) ** (-(2.0 + alpha_nu))
    add_lines(spec, loglam, oiii, np.full(z.size, 250.0),
              line_scale * 15.0 * (1 + z) * cont / (np.sqrt(2 * np.pi) * oiii * 250.0 / C_KMS))
    forest = lam_rest < 1215.7
    if forest.any():
        tau = 0.0036 * (lam[None, :] / 1215.7) ** 3.46
        clumps = rng.gamma(0.6, 1.0 / 0.6, size=spec.shape)    # mean 1: a patchy forest
        spec = np.where(forest, spec * np.exp(-tau * clumps), spec)
    return spec


def white_dwarf(loglam: np.ndarray, teff: np.ndarray, balmer_sigma_A: np.ndarray) -> np.ndarray:
    """DA white dwarfs: hot Planck continuum with deep, pressure-broadened Balmer lines and no metals."""
    z = np.zeros(teff.size)
    shape = np.zeros((teff.size, loglam.size))
    for rest, strength in zip(BALMER, BALMER_STRENGTH):
        _absorb(shape, loglam, rest, z, balmer_sigma_A * (0.5 + 0.5 * strength), 0.7 * strength + 0.1)
    return planck(10.0 ** loglam, teff) * (1.0 + shape)


def carbon_star(loglam: np.ndarray, teff: np.ndarray, band_depth: np.ndarray) -> np.ndarray:
    """Carbon stars: cool Planck continuum cut by C₂ Swan and CN bands whose heads shade to the blue."""
    lam = 10.0 ** loglam
    swan = _band_heads(lam[None, :], (4737.0, 5165.0, 5636.0, 6122.0), band_depth, 180.0, towards_red=False)
    cn = _band_heads(lam[None, :], (7087.0, 7945.0, 8125.0), 0.6 * band_depth, 120.0, towards_red=True)
    return planck(lam, teff) * swan * cn
