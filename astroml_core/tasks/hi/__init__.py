"""HI source finding and characterisation in spectral cubes (SDC2 conventions)."""
from .detect import METHODS, detect
from .export import FORMATS, to_regions, write_catalogue
from .measure import HI_SIZE_PER_FWHM, CubeGeometry, geometry_of, measure_sources

__all__ = ["CubeGeometry", "geometry_of", "measure_sources", "HI_SIZE_PER_FWHM", "detect", "METHODS",
           "write_catalogue", "to_regions", "FORMATS"]
