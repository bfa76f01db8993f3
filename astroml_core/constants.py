"""Physical constants the project uses, in one place (plain floats for NumPy work; astropy's own where units
travel with the numbers). The foreign test sets may keep their own copies: they must not import ours."""
from __future__ import annotations

from astropy import constants as _const

__all__ = ["C_KMS", "C_CM_S", "HI_REST_HZ", "MPC_CM", "FWHM_PER_SIGMA"]

C_KMS = _const.c.to_value("km/s")            # 299792.458
C_CM_S = _const.c.to_value("cm/s")
HI_REST_HZ = 1.42040575177e9                 # the 21 cm hyperfine line
MPC_CM = 3.0857e24
FWHM_PER_SIGMA = 2.3548200450309493          # 2 √(2 ln 2)
