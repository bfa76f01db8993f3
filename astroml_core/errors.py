"""Typed errors of AstroML Explorer.

Every message says what was wrong and what to do about it, so the app can show it as it is.
"""
from __future__ import annotations

import warnings

__all__ = [
    "AstroMLError", "InvalidFITSError", "TruncatedFITSError", "ShapeError", "AxisOrderError",
    "MissingWCSError", "InvalidWCSError", "SpectralAxisError", "NonFiniteError", "TooLargeError",
    "DecompressionBombError", "InvalidTableError", "NoPositionColumnsError", "PathNotAllowedError", "UnknownModelError", "VettingError", "NotLoggedInError", "PermissionDeniedError",
    "UnknownRecordError", "InvalidVoteError", "StoreBusyError", "AstroMLWarning", "NoCelestialWCSWarning",
    "ArchivalHeaderWarning", "HeaderRepairWarning", "UnsupportedFormatError",
    "RegionError", "RegionOffImageError", "EmptyRegionError", "RegionFileError",
    "InvalidLevelsError",
]


class AstroMLError(Exception):
    """Base of every error the core raises on purpose; the app shows its message in a banner."""


class InvalidFITSError(AstroMLError, ValueError):
    """The file is not FITS, or its FITS structure cannot be read."""


class TruncatedFITSError(InvalidFITSError):
    """The file ends before the data its header announces."""


class ShapeError(AstroMLError, ValueError):
    """The data has the wrong number or size of axes for what was asked."""


class AxisOrderError(ShapeError):
    """The axes are in an order we cannot browse (celestial axes must be FITS axes 1 and 2)."""


class MissingWCSError(AstroMLError, ValueError):
    """A world coordinate system needed for the operation is missing."""


class InvalidWCSError(MissingWCSError):
    """WCS cards are present but unusable: a singular matrix (a CDELT of 0, PC/CD cards with no inverse)."""


class SpectralAxisError(MissingWCSError):
    """No axis of the cube is spectral (frequency, velocity, wavelength or redshift)."""


class NonFiniteError(AstroMLError, ValueError):
    """The data holds no finite value (all NaN, all blank or all infinite)."""


class TooLargeError(AstroMLError, ValueError):
    """The input is bigger than the configured limit."""


class DecompressionBombError(TooLargeError):
    """A compressed file (gzip or tile-compressed FITS) would expand beyond the size or ratio limit."""


class InvalidTableError(AstroMLError, ValueError):
    """The file is not a table we can read (ECSV, CSV, VOTable or a FITS table), or lacks what is needed."""


class NoPositionColumnsError(InvalidTableError):
    """A catalogue has no sky position columns (RA/Dec or Galactic l/b, by UCD or by name)."""


class InvalidLevelsError(AstroMLError, ValueError):
    """Contour levels that are not numbers, not finite, or too many to draw."""


class UnsupportedFormatError(ShapeError):
    """The file is readable FITS but none of the formats we read (its message lists the formats we do read)."""


class RegionError(AstroMLError, ValueError):
    """A region (circle, ellipse, box, polygon) that cannot be drawn or measured as given."""


class RegionOffImageError(RegionError):
    """A region that lies wholly outside the image."""


class EmptyRegionError(RegionError):
    """A region on the image that holds no pixel centre, so it has nothing to measure."""


class RegionFileError(RegionError):
    """A DS9 or CRTF region file that cannot be read, or holds no region with an area."""


class PathNotAllowedError(AstroMLError, PermissionError):
    """A path lies outside the configured data root, does not exist inside it, or cannot be a path at all
    (a NUL byte, longer than the file system allows)."""


class UnknownModelError(AstroMLError, KeyError):
    """No shipped model has that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class VettingError(AstroMLError):
    """Base of the vetting store's refusals: nothing was written."""


class NotLoggedInError(VettingError, PermissionError):
    """No user, or a wrong name or password: log in first."""


class PermissionDeniedError(VettingError, PermissionError):
    """The user's role (or ownership) does not allow this write."""


class UnknownRecordError(VettingError, KeyError):
    """No user, campaign, candidate, vote or comment has that name or id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidVoteError(VettingError, ValueError):
    """A label the campaign does not offer, a confidence outside 0–1, or an empty or too long comment."""


class StoreBusyError(VettingError):
    """The database stayed locked by another writer through every retry: nothing was written; try again."""


class AstroMLWarning(UserWarning):
    """Base of the warnings the core emits for recoverable oddities in the input."""


class NoCelestialWCSWarning(AstroMLWarning):
    """The cube has no celestial WCS: it is shown in pixel coordinates."""


class ArchivalHeaderWarning(AstroMLWarning):
    """An archival header convention was translated (AIPS beam, missing rest frequency, ...)."""


class HeaderRepairWarning(ArchivalHeaderWarning):
    """A non-standard card was repaired (unit spelling, projection, spectral type) or a missing one assumed;
    the message names the card, what it held and what it now means."""


def warn(message: str, category: type[AstroMLWarning] = AstroMLWarning) -> None:
    """Emit an AstroML warning pointing at the caller's caller."""
    warnings.warn(message, category, stacklevel=3)
