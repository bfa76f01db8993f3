"""Regions on a cube's image — circle, ellipse, box, polygon — their pixels, statistics and spectra, and
DS9 / CRTF region files (read and written by astropy's ``regions`` package).

Coordinates are the image's pixels, 0-based, pixel centres at integers, x the column and y the row. A pixel
belongs to a region when its centre does (CARTA's and DS9's rule for statistics); blank (NaN) pixels are
left out of every statistic. A region's cube statistics read only its bounding box, a block of channels at
a time, never the whole cube: :func:`region_channels` keeps the per-channel sums that the spectrum, the
statistics of any one channel and those over any channel range are all made from.
"""
from .files import FORMATS, MAX_REGION_FILE_CHARS, MAX_REGIONS, ParsedRegions, guess_format, parse_regions, \
    serialize_regions
from .shapes import SHAPES, Region, RegionMask, from_regions, region_mask
from .stats import (STATISTICS, RegionChannels, RegionRangeStats, RegionStats, channel_widths, flux_scale, plane_stats,
                    region_channels, region_spectrum)

__all__ = ["Region", "RegionMask", "RegionStats", "RegionRangeStats", "RegionChannels", "ParsedRegions", "SHAPES",
           "STATISTICS", "FORMATS", "MAX_REGION_FILE_CHARS", "MAX_REGIONS", "region_mask", "plane_stats",
           "region_channels", "region_spectrum", "parse_regions", "serialize_regions", "guess_format",
           "from_regions", "channel_widths", "flux_scale"]
