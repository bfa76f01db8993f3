"""Opening a FITS file the same careful way everywhere: exists, size limit, FITS magic, readable header,
no table cut short. Each failure is a typed error whose message names the file and what to do."""
from __future__ import annotations

import warnings
from pathlib import Path

from astropy.io import fits

from ..errors import InvalidFITSError, TooLargeError, TruncatedFITSError

__all__ = ["open_fits_checked"]


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def open_fits_checked(path: Path, max_bytes: int | None) -> fits.HDUList:
    """The HDU list of ``path`` (memory-mapped), or a typed error."""
    if not path.exists():
        raise InvalidFITSError(f"{path} does not exist")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise TooLargeError(f"{path.name} is {_size(size)}, above the {_size(max_bytes)} limit")
    with open(path, "rb") as fh:
        if not fh.read(30).startswith(b"SIMPLE  ="):
            raise InvalidFITSError(f"{path.name} is not a FITS file (it does not start with 'SIMPLE  =')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdul = fits.open(path, memmap=True, lazy_load_hdus=False)
    except Exception as exc:  # astropy raises OSError, ValueError, VerifyError, ... on bad headers
        raise InvalidFITSError(f"{path.name} could not be read as FITS ({exc})") from exc
    for hdu in hdul[1:]:
        info = hdu.fileinfo()
        if isinstance(hdu, fits.BinTableHDU) and info["datLoc"] + hdu.header["NAXIS1"] * hdu.header["NAXIS2"] > size:
            hdul.close()
            raise TruncatedFITSError(f"{path.name} ends before the end of its '{hdu.name}' table; "
                                     "the file is truncated: copy it again")
    return hdul
