"""A foreign test set for the spectra classifier: 13-class spectra from a generator written apart from
``astroml_core.sim.spectra`` (issue 31), observed through four survey instruments and placed on the
classifier's grid by the project's own flux-conserving resampler (the code path real files take).

Nothing here is imported from ``astroml_core.sim`` (a test checks it, also in a fresh interpreter); the
class definitions are written out again below as plain numbers, following SDSS's pipeline (Bolton+2012,
the SDSS DR8+ ``SUBCLASS`` conventions). **Never train or tune on these spectra**: they are a test set only.

Seeds: block ``b`` of ``BLOCK`` = 260 spectra draws from ``np.random.default_rng([FOREIGN_SEEDS[b], 31])``;
``FOREIGN_SEEDS`` = 910000–910099 (up to 26,000 spectra), disjoint from every seed the spectra training,
validation, held-out, bench and demo sets use (70000+, 71000, 3000–3007, 11). Spectrum ``i`` has class
``CLASS_NAMES[i % 13]`` and survey ``SURVEYS[(i // 13) % 4]``: any n that is a multiple of 52 is balanced
over the 13 classes and the four survey grids, each class equally over the grids.

Labels (truth, each with a margin from its boundary):

- **Stars** ``STAR_A0 … STAR_K5``: T_eff drawn uniformly inside the class's range (A0 9000–11000 K,
  F5 6350–6750, F9 5990–6170, G2 5680–5860, K1 5050–5300, K3 4700–4880, K5 4250–4500), a margin of
  max(20 K, 5 % of the range) inside each edge. log g 3.6–4.8 (a fifth of the K stars are giants, log g
  1.8–3.0), [Fe/H] −1.0 … +0.4, radial velocity uniform in ±300 km/s, v sin i by type, interstellar
  E(B−V) 0–0.15 (Cardelli+1989, R_V = 3.1). Spectrum: Planck × a line-blanketing opacity
  exp(−b (4000 Å / λ)⁴) (b rising to cool and metal-rich) × absorption lines with pseudo-Voigt profiles
  whose equivalent widths follow tables in T_eff written here from the MK-atlas trends (Balmer H10–Hα
  peaking near A0 with Stark wings, Ca II H&K, Ca I 4227, G band, Fe I blends, Sr II 4077, Mg b, MgH, Na D,
  Ca triplet, Paschen lines in hot stars, CN 3883), scaled by 10^(0.45 [Fe/H]) and by log g for the
  pressure-sensitive lines, TiO band heads only below 4,550 K (weak at K5).
- **Galaxies**: a composite of an old population (a K giant + a G dwarf of this module), an intermediate
  one (an A star) and a young one (a 22,000 K B-star continuum), light fractions at 5,500 Å by class,
  broadened by a stellar velocity dispersion; continuum dust τ ∝ λ^−0.7 (Charlot & Fall 2000), lines
  dusted with Cardelli+1989 and a gas E(B−V) (stars see 0.44 of it). Emission: [O II], [Ne III], Balmer,
  [O III], He I, [O I], [N II], [S II], [Ar III], [S III] set by the BPT position (x = log [N II]/Hα,
  y = log [O III]/Hβ) and EW(Hα) (observed, against the stellar continuum):
  STARFORMING: y ≤ Kauffmann+03(x) − 0.15, EW(Hα) 4–38 Å; STARBURST: the same region, EW(Hα) 65–350 Å
  (SDSS: > 50 Å); AGN: y ≥ Kewley+01(x) + 0.15 (or x ≥ 0.47), EW(Hα) 3–30 Å; GALAXY_nan: EW(Hα) ≤ 0.4 Å and
  every other line scaled with it (no significant emission; 15 % of them post-starburst E+A spectra).
  Redshift: emission-line classes z 0.01–0.33, so that Hβ, [O III], Hα, [N II] and [S II] lie inside the
  classifier's grid (≤ 9,200 Å) and inside LAMOST's (≤ 9,000 Å) — SDSS can only give a BPT subclass when
  they are measured; GALAXY_nan z 0.01–0.5.
- **Quasars**: a broken power law (α_ν −0.9…−0.1 below 5,000 Å rest, −1.8…−0.8 above), broad lines
  (Lyα, N V, Si IV, C IV blueshifted 0–2,000 km/s, He II, C III], Mg II, Hδ, Hγ, Hβ, Hα) as Gaussian
  cores with Lorentzian wings (FWHM 1,500–9,000 km/s), UV and optical Fe II pseudo-continua, a Balmer
  continuum, narrow [O II]/[O III]/[Ne V], host-galaxy light below z 0.6, SMC-like reddening, a log-normal
  Lyα/Lyβ forest with τ_eff = 0.0018 (1 + z)^3.92 (Faucher-Giguère+2008) and a Lyman-limit cut; z 0.1–4.
  QSO_BROADLINE: line strengths 0.4–2.5 × this composite; QSO_nan: 0.02–0.10 × (broad lines too weak to be
  detected, as in our simulator's label definition and SDSS's: no BROADLINE flag), narrow lines as weak.

Instruments ("survey grids"; assumptions where no number was to hand are marked *assumed*):

- **BOSS**: 3,600–10,400 Å, log10 λ steps 1e-4, one merged piece; R 1,560→2,270 (blue arm, < 6,000 Å)
  and 1,850→2,650 (red arm); a dichroic dip near 6,000 Å; read noise 2.5 e⁻ × √3 rows; tellurics half-
  corrected (*assumed*, residual ×0.3 of the band); bright sky-line cores masked in 30 % of spectra.
- **DESI**: arms b 3,600–5,930, r 5,660–7,720, z 7,520–9,824 Å, linear 0.8 Å pixels, each arm its own
  piece (averaged by the reader with inverse-variance weights, as DESI coadds are); R 2,000→3,200,
  3,200→4,100, 4,100→5,100; read noise 3.4 e⁻; tellurics corrected to ±10 %.
- **LAMOST**: 3,700–9,000 Å, log10 λ steps 1e-4; R 1,800 (constant in velocity); blue/red arms joined at
  5,900 Å with an arm-ratio error of ±6 % and extra noise over 5,700–5,900 Å; relative flux calibration
  (tilt σ 12 %); telluric bands *not* corrected (*assumed*); read noise 4 e⁻; urban Hg and Na sky lines.
- **4MOST LRS**: arms blue 3,700–5,540, green 5,150–7,130, red 6,890–9,500 Å (*assumed* split), 6,144
  linear pixels per arm (0.30/0.32/0.42 Å, *assumed*: 6k × 6k CCDs), each arm its own piece; R rising
  4,000→6,500, 5,000→7,000, 6,000→7,800 across the arms (ESO quotes R 4,000–7,800); read noise 2.5 e⁻;
  tellurics corrected to ±15 %.

Every instrument: the LSF a Gaussian whose σ_λ = λ / (2.3548 R(λ)) is applied in the coordinate where it is
constant (u = ∫ dλ / σ_λ), then sampled at the instrument's pixels (pixel width added in quadrature);
counts = exposure × (object × telluric + sky) × throughput × pixel width with Poisson (Gaussian-approximated)
variance object + sky + read noise² — not our simulator's noise shape; sky = a red-rising continuum plus
the instrument's own night-sky line list, subtracted with a scale error (σ 1.5 % BOSS, 1 % DESI and 4MOST, 4 %
LAMOST) and a wavelength-shift error (σ 0.03 px); telluric O₂ A/B and H₂O bands (precipitable water drawn); flux
calibrated through a smooth tilt error (Legendre P1, P2); unmasked cosmic-ray spikes in a quarter of the
spectra; masked bad-column runs (ivar 0). The exposure is chosen so the median S/N per pixel *of the
classifier's grid* (69 km/s) is a target drawn log-uniformly in 2–50; the truth's ``snr`` is that median
measured on the noiseless spectrum after resampling (model flux × √ivar over covered pixels).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import expit

from ..data.spectrum_resample import Piece, RawSpectra, place_on_grid

__all__ = ["CLASS_NAMES", "STAR_TEFF_K", "SURVEYS", "INSTRUMENTS", "FOREIGN_SEEDS", "BLOCK", "MODEL_LOGLAM0",
           "MODEL_DLOGLAM", "MODEL_NPIX", "model_loglam", "kauffmann03", "kewley01", "teff_limits",
           "Arm", "Instrument", "ForeignSpectra", "simulate_block", "simulate_foreign", "make_spectra", "clean_spectra",
           "SNR_RANGE", "TRUTH_KEYS"]

C_KMS = 299_792.458
HC_K = 1.438777e8                       # h c / k in Å K
CLASS_NAMES = ("GALAXY_AGN", "GALAXY_STARBURST", "GALAXY_STARFORMING", "GALAXY_nan", "QSO_BROADLINE", "QSO_nan",
               "STAR_A0", "STAR_F5", "STAR_F9", "STAR_G2", "STAR_K1", "STAR_K3", "STAR_K5")
STAR_TEFF_K = {"STAR_A0": (9000.0, 11000.0), "STAR_F5": (6350.0, 6750.0), "STAR_F9": (5990.0, 6170.0),
               "STAR_G2": (5680.0, 5860.0), "STAR_K1": (5050.0, 5300.0), "STAR_K3": (4700.0, 4880.0),
               "STAR_K5": (4250.0, 4500.0)}
SURVEYS = ("BOSS", "DESI", "LAMOST", "4MOST")
FOREIGN_SEEDS = tuple(range(910_000, 910_100))
STREAM_KEY = 31                          # the number: the random stream is keyed (seed, 31)
BLOCK = 260                              # 13 classes × 4 surveys × 5
SNR_RANGE = (2.0, 50.0)
# the classifier's input grid (written out here, not imported from the simulator; a test checks they agree)
MODEL_LOGLAM0, MODEL_DLOGLAM, MODEL_NPIX = 3.5798, 1e-4, 3840
# the high-resolution grid every spectrum is built on before an instrument sees it: 10 km/s steps
HR_DLN = 10.0 / C_KMS
HR_LAM = np.exp(np.arange(np.log(3450.0), np.log(10_600.0), HR_DLN))


def model_loglam() -> np.ndarray:
    """log10 λ (Å, vacuum) of the classifier's 3,840 pixels, 3,800–9,200 Å."""
    return MODEL_LOGLAM0 + MODEL_DLOGLAM * np.arange(MODEL_NPIX)


def teff_limits(kind: str) -> tuple[float, float]:
    """The T_eff range drawn for a stellar class: its SDSS range less a margin of max(20 K, 5 %) at each edge."""
    lo, hi = STAR_TEFF_K[kind]
    m = max(20.0, 0.05 * (hi - lo))
    return lo + m, hi - m


def kauffmann03(x):
    """Kauffmann+2003 star-forming boundary, log [O III]/Hβ at x = log [N II]/Hα (defined for x < 0.05)."""
    x = np.asarray(x, float)
    return np.where(x < 0.05, 0.61 / (np.minimum(x, 0.04) - 0.05) + 1.3, -np.inf)


def kewley01(x):
    """Kewley+2001 maximum-starburst line (defined for x < 0.47; beyond it everything is above)."""
    x = np.asarray(x, float)
    return np.where(x < 0.47, 0.61 / (np.minimum(x, 0.46) - 0.47) + 1.19, -np.inf)


# ---------------------------------------------------------------------------------------------------------
# physical ingredients

def _planck(lam: np.ndarray, t: np.ndarray) -> np.ndarray:
    """B_λ(T), normalised to 1 at 5,500 Å; lam (B, L) or (L,), t (B,)."""
    lam = np.atleast_2d(lam)
    x = np.minimum(HC_K / (lam * t[:, None]), 500.0)
    x0 = HC_K / (5500.0 * t[:, None])
    return (5500.0 / lam) ** 5 * np.expm1(x0) / np.expm1(x)


def _ccm(lam: np.ndarray) -> np.ndarray:
    """Cardelli, Clayton & Mathis (1989) A_λ / A_V for R_V = 3.1; λ in Å (IR and optical branches; clipped UV)."""
    x = 1e4 / np.clip(lam, 3030.0, 33000.0)          # μm⁻¹, kept within the optical/IR fit
    y = x - 1.82
    a_opt = 1 + 0.17699 * y - 0.50447 * y ** 2 - 0.02427 * y ** 3 + 0.72085 * y ** 4 + 0.01979 * y ** 5 \
        - 0.77530 * y ** 6 + 0.32999 * y ** 7
    b_opt = 1.41338 * y + 2.28305 * y ** 2 + 1.07233 * y ** 3 - 5.38434 * y ** 4 - 0.62251 * y ** 5 \
        + 5.30260 * y ** 6 - 2.09002 * y ** 7
    a_ir, b_ir = 0.574 * x ** 1.61, -0.527 * x ** 1.61
    return np.where(x >= 1.1, a_opt + b_opt / 3.1, a_ir + b_ir / 3.1)


def _pvoigt(dx: np.ndarray, w: np.ndarray, eta: float) -> np.ndarray:
    """Peak-normalised pseudo-Voigt: η Lorentzian (HWHM w) + (1 − η) Gaussian (σ w)."""
    u = dx / w
    return eta / (1.0 + u * u) + (1.0 - eta) * np.exp(-0.5 * u * u)


def _pv_area(eta: float) -> float:
    return eta * math.pi + (1 - eta) * math.sqrt(2 * math.pi)


def _absorb(trans: np.ndarray, lam: np.ndarray, centre: float, ew: np.ndarray, depth: np.ndarray,
            eta: float, min_w: np.ndarray) -> None:
    """Multiply ``trans`` (B, L) in place by a line of rest equivalent width ``ew`` (B,) Å and central depth,
    on the 1-D rest grid ``lam`` (the Lorentzian part cut at 60 half-widths: < 1 % of its EW)."""
    ew = np.maximum(ew, 0.0)
    depth = np.clip(depth, 1e-3, 0.92)
    w = np.maximum(ew / (depth * _pv_area(eta)), min_w)
    depth = np.minimum(ew / (w * _pv_area(eta)), 0.92)       # a line wider than asked keeps its EW
    half = max((60.0 if eta > 0 else 6.0) * float(w.max()), 5.0)
    i0, i1 = np.searchsorted(lam, [centre - half, centre + half])
    if i1 > i0:
        trans[:, i0:i1] *= 1.0 - depth[:, None] * _pvoigt(lam[i0:i1] - centre, w[:, None], eta)


def _band(trans: np.ndarray, lam: np.ndarray, head: float, depth: np.ndarray, scale: float, to_red: bool) -> None:
    """Multiply ``trans`` (B, L) by a molecular band: full depth at the head, fading over ``scale`` Å to one side."""
    lo, hi = (head - 20.0, head + 10 * scale) if to_red else (head - 10 * scale, head + 20.0)
    i0, i1 = np.searchsorted(lam, [lo, hi])
    if i1 <= i0 or not np.any(depth):
        return
    d = (lam[i0:i1] - head) if to_red else (head - lam[i0:i1])
    trans[:, i0:i1] *= 1.0 - depth[:, None] * (np.exp(-np.maximum(d, 0.0) / scale) * expit(d / 2.0))[None, :]


# Line and band strengths (dwarfs, solar metallicity) against T_eff, from the MK atlases' trends (written here).
T_NODES = np.array([4250, 4800, 5200, 5770, 6100, 6550, 7500, 9000, 10000, 11000, 16000], float)
# equivalent widths (Å)
EW_TABLE = {
    "balmer": (1.3, 1.9, 2.4, 3.3, 4.3, 6.0, 10.0, 14.5, 14.0, 12.0, 7.0),       # Hγ-like scale
    "cak": (16.0, 14.5, 13.0, 10.5, 8.5, 6.5, 3.5, 0.9, 0.45, 0.25, 0.1),
    "cai": (3.2, 1.9, 1.2, 0.75, 0.55, 0.35, 0.12, 0.02, 0.0, 0.0, 0.0),
    "gband": (5.0, 6.0, 5.8, 5.0, 4.2, 2.8, 0.9, 0.1, 0.0, 0.0, 0.0),
    "mgb": (7.5, 5.5, 4.3, 3.0, 2.4, 1.7, 0.8, 0.25, 0.15, 0.1, 0.0),
    "nad": (4.5, 3.3, 2.4, 1.6, 1.25, 0.85, 0.45, 0.15, 0.1, 0.05, 0.0),
    "fe": (1.1, 0.9, 0.75, 0.55, 0.45, 0.32, 0.15, 0.04, 0.02, 0.01, 0.0),
    "srii": (0.9, 0.75, 0.6, 0.45, 0.4, 0.35, 0.3, 0.15, 0.1, 0.05, 0.0),
    "cat": (7.0, 7.0, 7.0, 6.8, 6.5, 6.0, 4.5, 2.0, 1.5, 1.0, 0.5),
}
# depths (no unit): the Balmer lines' central depth, the blanketing optical depth b at 4,000 Å
# (exp(−b (4000 Å / λ)⁴)), the MgH and CN bands' depth at their heads
DEPTH_TABLE = {
    "balmer_depth": (0.22, 0.28, 0.32, 0.38, 0.42, 0.48, 0.56, 0.62, 0.62, 0.60, 0.45),
    "blanket": (0.9, 0.6, 0.45, 0.32, 0.26, 0.2, 0.12, 0.08, 0.07, 0.06, 0.03),
    "mgh": (0.12, 0.06, 0.03, 0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "cn": (0.15, 0.12, 0.10, 0.07, 0.05, 0.03, 0.0, 0.0, 0.0, 0.0, 0.0),
}
# vacuum rest wavelengths (Å)
BALMER_SERIES = ((6564.61, 1.00), (4862.68, 1.00), (4341.68, 0.95), (4102.89, 0.90), (3971.20, 0.80),
                 (3890.17, 0.62), (3836.48, 0.50), (3798.98, 0.40))
FE_BLENDS = (4046.6, 4064.4, 4144.9, 4384.8, 4405.9, 4529.6, 4668.1, 4958.8, 5271.0, 5329.0, 5407.0, 6496.9)
PASCHEN = (8600.8, 8667.4, 8752.9, 8865.2, 9017.4, 9231.5)
TIO_HEADS = (4762.0, 4956.0, 5168.0, 5449.0, 6160.0, 7055.0, 7668.0)


def _tab(key: str, teff: np.ndarray) -> np.ndarray:
    """Row ``key`` of EW_TABLE or DEPTH_TABLE at each T_eff, linear between the nodes."""
    return np.interp(teff, T_NODES, np.asarray((EW_TABLE | DEPTH_TABLE)[key], float))


def star_rest(lam_rest: np.ndarray, teff: np.ndarray, logg: np.ndarray, feh: np.ndarray,
              vbroad_kms: np.ndarray) -> np.ndarray:
    """Stellar spectra f_λ (B, L) on the 1-D rest wavelength grid ``lam_rest`` (L,) Å; 1 at 5,500 Å before lines."""
    metal = 10.0 ** (0.45 * feh)
    cont = _planck(lam_rest, teff) * np.exp(-(_tab("blanket", teff) * 10 ** (0.4 * feh))[:, None]
                                            * ((4000.0 / lam_rest) ** 4 - (4000.0 / 5500.0) ** 4)[None, :])
    trans = np.ones((teff.size, lam_rest.size))
    min_w = np.maximum(vbroad_kms, 15.0) / C_KMS      # the narrowest line σ, per Å of its wavelength
    hot = teff > 7500
    bal_ew = _tab("balmer", teff) * np.where(hot, 1 + 0.2 * (logg - 4.0), 1 + 0.1 * (logg - 4.3))
    bal_depth = _tab("balmer_depth", teff)
    for centre, f in BALMER_SERIES:
        _absorb(trans, lam_rest, centre, bal_ew * f, bal_depth * (0.7 + 0.3 * f), 0.6, min_w * centre)
    p = 1 + 0.25 * (logg - 4.3)                      # pressure-sensitive lines weaken in giants
    lines = [(3934.78, _tab("cak", teff) * 10 ** (0.3 * feh), 0.5, 0.9),
             (3969.59, 0.8 * _tab("cak", teff) * 10 ** (0.3 * feh), 0.5, 0.9),
             (4227.92, _tab("cai", teff) * metal, 0.3, 0.7),
             (4306.4, _tab("gband", teff) * 10 ** (0.35 * feh), 0.0, 0.35),
             (4078.9, _tab("srii", teff) * metal * (1 + 0.4 * (4.3 - logg)), 0.1, 0.5),
             (5168.76, 0.3 * _tab("mgb", teff) * metal * p, 0.3, 0.7),
             (5174.13, 0.33 * _tab("mgb", teff) * metal * p, 0.3, 0.7),
             (5185.05, 0.37 * _tab("mgb", teff) * metal * p, 0.3, 0.7),
             (5891.58, 0.55 * _tab("nad", teff) * metal * p, 0.3, 0.8),
             (5897.56, 0.45 * _tab("nad", teff) * metal * p, 0.3, 0.8)]
    cat = _tab("cat", teff) * metal * (1 + 0.15 * (4.3 - logg))
    lines += [(8500.36, 0.25 * cat, 0.3, 0.6), (8544.44, 0.42 * cat, 0.3, 0.6), (8664.52, 0.33 * cat, 0.3, 0.6)]
    lines += [(c, _tab("fe", teff) * metal, 0.1, 0.5) for c in FE_BLENDS]
    lines += [(c, 0.12 * bal_ew * hot, 0.5, 0.4) for c in PASCHEN]
    for centre, ew, eta, depth in lines:
        _absorb(trans, lam_rest, centre, ew, np.full(teff.size, depth), eta, min_w * centre)
    gband_w = np.full(teff.size, 9.0)                 # the G band is a broad CH feature, not one line
    _absorb(trans, lam_rest, 4306.4, 0.6 * _tab("gband", teff) * 10 ** (0.35 * feh), np.full(teff.size, 0.2), 0.0,
            gband_w)
    trans = np.clip(trans, 0.02, 1.0)
    _band(trans, lam_rest, 5211.0, _tab("mgh", teff) * (1 + 0.5 * (logg - 4.3)), 90.0, to_red=False)
    _band(trans, lam_rest, 3883.0, _tab("cn", teff) * 10 ** (0.3 * feh), 50.0, to_red=False)
    tio = 0.12 * np.clip((4550.0 - teff) / 300.0, 0.0, 1.0)
    for head in TIO_HEADS:
        _band(trans, lam_rest, head, tio, 150.0, to_red=True)
    return cont * trans


def _grid(lo: float, hi: float) -> np.ndarray:
    """A log-uniform wavelength grid (Å) with the 10 km/s steps of HR_LAM."""
    return np.exp(np.arange(np.log(lo), np.log(hi), HR_DLN))


STAR_GRID = _grid(3440.0, 10_620.0)                 # rest grid of stars (radial velocities ≤ 300 km/s)
GAL_GRID = _grid(3440.0 / 1.51, 10_620.0)           # rest grid of galaxies (z ≤ 0.5)
TEMPLATE_GRID = _grid(600.0, 10_700.0)              # rest grid of the population templates (quasar hosts too)


def _shift(spec_rest: np.ndarray, grid: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rows on a 1-D rest grid → the observed 10 km/s grid HR_LAM at redshifts ``z`` (per-row interpolation)."""
    return np.stack([np.interp(HR_LAM / (1 + zk), grid, row) for row, zk in zip(spec_rest, z)])


def _broaden(spec: np.ndarray, sigma_kms: np.ndarray) -> np.ndarray:
    """Gaussian broadening in velocity on the 10 km/s grid, per row."""
    out = np.empty_like(spec)
    for k in range(len(spec)):
        s = float(sigma_kms[k]) / 10.0
        out[k] = gaussian_filter1d(spec[k], s, mode="nearest") if s > 0.3 else spec[k]
    return out


def _stars(kind: str, n: int, rng) -> tuple[np.ndarray, dict]:
    lo, hi = teff_limits(kind)
    teff = rng.uniform(lo, hi, n)
    giant = kind.startswith("STAR_K") & (rng.random(n) < 0.2)
    logg = np.where(giant, rng.uniform(1.8, 3.0, n), rng.uniform(3.6 if kind != "STAR_A0" else 3.5,
                                                                  4.8 if kind != "STAR_A0" else 4.4, n))
    feh = rng.uniform(-1.0, 0.4, n)
    rv = rng.uniform(-300.0, 300.0, n)
    vsini = {"STAR_A0": (20, 220), "STAR_F5": (5, 60)}.get(kind, (0, 12))
    vbroad = np.hypot(rng.uniform(*vsini, n) / 1.7, 6.0)          # rotation as an equivalent Gaussian σ
    ebv = rng.uniform(0.0, 0.15, n)
    z = rv / C_KMS
    spec = _shift(star_rest(STAR_GRID, teff, logg, feh, np.full(n, 6.0)), STAR_GRID, z)
    spec = _broaden(spec, vbroad)
    spec *= 10 ** (-0.4 * 3.1 * ebv[:, None] * _ccm(HR_LAM)[None, :])
    return spec, dict(z=z, teff=teff, logg=logg, feh=feh, ebv=ebv, rv_kms=rv)


# vacuum emission lines
EM = {"oii3726": 3727.09, "oii3729": 3729.88, "neiii": 3870.16, "hd": 4102.89, "hg": 4341.68, "hb": 4862.68,
      "oiii4959": 4960.30, "oiii5007": 5008.24, "hei": 5877.25, "oi6300": 6302.05, "oi6363": 6365.54,
      "nii6548": 6549.86, "ha": 6564.61, "nii6584": 6585.27, "sii6717": 6718.29, "sii6731": 6732.67,
      "ariii": 7137.8, "siii": 9071.1}
GALAXY_PARAMS = {   # light fractions at 5,500 Å (young B, intermediate A), σ*, gas σ, gas E(B−V), EW(Hα) Å
    "GALAXY_nan": dict(young=(0.0, 0.03), mid=(0.0, 0.12), sigma=(120, 300), gas=(60, 150), ebv=(0.0, 0.1),
                       ew=(0.0, 0.4)),
    "GALAXY_STARFORMING": dict(young=(0.08, 0.35), mid=(0.1, 0.3), sigma=(50, 150), gas=(30, 100), ebv=(0.05, 0.6),
                               ew=(4.0, 38.0)),
    "GALAXY_STARBURST": dict(young=(0.4, 0.8), mid=(0.05, 0.3), sigma=(40, 120), gas=(40, 120), ebv=(0.0, 0.4),
                             ew=(65.0, 350.0)),
    "GALAXY_AGN": dict(young=(0.0, 0.1), mid=(0.05, 0.25), sigma=(120, 300), gas=(150, 350), ebv=(0.1, 0.6),
                       ew=(3.0, 30.0)),
}


@functools.lru_cache(maxsize=1)
def _pop_templates() -> np.ndarray:
    """(4, L) rest-frame templates on TEMPLATE_GRID, each 1 at 5,500 Å: old metal-poor, old metal-rich (0.55 K giant
    + 0.45 G dwarf of [Fe/H] −0.3 / +0.2), intermediate (a 9,300 K A star), young (a 22,000 K B star)."""
    k = star_rest(TEMPLATE_GRID, np.array([4450.0, 4450.0]), np.full(2, 2.5), np.array([-0.3, 0.2]), np.full(2, 8.0))
    g = star_rest(TEMPLATE_GRID, np.array([5750.0, 5750.0]), np.full(2, 4.4), np.array([-0.3, 0.2]), np.full(2, 8.0))
    ab = star_rest(TEMPLATE_GRID, np.array([9300.0, 22000.0]), np.full(2, 4.0), np.zeros(2), np.array([40.0, 60.0]))
    out = np.concatenate([0.55 * k + 0.45 * g, ab])
    at = int(np.argmin(np.abs(TEMPLATE_GRID - 5500.0)))
    return out / out[:, at:at + 1]


def _populations(lam_rest: np.ndarray, young: np.ndarray, mid: np.ndarray, rng) -> np.ndarray:
    """Old, intermediate and young light (1 at 5,500 Å) at rest wavelengths ``lam_rest`` ((L,) or (B, L))."""
    n = len(young)
    t = _pop_templates()
    rich = rng.uniform(0.0, 1.0, n)
    lam = np.broadcast_to(lam_rest, (n, lam_rest.shape[-1]))
    rows = []
    for k in range(n):
        tk = np.array([np.interp(lam[k], TEMPLATE_GRID, t[j]) for j in range(4)])
        old = (1 - rich[k]) * tk[0] + rich[k] * tk[1]
        rows.append((1 - young[k] - mid[k]) * old + mid[k] * tk[2] + young[k] * tk[3])
    return np.stack(rows)


def _continuum_at(spec: np.ndarray, lam_rest: np.ndarray, lo: float, hi: float) -> np.ndarray:
    sel = (lam_rest >= lo) & (lam_rest <= hi)
    return np.median(spec[:, sel], axis=1)


def _galaxies(kind: str, n: int, rng) -> tuple[np.ndarray, dict]:
    p = GALAXY_PARAMS[kind]
    u = lambda key: rng.uniform(*p[key], n)  # noqa: E731
    z = rng.uniform(0.01, 0.5 if kind == "GALAXY_nan" else 0.33, n)
    young, mid = u("young"), u("mid")
    post = np.zeros(n, bool)
    if kind == "GALAXY_nan":
        post = rng.random(n) < 0.15                    # E+A: strong A-star Balmer absorption, no emission
        mid = np.where(post, rng.uniform(0.3, 0.6, n), mid)
    lam_rest = GAL_GRID                                # everything on the rest grid, shifted to z at the end
    stars = _broaden(_populations(lam_rest, young, mid, rng), u("sigma"))
    ebv = u("ebv")
    stars *= np.exp(-0.44 * ebv[:, None] * 4.05 / 1.086 * (lam_rest[None, :] / 5500.0) ** -0.7)  # Charlot & Fall-like
    if kind == "GALAXY_AGN":
        fc = rng.uniform(0.0, 0.15, n)                 # scattered featureless continuum
        stars = stars * (1 - fc[:, None]) + fc[:, None] * (lam_rest[None, :] / 5500.0) ** -1.5
    # BPT position with a margin of 0.15 dex from the class's boundary
    if kind in ("GALAXY_STARFORMING", "GALAXY_STARBURST", "GALAXY_nan"):
        x = rng.uniform(-1.3, -0.4, n) if kind == "GALAXY_STARBURST" else rng.uniform(-1.2, -0.3, n)
        y = np.maximum(kauffmann03(x) - rng.uniform(0.15, 0.6, n), -1.0)
        y = np.minimum(y, kauffmann03(x) - 0.15)
    else:
        x = rng.uniform(-0.25, 0.45, n)
        base = np.maximum(kewley01(x), -1.0)
        y = base + 0.15 + rng.random(n) * np.maximum(1.15 - base - 0.15, 0.05)
    ew = np.exp(rng.uniform(np.log(p["ew"][0]), np.log(p["ew"][1]), n)) if kind != "GALAXY_nan" else u("ew")
    cont_ha = _continuum_at(stars, lam_rest, 6490.0, 6530.0) * 0.5 + _continuum_at(stars, lam_rest, 6600.0,
                                                                                        6640.0) * 0.5
    f_ha = ew * cont_ha                                # rest EW × f_λ(rest-frame pixel) = flux in the rest-λ units
    agn = kind == "GALAXY_AGN"
    dec = 3.1 if agn else 2.86
    a_ha = _ccm(np.array([EM["ha"]]))[0]
    att = lambda key: 10 ** (-0.4 * 3.1 * ebv * (_ccm(np.array([EM[key]]))[0] - a_ha))  # noqa: E731  (relative to Hα)
    f_hb = f_ha / dec * att("hb")
    f_nii = f_ha * 10 ** x
    f_oiii = f_hb * 10 ** y
    oii = rng.uniform(0.2, 0.7, n) if agn else rng.uniform(0.0, 0.5, n)
    sii = rng.uniform(-0.4, 0.0, n) if agn else rng.uniform(-0.7, -0.35, n)
    oi = rng.uniform(-1.2, -0.5, n) if agn else rng.uniform(-2.0, -1.4, n)
    s_ratio = rng.uniform(0.9, 1.4, n)
    fluxes = {"ha": f_ha, "hb": f_hb, "hg": 0.468 * f_hb * att("hg") / att("hb"),
              "hd": 0.259 * f_hb * att("hd") / att("hb"), "nii6584": f_nii, "nii6548": f_nii / 3.05,
              "oiii5007": f_oiii, "oiii4959": f_oiii / 2.98, "neiii": 0.1 * f_oiii,
              "hei": 0.1 * f_hb * att("hei") / att("hb"), "oi6300": f_ha * 10 ** oi, "oi6363": f_ha * 10 ** oi / 3.1,
              "sii6717": f_ha * 10 ** sii * s_ratio / (1 + s_ratio), "sii6731": f_ha * 10 ** sii / (1 + s_ratio),
              "ariii": 0.03 * f_oiii, "siii": 0.08 * f_ha}
    o2 = f_hb * 10 ** oii * att("oii3726") / att("hb")
    fluxes["oii3726"], fluxes["oii3729"] = 0.45 * o2, 0.55 * o2
    gas = u("gas")
    spec = stars.copy()
    for key, flux in fluxes.items():
        # in the rest frame on the rest-λ rows: a line of rest flux F (f_λ,rest × Å)
        w = EM[key] * gas / C_KMS
        i0, i1 = np.searchsorted(lam_rest, [EM[key] - 7 * w.max(), EM[key] + 7 * w.max()])
        spec[:, i0:i1] += (flux / (w * math.sqrt(2 * math.pi)))[:, None] * np.exp(
            -0.5 * ((lam_rest[i0:i1][None, :] - EM[key]) / w[:, None]) ** 2)
    spec = _shift(spec, lam_rest, z)
    return spec, dict(z=z, ew_ha=ew, bpt_x=x, bpt_y=y, ebv=ebv, young=young, mid=mid, post_starburst=post)


QSO_LINES = (   # rest vacuum Å, EW Å (this module's composite), FWHM factor, Lorentzian share
    (1215.67, 80.0, 1.0, 0.55), (1240.14, 18.0, 0.8, 0.3), (1399.8, 9.0, 1.0, 0.4), (1549.06, 30.0, 1.0, 0.5),
    (1640.42, 3.0, 1.0, 0.3), (1908.73, 18.0, 1.1, 0.4), (2798.75, 35.0, 0.9, 0.45), (4102.89, 5.0, 1.0, 0.4),
    (4341.68, 12.0, 1.0, 0.4), (4862.68, 55.0, 1.0, 0.45), (6564.61, 220.0, 0.9, 0.45))
FEII_UV = (2380.0, 2490.0, 2620.0, 2750.0, 2960.0)
FEII_OPT = (4520.0, 4580.0, 4640.0, 5190.0, 5275.0, 5320.0)


def _qsos(kind: str, n: int, rng) -> tuple[np.ndarray, dict]:
    z = rng.uniform(0.1, 4.0, n)
    lam_rest = HR_LAM[None, :] / (1 + z[:, None])
    a1, a2 = rng.uniform(-0.9, -0.1, n), rng.uniform(-1.8, -0.8, n)
    blue = (lam_rest / 5000.0) ** (-(2 + a1[:, None]))
    red = (lam_rest / 5000.0) ** (-(2 + a2[:, None]))
    spec = np.where(lam_rest < 5000.0, blue, red)
    scale = np.exp(rng.uniform(np.log(0.4), np.log(2.5), n)) if kind == "QSO_BROADLINE" else \
        rng.uniform(0.02, 0.10, n)
    fwhm = np.exp(rng.uniform(np.log(1500.0), np.log(9000.0), n))
    cont = lambda c: np.where(c < 5000.0, (c / 5000.0) ** (-(2 + a1)), (c / 5000.0) ** (-(2 + a2)))  # noqa: E731
    for rest, ew, wf, eta in QSO_LINES:
        shift = -rng.uniform(0, 2000.0, n) if rest == 1549.06 else rng.normal(0, 150.0, n)
        centre = rest * (1 + shift / C_KMS)
        hwhm = fwhm * wf * rng.uniform(0.85, 1.15, n) / 2.0
        flux = scale * ew * rng.uniform(0.7, 1.3, n) * cont(rest)
        _emit_rows(spec, lam_rest, centre, flux, hwhm / 1.1774 * (1 - eta) + hwhm * eta, eta)
    feii = rng.uniform(0.3, 1.5, n) * scale
    for c in FEII_UV:
        _emit_rows(spec, lam_rest, np.full(n, c), feii * 14.0 * cont(c), np.full(n, 3500.0), 0.0)
    for c in FEII_OPT:
        _emit_rows(spec, lam_rest, np.full(n, c), feii * 6.0 * cont(c), np.full(n, 2500.0), 0.0)
    bac = rng.uniform(0.1, 0.3, n) * scale * cont(3000.0)   # Balmer continuum below the edge
    spec += bac[:, None] * np.where(lam_rest < 3646.0, (lam_rest / 3646.0) ** 3, 0.0)
    narrow = rng.uniform(0.2, 1.5, n) * np.where(kind == "QSO_BROADLINE", 1.0, scale)
    for rest, ew in ((5008.24, 20.0), (4960.30, 6.7), (3727.09 + 1.4, 3.0), (3426.9, 1.5)):
        _emit_rows(spec, lam_rest, np.full(n, rest), narrow * ew * cont(rest), np.full(n, 180.0), 0.0)
    host = rng.uniform(0.0, 0.4, n) * np.clip((0.6 - z) / 0.5, 0.0, 1.0)
    if host.any():
        gal = _populations(lam_rest, np.zeros(n), rng.uniform(0.0, 0.1, n), rng)
        spec = spec + host[:, None] * gal * cont(5500.0)[:, None] / np.maximum(1 - host, 0.3)[:, None]
    ebv = rng.uniform(0.0, 0.1, n)
    spec *= 10 ** (-0.4 * ebv[:, None] * 1.39 * (lam_rest / 1e4) ** -1.2)          # SMC-like
    spec *= _forest(lam_rest, z, rng)
    return spec, dict(z=z, line_scale=scale, fwhm_kms=fwhm, alpha1=a1, host=host)


def _emit_rows(spec, lam_rest, centre, flux, width_kms, eta) -> None:
    w = centre * width_kms / C_KMS
    spec += (flux / (w * _pv_area(eta)))[:, None] * _pvoigt(lam_rest - centre[:, None], w[:, None], eta)


def _forest(lam_rest: np.ndarray, z: np.ndarray, rng) -> np.ndarray:
    """Lyα + Lyβ forest transmission from a log-normal optical-depth field, and the Lyman limit."""
    lam_obs = lam_rest * (1 + z[:, None])
    field_ = gaussian_filter1d(rng.standard_normal(lam_rest.shape), 3.0, axis=1)
    field_ = np.exp(1.2 * field_ / field_.std(axis=1, keepdims=True) - 0.72)        # mean 1
    za = lam_obs / 1215.67 - 1
    tau = np.where(lam_rest < 1215.67, 0.0018 * (1 + za) ** 3.92, 0.0) * field_
    zb = lam_obs / 1025.72 - 1
    tau += np.where(lam_rest < 1025.72, 0.16 * 0.0018 * (1 + zb) ** 3.92, 0.0) * field_[:, ::-1]
    tau += np.where(lam_rest < 911.75, rng.uniform(1.0, 4.0, len(z))[:, None], 0.0)
    return np.exp(-tau)


def clean_spectra(kind: str, n: int, rng) -> tuple[np.ndarray, dict]:
    """``n`` noiseless spectra of a class on the 10 km/s grid ``HR_LAM`` (observed frame), and their truth."""
    if kind.startswith("STAR_"):
        return _stars(kind, n, rng)
    if kind.startswith("GALAXY_"):
        return _galaxies(kind, n, rng)
    if kind.startswith("QSO_"):
        return _qsos(kind, n, rng)
    raise ValueError(f"unknown class {kind!r}; expected one of {CLASS_NAMES}")


# ---------------------------------------------------------------------------------------------------------
# instruments

@dataclass(frozen=True)
class Arm:
    """One spectrograph arm: range (Å), pixel grid ('log': step in log10 λ; 'linear': step in Å), R at both ends."""

    lo: float
    hi: float
    grid: str
    step: float
    r_lo: float
    r_hi: float

    def wavelength(self) -> np.ndarray:
        if self.grid == "log":
            return 10 ** np.arange(np.log10(self.lo), np.log10(self.hi), self.step)
        return np.arange(self.lo, self.hi, self.step)

    def resolution(self, lam: np.ndarray) -> np.ndarray:
        return self.r_lo + (self.r_hi - self.r_lo) * np.clip((lam - self.lo) / (self.hi - self.lo), 0, 1)


@dataclass(frozen=True)
class Instrument:
    """A survey's spectrograph: arms (pieces as its files give them), noise, calibration and sky conventions."""

    name: str
    arms: tuple[Arm, ...]
    merged: bool                         # one piece on one grid (arms joined) or one piece per arm
    read_noise: float                    # e⁻ per pixel (rows summed)
    tilt_sigma: float                    # flux-calibration error, Legendre P1/P2 coefficients' σ
    telluric_residual: float             # fraction of the band left after correction (1 = not corrected)
    sky_error: float                     # sky-subtraction scale error σ
    mask_sky_prob: float                 # chance a spectrum has its bright sky-line cores masked
    sky_lines: tuple[tuple[float, float], ...] = field(default=())   # (vacuum Å, flux in sky-continuum × Å)

    @property
    def lo(self) -> float:
        return min(a.lo for a in self.arms)

    @property
    def hi(self) -> float:
        return max(a.hi for a in self.arms)


_OH = tuple((w, s) for w, s in ((6865.0, 8), (6925.0, 8), (7244.9, 10), (7278.4, 12), (7318.2, 14), (7342.9, 14),
                                (7371.3, 12), (7403.8, 10), (7716.0, 14), (7752.2, 16), (7796.0, 16), (7823.9, 18),
                                (7915.9, 18), (7966.9, 18), (8346.8, 22), (8401.6, 24), (8432.7, 20), (8467.6, 22),
                                (8507.4, 22), (8763.0, 18), (8829.5, 28), (8888.2, 26), (8922.9, 24), (8945.9, 26),
                                (8991.9, 26), (9003.6, 24), (9378.0, 30), (9441.7, 30), (9522.2, 32), (9794.5, 28)))
_OI = ((5578.9, 60.0), (6302.0, 25.0), (6365.5, 8.0))
_NA = ((5891.6, 6.0), (5897.6, 6.0))
_HG = ((4359.6, 5.0), (5462.3, 6.0), (5771.2, 2.0), (5792.3, 2.0))
INSTRUMENTS = {
    "BOSS": Instrument("BOSS", (Arm(3600.0, 10400.0, "log", 1e-4, 1560.0, 2650.0),), True, 2.5 * math.sqrt(3),
                       0.05, 0.3, 0.015, 0.3, _OI + _NA + _HG[:2] + _OH),
    "DESI": Instrument("DESI", (Arm(3600.0, 5930.0, "linear", 0.8, 2000.0, 3200.0),
                                Arm(5660.0, 7720.0, "linear", 0.8, 3200.0, 4100.0),
                                Arm(7520.0, 9824.0, "linear", 0.8, 4100.0, 5100.0)), False, 3.4,
                       0.03, 0.1, 0.01, 0.0, _OI + _NA + _OH),
    "LAMOST": Instrument("LAMOST", (Arm(3700.0, 9000.0, "log", 1e-4, 1800.0, 1800.0),), True, 4.0,
                         0.12, 1.0, 0.04, 0.0, _OI + tuple((w, 3 * s) for w, s in _NA + _HG) + _OH[:26]),
    "4MOST": Instrument("4MOST", (Arm(3700.0, 5540.0, "linear", 1840.0 / 6144, 4000.0, 6500.0),
                                  Arm(5150.0, 7130.0, "linear", 1980.0 / 6144, 5000.0, 7000.0),
                                  Arm(6890.0, 9500.0, "linear", 2610.0 / 6144, 6000.0, 7800.0)), False, 2.5,
                        0.04, 0.15, 0.01, 0.0, _OI + (_NA[0],) + _OH[:29]),
}


def _boss_resolution(lam: np.ndarray) -> np.ndarray:
    """BOSS: blue arm R 1,560→2,270 over 3,600–6,000 Å, red arm 1,850→2,650 over 6,000–10,400 Å."""
    return np.where(lam < 6000.0, 1560.0 + 710.0 * (lam - 3600.0) / 2400.0, 1850.0 + 800.0 * (lam - 6000.0) / 4400.0)


def _resolution(inst: Instrument, arm: Arm, lam: np.ndarray) -> np.ndarray:
    return _boss_resolution(lam) if inst.name == "BOSS" else arm.resolution(lam)


def _throughput(inst: Instrument, arm: Arm, lam: np.ndarray) -> np.ndarray:
    """Relative throughput of an arm (peak ~1): rolls off at the arm's ends; dichroic dips inside merged ones."""
    edge = 60.0 if not inst.merged else 150.0
    t = expit((lam - arm.lo - 2 * edge) / edge) * expit(-(lam - arm.hi + 2 * edge) / edge)
    t *= 0.25 + 0.75 * np.exp(-0.5 * ((lam - 0.5 * (arm.lo + arm.hi)) / (0.6 * (arm.hi - arm.lo))) ** 2)
    if inst.name == "BOSS":
        t *= 1 - 0.3 * np.exp(-0.5 * ((lam - 6000.0) / 80.0) ** 2)
    if inst.name == "LAMOST":
        t *= 1 - 0.6 * np.exp(-0.5 * ((lam - 5800.0) / 70.0) ** 2)
        t *= 0.4 + 0.6 * expit((lam - 4200.0) / 200.0)        # a weak blue end
    return np.maximum(t, 1e-3)


def _telluric(lam: np.ndarray, pwv: np.ndarray) -> np.ndarray:
    """Atmospheric transmission: O₂ B (6,867–6,884 Å) and A (7,594–7,621 Å) bands, H₂O bands scaled by ``pwv``
    (precipitable water, mm-like)."""
    def box(lo, hi, soft):
        return expit((lam - lo) / soft) * expit(-(lam - hi) / soft)
    tau = 0.5 * box(6867.0, 6884.0, 2.0) + 1.6 * box(7594.0, 7621.0, 2.0) * (1 + 0.3 * np.sin(lam / 2.1))
    tau = tau[None, :] + pwv[:, None] * (0.06 * box(7160.0, 7340.0, 15.0) + 0.08 * box(8130.0, 8350.0, 20.0)
                                          + 0.3 * box(8950.0, 9800.0, 40.0))[None, :]
    return np.exp(-tau)


def _lsf(spec_hr: np.ndarray, inst: Instrument, arm: Arm, wave: np.ndarray) -> np.ndarray:
    """Convolve the 10 km/s spectra with the arm's Gaussian LSF (σ_λ = λ/2.3548R + pixel) and sample at ``wave``."""
    sel = (HR_LAM > arm.lo - 60) & (HR_LAM < arm.hi + 60)
    lam = HR_LAM[sel]
    dpix = np.gradient(wave)
    sig = lam / (2.3548 * _resolution(inst, arm, lam))
    pix = np.interp(lam, wave, dpix) / math.sqrt(12.0)
    sig = np.sqrt(sig ** 2 + pix ** 2)
    u = np.concatenate([[0.0], np.cumsum(np.diff(lam) / (0.5 * (sig[1:] + sig[:-1])))])   # σ = 1 in u
    step = 0.25
    ug = np.arange(0.0, u[-1], step)
    lam_u = np.interp(ug, u, lam)
    out = np.empty((len(spec_hr), wave.size))
    wu = np.interp(wave, lam, u)
    for k in range(len(spec_hr)):
        f = gaussian_filter1d(np.interp(lam_u, lam, spec_hr[k, sel]), 1.0 / step, mode="nearest")
        out[k] = np.interp(wu, ug, f)
    return out


def _sky(inst: Instrument, arm: Arm, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sky continuum (1 at 6,000 Å, rising to the red) and the instrument's sky lines through its LSF."""
    cont = 0.6 + 0.4 * (wave / 6000.0) ** 2
    lines = np.zeros_like(wave)
    for w, s in inst.sky_lines:
        if arm.lo - 20 < w < arm.hi + 20:
            sig = w / (2.3548 * float(_resolution(inst, arm, np.array([w]))[0]))
            lines += s / (math.sqrt(2 * math.pi) * sig) * np.exp(-0.5 * ((wave - w) / sig) ** 2)
    return cont, lines


def _legendre_tilt(wave: np.ndarray, lo: float, hi: float, a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    x = 2 * (wave - lo) / (hi - lo) - 1
    return 1 + a1[:, None] * x[None, :] + a2[:, None] * 0.5 * (3 * x[None, :] ** 2 - 1)


def _observe(spec_hr: np.ndarray, inst: Instrument, kinds: np.ndarray, rng) -> tuple[list, list, np.ndarray]:
    """Observe (B, HR) noiseless spectra with an instrument: per arm (wave, noisy flux, ivar) and (wave, clean flux)
    in calibrated units, and the target S/N per classifier pixel."""
    n = len(spec_hr)
    # brightness against the sky continuum at 6,000 Å: stars brighter, galaxies fainter
    lo_hi = np.array([(0.3, 20.0) if k.startswith("STAR") else (0.05, 2.0) if k.startswith("GALAXY") else (0.05, 3.0)
                      for k in kinds])
    ratio = np.exp(rng.uniform(np.log(lo_hi[:, 0]), np.log(lo_hi[:, 1])))
    band = (HR_LAM > 5000.0) & (HR_LAM < 8000.0)
    norm = np.median(np.abs(spec_hr[:, band]), axis=1)
    obj_hr = spec_hr * (ratio / np.maximum(np.abs(norm), 1e-30))[:, None]
    target = np.exp(rng.uniform(np.log(SNR_RANGE[0]), np.log(SNR_RANGE[1]), n))
    pwv = rng.uniform(0.5, 2.0, n)
    tel_true = _telluric(HR_LAM, pwv)
    a1, a2 = rng.normal(0, inst.tilt_sigma, n), rng.normal(0, 0.5 * inst.tilt_sigma, n)
    tel_err = rng.normal(0, 1, n)
    sky_scale = rng.normal(0, inst.sky_error, n)
    sky_shift = rng.normal(0, 0.03, n)                  # pixels
    arm_jump = rng.normal(0, 0.06, n) if inst.name == "LAMOST" else np.zeros(n)
    arms = []
    for arm in inst.arms:
        wave = arm.wavelength()
        dpix = np.gradient(wave)
        thr = _throughput(inst, arm, wave)
        obj = _lsf(obj_hr * tel_true, inst, arm, wave)        # object through the atmosphere and LSF
        clean = _lsf(obj_hr, inst, arm, wave)
        sky_c, sky_l = _sky(inst, arm, wave)
        sky = sky_c + sky_l
        o_rate = np.maximum(obj, 0) * thr * dpix            # e⁻ per unit exposure
        s_rate = np.broadcast_to(sky * thr * dpix, o_rate.shape)
        arms.append(dict(arm=arm, wave=wave, dpix=dpix, thr=thr, obj=obj, clean=clean, sky_c=sky_c, sky_l=sky_l,
                         o=o_rate, s=s_rate))
    # exposure for the target S/N per classifier pixel: S/N_native × √(classifier pixel / native pixel)
    o = np.concatenate([a["o"] for a in arms], axis=1)
    s = np.concatenate([a["s"] for a in arms], axis=1)
    wave_all = np.concatenate([a["wave"] for a in arms])
    gain = np.sqrt(wave_all * math.log(10) * MODEL_DLOGLAM / np.concatenate([a["dpix"] for a in arms]))
    inside = (wave_all > 3800) & (wave_all < 9200)
    log_t = np.full(n, 0.0)
    lo_t, hi_t = np.full(n, -15.0), np.full(n, 25.0)
    for _ in range(45):
        t = np.exp(log_t)[:, None]
        snr = t * o / np.sqrt(t * (o + s) + inst.read_noise ** 2) * gain
        med = np.median(snr[:, inside], axis=1)
        hi_t = np.where(med > target, log_t, hi_t)
        lo_t = np.where(med <= target, log_t, lo_t)
        log_t = 0.5 * (lo_t + hi_t)
    t = np.exp(log_t)[:, None]
    flux_scale = np.exp(rng.uniform(np.log(0.5), np.log(200.0), n))[:, None]   # 1e-17 erg/s/cm²/Å-like units
    pieces, clean_pieces = [], []
    for a in arms:
        wave, arm = a["wave"], a["arm"]
        var = t * (a["o"] + a["s"]) + inst.read_noise ** 2
        counts = t * a["o"] + np.sqrt(var) * rng.standard_normal(var.shape)
        deriv = np.gradient(a["sky_l"] * a["thr"] * a["dpix"])
        counts -= t * (sky_scale[:, None] * a["sky_l"][None, :] * a["thr"] * a["dpix"] + sky_shift[:, None] * deriv)
        if inst.name == "LAMOST":                       # the dichroic join: extra noise over 5,700–5,900 Å
            join = (wave > 5700) & (wave < 5900)
            counts[:, join] += 0.5 * np.sqrt(var[:, join]) * rng.standard_normal((n, int(join.sum())))
            var[:, join] *= 1.25
        cr = rng.random(n) < 0.25                       # unmasked cosmic-ray residuals
        for k in np.flatnonzero(cr):
            hit = rng.integers(0, wave.size, rng.integers(1, 4))
            counts[k, hit] += rng.uniform(5, 30, hit.size) * np.sqrt(var[k, hit])
        conv = t * a["thr"] * a["dpix"]                 # e⁻ per unit flux
        # the pipeline divides by its telluric model, the true band (through the LSF) to the power 1 − (error):
        # a residual absorption (or over-correction) of a fraction ~ telluric_residual; 1 = not corrected
        tel_eff = np.clip(a["obj"] / np.where(np.abs(a["clean"]) > 0, a["clean"], 1.0), 0.02, 1.0)
        if inst.telluric_residual >= 1.0:
            tel_fix = np.ones_like(tel_eff)
        else:
            frac = np.clip(inst.telluric_residual * tel_err, -0.5, 1.0)[:, None]
            tel_fix = tel_eff ** (1.0 - frac)
        calib = _legendre_tilt(wave, inst.lo, inst.hi, a1, a2) * flux_scale
        if inst.name == "LAMOST":
            calib = calib * np.where(wave > 5900.0, 1 + arm_jump[:, None], 1.0)
        flux = counts / conv / tel_fix * calib
        ivar = (conv * tel_fix / calib) ** 2 / var
        clean = a["clean"] * calib
        mask = np.zeros(flux.shape, bool)
        if inst.mask_sky_prob > 0:
            bright = a["sky_l"] > 4 * a["sky_c"]
            mask |= bright[None, :] & (rng.random((n, 1)) < inst.mask_sky_prob)
        for _ in range(2):                              # bad-column runs
            has = rng.random(n) < 0.12
            start = rng.integers(0, wave.size - 40, n)
            length = rng.integers(3, 30, n)
            cols = np.arange(wave.size)[None, :]
            mask |= has[:, None] & (cols >= start[:, None]) & (cols < (start + length)[:, None])
        flux[mask] = 0.0
        ivar[mask] = 0.0
        pieces.append((wave, flux, ivar))
        clean_pieces.append((wave, clean))
    return pieces, clean_pieces, target


@dataclass
class ForeignSpectra:
    """Foreign spectra on the classifier's grid with their truth."""

    loglam: np.ndarray        # (L,) log10 Å, the classifier's grid
    flux: np.ndarray          # (N, L) float32
    ivar: np.ndarray          # (N, L) float32, 0 where no data (outside the instrument's range, masked)
    label: np.ndarray         # (N,) str class
    survey: np.ndarray        # (N,) str instrument
    snr: np.ndarray           # (N,) median S/N per classifier pixel of the noiseless spectrum (covered pixels)
    snr_target: np.ndarray    # (N,) the S/N asked for
    z: np.ndarray             # (N,)
    truth: dict               # per-spectrum parameters (NaN where a class has none): teff, logg, feh, ew_ha, ...
    notes: tuple = ()

    def __len__(self) -> int:
        return len(self.label)


TRUTH_KEYS = ("teff", "logg", "feh", "ebv", "rv_kms", "ew_ha", "bpt_x", "bpt_y", "young", "mid", "post_starburst",
              "line_scale", "fwhm_kms", "alpha1", "host")


def _on_grid(inst: Instrument, waves, fluxes, ivars, n: int, name: str, loglam: np.ndarray):
    """The project's reader path: a RawSpectra of the instrument's pieces (one per arm unless merged) placed on
    ``loglam`` by :func:`astroml_core.data.spectrum_resample.place_on_grid`."""
    ps = [Piece(w, f, iv) for w, f, iv in zip(waves, fluxes, ivars)]
    raw = RawSpectra(inst.name, ps, np.array([f"{name}-{i}" for i in range(n)]))
    out = place_on_grid(raw, loglam, name)
    if len(out) != n:
        raise RuntimeError(f"{name}: the reader dropped {n - len(out)} spectra")
    return out


def simulate_block(block: int, loglam: np.ndarray | None = None) -> ForeignSpectra:
    """Block ``block`` (0-based) of the foreign set: BLOCK spectra, 20 per class, 65 per survey grid."""
    if not 0 <= block < len(FOREIGN_SEEDS):
        raise ValueError(f"block must be 0–{len(FOREIGN_SEEDS) - 1}")
    rng = np.random.default_rng([FOREIGN_SEEDS[block], STREAM_KEY])
    idx = block * BLOCK + np.arange(BLOCK)
    labels = np.array(CLASS_NAMES)[idx % len(CLASS_NAMES)]
    surveys = np.array(SURVEYS)[(idx // len(CLASS_NAMES)) % len(SURVEYS)]
    return make_spectra(labels, surveys, rng, loglam, tag=str(FOREIGN_SEEDS[block]))


def make_spectra(labels, surveys, rng: np.random.Generator, loglam: np.ndarray | None = None,
                 tag: str = "x") -> ForeignSpectra:
    """Spectra of the given classes observed with the given survey instruments (arrays of equal length), on the
    classifier's grid (or ``loglam``); the building block of :func:`simulate_block`."""
    loglam = model_loglam() if loglam is None else loglam
    labels, surveys = np.asarray(labels).astype(str), np.asarray(surveys).astype(str)
    nb = len(labels)
    hr = np.empty((nb, HR_LAM.size))
    truth = {k: np.full(nb, np.nan) for k in TRUTH_KEYS}
    z = np.empty(nb)
    for kind in CLASS_NAMES:
        sel = np.flatnonzero(labels == kind)
        if sel.size == 0:
            continue
        spec, t = clean_spectra(kind, len(sel), rng)
        hr[sel] = spec
        z[sel] = t.pop("z")
        for k, v in t.items():
            truth[k][sel] = v
    flux = np.zeros((nb, loglam.size), np.float32)
    ivar = np.zeros_like(flux)
    snr = np.empty(nb)
    target = np.empty(nb)
    notes = []
    for name in SURVEYS:
        sel = np.flatnonzero(surveys == name)
        if sel.size == 0:
            continue
        inst = INSTRUMENTS[name]
        pieces, clean_pieces, target[sel] = _observe(hr[sel], inst, labels[sel], rng)
        waves, ivars = [p[0] for p in pieces], [p[2] for p in pieces]
        name_tag = f"foreign-{name}-{tag}"
        s = _on_grid(inst, waves, [p[1] for p in pieces], ivars, len(sel), name_tag, loglam)
        c = _on_grid(inst, waves, [c[1] for c in clean_pieces], ivars, len(sel), name_tag, loglam)
        flux[sel], ivar[sel] = s.flux, s.ivar
        ok = s.ivar > 0
        sn = np.where(ok, c.flux * np.sqrt(np.maximum(s.ivar, 0)), np.nan)
        snr[sel] = np.nanmedian(sn, axis=1)
        notes.append(f"{name}: " + "; ".join(s.notes))
    return ForeignSpectra(loglam, flux, ivar, labels, surveys, snr, target, z, truth, tuple(notes))


def simulate_foreign(n: int, *, loglam: np.ndarray | None = None, progress=None) -> ForeignSpectra:
    """The first ``n`` spectra of the foreign set (blocks of 260; balanced over classes and grids when 52 | n)."""
    if not 1 <= n <= BLOCK * len(FOREIGN_SEEDS):
        raise ValueError(f"n must be 1–{BLOCK * len(FOREIGN_SEEDS)}")
    parts = []
    for b in range((n + BLOCK - 1) // BLOCK):
        parts.append(simulate_block(b, loglam))
        if progress is not None:
            progress(f"foreign spectra: block {b + 1} of {(n + BLOCK - 1) // BLOCK}")
    take = lambda name: np.concatenate([getattr(p, name) for p in parts])[:n]  # noqa: E731
    truth = {k: np.concatenate([p.truth[k] for p in parts])[:n] for k in TRUTH_KEYS}
    return ForeignSpectra(parts[0].loglam, take("flux"), take("ivar"), take("label"), take("survey"), take("snr"),
                          take("snr_target"), take("z"), truth, parts[0].notes)
