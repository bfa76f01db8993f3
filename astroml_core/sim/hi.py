"""Seeded HI cubes in the style of the SKA Science Data Challenge 2, with SDC2-style truth catalogues.

Recipe (numbers in ../shared/SCIENCE.md; references in each helper's docstring):
- sources per comoving volume from the ALFALFA HI mass function (Jones+2018) above 10^8.5 M☉, which
  gives SDC2's ~11.7k sources per deg² over 950–1150 MHz;
- HI size from the size–mass relation log D_HI[kpc] = 0.51 log M_HI − 3.32 (Wang+2016, 0.06 dex);
- flux ∫S dν [Jy Hz] = M_HI / (49.8 D_L²) (H0 = 67, Ω_m = 0.32), as in SDC2;
- inclined rotating discs (flat rotation curve from the baryonic Tully–Fisher relation, Lelli+2016,
  with M_b ≈ 2.5 M_HI; 10 km/s dispersion), axis ratio √(cos²i (1 − 0.2²) + 0.2²), random PA, so
  profiles are double-horned; redshift → frequency; convolved with the 7" beam;
- noise: white noise convolved with the beam (correlated like an interferometric image), scaled to
  26.6–30.1 µJy/beam per 30 kHz channel across 950–1150 MHz.

Options for training sets that span real cubes (defaults reproduce the recipe above bit for bit):
- ``kinematics="rising"``: a centrally depressed exponential disc, Σ ∝ (r/h)^n e^(−r/h) with n from
  0.5 to 1.5 (HI discs flatten or dip inside the stellar disc, Wang+2016 / Bigiel+2008), and a
  solid-body-then-flat rotation curve reaching V_flat at 0.1–0.5 R_HI (dwarfs and late types,
  Swaters+2009), dispersion 6–14 km/s (Tamburro+2009); ``"mixed"`` picks flat or rising per galaxy;
- ``noise=NoiseKind(...)`` (:mod:`.hi_noise`): other spatial correlation, Hanning smoothing (applied
  to the signal too), per-channel σ ripple, RFI and blanked channels, primary-beam-corrected σ(x, y),
  continuum-subtraction residuals.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.cosmology import FlatLambdaCDM
from astropy.io import fits
from astropy.table import QTable
from scipy.ndimage import gaussian_filter

from ..constants import C_KMS, FWHM_PER_SIGMA, HI_REST_HZ
from ..arrays import add_clipped
from .hi_noise import HANNING_VARIANCE, SDC2_CORR, NoiseField, NoiseKind, hanning, noise_field

__all__ = ["HICubeConfig", "KINEMATICS", "simulate_hi_cube", "gaussian_radius_ratio", "exponential_radius_ratio",
           "write_hi_cube", "ensure_demo_cube", "DEMO_CUBE", "DEMO_SEED", "DEMO_TRUTH", "COSMOLOGY"]

COSMOLOGY = FlatLambdaCDM(H0=67, Om0=0.32)
FWHM_TO_SIGMA = 1 / FWHM_PER_SIGMA
DEMO_CUBE = "hi_demo.fits"
# The demo field: the first seed whose field holds >= 4 sources with integrated S/N > 10 (most seeds
# hold one or two), so a class sees galaxies; tests/core/test_sim_hi.py checks the property.
DEMO_SEED = 9
DEMO_TRUTH = "hi_demo_truth.ecsv"
KINEMATICS = ("flat", "rising", "mixed")


@dataclass(frozen=True)
class HICubeConfig:
    """Geometry and noise of a simulated cube (defaults: SDC2's beam, pixels, channels and field).

    first_freq_hz sits on SDC2's 30 kHz channel grid from 950 MHz; the default sub-band is the
    top of SDC2's band (lowest redshift, brightest sources).
    """

    nx: int = 256
    ny: int = 256
    n_channels: int = 512
    first_freq_hz: float = 1134.5e6
    channel_width_hz: float = 30e3
    pixel_arcsec: float = 2.8
    beam_arcsec: float = 7.0
    ra_deg: float = 180.0
    dec_deg: float = -30.0
    noise_jy_950: float = 26.6e-6   # noise per channel at 950 MHz (Jy/beam)
    noise_jy_1150: float = 30.1e-6  # ... and at 1150 MHz; linear in between
    log_mhi_min: float = 8.5
    particles: int = 6000           # Monte Carlo samples per galaxy disc
    density_factor: float = 1.0     # × SDC2's source density (training sets use > 1 for more examples)
    kinematics: str = "flat"        # "flat" (SDC2-like Gaussian disc), "rising", or "mixed" per galaxy
    noise: NoiseKind | None = None  # None: SDC2's beam-convolved white noise, as always

    def __post_init__(self):
        if self.kinematics not in KINEMATICS:
            raise ValueError(f"kinematics must be one of {KINEMATICS}, got {self.kinematics!r}")

    @property
    def frequencies_hz(self) -> np.ndarray:
        return self.first_freq_hz + self.channel_width_hz * np.arange(self.n_channels)

    @property
    def beam_sigma_px(self) -> float:
        return self.beam_arcsec * FWHM_TO_SIGMA / self.pixel_arcsec

    @property
    def beam_area_px(self) -> float:
        return 2 * np.pi * self.beam_sigma_px**2


# --- population -------------------------------------------------------------------------------
def _himf_log_masses(n: int, lo: float, rng: np.random.Generator) -> np.ndarray:
    """log10 M_HI drawn from the Jones+2018 ALFALFA Schechter HIMF (α = −1.25, log M* = 9.94 h70⁻²)."""
    grid = np.linspace(lo, max(lo, 12.0), 2000)
    m_star = 10**9.94 * (70 / 67) ** 2
    x = 10**grid / m_star
    pdf = x ** (-1.25 + 1) * np.exp(-x)
    cdf = np.cumsum(pdf)
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, grid)


def _number_density(lo: float) -> float:
    """Comoving number density (Mpc⁻³) of HI sources above 10^lo M☉ from the same HIMF."""
    if lo >= 12.0:  # nothing above the top of the HIMF
        return 0.0
    grid = np.linspace(lo, 12, 4000)
    phi_star = 4.5e-3 * (67 / 70) ** 3
    x = 10**grid / (10**9.94 * (70 / 67) ** 2)
    return float(np.trapezoid(np.log(10) * phi_star * x ** (-0.25) * np.exp(-x), grid))


def _redshifts(n: int, z_lo: float, z_hi: float, rng: np.random.Generator) -> np.ndarray:
    """Redshifts uniform in comoving volume between z_lo and z_hi."""
    grid = np.linspace(z_lo, z_hi, 512)
    cdf = COSMOLOGY.comoving_volume(grid).value
    cdf = (cdf - cdf[0]) / (cdf[-1] - cdf[0])
    return np.interp(rng.random(n), cdf, grid)


def _population(cfg: HICubeConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the source list: positions, redshift, HI mass, size, velocity, inclination, PA."""
    freqs = cfg.frequencies_hz
    z_lo, z_hi = HI_REST_HZ / freqs[-1] - 1, HI_REST_HZ / freqs[0] - 1
    area_sr = (cfg.nx * cfg.ny) * (cfg.pixel_arcsec * u.arcsec).to_value(u.rad) ** 2
    volume = (COSMOLOGY.comoving_volume(z_hi) - COSMOLOGY.comoving_volume(z_lo)).value
    n = rng.poisson(cfg.density_factor * _number_density(cfg.log_mhi_min) * volume * area_sr / (4 * np.pi))
    z = _redshifts(n, z_lo, z_hi, rng)
    log_m = _himf_log_masses(n, cfg.log_mhi_min, rng)
    d_kpc = 10 ** (0.51 * log_m - 3.32 + rng.normal(0, 0.06, n))          # Wang+2016
    d_a = COSMOLOGY.angular_diameter_distance(z).to_value(u.kpc)
    v_flat = ((2.5 * 10**log_m * 10 ** rng.normal(0, 0.1, n)) / 50.0) ** 0.25  # Lelli+2016 BTFR
    src = dict(
        x=rng.uniform(-0.5, cfg.nx - 0.5, n), y=rng.uniform(-0.5, cfg.ny - 0.5, n), z=z,
        log_mhi=log_m, hi_size=np.degrees(d_kpc / d_a) * 3600, v_flat=v_flat,
        i=np.degrees(np.arccos(rng.random(n))), pa=rng.uniform(0, 360, n),
        flux=10**log_m / (49.8 * COSMOLOGY.luminosity_distance(z).to_value(u.Mpc) ** 2),
    )
    if cfg.kinematics != "flat":   # extra draws only here, so "flat" cubes stay bit-identical
        rising = np.ones(n, bool) if cfg.kinematics == "rising" else rng.random(n) < 0.5
        src.update(rising=rising, sd_index=rng.uniform(0.5, 1.5, n), r_turn=rng.uniform(0.1, 0.5, n),
                   sigma_v=rng.uniform(6, 14, n))
    return src


# --- one galaxy ------------------------------------------------------------------------------
def _disc_particles(src: dict, k: int, n: int, rng: np.random.Generator):
    """Sky offsets (arcsec, East and North) and rest-frame LOS velocities (km/s) of a disc's particles.

    Σ(r) ∝ exp(−r²/r_s²) with Σ = 1 M☉/pc² at the HI radius (hi_size/2) for the galaxy's mass,
    so hi_size is the 1 M☉/pc² isophote diameter as SDC2 defines it. A "rising" galaxy: see
    :func:`_rising_particles`.
    """
    r1 = src["hi_size"][k] / 2
    mean_sd = 10 ** src["log_mhi"][k] / (np.pi * (r1 * 1e3 * _kpc_per_arcsec(src["z"][k])) ** 2)
    if "rising" in src and src["rising"][k]:
        return _rising_particles(src, k, n, r1, mean_sd, rng)
    xr = gaussian_radius_ratio(mean_sd)
    r = (r1 / xr) * np.sqrt(-np.log(rng.random(n)))
    phi = rng.uniform(0, 2 * np.pi, n)
    inc, pa = np.radians(src["i"][k]), np.radians(src["pa"][k])
    q = np.sqrt(np.cos(inc) ** 2 * (1 - 0.2**2) + 0.2**2)
    a, b = r * np.cos(phi), r * np.sin(phi) * q
    east = a * np.sin(pa) - b * np.cos(pa)   # receding major axis at PA (East of North)
    north = a * np.cos(pa) + b * np.sin(pa)
    v_rot = src["v_flat"][k] * (1 - np.exp(-r / (0.15 * r1)))
    v = v_rot * np.sin(inc) * np.cos(phi) + rng.normal(0, 10.0, n)
    return east, north, v


def _rising_particles(src: dict, k: int, n: int, r1: float, mean_sd: float, rng: np.random.Generator):
    """Like :func:`_disc_particles` for Σ(r) ∝ (r/h)^m e^(−r/h) (m = sd_index; Σ(R_HI) = 1 M☉/pc²) and
    V(r) = V_flat · min(1, r / (r_turn R_HI)), dispersion sigma_v."""
    m = src["sd_index"][k]
    r = (r1 / exponential_radius_ratio(mean_sd, m)) * rng.gamma(m + 2, 1.0, n)   # r Σ(r) dr ∝ Gamma(m+2)
    phi = rng.uniform(0, 2 * np.pi, n)
    inc, pa = np.radians(src["i"][k]), np.radians(src["pa"][k])
    q = np.sqrt(np.cos(inc) ** 2 * (1 - 0.2**2) + 0.2**2)
    a, b = r * np.cos(phi), r * np.sin(phi) * q
    east = a * np.sin(pa) - b * np.cos(pa)
    north = a * np.cos(pa) + b * np.sin(pa)
    v_rot = src["v_flat"][k] * np.minimum(1.0, r / (src["r_turn"][k] * r1))
    v = v_rot * np.sin(inc) * np.cos(phi) + rng.normal(0, src["sigma_v"][k], n)
    return east, north, v


def exponential_radius_ratio(mean_sd: float, m: float = 0.0) -> float:
    """x = R_HI/h for which Σ ∝ (r/h)^m e^(−r/h) of mean density M/(πR²) has Σ(R_HI) = 1 M☉/pc².

    Σ(R)/mean = x^(m+2) e^(−x) / (2Γ(m+2)); the root beyond the profile's peak (x > m + 2), so the
    isophote lies on the falling side; denser-than-possible-at-the-peak discs are clipped to x = m + 2.
    """
    from scipy.special import gammaln

    target = np.log(mean_sd) - np.log(2) - gammaln(m + 2)   # solve (m+2) ln x − x = −target
    lo, hi = m + 2, 60.0
    if (m + 2) * np.log(lo) - lo <= -target:
        return lo
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (m + 2) * np.log(mid) - mid > -target else (lo, mid)
    return (lo + hi) / 2


def _kpc_per_arcsec(z: float) -> float:
    return float(COSMOLOGY.angular_diameter_distance(z).to_value(u.kpc) * np.radians(1 / 3600))


def gaussian_radius_ratio(mean_sd: float) -> float:
    """x = R_HI/r_s for which a Gaussian disc of mean density M/(πR²) has Σ(R_HI) = 1 M☉/pc²."""
    target = max(mean_sd, np.e * 1.0001)   # e^{x²}/x² ≥ e: flatter discs are clipped to x = 1
    lo, hi = 1.0, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.exp(mid**2) / mid**2 < target else (lo, mid)
    return (lo + hi) / 2


def _w20(v_rest: np.ndarray) -> float:
    """Width (km/s) of a particle LOS-velocity profile at 20% of its peak, outermost crossings."""
    hist, edges = np.histogram(v_rest, bins=np.arange(v_rest.min() - 4, v_rest.max() + 6, 2.0))
    hist = np.convolve(hist, np.ones(3) / 3, mode="same")
    above = np.flatnonzero(hist >= 0.2 * hist.max())
    return float(edges[above[-1] + 1] - edges[above[0]])


def _paint(cube: np.ndarray, cfg: HICubeConfig, src: dict, k: int, rng: np.random.Generator) -> float:
    """Add galaxy k, beam-convolved, in Jy/beam; returns its rest-frame W20 (km/s)."""
    east, north, v = _disc_particles(src, k, cfg.particles, rng)
    nu_c = HI_REST_HZ / (1 + src["z"][k])
    chan = (nu_c * (1 - v / C_KMS) - cfg.first_freq_hz) / cfg.channel_width_hz
    px = src["x"][k] - east / cfg.pixel_arcsec   # RA increases to the left (CDELT1 < 0)
    py = src["y"][k] + north / cfg.pixel_arcsec
    pad = int(np.ceil(4 * cfg.beam_sigma_px)) + 1
    x0, y0, c0 = int(np.floor(px.min())) - pad, int(np.floor(py.min())) - pad, int(np.floor(chan.min()))
    shape = (int(np.ceil(chan.max())) - c0 + 1, int(np.ceil(py.max())) + pad - y0 + 1,
             int(np.ceil(px.max())) + pad - x0 + 1)
    idx = np.ravel_multi_index((np.rint(chan).astype(int) - c0, np.rint(py).astype(int) - y0,
                                np.rint(px).astype(int) - x0), shape)
    weight = src["flux"][k] / cfg.particles / cfg.channel_width_hz * cfg.beam_area_px
    box = np.bincount(idx, minlength=int(np.prod(shape))).reshape(shape).astype(np.float32) * weight
    box = gaussian_filter(box, (0, cfg.beam_sigma_px, cfg.beam_sigma_px), mode="constant")
    add_clipped(cube, box, (c0, y0, x0))
    return _w20(v)


def _noise(cfg: HICubeConfig, rng: np.random.Generator) -> np.ndarray:
    """Beam-correlated Gaussian noise with SDC2's per-channel rms (Jy/beam)."""
    white = rng.standard_normal((cfg.n_channels, cfg.ny, cfg.nx), dtype=np.float32)
    noise = gaussian_filter(white, (0, cfg.beam_sigma_px, cfg.beam_sigma_px), mode="wrap")
    noise /= noise.std()
    frac = (cfg.frequencies_hz - 950e6) / 200e6
    sigma = cfg.noise_jy_950 + frac * (cfg.noise_jy_1150 - cfg.noise_jy_950)
    noise *= sigma.astype(np.float32)[:, None, None]
    return noise


# --- public API --------------------------------------------------------------------------------
def simulate_hi_cube(seed: int, config: HICubeConfig | None = None, *, signal_out: list | None = None,
                     noise_out: list | None = None) -> tuple[np.ndarray, fits.Header, QTable]:
    """Simulate one cube: (data (n_channels, ny, nx) float32 Jy/beam, FITS header, truth QTable).

    The truth table has SDC2's columns (id, ra, dec, hi_size, line_flux_integral, central_freq, pa,
    i, w20) with units, plus snr (integrated S/N), z and log_mhi. Pass a list as ``signal_out`` to get
    the noiseless source cube appended to it (for training masks; Hanning-smoothed when the noise is),
    and one as ``noise_out`` to get the :class:`~.hi_noise.NoiseField` (only when ``config.noise`` is
    set). w20 is the observed-frame width ((1+z) × rest frame).
    """
    cfg = config or HICubeConfig()
    rng = np.random.default_rng(seed)
    src = _population(cfg, rng)
    field = None
    if cfg.noise is None:
        noise = _noise(cfg, rng)
    else:
        field = noise_field(cfg.noise, (cfg.n_channels, cfg.ny, cfg.nx), cfg.beam_sigma_px,
                            _sdc2_sigma(cfg, cfg.frequencies_hz), rng)
        noise = field.data
    signal = np.zeros(noise.shape, np.float32)
    w20_rest = np.array([_paint(signal, cfg, src, k, rng) for k in range(len(src["x"]))])
    if cfg.noise is not None and cfg.noise.hanning:
        signal = hanning(signal)
    data = noise + signal
    if signal_out is not None:   # training wants the noiseless sources too
        signal_out.append(signal)
    if noise_out is not None and field is not None:
        noise_out.append(field)
    header = cube_header(cfg)
    from astropy.wcs import WCS

    sky = WCS(header).celestial.pixel_to_world(src["x"], src["y"])
    truth = QTable()
    truth["id"] = np.arange(len(src["x"]), dtype=np.int64)
    truth["ra"] = sky.ra.to(u.deg)
    truth["dec"] = sky.dec.to(u.deg)
    truth["hi_size"] = src["hi_size"] * u.arcsec
    truth["line_flux_integral"] = src["flux"] * u.Jy * u.Hz
    truth["central_freq"] = HI_REST_HZ / (1 + src["z"]) * u.Hz
    truth["pa"] = src["pa"] * u.deg
    truth["i"] = src["i"] * u.deg
    truth["w20"] = w20_rest * (1 + src["z"]) * u.km / u.s
    truth["snr"] = _integrated_snr(cfg, src, w20_rest, field)
    truth["z"] = src["z"]
    truth["log_mhi"] = src["log_mhi"]
    truth.meta.update(seed=seed, simulator="astroml_core.sim.hi", conventions=(
        "SDC2: w20 observed-frame (km/s); pa of the receding major axis, East of North; hi_size = "
        "1 Msun/pc^2 isophote diameter"))
    return data, header, truth


def _sdc2_sigma(cfg: HICubeConfig, nu) -> np.ndarray:
    """SDC2's per-channel σ (Jy/beam) at frequency nu (Hz): linear from 950 to 1150 MHz."""
    return cfg.noise_jy_950 + (nu - 950e6) / 200e6 * (cfg.noise_jy_1150 - cfg.noise_jy_950)


def _integrated_snr(cfg: HICubeConfig, src: dict, w20_rest: np.ndarray, field: NoiseField | None = None) -> np.ndarray:
    """Integrated S/N: ∫S dν over the noise of a sum over the source's beams and W20 channels.

    σ_S = σ_chan · Δν · √(n_channels · n_beams), n_beams = beam-convolved ellipse area / beam area.
    With a :class:`~.hi_noise.NoiseField`, σ_chan is the cube's median channel σ (un-Hanning-smoothed:
    smoothing moves noise between channels, not out of a W20 sum) times the σ(x, y) factor at the
    source, and σ_S scales with the noise correlation length (ρ / √2, SDC2's texture being ρ = √2).
    """
    nu = HI_REST_HZ / (1 + src["z"])
    n_chan = np.maximum(1.0, w20_rest / C_KMS * nu / cfg.channel_width_hz)
    q = np.sqrt(np.cos(np.radians(src["i"])) ** 2 * (1 - 0.2**2) + 0.2**2)
    major = np.hypot(src["hi_size"], cfg.beam_arcsec)
    minor = np.hypot(src["hi_size"] * q, cfg.beam_arcsec)
    n_beams = major * minor / cfg.beam_arcsec**2
    if field is None:
        sigma = _sdc2_sigma(cfg, nu)
    else:
        kind = cfg.noise
        chan = np.nanmedian(field.channel_sigma) if np.isfinite(field.channel_sigma).any() else 0.0
        chan /= np.sqrt(HANNING_VARIANCE) if kind.hanning else 1.0
        iy = np.clip(np.rint(src["y"]).astype(int), 0, cfg.ny - 1)
        ix = np.clip(np.rint(src["x"]).astype(int), 0, cfg.nx - 1)
        sigma = chan * field.spatial[iy, ix] * (kind.corr_beams / SDC2_CORR)
    with np.errstate(divide="ignore"):  # a noiseless cube has infinite S/N
        return src["flux"] / (sigma * cfg.channel_width_hz * np.sqrt(n_chan * n_beams))


def cube_header(cfg: HICubeConfig) -> fits.Header:
    """FITS header of a simulated cube: RA---SIN/DEC--SIN/FREQ, Jy/beam, beam, rest frequency."""
    h = fits.Header()
    h["BUNIT"] = "Jy/beam"
    for k, (ctype, crval, cdelt, crpix, cunit) in enumerate([
        ("RA---SIN", cfg.ra_deg, -cfg.pixel_arcsec / 3600, cfg.nx / 2 + 1, "deg"),
        ("DEC--SIN", cfg.dec_deg, cfg.pixel_arcsec / 3600, cfg.ny / 2 + 1, "deg"),
        ("FREQ", cfg.first_freq_hz, cfg.channel_width_hz, 1.0, "Hz"),
    ], start=1):
        h[f"CTYPE{k}"], h[f"CRVAL{k}"], h[f"CDELT{k}"] = ctype, crval, cdelt
        h[f"CRPIX{k}"], h[f"CUNIT{k}"] = crpix, cunit
    h["RADESYS"], h["EQUINOX"], h["SPECSYS"] = "ICRS", 2000.0, "BARYCENT"
    h["RESTFRQ"] = HI_REST_HZ
    h["BMAJ"] = h["BMIN"] = cfg.beam_arcsec / 3600
    h["BPA"] = 0.0
    h["OBJECT"] = "AstroML simulated HI field (SDC2 style)"
    return h


def write_hi_cube(path: str | os.PathLike, seed: int, truth_path: str | os.PathLike | None = None,
                  config: HICubeConfig | None = None) -> QTable:
    """Simulate a cube and write it as FITS (and its truth as ECSV); files appear atomically."""
    data, header, truth = simulate_hi_cube(seed, config)
    header["SIMSEED"] = (seed, "astroml_core.sim.hi seed")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fits.PrimaryHDU(data, header).writeto(tmp, overwrite=True)
    if truth_path is not None:
        ttmp = Path(str(truth_path) + f".{os.getpid()}.tmp")
        truth.write(ttmp, format="ascii.ecsv", overwrite=True)
        os.replace(ttmp, truth_path)
    os.replace(tmp, path)
    return truth


def ensure_demo_cube(folder: str | os.PathLike, *, seed: int = DEMO_SEED,
                     config: HICubeConfig | None = None) -> Path:
    """Make the demo cube and its truth in ``folder`` unless they are there; returns the cube path."""
    folder = Path(folder)
    cube, truth = folder / DEMO_CUBE, folder / DEMO_TRUTH
    if not (cube.exists() and truth.exists()):
        write_hi_cube(cube, seed, truth, config)
    return cube


def small_config(**overrides) -> HICubeConfig:
    """A small cube geometry for tests and quick looks (same beam, pixels, channel width)."""
    base = HICubeConfig(nx=64, ny=64, n_channels=96, particles=2000)
    return replace(base, **overrides)
