"""Seeded 21 cm lightcones: a small semi-numerical simulator in the spirit of 21cmFAST.

Recipe (the prior is 3D-21cmPIE-Net's, Neutsch+2022; numbers in ../shared/SCIENCE.md):
- a Gaussian density field at z = 0 from the linear power spectrum (:mod:`.cosmology`: Eisenstein & Hu
  1998 with the Bode+2001 warm-dark-matter cut-off), grown with D(z);
- ionisation by the excursion set (Furlanetto, Zaldarriaga & Hernquist 2004; Mesinger & Furlanetto
  2007): a cell is ionised when ζ f_coll(R) ≥ 1 for some top-hat radius R stepped down by 1.25 from the
  mean free path (50 Mpc) to the cell; f_coll is the conditional Press–Schechter collapsed fraction above
  the halo mass whose virial temperature is T_vir, rescaled at each redshift to the Sheth–Tormen mean (as
  21cmFAST does); cells left neutral keep a partial ionisation ζ f_coll;
- spin temperature: the gas cools adiabatically from decoupling (z ≈ 137) and is heated by X-rays
  whose emissivity is L_X/SFR times the star-formation rate density f_* ρ_b df_coll/dt (f_* = 0.05;
  f_heat = 0.4, set so that the fiducial point heats as in 21cmFAST), over a spectrum with energy
  index 1 from E0 to 10 keV (L_X counts E0–2 keV, as in 21cmFAST); a photon is absorbed at a distance
  drawn from an exponential of mean λ ≈ 4.9 x̄_HI^-1/3 ((1+z)/15)^-2 (E/300 eV)³ comoving Mpc
  (Furlanetto, Oh & Briggs 2006), so it heats with the star formation of the earlier time it left at;
  heating is spread over the mean free path at E0, so soft spectra heat early in patches round the
  sources and hard ones late and uniformly; Wouthuysen–Field coupling from the Lyα background of the
  same stars (9690 photons per baryon between Lyα and Lyβ, Barkana & Loeb 2005);
- δT_b = 27 x_HI (1 + δ) (1 − T_CMB/T_S) [(1+z)/10 · 0.15/(Ω_m h²)]^½ (Ω_b h²/0.023) mK;
- the box is tiled along the line of sight and each slice is taken at its own redshift, from z = 6
  out to a fixed comoving length (so the highest redshift depends on Ω_m, as in 21cmFAST);
- optional thermal noise, white per cell, scaling with the sky temperature as (1+z)^2.55.

How the six parameters enter: Ω_m through P(k), D(z), distances, M_min(T_vir) and the δT_b
prefactor; ζ through the ionisation criterion; T_vir through M_min in every f_coll; L_X and E0 through
the heating (E0 also sets the heating's patchiness); m_WDM through σ(M_min), i.e. only through the
abundance of the smallest haloes, which is why it is the weakest (as in 3D-21cmPIE-Net).
Not modelled: redshift-space distortions, non-linear density (linear δ is used), Lyα and
collisional-coupling fluctuations, the photon-conserving correction, recombinations.

Against 21cmFAST 4.1.1 (``python -m astroml_core.validate lightcone``; numbers in the lightcone_flow card):
the reionisation history and the mean signal of the fiducial point agree; weak hard X-rays leave our gas
colder; above E0 ≈ 700 eV a harder spectrum acts like a fainter one in both codes, but ours moves the
mean δT_b 3× less (700 → 1500 eV: 16 against 48 mK at z = 12), and below it the two move in opposite
directions (our soft X-rays heat in patches and leave the gas between the sources cold).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.special import erfc, erfcinv

from ..constants import MPC_CM
from .cosmology import H_LITTLE, OMEGA_B, T_CMB0, Cosmology, tophat_window

__all__ = ["Parameter", "PARAMETERS", "PARAMETER_NAMES", "LightconeConfig", "Lightcone", "ThermalHistory",
           "simulate_lightcone", "thermal_history", "sample_prior", "physically_allowed", "sample_allowed",
           "write_lightcone", "FIDUCIAL", "DEMO_LIGHTCONES", "ensure_demo_lightcones"]

DELTA_C = 1.686
F_STAR = 0.05
F_HEAT = 0.4                     # calibrated: the fiducial point's heating matches 21cmFAST 4.1.1 (see validate)
N_ALPHA = 9690.0                 # Lyα–Lyβ photons per stellar baryon (Pop II)
BARYONS_PER_MSUN = 1.989e33 / 1.6726e-24
YEAR_S = 3.156e7
HELIUM_Y = 0.245
SIGMA_T = 6.652e-25              # cm²
C_CM_S = 2.998e10                # not constants.C_CM_S: the pinned lightcone digests were made with this rounding
K_B = 1.3807e-16                 # erg/K


@dataclass(frozen=True)
class Parameter:
    """One inferred parameter: its column name (also its FITS keyword), label, unit and uniform prior."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    role: str


PARAMETERS = (
    Parameter("omega_m", "Ω_m", "", 0.2, 0.4, "matter density: P(k), growth, distances, δT_b amplitude"),
    Parameter("zeta", "ζ", "", 10.0, 250.0, "ionising efficiency: ionised where ζ f_coll ≥ 1"),
    Parameter("log_tvir", "log₁₀ T_vir", "K", 4.0, 5.3, "minimum virial temperature of star-forming haloes"),
    Parameter("log_lx", "log₁₀ L_X", "erg/s/(M☉/yr)", 38.0, 42.0, "X-ray luminosity per star formation (< 2 keV)"),
    Parameter("e0", "E₀", "eV", 100.0, 1500.0, "X-ray energy threshold: how far X-rays travel"),
    Parameter("m_wdm", "m_WDM", "keV", 0.3, 10.0, "warm-dark-matter particle mass: fewer small haloes when light"),
)
PARAMETER_NAMES = tuple(p.name for p in PARAMETERS)
FIDUCIAL = {"omega_m": 0.31, "zeta": 30.0, "log_tvir": 4.7, "log_lx": 40.0, "e0": 500.0, "m_wdm": 5.0}


@dataclass(frozen=True)
class LightconeConfig:
    """Grid of a lightcone: ``n_cells``² × ``n_los`` cells of ``cell_mpc`` comoving Mpc from ``z_min``."""

    n_cells: int = 32
    cell_mpc: float = 4.0
    n_los: int = 672        # 2,688 Mpc: to z ≈ 16 / 22 / 28 at Ω_m = 0.2 / 0.31 / 0.4, through the heating era; the
                            # longest that 3D-21cmPIE-Net's lightcones (3,357 Mpc from z = 5) hold past z = 6 is 2,761
    z_min: float = 6.0
    r_bubble_max_mpc: float = 50.0
    noise_mk: float | None = None   # thermal noise rms per cell at z = 8, mK


@dataclass(frozen=True)
class Lightcone:
    """δT_b in mK on (x, y, line of sight) with the redshift and mean neutral fraction of each slice."""

    tb: np.ndarray
    redshift: np.ndarray
    xhi: np.ndarray
    cell_mpc: float
    params: dict = field(default_factory=dict)
    seed: int | None = None

    @property
    def mean_tb(self) -> np.ndarray:
        """Mean brightness temperature of each slice, mK."""
        return self.tb.mean(axis=(0, 1))


@dataclass(frozen=True)
class ThermalHistory:
    """Sky-averaged quantities on a redshift grid (descending)."""

    z: np.ndarray
    f_coll: np.ndarray
    t_k: np.ndarray
    t_ad: np.ndarray
    x_alpha: np.ndarray
    xi_mean_field: np.ndarray
    x_ray_mfp_mpc: np.ndarray

    def at(self, name: str, z):
        """One quantity interpolated at ``z``."""
        return np.interp(z, self.z[::-1], getattr(self, name)[::-1])


def _cosmology(params: dict) -> Cosmology:
    return Cosmology(float(params["omega_m"]), float(params["m_wdm"]))


def _sigma_min(cosmo: Cosmology, log_tvir: float, z) -> np.ndarray:
    return cosmo.sigma_m(cosmo.virial_mass(10.0**log_tvir, z))


def sheth_tormen_fraction(nu_min: np.ndarray) -> np.ndarray:
    """Mass fraction in haloes above peak height ν_min = δ_c / σ(M_min) for the Sheth & Tormen (1999) mass
    function; 21cmFAST rescales its conditional Press–Schechter fractions to this mean, and so do we."""
    nu = np.asarray(nu_min, dtype=float)[..., None] + np.linspace(0, 12, 600)
    a, p = 0.707, 0.3
    f = 0.3222 * np.sqrt(2 * a / np.pi) * (1 + (a * nu**2) ** -p) * np.exp(-a * nu**2 / 2)
    return np.trapezoid(f, nu, axis=-1)


def _xray_heating(e0_ev: float, z: np.ndarray, sfrd: np.ndarray, cosmo: Cosmology, mfp_300: np.ndarray,
                  hubble_len: np.ndarray) -> np.ndarray:
    """X-ray energy absorbed per comoving volume and time at each z, per unit L_X (E L_E = const from E0
    to 10 keV, L_X counting E0–2 keV as in 21cmFAST). A photon of energy E is absorbed one mean free path
    r from its source with probability e^(−r/λ(E))/λ (r < L_H, the Hubble length; the fraction
    1 − exp(−L_H/λ) is absorbed at all), so it heats with the star formation of the earlier time it left
    at: hard spectra heat late and uniformly, soft ones early and round the sources."""
    energies = np.logspace(np.log10(e0_ev), 4, 24)
    path = mfp_300[:, None] * (energies[None, :] / 300.0) ** 3                  # (z, E) comoving Mpc
    absorbed = 1 - np.exp(-hubble_len[:, None] / path)
    q = (np.arange(12) + 0.5) / 12                                              # quantiles of the distance
    travelled = -np.log(1 - q[None, None, :] * absorbed[..., None]) * path[..., None]
    z_emit = cosmo.redshift_at(cosmo.comoving_distance(z)[:, None, None] + travelled)
    sfrd_emit = np.interp(z_emit, z[::-1], sfrd[::-1], right=0.0).mean(axis=-1)
    return np.trapezoid(absorbed * sfrd_emit, np.log(energies), axis=1) / np.log(2000.0 / e0_ev)


def thermal_history(params: dict, z_max: float = 35.0, z_min: float = 4.0, n: int = 400) -> ThermalHistory:
    """Mean collapsed fraction, gas temperature, Lyα coupling and mean-field ionisation vs redshift."""
    cosmo = _cosmology(params)
    z = np.linspace(z_max, z_min, n)
    sig = _sigma_min(cosmo, params["log_tvir"], z)
    f_coll = sheth_tormen_fraction(DELTA_C / (cosmo.growth(z) * sig))
    hubble = cosmo.hubble_per_s(z)
    dfdt = -np.gradient(f_coll, z) * (1 + z) * hubble                      # 1/s
    rho_b = OMEGA_B * 2.775e11 * H_LITTLE**2                               # M☉ / comoving Mpc³
    sfrd = F_STAR * rho_b * dfdt * YEAR_S                                  # M☉ / yr / Mpc³
    xi = np.clip(params["zeta"] * f_coll, 0, 1)
    hubble_len = C_CM_S / hubble * (1 + z) / MPC_CM                        # comoving Mpc
    mfp_300 = 4.9 * np.clip(1 - xi, 1e-3, 1) ** (-1 / 3) * ((1 + z) / 15) ** -2
    heating = 10.0 ** params["log_lx"] * _xray_heating(params["e0"], z, sfrd, cosmo, mfp_300, hubble_len)  # erg/s/Mpc³
    particles = rho_b * BARYONS_PER_MSUN * (1 - 0.75 * HELIUM_Y)           # per comoving Mpc³
    dtdt_x = 2 / 3 * F_HEAT * heating / (particles * K_B)                  # K/s
    t_ad = T_CMB0 * (1 + z) ** 2 / 138.0
    t_k = np.empty_like(z)
    t_k[0] = t_ad[0]
    for i in range(1, n):                                                  # dT/dz = 2T/(1+z) − Q/((1+z)H)
        dz = z[i] - z[i - 1]
        slope = 2 * t_k[i - 1] / (1 + z[i - 1]) - dtdt_x[i - 1] / ((1 + z[i - 1]) * hubble[i - 1])
        t_k[i] = max(t_k[i - 1] + slope * dz, t_ad[i])
    eps_alpha = sfrd * N_ALPHA * BARYONS_PER_MSUN / YEAR_S / 4.5e14 / MPC_CM**3   # photons/s/Hz/cm³
    j_alpha = (1 + z) ** 2 / (4 * np.pi) * C_CM_S / hubble * 0.185 * (1 + z) * eps_alpha
    x_alpha = 1.81e11 / (1 + z) * j_alpha
    return ThermalHistory(z, f_coll, t_k, t_ad, x_alpha, xi, mfp_300 * (params["e0"] / 300.0) ** 3)


@lru_cache(maxsize=4)
def _wavenumbers(n: int, cell_mpc: float) -> np.ndarray:
    """|k| (1/Mpc) of the box's real-FFT grid (the same for every lightcone of a grid, so computed once)."""
    k1 = 2 * np.pi * np.fft.fftfreq(n, d=cell_mpc)
    kz = 2 * np.pi * np.fft.rfftfreq(n, d=cell_mpc)
    return np.sqrt(k1[:, None, None] ** 2 + k1[None, :, None] ** 2 + kz[None, None, :] ** 2)


def _gaussian_field(cosmo: Cosmology, cfg: LightconeConfig, rng: np.random.Generator) -> np.ndarray:
    """Fourier modes of the z = 0 linear density field on the periodic box."""
    n, box = cfg.n_cells, cfg.n_cells * cfg.cell_mpc
    k = _wavenumbers(n, cfg.cell_mpc)
    white = np.fft.rfftn(rng.standard_normal((n, n, n)))
    amp = np.sqrt(cosmo.power(np.where(k > 0, k, 1.0)) * n**3 / box**3)
    amp[0, 0, 0] = 0.0
    return white * amp


def _ladder(cfg: LightconeConfig) -> np.ndarray:
    """Top-hat radii from 200 Mpc down to 0.62 cells (21cmFAST's cell radius), steps of 1.25."""
    r_min = 0.620350491 * cfg.cell_mpc
    radii = [200.0]
    while radii[-1] / 1.25 > r_min:
        radii.append(radii[-1] / 1.25)
    return np.array(radii + [r_min])


@lru_cache(maxsize=4)
def _windows(n: int, cell_mpc: float, radii: tuple) -> tuple:
    """Top-hat filters of every ladder radius on the box's Fourier grid (the same for every lightcone of a
    grid, so computed once: they were a tenth of a lightcone's cost)."""
    return tuple(tophat_window(_wavenumbers(n, cell_mpc) * r) for r in radii)


def simulate_lightcone(params: dict, *, seed: int, config: LightconeConfig | None = None) -> Lightcone:
    """One lightcone for ``params`` (names of :data:`PARAMETERS`); deterministic in ``seed``."""
    cfg = config or LightconeConfig()
    missing = set(PARAMETER_NAMES) - set(params)
    if missing:
        raise KeyError(f"lightcone parameters missing: {sorted(missing)}")
    params = {k: float(params[k]) for k in PARAMETER_NAMES}
    cosmo = _cosmology(params)
    rng = np.random.default_rng(seed)
    modes = _gaussian_field(cosmo, cfg, rng)
    n = cfg.n_cells
    d0 = cosmo.comoving_distance(cfg.z_min)
    z = cosmo.redshift_at(d0 + (np.arange(cfg.n_los) + 0.5) * cfg.cell_mpc)
    plane = np.arange(cfg.n_los) % n
    growth = cosmo.growth(z)
    history = thermal_history(params, z_max=max(35.0, z.max() + 1))
    sig_min2 = _sigma_min(cosmo, params["log_tvir"], z) ** 2
    barrier = DELTA_C / growth
    radii = _ladder(cfg)
    mfp = np.clip(history.at("x_ray_mfp_mpc", z), radii[-1], radii[0])
    heat_radius = np.argmin(np.abs(np.log(radii[:, None] / mfp[None, :])), axis=0)
    ionised = np.zeros((n, n, cfg.n_los), dtype=bool)
    heat_ratio = np.ones((n, n, cfg.n_los))
    f_bar_ps = erfc(barrier / np.sqrt(2 * sig_min2))
    zeta = params["zeta"] * np.interp(z, history.z[::-1], history.f_coll[::-1]) / np.maximum(f_bar_ps, 1e-30)
    ionise_at = erfcinv(np.clip(1 / np.maximum(zeta, 1e-30), 0, 2))   # ζ erfc(x) ≥ 1 ⇔ x ≤ erfcinv(1/ζ)
    windows = _windows(n, cfg.cell_mpc, tuple(radii.tolist()))
    for i, radius in enumerate(radii):
        smooth = np.fft.irfftn(modes * windows[i], s=(n, n, n), axes=(0, 1, 2))[:, :, plane]
        spread = np.sqrt(2 * np.clip(sig_min2 - cosmo.sigma_r(radius) ** 2, 1e-6, None))
        if radius <= cfg.r_bubble_max_mpc:
            ionised |= barrier - smooth <= spread * ionise_at
        uses = heat_radius == i
        if uses.any():
            f_heat = erfc((barrier[uses] - smooth[:, :, uses]) / spread[uses])
            heat_ratio[:, :, uses] = f_heat / np.maximum(f_bar_ps[uses], 1e-30)
    f_cell = erfc((barrier - smooth) / spread)
    delta = np.fft.irfftn(modes, s=(n, n, n), axes=(0, 1, 2))[:, :, plane] * growth
    xhi = np.where(ionised, 0.0, np.clip(1 - zeta * f_cell, 0, 1))
    t_cmb = T_CMB0 * (1 + z)
    t_ad = history.at("t_ad", z)
    t_k = t_ad + (history.at("t_k", z) - t_ad) * np.clip(heat_ratio, 0, 20)
    x_alpha = history.at("x_alpha", z)
    t_s = (1 + x_alpha) / (1 / t_cmb + x_alpha / t_k)
    prefactor = 27 * np.sqrt((1 + z) / 10 * 0.15 / (params["omega_m"] * H_LITTLE**2)) * (OMEGA_B * H_LITTLE**2 / 0.023)
    tb = prefactor * xhi * (1 + np.clip(delta, -0.99, None)) * (1 - t_cmb / t_s)
    if cfg.noise_mk:
        tb = tb + rng.standard_normal(tb.shape) * cfg.noise_mk * ((1 + z) / 9) ** 2.55
    return Lightcone(tb.astype(np.float32), z, xhi.mean(axis=(0, 1)), cfg.cell_mpc, params, seed)


def _optical_depth(history: ThermalHistory, omega_m: float) -> float:
    """Thomson optical depth of the mean-field history (H and He I together; He II at z < 3)."""
    cosmo = Cosmology(omega_m)
    z = np.linspace(0, history.z[0], 2000)
    xi = np.where(z < history.z[-1], 1.0, history.at("xi_mean_field", z))
    n_h = OMEGA_B * 2.775e11 * H_LITTLE**2 * 1.989e33 / 1.6726e-24 * (1 - HELIUM_Y) / MPC_CM**3
    electrons = xi * (1 + HELIUM_Y / (4 * (1 - HELIUM_Y)) * np.where(z < 3, 2, 1))
    integrand = electrons * n_h * (1 + z) ** 2 / cosmo.hubble_per_s(z)
    return float(C_CM_S * SIGMA_T * np.trapezoid(integrand, z))


def physically_allowed(params: dict) -> bool:
    """3D-21cmPIE-Net's cuts: Thomson depth τ ≤ 0.089 and neutral fraction x_HI(z = 5) ≤ 0.1."""
    history = thermal_history(params)
    return (1 - history.at("xi_mean_field", 5.0) <= 0.1) and _optical_depth(history, params["omega_m"]) <= 0.089


def sample_prior(n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` parameter dicts drawn from the uniform prior."""
    draws = rng.uniform([p.low for p in PARAMETERS], [p.high for p in PARAMETERS], size=(n, len(PARAMETERS)))
    return [dict(zip(PARAMETER_NAMES, row.tolist())) for row in draws]


def sample_allowed(n: int, rng: np.random.Generator, mapper=map) -> list[dict]:
    """``n`` prior draws that pass :func:`physically_allowed` (the training and test prior); ``mapper``
    (e.g. a process pool's ``map``) checks them in parallel without changing the result."""
    out: list[dict] = []
    while len(out) < n:
        draws = sample_prior(n, rng)
        out.extend(p for p, ok in zip(draws, mapper(physically_allowed, draws)) if ok)
    return out[:n]


def write_lightcone(path, lightcone: Lightcone) -> None:
    """FITS: δT_b (mK) as (line of sight, y, x) with a linear WCS in comoving Mpc, the true parameters
    as header keywords named like the posterior's columns, and a REDSHIFT table (z, x_HI per slice)."""
    from astropy.io import fits
    from astropy.table import Table

    cube = np.moveaxis(lightcone.tb, -1, 0)
    hdr = fits.Header()
    hdr["BUNIT"] = "mK"
    hdr["BTYPE"] = "dT_b"
    for axis, (ctype, start) in enumerate((("X", 0.0), ("Y", 0.0), ("LOSDIST", _distance_start(lightcone))), 1):
        hdr[f"CTYPE{axis}"] = ctype
        hdr[f"CUNIT{axis}"] = "Mpc"
        hdr[f"CDELT{axis}"] = lightcone.cell_mpc
        hdr[f"CRPIX{axis}"] = 1.0
        hdr[f"CRVAL{axis}"] = start + lightcone.cell_mpc / 2
    hdr["ZMIN"] = (float(lightcone.redshift[0]), "redshift of the first slice")
    for p in PARAMETERS:
        if p.name in lightcone.params:
            hdr[p.name.upper()] = (float(lightcone.params[p.name]), f"true value of posterior column {p.name}")
    if lightcone.seed is not None:
        hdr["SEED"] = lightcone.seed
    hdr["ORIGIN"] = "astroml_core.sim.lightcone"
    table = Table({"z": lightcone.redshift, "xhi": lightcone.xhi})
    hdus = fits.HDUList([fits.PrimaryHDU(cube, hdr), fits.table_to_hdu(table)])
    hdus[1].name = "REDSHIFT"
    hdus.writeto(path, overwrite=True)


def _distance_start(lightcone: Lightcone) -> float:
    cosmo = Cosmology(lightcone.params.get("omega_m", 0.31))
    return float(cosmo.comoving_distance(lightcone.redshift[0])) - lightcone.cell_mpc / 2


# Demo lightcones (file name → parameters, seed), named for what a class sees in them.
DEMO_LIGHTCONES = {
    "lightcone_fiducial.fits": (dict(FIDUCIAL), 4_100_001),
    "lightcone_late_reionisation.fits": (dict(FIDUCIAL, zeta=20.0, log_tvir=5.0), 4_100_002),
    "lightcone_cold_igm.fits": (dict(FIDUCIAL, log_lx=38.3, e0=1200.0, zeta=60.0), 4_100_003),
    "lightcone_high_omega_m.fits": (dict(FIDUCIAL, omega_m=0.38, log_lx=41.0, e0=250.0), 4_100_004),
}


def _has_default_grid(path) -> bool:
    """Whether a demo lightcone on disk has today's line of sight (older data roots hold shorter ones)."""
    from astropy.io import fits

    try:
        return fits.getheader(path).get("NAXIS3") == LightconeConfig().n_los
    except (OSError, ValueError):
        return False


def ensure_demo_lightcones(folder) -> list:
    """Write the demo lightcones into ``folder`` unless they are there on today's grid; returns their paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (params, seed) in DEMO_LIGHTCONES.items():
        path = folder / name
        if not (path.exists() and _has_default_grid(path)):
            tmp = path.with_suffix(".tmp.fits")
            write_lightcone(tmp, simulate_lightcone(params, seed=seed))
            tmp.replace(path)
        paths.append(path)
    return paths
