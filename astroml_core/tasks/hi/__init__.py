"""HI source finding and characterisation in spectral cubes (SDC2 conventions)."""
from .measure import HI_SIZE_PER_FWHM, CubeGeometry, geometry_of, measure_sources

__all__ = ["CubeGeometry", "geometry_of", "measure_sources", "HI_SIZE_PER_FWHM"]
