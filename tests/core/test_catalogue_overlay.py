"""Catalogues placed on a cube: columns by UCD or by name, units, sexagesimal text, Galactic frames, channel
spans from frequency / velocity / redshift, rows off the image or the band counted, typed errors."""
from __future__ import annotations

import io

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io.votable import from_table
from astropy.table import QTable, Table

from astroml_core.analysis.catalogue_overlay import (DEFAULT_WIDTH_KMS, find_columns, place_catalogue,
                                                     read_catalogue)
from astroml_core.data import open_cube
from astroml_core.errors import (InvalidTableError, MissingWCSError, NoCelestialWCSWarning, NoPositionColumnsError,
                                 TooLargeError)
from tests.conftest import sdc2_header

NCHAN, NY, NX = 40, 20, 24          # 30 kHz channels from 1100 MHz; pixel (x, y) = (11, 9) is (180°, −30°)
C_KMS, REST_HZ = 299792.458, 1.42040575177e9


@pytest.fixture
def cube(make_cube):
    return open_cube(make_cube(data=np.ones((NCHAN, NY, NX), np.float32)))


def _pixels(cube, ra, dec, frame="icrs"):
    y, x = cube.pixel_of(SkyCoord(np.atleast_1d(ra) * u.deg, np.atleast_1d(dec) * u.deg, frame=frame))
    return np.atleast_1d(x), np.atleast_1d(y)


def test_position_columns_are_found_by_ucd_before_names():
    t = Table({"ra": [1.0], "dec": [2.0], "RA_x": [180.0], "DE_x": [-30.0], "RA_y": [3.0]})
    t["RA_x"].meta["ucd"] = "pos.eq.ra;meta.main"
    t["RA_y"].meta["ucd"] = "pos.eq.ra"          # a secondary RA: meta.main wins
    t["DE_x"].meta["ucd"] = "pos.eq.dec;meta.main"
    cols = find_columns(t)
    assert (cols.lon.column, cols.lat.column) == ("RA_x", "DE_x")
    assert cols.lon.describe() == "RA from column RA_x (UCD pos.eq.ra;meta.main)"


@pytest.mark.parametrize("ra, dec", [("RAJ2000", "DEJ2000"), ("RA_ICRS", "DE_ICRS"), ("ALPHA_J2000", "DELTA_J2000"),
                                     ("ra_deg", "dec_deg"), ("RA", "Dec")])
def test_position_columns_are_found_by_name(cube, ra, dec):
    t = Table({"other": [0.0, 1.0], ra: [180.0, 180.01], dec: [-30.0, -29.995]})
    placed = place_catalogue(t, cube)
    assert (placed.columns.lon.column, placed.columns.lat.column) == (ra, dec)
    assert placed.columns.lon.found_by == "name" and placed.columns.lon.unit == "deg (assumed)"
    x, y = _pixels(cube, [180.0, 180.01], [-30.0, -29.995])
    np.testing.assert_allclose(placed.x, x)
    np.testing.assert_allclose(placed.y, y)
    assert placed.labels == ("1", "2")              # no label column: row numbers


def test_column_units_are_used(cube):
    t = QTable({"ra": [np.radians(180.01)] * u.rad, "dec": [-30.0 * 60] * u.arcmin})
    placed = place_catalogue(t, cube)
    x, y = _pixels(cube, 180.01, -30.0)
    np.testing.assert_allclose([placed.x[0], placed.y[0]], [x[0], y[0]], atol=1e-6)
    assert (placed.columns.lon.unit, placed.columns.lat.unit) == ("rad", "arcmin")
    hours = QTable({"ra": [12.0] * u.hourangle, "dec": [-30.0] * u.deg})
    assert place_catalogue(hours, cube).x[0] == pytest.approx(NX / 2 - 1, abs=1e-6)
    vizier = Table({"RAJ2000": [12.0], "DEJ2000": [-30.0]})           # RA in "h", as VizieR writes it
    vizier["RAJ2000"].unit = u.hour
    assert place_catalogue(vizier, cube).x[0] == pytest.approx(NX / 2 - 1, abs=1e-6)


def test_a_v_magnitude_is_not_read_as_a_velocity():
    cols = find_columns(Table({"ra": [180.0], "dec": [-30.0], "V": [15.2], "w": [0.5]}))
    assert cols.spectral is None and cols.width is None


def test_sexagesimal_text_is_read_in_hours_and_degrees(cube):
    t = Table({"RA": ["12:00:00.0", "12h00m02.4s", "not an angle"], "DEC": ["-30:00:00", "-29d59m50s", "-30 00 00"]})
    placed = place_catalogue(t, cube)
    x, y = _pixels(cube, [180.0, 180.01], [-30.0, -29.0 - 59 / 60 - 50 / 3600])
    np.testing.assert_allclose(placed.x, x, atol=1e-6)
    np.testing.assert_allclose(placed.y, y, atol=1e-6)
    assert placed.n_unreadable == 1 and placed.columns.lon.unit == "sexagesimal hours"


def test_galactic_cube_prefers_l_b_and_equatorial_columns_still_work(make_cube):
    gal = SkyCoord(180 * u.deg, -30 * u.deg).galactic
    h = sdc2_header(NX, NY, NCHAN)
    h["CTYPE1"], h["CTYPE2"], h["CRVAL1"], h["CRVAL2"] = "GLON-SIN", "GLAT-SIN", gal.l.deg, gal.b.deg
    cube = open_cube(make_cube("gal.fits", data=np.ones((NCHAN, NY, NX), np.float32), header=h))
    both = Table({"ra": [0.0], "dec": [0.0], "GLON": [gal.l.deg], "GLAT": [gal.b.deg]})
    placed = place_catalogue(both, cube)
    assert placed.columns.frame == "galactic" and placed.columns.lon.column == "GLON"
    assert (placed.x[0], placed.y[0]) == pytest.approx((NX / 2 - 1, NY / 2 - 1), abs=1e-6)
    eq = place_catalogue(Table({"ra": [180.0], "dec": [-30.0]}), cube)      # transformed to Galactic by the WCS
    assert (eq.x[0], eq.y[0]) == pytest.approx((NX / 2 - 1, NY / 2 - 1), abs=1e-4)


def _channel(cube, hz):
    return int(np.argmin(np.abs(cube.frequencies.to_value(u.Hz) - hz)))


def test_frequency_and_w20_give_the_sdc2_channel_span(cube):
    nu, w20 = 1100.6e6, 150.0          # channel 20, w20 in observed-frame km/s
    t = QTable({"ra": [180.0] * u.deg, "dec": [-30.0] * u.deg, "central_freq": [nu] * u.Hz, "w20": [w20] * u.km / u.s})
    placed = place_catalogue(t, cube)
    half = w20 * nu**2 / (C_KMS * REST_HZ) / 2
    assert placed.span(0) == (_channel(cube, nu - half), _channel(cube, nu + half))
    assert placed.span(0)[0] < 20 < placed.span(0)[1]
    assert placed.on_channel(20)[0] and not placed.on_channel(placed.span(0)[1] + 1)[0]
    assert placed.columns.spectral.describe() == "frequency from column central_freq (name, Hz)"


def test_frequency_in_mhz_without_unit_is_recognised(cube):
    placed = place_catalogue(Table({"ra": [180.0], "dec": [-30.0], "freq": [1100.6]}), cube)
    assert placed.columns.spectral.unit == "MHz (assumed)"
    assert placed.frequency[0] == pytest.approx(1100.6e6)
    lo, hi = placed.span(0)                         # no width: the default width around channel 20
    assert lo < 20 < hi
    assert any(f"{DEFAULT_WIDTH_KMS:g} km/s" in n for n in placed.notes)


@pytest.mark.parametrize("column, value, doppler", [("cz", None, u.doppler_optical), ("vrad", None, u.doppler_radio),
                                                    ("z", "redshift", None)])
def test_velocity_and_redshift_columns_give_the_line_centre(cube, column, value, doppler):
    nu = 1100.6e6 * u.Hz
    if doppler is None:
        v = REST_HZ / nu.value - 1
        t = Table({"ra": [180.0], "dec": [-30.0], column: [v], "w50": [100.0]})
    else:
        v = nu.to_value(u.km / u.s, equivalencies=doppler(REST_HZ * u.Hz))
        t = QTable({"ra": [180.0] * u.deg, "dec": [-30.0] * u.deg, column: [v] * u.km / u.s,
                    "w50": [100.0] * u.km / u.s})
    placed = place_catalogue(t, cube)
    assert placed.frequency[0] == pytest.approx(nu.value, rel=1e-9)
    assert placed.columns.width.column == "w50"
    lo, hi = placed.span(0)
    radio = column == "vrad"                        # 100 km/s: ν_rest Δv / c (radio), ν² Δv / (c ν_rest) otherwise
    width_hz = 100 / C_KMS * (REST_HZ if radio else nu.value**2 / REST_HZ)
    assert lo <= 20 <= hi and hi - lo == pytest.approx(width_hz / 30e3, abs=1.5)


def test_velocity_ucd_and_velocity_in_m_per_s(cube):
    v = (1100.6e6 * u.Hz).to_value(u.m / u.s, equivalencies=u.doppler_optical(REST_HZ * u.Hz))
    t = Table({"ra": [180.0], "dec": [-30.0], "VHEL_X": [v]})
    t["VHEL_X"].meta["ucd"] = "spect.dopplerVeloc.opt"
    placed = place_catalogue(t, cube)
    assert placed.columns.spectral.role == "optical" and placed.columns.spectral.found_by.startswith("UCD")
    assert placed.columns.spectral.unit == "m / s (assumed)"
    assert placed.frequency[0] == pytest.approx(1100.6e6, rel=1e-9)


def test_rows_off_the_image_and_off_the_band_are_dropped_and_counted(cube):
    t = QTable({"name": ["in", "far", "off band", "no freq"], "ra": [180.0, 181.0, 180.0, 180.0] * u.deg,
                "dec": [-30.0] * 4 * u.deg, "freq": [1100.3e6, 1100.3e6, 1300e6, np.nan] * u.Hz})
    placed = place_catalogue(t, cube)
    assert placed.labels == ("in", "no freq")
    assert (placed.n_off_image, placed.n_off_band, placed.n_rows) == (1, 1, 4)
    assert placed.span(1) is None and placed.on_channel(0)[1] and placed.on_channel(NCHAN - 1)[1]
    assert placed.summary() == "2 of 4 sources fall on the image (1 off the image, 1 outside the cube's band)."


def test_a_catalogue_without_spectral_columns_is_drawn_on_every_channel(cube):
    placed = place_catalogue(Table({"ra": [180.0], "dec": [-30.0], "name": ["<b>A</b>"]}), cube)
    assert placed.span(0) is None and placed.on_channel(7).all()
    assert placed.labels == ("<b>A</b>",)           # kept as text; the page escapes it


def _votable_bytes(table: Table) -> bytes:
    out = io.BytesIO()
    from_table(table).to_xml(out)
    return out.getvalue()


def test_votable_ecsv_and_csv_files_are_read(tmp_path):
    t = QTable({"RAJ2000": [180.0] * u.deg, "DEJ2000": [-30.0] * u.deg})
    t["RAJ2000"].info.meta = {"ucd": "pos.eq.ra;meta.main"}
    back = read_catalogue(_votable_bytes(Table(t)), "cat.xml")
    assert back["RAJ2000"].meta["ucd"] == "pos.eq.ra;meta.main" and back["RAJ2000"].unit == u.deg
    t.write(tmp_path / "cat.ecsv")
    assert read_catalogue(tmp_path / "cat.ecsv")["RAJ2000"].meta["ucd"] == "pos.eq.ra;meta.main"
    (tmp_path / "cat.csv").write_text("name,ra [deg],dec [deg],freq [MHz]\nA,180,-30,1100.6\n")
    csv = read_catalogue(tmp_path / "cat.csv")
    assert csv["ra"].unit == u.deg and csv["freq"].unit == u.MHz
    assert read_catalogue(_votable_bytes(Table(t)), "upload")["DEJ2000"][0] == -30.0   # sniffed: no suffix


def test_unreadable_empty_too_large_and_positionless_catalogues_raise_typed_errors(tmp_path, cube):
    with pytest.raises(InvalidTableError, match="VOTable"):
        read_catalogue(b"<?xml version='1.0'?><VOTABLE><RESOURCE><TABLE><FIELD", "bad.xml")
    with pytest.raises(InvalidTableError, match="no rows"):
        read_catalogue(b"ra,dec\n", "empty.csv")
    with pytest.raises(TooLargeError):
        read_catalogue(b"ra,dec\n" + b"1,2\n" * 100, "big.csv", max_bytes=100)
    with pytest.raises(NoPositionColumnsError, match="pos.eq.ra"):
        place_catalogue(Table({"flux": [1.0], "name": ["a"]}), cube)


def test_a_cube_without_sky_wcs_is_refused(make_cube):
    h = sdc2_header(NX, NY, NCHAN)
    h["CTYPE1"], h["CTYPE2"] = "LINEAR", "LINEAR"
    for key in ("CUNIT1", "CUNIT2"):
        del h[key]
    with pytest.warns(NoCelestialWCSWarning):
        cube = open_cube(make_cube("lin.fits", data=np.ones((NCHAN, NY, NX), np.float32), header=h))
    with pytest.raises(MissingWCSError):
        place_catalogue(Table({"ra": [180.0], "dec": [-30.0]}), cube)


def test_an_sdc2_truth_catalogue_spans_the_channels_of_its_sources(tmp_path):
    from astroml_core.sim.hi import small_config, write_hi_cube
    from astroml_core.tasks.hi.cutouts import source_window

    write_hi_cube(tmp_path / "sim.fits", 4, tmp_path / "sim_truth.ecsv", small_config())
    cube = open_cube(tmp_path / "sim.fits")
    truth = QTable.read(tmp_path / "sim_truth.ecsv")
    placed = place_catalogue(read_catalogue(tmp_path / "sim_truth.ecsv"), cube)
    assert len(placed) == len(truth) > 0
    for i, row in enumerate(truth[placed.rows]):
        w = source_window(cube, row)
        assert placed.span(i) == (w.lo, w.hi)
        assert (placed.x[i], placed.y[i]) == pytest.approx((w.x, w.y))
        assert placed.labels[i] == str(row["id"])
