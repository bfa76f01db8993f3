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
    """Base of every error the core raises on purpose; the app shows its ``title`` (a plain-language heading
    for its family, never the class name) and its message in a banner."""

    title = "Could not do that"


class InvalidFITSError(AstroMLError, ValueError):
    """The file is not FITS, or its FITS structure cannot be read."""

    title = "Could not read the file"


class TruncatedFITSError(InvalidFITSError):
    """The file ends before the data its header announces."""

    title = "The file is cut short"


class ShapeError(AstroMLError, ValueError):
    """The data has the wrong number or size of axes for what was asked."""

    title = "The data has the wrong shape"


class AxisOrderError(ShapeError):
    """The axes are in an order we cannot browse (celestial axes must be FITS axes 1 and 2)."""

    title = "The axes are in an order we cannot browse"


class MissingWCSError(AstroMLError, ValueError):
    """A world coordinate system needed for the operation is missing."""

    title = "Coordinates are missing"


class InvalidWCSError(MissingWCSError):
    """WCS cards are present but unusable: a singular matrix (a CDELT of 0, PC/CD cards with no inverse)."""

    title = "The coordinates cannot be read"


class SpectralAxisError(MissingWCSError):
    """No axis of the cube is spectral (frequency, velocity, wavelength or redshift)."""

    title = "No spectral axis"


class NonFiniteError(AstroMLError, ValueError):
    """The data holds no finite value (all NaN, all blank or all infinite)."""

    title = "No usable values"


class TooLargeError(AstroMLError, ValueError):
    """The input is bigger than the configured limit."""

    title = "Too large"


class DecompressionBombError(TooLargeError):
    """A compressed file (gzip or tile-compressed FITS) would expand beyond the size or ratio limit."""

    title = "The compressed file would expand too far"


class InvalidTableError(AstroMLError, ValueError):
    """The file is not a table we can read (ECSV, CSV, VOTable or a FITS table), or lacks what is needed."""

    title = "Could not read the table"


class NoPositionColumnsError(InvalidTableError):
    """A catalogue has no sky position columns (RA/Dec or Galactic l/b, by UCD or by name)."""

    title = "No sky positions in the catalogue"


class InvalidLevelsError(AstroMLError, ValueError):
    """Contour levels that are not numbers, not finite, or too many to draw."""

    title = "Contour levels not usable"


class UnsupportedFormatError(ShapeError):
    """The file is readable FITS but none of the formats we read (its message lists the formats we do read)."""

    title = "Not a format we read"


class RegionError(AstroMLError, ValueError):
    """A region (circle, ellipse, box, polygon) that cannot be drawn or measured as given."""

    title = "The region cannot be used"


class RegionOffImageError(RegionError):
    """A region that lies wholly outside the image."""

    title = "The region lies outside the image"


class EmptyRegionError(RegionError):
    """A region on the image that holds no pixel centre, so it has nothing to measure."""

    title = "The region holds no pixel"


class RegionFileError(RegionError):
    """A DS9 or CRTF region file that cannot be read, or holds no region with an area."""

    title = "Could not read the region file"


class PathNotAllowedError(AstroMLError, PermissionError):
    """A path lies outside the configured data root, does not exist inside it, or cannot be a path at all
    (a NUL byte, longer than the file system allows)."""

    title = "That path cannot be opened"


class UnknownModelError(AstroMLError, KeyError):
    """No shipped model has that name."""

    title = "No such model"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class VettingError(AstroMLError):
    """Base of the vetting store's refusals: nothing was written."""

    title = "Nothing was saved"


class NotLoggedInError(VettingError, PermissionError):
    """No user, or a wrong name or password: log in first."""

    title = "Log in first"


class PermissionDeniedError(VettingError, PermissionError):
    """The user's role (or ownership) does not allow this write."""

    title = "Not allowed"


class UnknownRecordError(VettingError, KeyError):
    """No user, campaign, candidate, vote or comment has that name or id."""

    title = "Not found"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidVoteError(VettingError, ValueError):
    """A label the campaign does not offer, a confidence outside 0–1, or an empty or too long comment."""

    title = "Not accepted"


class StoreBusyError(VettingError):
    """The database stayed locked by another writer through every retry: nothing was written; try again."""

    title = "The database is busy"


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
