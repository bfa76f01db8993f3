"""Seeded galaxies for "cosmology with one galaxy": property vectors whose relations depend on Ω_m, σ8
and four feedback strengths, in the spirit of CAMELS (Villaescusa-Navarro+2022).

Each galaxy is a central in a halo at z = 0. Relations, in the order they are drawn:
- halo mass M_tot from the Sheth & Tormen (1999) mass function of the galaxy's cosmology
  (σ(M) from :mod:`.cosmology`, scaled to σ8), 10^10.5–10^13 M☉;
- concentration from the collapse redshift of 1 % of the mass, c = 4 (1 + z_c) (Bullock+2001),
  0.14 dex scatter, so early-forming (high σ8) haloes are denser; NFW V_max and R_Vmax;
- stellar mass M* = ε(M) (Ω_b/Ω_m) M, ε the double power law of Moster+2013 rescaled to the baryon
  fraction (peak 0.22 at 10^11.6 M☉), 0.15 dex scatter of which about half the variance follows the
  halo's concentration (earlier-forming haloes hold more stars: assembly bias, Matthee+2017). This is where Ω_m enters a galaxy: at fixed
  M*, a higher Ω_m means more dark matter, a deeper potential and a larger V_max (CAMELS' reading);
- supernova energy A_SN1 raises the low-mass slope and the peak mass, AGN strength A_AGN1 steepens the
  high-mass fall-off (directions as in Villaescusa-Navarro+2021's CAMELS figures; amplitudes ours and
  mild: ±0.09 dex in the peak mass over the prior);
- gas kept in the halo: winds of speed 150 km/s · A_SN2^½ load mass η = (v_wind/V_200)², the AGN
  (A_AGN2) blows gas out of massive haloes; kept fraction 1/(1 + η + AGN), M_gas = kept baryons − M*
  (0.1 dex);
- metallicities from the gas-regulator equilibrium Z_gas = y/(1 + η) (Lilly+2013; y = 1.5 Z☉), so the
  same winds that empty small haloes make them metal-poor (0.08 dex); stars 0.15 dex below the gas;
- black holes: Kormendy & Ho (2013) M_BH–M*, 0.3 dex; SFR on Speagle+2014's z = 0 main sequence
  (0.3 dex), quenched by 1.5 dex with probability rising with M_BH (AGN1 makes it easier);
- R* = 0.015 R_200 (Kravtsov 2013) × spin scatter 0.2 dex, puffed by SN energy (A_SN1^0.1);
  σ_v = 0.7 V_max (0.05 dex).
Galaxies with M* < 10^9 M☉ are redrawn (the resolution cut of CAMELS catalogues). Not modelled:
satellites, magnitudes (U, K, g), angular momentum, the TNG/SIMBA physics-model difference.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .cosmology import H_LITTLE, OMEGA_B, SIGMA_8, Cosmology

__all__ = ["GalaxyParameter", "GALAXY_PARAMETERS", "GALAXY_PARAMETER_NAMES", "PROPERTIES", "simulate_galaxies",
           "sample_galaxy_prior", "GALAXY_FIDUCIAL"]

G_KPC = 4.30091e-6            # kpc (km/s)² / M☉
RHO_CRIT = 2.775e2 * H_LITTLE**2   # M☉ / kpc³


@dataclass(frozen=True)
class GalaxyParameter:
    """A parameter of the galaxy prior: column name, label, unit, uniform bounds."""

    name: str
    label: str
    unit: str
    low: float
    high: float


GALAXY_PARAMETERS = (
    GalaxyParameter("omega_m", "Ω_m", "", 0.1, 0.5),
    GalaxyParameter("sigma_8", "σ₈", "", 0.6, 1.0),
    GalaxyParameter("log_asn1", "log₁₀ A_SN1", "", np.log10(0.25), np.log10(4.0)),
    GalaxyParameter("log_asn2", "log₁₀ A_SN2", "", np.log10(0.5), np.log10(2.0)),
    GalaxyParameter("log_aagn1", "log₁₀ A_AGN1", "", np.log10(0.25), np.log10(4.0)),
    GalaxyParameter("log_aagn2", "log₁₀ A_AGN2", "", np.log10(0.5), np.log10(2.0)),
)
GALAXY_PARAMETER_NAMES = tuple(p.name for p in GALAXY_PARAMETERS)
GALAXY_FIDUCIAL = {"omega_m": 0.3, "sigma_8": 0.8, "log_asn1": 0.0, "log_asn2": 0.0, "log_aagn1": 0.0, "log_aagn2": 0.0}
# name, unit: every property is stored as log10 of the value in that unit
PROPERTIES = (("M_gas", "M☉"), ("M_star", "M☉"), ("M_BH", "M☉"), ("M_tot", "M☉"), ("V_max", "km/s"),
              ("sigma_v", "km/s"), ("Z_gas", "Z☉"), ("Z_star", "Z☉"), ("SFR", "M☉/yr"), ("R_star", "kpc"),
              ("R_vmax", "kpc"))

_LOG_M = np.linspace(10.5, 13.0, 120)
_OMEGAS = np.linspace(0.1, 0.5, 21)


@cache
def _tables():
    """log σ(M) at σ8 = SIGMA_8 and growth D(z) on grids of Ω_m (computed once)."""
    log_m_small = np.linspace(8.0, 13.5, 200)
    zs = np.linspace(0, 15, 600)
    sig, sig_small, growth = [], [], []
    for om in _OMEGAS:
        c = Cosmology(float(om))
        sig.append(np.log(c.sigma_m(10**_LOG_M)))
        sig_small.append(np.log(c.sigma_m(10**log_m_small)))
        growth.append(c.growth(zs))
    return np.array(sig), log_m_small, np.array(sig_small), zs, np.array(growth)


def _interp_rows(omega_m: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Rows of ``table`` (one per _OMEGAS) linearly interpolated at each ``omega_m``."""
    pos = np.clip((omega_m - _OMEGAS[0]) / (_OMEGAS[1] - _OMEGAS[0]), 0, len(_OMEGAS) - 1 - 1e-9)
    i = pos.astype(int)
    w = (pos - i)[:, None]
    return table[i] * (1 - w) + table[i + 1] * w


def _halo_masses(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """log10 halo mass drawn from each galaxy's Sheth–Tormen mass function."""
    sig_table = _tables()[0]
    log_sig = _interp_rows(theta[:, 0], sig_table) + np.log(theta[:, 1:2] / SIGMA_8)
    nu = 1.686 / np.exp(log_sig)
    a, p = 0.707, 0.3
    f = np.sqrt(2 * a / np.pi) * (1 + (a * nu**2) ** -p) * nu * np.exp(-a * nu**2 / 2)
    dlns = -np.gradient(log_sig, _LOG_M * np.log(10), axis=1)
    dn = f * dlns / 10**_LOG_M
    cdf = np.cumsum(dn, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.uniform(size=(len(theta), 1))
    idx = (cdf < u).sum(axis=1).clip(0, len(_LOG_M) - 1)
    return _LOG_M[idx] + rng.uniform(-0.5, 0.5, len(theta)) * (_LOG_M[1] - _LOG_M[0])


def _concentration(theta: np.ndarray, log_m: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(c, its scatter in dex): Bullock+2001 c = 4 (1 + z_c), σ(0.01 M) D(z_c) = 1.686, 0.14 dex scatter."""
    _, log_m_small, sig_small, zs, growth = _tables()
    rows = _interp_rows(theta[:, 0], sig_small)
    sig = np.exp([np.interp(m - 2, log_m_small, r) for m, r in zip(log_m, rows)]) * theta[:, 1] / SIGMA_8
    d_needed = 1.686 / sig
    grows = _interp_rows(theta[:, 0], growth)
    z_c = np.array([np.interp(-d, -g, zs) for d, g in zip(d_needed, grows)])
    scatter = rng.normal(0, 0.14, len(theta))
    return 4 * (1 + z_c) * 10**scatter, scatter


def _draw(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(theta)
    omega_m, asn1, asn2, aagn1, aagn2 = theta[:, 0], *(10 ** theta[:, k] for k in range(2, 6))
    log_m = _halo_masses(theta, rng)
    mass = 10**log_m
    conc, early = _concentration(theta, log_m, rng)
    r200 = (3 * mass / (4 * np.pi * 200 * RHO_CRIT)) ** (1 / 3)                # kpc
    v200 = np.sqrt(G_KPC * mass / r200)
    fc = np.log1p(conc) - conc / (1 + conc)
    v_nfw = v200 * np.sqrt(0.216 * conc / fc)
    f_b = OMEGA_B / omega_m
    log_m1 = 11.59 + 0.15 * np.log10(asn1)
    beta = 1.376 * asn1**0.15
    gamma = 0.608 + 0.15 * np.log10(aagn1)
    x = mass / 10**log_m1
    eps = 0.45 / (x**-beta + x**gamma)
    m_star = eps * f_b * mass * 10 ** (0.8 * early + rng.normal(0, 0.1, n))     # assembly bias: 0.15 dex in all
    r_star = 0.015 * r200 * asn1**0.1 * 10 ** rng.normal(0, 0.2, n)
    v_max = np.sqrt(v_nfw**2 + 0.5 * G_KPC * m_star / r_star)
    eta = (150 * np.sqrt(asn2) / v200) ** 2                                   # wind mass loading
    kept = 1 / (1 + eta + aagn2 * (mass / 10**12.5) ** 0.7)
    m_gas = np.clip(f_b * mass * kept - m_star, 1e6, None) * 10 ** rng.normal(0, 0.1, n)
    log_z_gas = np.log10(1.5 / (1 + eta)) + rng.normal(0, 0.08, n)
    log_z_star = log_z_gas - 0.15 + rng.normal(0, 0.08, n)
    log_bh = 8.69 + 1.16 * np.log10(m_star / 1e11) - 0.3 * np.log10(aagn1) + rng.normal(0, 0.3, n)
    quenched = rng.uniform(size=n) < 1 / (1 + (10**log_bh / (1e8 / aagn1)) ** -2)
    log_sfr = 0.481 * np.log10(m_star) - 4.99 + rng.normal(0, 0.3, n) - 1.5 * quenched
    sigma_v = 0.7 * v_max * 10 ** rng.normal(0, 0.05, n)
    r_vmax = 2.163 * r200 / conc
    return np.column_stack([np.log10(m_gas), np.log10(m_star), log_bh, log_m, np.log10(v_max), np.log10(sigma_v),
                            log_z_gas, log_z_star, log_sfr, np.log10(r_star), np.log10(r_vmax)])


def simulate_galaxies(theta: np.ndarray, *, seed: int) -> np.ndarray:
    """log10 properties (n, 11; columns :data:`PROPERTIES`) of one galaxy per row of ``theta`` (n, 6),
    each above M* = 10^9 M☉; deterministic in ``seed``."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    rng = np.random.default_rng(seed)
    out = _draw(theta, rng)
    below = out[:, 1] < 9.0
    while below.any():
        out[below] = _draw(theta[below], rng)
        below = out[:, 1] < 9.0
    return out


def sample_galaxy_prior(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 6) parameters from the uniform prior (feedback amplitudes uniform in log, as in CAMELS)."""
    return rng.uniform([p.low for p in GALAXY_PARAMETERS], [p.high for p in GALAXY_PARAMETERS], size=(n, 6))
