"""Analysis of an open cube (issue 34's cube tools): contours, PV slices, moments, catalogue overlay, regions."""
from .contours import (ContourLevels, LevelLines, contour_lines, levels_from_spec, parse_levels, plane_from_fits,
                       robust_sigma)
from .pv import PVSlice, pv_slice, uniform_velocity

__all__ = ["ContourLevels", "LevelLines", "contour_lines", "levels_from_spec", "parse_levels", "plane_from_fits",
           "robust_sigma", "PVSlice", "pv_slice", "uniform_velocity"]
from .moments import (MomentMap, VoxelMask, catalogue_mask, cube_noise, moment_map, moment_maps, read_mask,
                      write_moment_fits)

__all__ += ["MomentMap", "VoxelMask", "catalogue_mask", "cube_noise", "moment_map", "moment_maps", "read_mask",
            "write_moment_fits"]
from .catalogue_overlay import (CatalogueColumns, ColumnUse, PlacedCatalogue, find_columns, place_catalogue,
                                read_catalogue)

__all__ += ["CatalogueColumns", "ColumnUse", "PlacedCatalogue", "find_columns", "place_catalogue", "read_catalogue"]
from .regions import (ParsedRegions, Region, RegionChannels, RegionMask, RegionRangeStats, RegionStats, parse_regions,
                      plane_stats, region_channels, region_mask, region_spectrum, serialize_regions)

__all__ += ["ParsedRegions", "Region", "RegionChannels", "RegionMask", "RegionRangeStats", "RegionStats",
            "parse_regions", "plane_stats", "region_channels", "region_mask", "region_spectrum", "serialize_regions"]
