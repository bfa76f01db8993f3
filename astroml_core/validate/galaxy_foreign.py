"""A foreign galaxy test set for galaxy_flow, written apart from :mod:`astroml_core.sim` (imports nothing
from it): other published relations, other scatter, and the errors a real catalogue carries.

Each galaxy is a central at z = 0 in a universe drawn from the model's prior box (Ω_m, σ8 and four feedback
strengths, the same names and bounds, written out here). Relations, each from a different paper than the training
generator's:

- cosmology of its own: h = 0.70, Ω_b = 0.048, n_s = 0.96; BBKS transfer function (Bardeen+1986) with Sugiyama's
  (1995) shape Γ; σ(M) normalised to σ8; halo masses 10^10.5–10^13 M☉ from the **Tinker+2008** mass function
  (Δ = 200 m, z = 0), so Ω_m and σ8 set how many haloes of each mass there are;
- concentration **Duffy+2008** (NFW, full sample, M_200c) c = 5.71 (M / 2×10^12 h⁻¹ M☉)^−0.084, 0.11 dex scatter;
  V_max of the NFW halo and R_vmax = 2.163 r_s;
- stellar mass **Behroozi+2013** (z = 0 parameters) with 0.2 dex scatter, rescaled to the baryon fraction
  Ω_b/Ω_m (its fiducial Ω_b/Ω_m = 0.048/0.27): at fixed M* a higher Ω_m means a bigger halo and a larger V_max.
  A_SN1 steepens the low-mass slope (α − 0.25 log A_SN1), A_AGN1 lowers the high-mass end (δ − 0.6 log A_AGN1);
- V_max adds an exponential disc of stars and cold gas in quadrature (peak v² = 0.387 G M_disc / R_d) to the NFW;
- sizes **Shen+2003** (late-type and early-type half-light radii, their log-normal scatter), ×A_SN1^0.05;
- quenching **Peng+2010** mass quenching f_q = 1 − exp(−M*/p), p = 10^10.6 M☉ / A_AGN1^0.3; a quenched galaxy
  lies 1–2 dex (uniform) below the main sequence of **Renzini & Peng 2015** (log SFR = 0.76 log M* − 7.64, 0.3 dex);
- gas: cold gas (HI + H₂, ×1.36 for helium) from **xGASS-like** gas fractions (Catinella+2018: log M_HI/M* =
  −0.53 (log M* − 10) − 0.45, 0.35 dex; quenched 1.2 dex poorer; H₂ 0.3 of HI) plus hot halo gas, a retained
  fraction f = 0.7 / (1 + A_SN2 (M / 10^11.5)^−0.8 + 0.5 A_AGN2 (M / 10^13)^0.5) of Ω_b/Ω_m M (minus the stars);
- gas metallicity **Tremonti+2004** mass–metallicity (12 + log O/H, solar 8.69), −0.15 log A_SN2, 0.1 dex; stellar
  metallicity a **Gallazzi+2005**-like curve (−0.25 + 0.35 tanh((log M* − 9.9)/0.7)), 0.2 dex;
- black holes **Reines & Volonteri 2015** (log M_BH = 7.45 + 1.05 log(M*/10^11), 0.55 dex), −0.2 log A_AGN1;
- σ_v = V_max / 1.33 (quenched) or / 1.6 (star-forming) (Serra+2016-like), 0.05 dex;
- then **observational errors** per property (dex, Gaussian in log): :data:`OBS_ERROR_DEX`.

Galaxies with an observed M* < 10^9 M☉ are redrawn. Seeds :data:`FOREIGN_SEEDS` are used by nothing else.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FOREIGN_SEEDS", "PARAMETER_BOUNDS", "PROPERTY_NAMES", "OBS_ERROR_DEX", "foreign_galaxies",
           "sample_prior", "sigma_m", "halo_mass_function", "observe"]

FOREIGN_SEEDS = tuple(range(960_000, 960_100))
# the model's prior box (name, low, high), written out: a test checks it equals the training generator's
PARAMETER_BOUNDS = (("omega_m", 0.1, 0.5), ("sigma_8", 0.6, 1.0), ("log_asn1", np.log10(0.25), np.log10(4.0)),
                    ("log_asn2", np.log10(0.5), np.log10(2.0)), ("log_aagn1", np.log10(0.25), np.log10(4.0)),
                    ("log_aagn2", np.log10(0.5), np.log10(2.0)))
PROPERTY_NAMES = ("M_gas", "M_star", "M_BH", "M_tot", "V_max", "sigma_v", "Z_gas", "Z_star", "SFR", "R_star",
                  "R_vmax")
OBS_ERROR_DEX = dict(M_gas=0.2, M_star=0.12, M_BH=0.3, M_tot=0.2, V_max=0.08, sigma_v=0.06, Z_gas=0.1, Z_star=0.15,
                     SFR=0.2, R_star=0.1, R_vmax=0.15)

H = 0.70
OMEGA_B = 0.048
N_S = 0.96
G = 4.30091e-6                       # kpc (km/s)² / M☉
RHO_CRIT = 277.5 * H**2              # M☉ / kpc³
LOG_M = np.linspace(10.5, 13.0, 160)
_OMEGA_GRID = np.linspace(0.09, 0.51, 43)


def sample_prior(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 6) parameters uniform in the prior box."""
    return rng.uniform([b[1] for b in PARAMETER_BOUNDS], [b[2] for b in PARAMETER_BOUNDS], size=(n, 6))


def _unnormalised_sigma(omega_m: float, radius_mpc: np.ndarray) -> np.ndarray:
    """σ(R) of a BBKS power spectrum k^n_s T²(k) (arbitrary amplitude) smoothed by a top hat of radius R (Mpc)."""
    gamma = omega_m * H * np.exp(-OMEGA_B * (1 + np.sqrt(2 * H) / omega_m))
    k = np.logspace(-4, 2.5, 1500)                                  # 1/Mpc
    q = k / (gamma * H)
    t = np.log1p(2.34 * q) / (2.34 * q) * (1 + 3.89 * q + (16.1 * q) ** 2 + (5.46 * q) ** 3 + (6.71 * q) ** 4) ** -0.25
    kr = k[None, :] * np.atleast_1d(radius_mpc)[:, None]
    window = 3 * (np.sin(kr) - kr * np.cos(kr)) / kr**3
    integrand = k ** (N_S + 3) * t**2 * window**2                   # dσ²/dln k up to 1/(2π²)
    return np.sqrt(np.trapezoid(integrand, np.log(k), axis=1))


def sigma_m(omega_m: float, sigma_8: float, log_m: np.ndarray) -> np.ndarray:
    """σ(M) at z = 0 for masses 10^log_m M☉ (Lagrangian radius in the mean matter density), normalised to σ8."""
    rho_m = omega_m * RHO_CRIT * 1e9                                 # M☉ / Mpc³
    radius = (3 * 10 ** np.asarray(log_m) / (4 * np.pi * rho_m)) ** (1 / 3)
    return sigma_8 * _unnormalised_sigma(omega_m, radius) / _unnormalised_sigma(omega_m, np.array([8.0 / H]))[0]


def _tinker(sig: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """Tinker+2008 (Δ = 200 m, z = 0) dn/dlog M up to a constant, from σ(M) on ``log_m``."""
    f = 0.186 * ((sig / 2.57) ** -1.47 + 1) * np.exp(-1.19 / sig**2)
    return f * -np.gradient(np.log(sig), log_m) / 10 ** np.asarray(log_m)


def halo_mass_function(omega_m: float, sigma_8: float, log_m: np.ndarray = LOG_M) -> np.ndarray:
    """The Tinker+2008 dn/dlog M (up to a constant) of one universe on ``log_m``."""
    return _tinker(sigma_m(omega_m, sigma_8, log_m), log_m)


_SHAPE_CACHE: dict = {}


def _log_sigma_table() -> np.ndarray:
    """ln σ(M) at σ8 = 1 on (:data:`_OMEGA_GRID`, :data:`LOG_M`) (computed once); σ8 multiplies it."""
    if "table" not in _SHAPE_CACHE:
        _SHAPE_CACHE["table"] = np.array([np.log(sigma_m(om, 1.0, LOG_M)) for om in _OMEGA_GRID])
    return _SHAPE_CACHE["table"]


def _halo_masses(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """log10 M_200 of one halo per row, drawn from its universe's Tinker mass function."""
    from scipy.interpolate import RegularGridInterpolator

    table = RegularGridInterpolator((_OMEGA_GRID, LOG_M), _log_sigma_table())
    out = np.empty(len(theta))
    for i, (om, s8) in enumerate(theta[:, :2]):
        sig = s8 * np.exp(table(np.column_stack([np.full(len(LOG_M), om), LOG_M])))
        dn = _tinker(sig, LOG_M)
        cdf = np.concatenate([[0], np.cumsum((dn[1:] + dn[:-1]) / 2)])
        out[i] = np.interp(rng.uniform() * cdf[-1], cdf, LOG_M)
    return out


def _behroozi13(log_mh: np.ndarray, asn1: np.ndarray, aagn1: np.ndarray) -> np.ndarray:
    """log10 M* of Behroozi+2013 at z = 0, with the feedback knobs described in the module docstring."""
    log_eps, log_m1, gamma = -1.777, 11.514, 0.316
    alpha = -1.412 - 0.25 * np.log10(asn1)
    delta = 3.508 - 0.6 * np.log10(aagn1)

    def f(x):
        return -np.log10(10 ** (alpha * x) + 1) + delta * np.log10(1 + np.exp(x)) ** gamma / (1 + np.exp(10 ** -x))

    return log_eps + log_m1 + f(log_mh - log_m1) - f(0 * log_mh)


def _draw(theta: np.ndarray, rng: np.random.Generator) -> dict:
    """True (noise-free) log properties of one galaxy per row of ``theta``."""
    n = len(theta)
    omega_m, sigma_8 = theta[:, 0], theta[:, 1]
    asn1, asn2, aagn1, aagn2 = (10 ** theta[:, k] for k in range(2, 6))
    normal = lambda sd: rng.normal(0, sd, n)   # noqa: E731
    log_mh = _halo_masses(theta, rng)
    mh = 10**log_mh
    f_b = OMEGA_B / omega_m
    log_ms = _behroozi13(log_mh, asn1, aagn1) + np.log10(f_b / (0.048 / 0.27)) + normal(0.2)
    ms = 10**log_ms
    conc = 5.71 * (mh * H / 2e12) ** -0.084 * 10 ** normal(0.11)
    r200 = (3 * mh / (4 * np.pi * 200 * RHO_CRIT)) ** (1 / 3)
    v200 = np.sqrt(G * mh / r200)
    v_nfw = v200 * np.sqrt(0.2162 * conc / (np.log1p(conc) - conc / (1 + conc)))
    quenched = rng.uniform(size=n) < 1 - np.exp(-ms / (10**10.6 / aagn1**0.3))
    late = ~quenched
    log_r = np.where(late, np.log10(0.1) + 0.14 * log_ms + 0.25 * np.log10(1 + ms / 3.98e10),
                     np.log10(2.88e-6) + 0.56 * log_ms)
    ln_sd = np.where(late, 0.34 + 0.13 / (1 + (ms / 3.98e10) ** 2), 0.30)
    r_star = 10**log_r * asn1**0.05 * np.exp(ln_sd * rng.standard_normal(n))
    log_hi = np.where(late, -0.53 * (log_ms - 10) - 0.45, -0.53 * (log_ms - 10) - 1.65) + normal(0.35)
    m_cold = 1.36 * 1.3 * ms * 10**log_hi
    v_max = np.sqrt(v_nfw**2 + 0.387 * G * (ms + m_cold) / (r_star / 1.678))
    kept = 0.7 / (1 + asn2 * (mh / 10**11.5) ** -0.8 + 0.5 * aagn2 * (mh / 1e13) ** 0.5)
    m_gas = m_cold + np.clip(kept * f_b * mh - ms, 0, None)
    x = log_ms
    oh = -1.492 + 1.847 * x - 0.08026 * x**2
    log_sfr = 0.76 * log_ms - 7.64 + normal(0.3) - quenched * rng.uniform(1.0, 2.0, n)
    return dict(M_gas=np.log10(m_gas), M_star=log_ms,
                M_BH=7.45 + 1.05 * (log_ms - 11) - 0.2 * np.log10(aagn1) + normal(0.55), M_tot=log_mh,
                V_max=np.log10(v_max), sigma_v=np.log10(v_max / np.where(quenched, 1.33, 1.6)) + normal(0.05),
                Z_gas=oh - 8.69 - 0.15 * np.log10(asn2) + normal(0.1),
                Z_star=-0.25 + 0.35 * np.tanh((x - 9.9) / 0.7) + normal(0.2), SFR=log_sfr,
                R_star=np.log10(r_star), R_vmax=np.log10(2.163 * r200 / conc))


def observe(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, 11) observed log properties: the true ones plus :data:`OBS_ERROR_DEX`."""
    true = _draw(theta, rng)
    return np.column_stack([true[name] + rng.normal(0, OBS_ERROR_DEX[name], len(theta)) for name in PROPERTY_NAMES])


def foreign_galaxies(n: int, seed: int = FOREIGN_SEEDS[0]) -> tuple[np.ndarray, np.ndarray]:
    """(parameters (n, 6), observed log properties (n, 11)) of ``n`` foreign galaxies, one universe each, every
    one with observed M* ≥ 10^9 M☉; deterministic in ``seed`` (one of :data:`FOREIGN_SEEDS`)."""
    if seed not in FOREIGN_SEEDS:
        raise ValueError(f"seed {seed} is not a foreign seed ({FOREIGN_SEEDS[0]}–{FOREIGN_SEEDS[-1]})")
    rng = np.random.default_rng(seed)
    theta = sample_prior(n, rng)
    props = observe(theta, rng)
    low = props[:, 1] < 9.0
    while low.any():
        props[low] = observe(theta[low], rng)
        low = props[:, 1] < 9.0
    return theta, props
