"""Regions on a cube: pixels by their centres, statistics equal to numpy's on the same pixels, DS9 and CRTF
files read and written (pixel and sky coordinates), typed errors."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astroml_core.analysis.regions import (MAX_REGION_FILE_CHARS, Region, RegionMask, guess_format, parse_regions,
                                           plane_stats, region_channels, region_mask, region_spectrum,
                                           serialize_regions)
from astroml_core.data import open_cube
from astroml_core.errors import (EmptyRegionError, MissingWCSError, RegionError, RegionFileError,
                                 RegionOffImageError, TooLargeError)

NY, NX, NCHAN = 24, 32, 12
PIXEL_ARCSEC, BEAM_ARCSEC = 2.8, 7.0
BEAM_AREA = np.pi * (BEAM_ARCSEC / PIXEL_ARCSEC) ** 2 / (4 * np.log(2))


def _rotated(x, y, cx, cy, angle_deg):
    """Coordinates of (x, y) along a shape's own axes (rotated by angle, counter-clockwise from +x)."""
    a = np.radians(angle_deg)
    dx, dy = x - cx, y - cy
    return dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a)


YY, XX = np.mgrid[0:NY, 0:NX].astype(float)
# each shape with its pixel-centre mask written independently of the code under test (no centre on an edge)
SHAPES = {
    "circle": (Region("circle", (12.3, 10.6, 5.7)), (XX - 12.3) ** 2 + (YY - 10.6) ** 2 < 5.7 ** 2),
    "ellipse": (Region("ellipse", (15.2, 11.4, 16.3, 7.1, 30.0)),
                (lambda p, q: (p / 8.15) ** 2 + (q / 3.55) ** 2 < 1)(*_rotated(XX, YY, 15.2, 11.4, 30.0))),
    "box": (Region("box", (9.1, 13.3, 9.3, 5.2, -20.0)),
            (lambda p, q: (abs(p) < 4.65) & (abs(q) < 2.6))(*_rotated(XX, YY, 9.1, 13.3, -20.0))),
    "polygon": (Region.polygon([1.5, 20.5, 20.5, 6.5, 6.5, 1.5], [1.5, 1.5, 5.5, 5.5, 17.5, 17.5]),   # an L
                ((XX > 1.5) & (XX < 20.5) & (YY > 1.5) & (YY < 5.5)) | ((XX > 1.5) & (XX < 6.5) & (YY > 1.5)
                                                                        & (YY < 17.5))),
}


@pytest.fixture
def cube_data():
    rng = np.random.default_rng(34)
    data = rng.normal(0, 1e-3, size=(NCHAN, NY, NX)).astype(np.float32)
    data += np.linspace(0, 5e-3, NCHAN, dtype=np.float32)[:, None, None]
    data[3, 10, 12] = np.nan                       # a blank pixel inside the circle, ellipse and (row 10) others
    data[5, 3, 4] = np.nan
    return data


@pytest.fixture
def cube(make_cube, cube_data):
    return open_cube(make_cube("regions.fits", cube_data))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_mask_is_the_pixels_whose_centres_lie_inside(shape):
    region, expected = SHAPES[shape]
    mask = region_mask(region, (NY, NX))
    assert expected.sum() > 10
    np.testing.assert_array_equal(mask.full(), expected)
    assert mask.n_pixels == expected.sum()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_plane_statistics_equal_numpy_on_the_same_pixels(shape, cube, cube_data):
    region, expected = SHAPES[shape]
    for channel in (3, 5, 8):
        plane = cube.channel(channel)
        values = cube_data[channel][expected].astype(np.float64)
        values = values[np.isfinite(values)]
        s = plane_stats(plane, region, unit=cube.unit, beam_area=BEAM_AREA)
        assert s.n_pixels == values.size
        assert s.sum == pytest.approx(values.sum(), rel=1e-9)
        assert s.mean == pytest.approx(values.mean(), rel=1e-9)
        assert s.rms == pytest.approx(np.sqrt(np.mean(values ** 2)), rel=1e-6)
        assert s.max == pytest.approx(values.max(), rel=1e-7)
        assert s.area_beams == pytest.approx(expected.sum() / BEAM_AREA, rel=1e-9)
        assert s.flux == pytest.approx(values.sum() / BEAM_AREA, rel=1e-9)      # Jy/beam → Jy
        assert s.unit == u.Jy / u.beam
    assert cube.beam_areas()[0] == pytest.approx(BEAM_AREA, rel=1e-9)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_cube_statistics_and_spectrum_equal_numpy_per_channel_and_over_a_range(shape, cube, cube_data):
    region, expected = SHAPES[shape]
    per = region_channels(cube, region)
    voxels = cube_data[:, expected].astype(np.float64)
    np.testing.assert_allclose(per.spectrum("sum"), np.nansum(voxels, axis=1), rtol=1e-9)
    np.testing.assert_allclose(per.spectrum("mean"), np.nanmean(voxels, axis=1), rtol=1e-9)
    np.testing.assert_allclose(region_spectrum(cube, region, "mean"), np.nanmean(voxels, axis=1), rtol=1e-9)
    for c in (0, 3, 11):
        assert per.stats(c) == plane_stats(cube.channel(c), region, unit=cube.unit, beam_area=cube.beam_areas()[c])
    lo, hi = 2, 9
    inside = voxels[lo:hi + 1]
    inside = inside[np.isfinite(inside)]
    over = per.over(hi, lo)
    assert over.channels == (lo, hi) and over.n_voxels == inside.size
    assert over.sum == pytest.approx(inside.sum(), rel=1e-9)
    assert over.mean == pytest.approx(inside.mean(), rel=1e-9)
    assert over.rms == pytest.approx(np.sqrt(np.mean(inside ** 2)), rel=1e-6)
    assert over.max == pytest.approx(inside.max(), rel=1e-7)
    # the line flux is what the integrated-flux map (Jy km/s per pixel) sums to over the region's pixels
    flux_map = cube.integrated_flux_map((lo, hi)).to_value(u.Jy * u.km / u.s)
    assert over.flux_integral == pytest.approx(np.nansum(flux_map[expected]), rel=1e-5)
    dv = np.abs(np.gradient(cube.velocities.to_value(u.km / u.s)))
    by_hand = sum(np.nansum(voxels[c]) / BEAM_AREA * dv[c] for c in range(lo, hi + 1))
    assert over.flux_integral == pytest.approx(by_hand, rel=1e-9)


def test_a_region_reads_only_its_bounding_box(cube, monkeypatch):
    calls = []
    real = cube.subcube
    monkeypatch.setattr(cube, "subcube", lambda c, ys, xs: calls.append((c, ys, xs)) or real(c, ys, xs))
    monkeypatch.setattr(cube, "channel", lambda i: pytest.fail("a whole plane was read"))
    region, expected = SHAPES["circle"]
    region_channels(cube, region, (2, 7))
    rows, cols = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
    assert calls == [((2, 8), (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1))]


def test_a_range_of_one_channel_reads_one_channel(cube, cube_data):
    region, expected = SHAPES["box"]
    per = region_channels(cube, region, (4, 4))
    assert (per.start, per.stop) == (4, 5)
    assert per.spectrum("sum")[0] == pytest.approx(cube_data[4][expected].sum(dtype=np.float64), rel=1e-9)
    with pytest.raises(RegionError, match="outside the channels read"):
        per.stats(5)


def test_a_blank_channel_gives_nan_statistics(make_cube, cube_data):
    cube_data[2] = np.nan
    cube = open_cube(make_cube("blank.fits", cube_data))
    per = region_channels(cube, SHAPES["box"][0])
    s = per.stats(2)
    assert s.n_pixels == 0 and np.isnan(s.mean) and np.isnan(s.flux)
    assert np.isnan(per.spectrum("mean")[2]) and np.isfinite(per.spectrum("mean")[3])


def test_a_dragged_box_gives_the_box_or_the_circle_and_ellipse_inscribed_in_it():
    assert Region.from_drag("box", 10, 30, 2, 20).params == (6.0, 25.0, 8.0, 10.0, 0.0)
    assert Region.from_drag("circle", 2, 20, 10, 30).params == (6.0, 25.0, 4.0)
    assert Region.from_drag("ellipse", 2, 20, 10, 30).params == (6.0, 25.0, 8.0, 10.0, 0.0)
    with pytest.raises(RegionError, match="not drawn by dragging"):
        Region.from_drag("polygon", 0, 0, 1, 1)


def test_bad_regions_raise_typed_errors():
    with pytest.raises(RegionError, match="not one of"):
        Region("annulus", (1, 2, 3))
    with pytest.raises(RegionError, match="takes 3 numbers"):
        Region("circle", (1, 2))
    with pytest.raises(RegionError, match="positive size"):
        Region("box", (1, 2, 0, 3, 0))
    with pytest.raises(RegionError, match="three vertices"):
        Region.polygon([0, 1], [0, 1])
    with pytest.raises(RegionError, match="finite"):
        Region("circle", (np.nan, 2, 3))
    with pytest.raises(RegionOffImageError, match="outside the 32 × 24 image"):
        region_mask(Region("circle", (-20, 5, 4)), (NY, NX))
    with pytest.raises(EmptyRegionError, match="no pixel centre"):
        region_mask(Region("box", (3.5, 3.5, 0.6, 0.6, 0)), (NY, NX))   # between four centres


def test_a_region_partly_off_the_image_keeps_its_pixels_on_it(cube_data):
    mask = region_mask(Region("circle", (0.0, 0.0, 3.2)), (NY, NX))
    expected = XX ** 2 + YY ** 2 < 3.2 ** 2
    np.testing.assert_array_equal(mask.full(), expected)
    assert isinstance(mask, RegionMask) and mask.ys[0] == 0 and mask.xs[0] == 0
    s = plane_stats(cube_data[0], mask)
    assert s.sum == pytest.approx(cube_data[0][expected].sum(dtype=np.float64))
    assert np.isnan(s.flux) and np.isnan(s.area_beams)     # no beam given


def _same(a: Region, b: Region, tol: float = 1e-4) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a.params, b.params, atol=tol)


@pytest.mark.parametrize("fmt", ["ds9", "crtf"])
def test_round_trip_through_a_region_file_in_sky_coordinates(fmt, cube):
    regions = [r.renamed(f"R{i}") for i, (r, _) in enumerate(SHAPES.values(), 1)]
    text = serialize_regions(regions, fmt, wcs=cube.celestial)
    assert ("global coord=J2000" if fmt == "crtf" else "\nicrs\n") in text
    back = parse_regions(text, wcs=cube.celestial)
    assert back.format == fmt and len(back.regions) == 4 and not back.skipped
    for a, b in zip(regions, back.regions):
        _same(a, b, 2e-3)
        if fmt == "ds9":
            assert b.name == a.name
        np.testing.assert_array_equal(region_mask(a, (NY, NX)).full(), region_mask(b, (NY, NX)).full())


def test_round_trip_through_a_ds9_file_in_image_pixels():
    regions = [r for r, _ in SHAPES.values()]
    text = serialize_regions(regions, "ds9")
    assert "image" in text
    back = parse_regions(text, format="ds9")
    for a, b in zip(regions, back.regions):
        _same(a, b, 1e-6)


def test_a_ds9_sky_circle_lands_on_its_pixel_with_its_radius_in_pixels(cube):
    centre = cube.world(0, 10.0, 14.0).sky
    ra, dec = centre.icrs.ra.deg, centre.icrs.dec.deg
    text = f'# Region file format: DS9 version 4.1\nglobal color=green\nicrs\ncircle({ra:.8f},{dec:.8f},8.4")\n'
    (region,) = parse_regions(text, wcs=cube.celestial).regions
    assert region.shape == "circle"
    np.testing.assert_allclose(region.params, (14.0, 10.0, 8.4 / PIXEL_ARCSEC), atol=1e-3)


def test_ds9_image_coordinates_are_one_based_and_the_default_frame():
    (a,) = parse_regions("circle(10,12,5)\n").regions                  # no frame line: image pixels
    (b,) = parse_regions("# Region file format: DS9\nimage\ncircle(10,12,5)\n").regions
    assert a.params == b.params == (9.0, 11.0, 5.0)


def test_crtf_without_a_coordinate_system_is_read_as_j2000(cube):
    centre = SkyCoord(180.0 * u.deg, -30.0 * u.deg, frame="fk5")
    text = "#CRTFv0\ncircle[[180deg, -30deg], 14arcsec]\n"
    assert guess_format(text) == "crtf" and guess_format("circle(1,2,3)", "x.crtf") == "crtf"
    (region,) = parse_regions(text, wcs=cube.celestial).regions
    y, x = cube.pixel_of(centre)
    np.testing.assert_allclose(region.params, (x, y, 14 / PIXEL_ARCSEC), atol=1e-3)
    (pix,) = parse_regions("#CRTFv0\ncircle[[10pix, 10pix], 5pix]\n").regions
    assert pix.params == (10.0, 10.0, 5.0)


def test_shapes_without_area_are_skipped_and_said():
    parsed = parse_regions("image\npoint(5,5)\nbox(5,5,4,3,0)\n")
    assert [r.shape for r in parsed.regions] == ["box"]
    assert any("point" in s for s in parsed.skipped)


def test_bad_region_files_raise_typed_errors():
    with pytest.raises(RegionFileError, match="no circle, ellipse, box or polygon"):
        parse_regions("this is not a region file\n")
    with pytest.raises(RegionFileError, match="point region has no area"):
        parse_regions("image\npoint(3,4)\n")
    with pytest.raises(RegionFileError, match="not a readable CRTF"):
        parse_regions("#CRTF\ncircle[[10pix, 10pix]\n")
    with pytest.raises(RegionFileError, match="celestial WCS"):
        parse_regions("fk5\ncircle(180,-30,5\")\n")            # sky region, no WCS given
    with pytest.raises(TooLargeError, match="over the limit"):
        parse_regions("#" * (MAX_REGION_FILE_CHARS + 1))
    with pytest.raises(MissingWCSError, match="DS9 regions"):
        serialize_regions([SHAPES["circle"][0]], "crtf")
    with pytest.raises(RegionError, match="no regions to write"):
        serialize_regions([], "ds9")
