"""Flat ΛCDM background and linear structure for the 21 cm simulator, vectorised over redshift.

Planck 2018 values except Ω_m, which the lightcone prior varies (Ω_b, h, σ8 and n_s stay fixed, as in
3D-21cmPIE-Net). The matter power spectrum is Eisenstein & Hu (1998, ApJ 496, 605) without wiggles,
times the warm-dark-matter suppression of Bode, Ostriker & Turok (2001, ApJ 556, 93) with Viel+2005's
fit α(m_WDM); σ(R) uses a real-space top hat. Distances in comoving Mpc (no h), masses in M☉.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.integrate import cumulative_trapezoid

from ..constants import C_KMS as C_KM_S

__all__ = ["Cosmology", "H_LITTLE", "OMEGA_B", "SIGMA_8", "N_S", "T_CMB0", "C_KM_S", "tophat_window"]

H_LITTLE = 0.6766
OMEGA_B = 0.04897
SIGMA_8 = 0.8102
N_S = 0.9665
T_CMB0 = 2.7255          # K
RHO_CRIT_H2 = 2.775e11   # M☉ / Mpc³ per h²
_K = np.logspace(-4, 3, 1400)   # 1/Mpc, the grid of every σ(R) integral


def tophat_window(kr: np.ndarray) -> np.ndarray:
    """Fourier transform of a real-space top hat, 3 (sin x − x cos x) / x³ (→ 1 as x → 0)."""
    kr = np.asarray(kr, dtype=float)
    small = kr < 1e-3
    x = np.where(small, 1.0, kr)
    return np.where(small, 1 - kr**2 / 10, 3 * (np.sin(x) - x * np.cos(x)) / x**3)


@dataclass(frozen=True)
class Cosmology:
    """A flat ΛCDM universe with matter density ``omega_m`` and warm-dark-matter mass ``m_wdm_kev``
    (``None`` for cold dark matter)."""

    omega_m: float = 0.31
    m_wdm_kev: float | None = None

    @property
    def h(self) -> float:
        return H_LITTLE

    def e_of_z(self, z):
        """H(z) / H0."""
        z = np.asarray(z, dtype=float)
        return np.sqrt(self.omega_m * (1 + z) ** 3 + 1 - self.omega_m)

    def hubble_per_s(self, z):
        """H(z) in 1/s."""
        return 100 * H_LITTLE * self.e_of_z(z) / 3.0857e19

    @cached_property
    def _distance_table(self) -> tuple[np.ndarray, np.ndarray]:
        z = np.linspace(0, 40, 8001)
        dc = C_KM_S / (100 * H_LITTLE) * cumulative_trapezoid(1 / self.e_of_z(z), z, initial=0)
        return z, dc

    def comoving_distance(self, z):
        """Line-of-sight comoving distance to redshift ``z`` in Mpc."""
        zt, dc = self._distance_table
        return np.interp(z, zt, dc)

    def redshift_at(self, distance_mpc):
        """Inverse of :meth:`comoving_distance`."""
        zt, dc = self._distance_table
        return np.interp(distance_mpc, dc, zt)

    def growth(self, z):
        """Linear growth factor D(z), D(0) = 1 (Carroll, Press & Turner 1992)."""
        def g(zz):
            e2 = self.e_of_z(zz) ** 2
            om = self.omega_m * (1 + zz) ** 3 / e2
            ol = (1 - self.omega_m) / e2
            return 2.5 * om / (om ** (4 / 7) - ol + (1 + om / 2) * (1 + ol / 70))

        z = np.asarray(z, dtype=float)
        return g(z) / (g(0.0) * (1 + z))

    def _transfer(self, k: np.ndarray) -> np.ndarray:
        """Eisenstein & Hu no-wiggle CDM+baryon transfer function times the WDM suppression."""
        h, om = H_LITTLE, self.omega_m
        wm, wb, fb = om * h**2, OMEGA_B * h**2, OMEGA_B / om
        theta = T_CMB0 / 2.7
        s = 44.5 * np.log(9.83 / wm) / np.sqrt(1 + 10 * wb**0.75)
        alpha = 1 - 0.328 * np.log(431 * wm) * fb + 0.38 * np.log(22.3 * wm) * fb**2
        gamma = om * h * (alpha + (1 - alpha) / (1 + (0.43 * k * s) ** 4))
        q = k / h * theta**2 / gamma
        l0 = np.log(2 * np.e + 1.8 * q)
        t = l0 / (l0 + (14.2 + 731 / (1 + 62.5 * q)) * q**2)
        if self.m_wdm_kev is not None:
            a = 0.049 * self.m_wdm_kev ** -1.11 * ((om - OMEGA_B) / 0.25) ** 0.11 * (h / 0.7) ** 1.22 / h
            nu = 1.12
            t = t * (1 + (a * k) ** (2 * nu)) ** (-5 / nu)
        return t

    @cached_property
    def _amplitude(self) -> float:
        cdm = Cosmology(self.omega_m, None)
        raw = cdm._sigma2_raw(np.array([8 / H_LITTLE]))[0]
        return SIGMA_8**2 / raw

    def _sigma2_raw(self, radius: np.ndarray) -> np.ndarray:
        pk = _K**N_S * self._transfer(_K) ** 2
        w = tophat_window(np.outer(radius, _K))
        return np.trapezoid(_K**3 * pk * w**2 / (2 * np.pi**2), np.log(_K), axis=1)

    def power(self, k):
        """Linear matter power spectrum at z = 0, P(k) in Mpc³ (k in 1/Mpc)."""
        k = np.asarray(k, dtype=float)
        return self._amplitude * k**N_S * self._transfer(k) ** 2

    @cached_property
    def _sigma_table(self) -> tuple[np.ndarray, np.ndarray]:
        radius = np.logspace(-3, 3, 240)
        return np.log(radius), np.log(np.sqrt(self._amplitude * self._sigma2_raw(radius)))

    def sigma_r(self, radius_mpc):
        """rms linear density at z = 0 in top hats of radius ``radius_mpc``."""
        lr, ls = self._sigma_table
        return np.exp(np.interp(np.log(radius_mpc), lr, ls))

    @property
    def rho_matter(self) -> float:
        """Mean comoving matter density in M☉ / Mpc³."""
        return self.omega_m * RHO_CRIT_H2 * H_LITTLE**2

    def sigma_m(self, mass_msun):
        """rms linear density at z = 0 in top hats holding ``mass_msun``."""
        radius = (3 * np.asarray(mass_msun, dtype=float) / (4 * np.pi * self.rho_matter)) ** (1 / 3)
        return self.sigma_r(radius)

    def virial_mass(self, t_vir_k, z):
        """Halo mass whose virial temperature is ``t_vir_k`` at ``z`` (Barkana & Loeb 2001, eq. 26,
        μ = 0.59 for ionised gas, Δ_c = 18π² and Ω_m(z) → 1 at z > 6)."""
        z = np.asarray(z, dtype=float)
        ratio = np.asarray(t_vir_k) / (1.98e4 * (0.59 / 0.6) * self.omega_m ** (1 / 3) * ((1 + z) / 10))
        return 1e8 / H_LITTLE * ratio**1.5
