"""The cube page without a browser: header repairs listed (escaped), the velocity convention the user
picks, and moment-0 in Jy/beam·km/s or Jy·km/s per pixel with CASA's per-channel beams."""
from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest

from astroml_core.errors import HeaderRepairWarning
from astroml_core.sim.hi import DEMO_CUBE, small_config, write_hi_cube
from tests.conftest import ramp_cube, write_fits
from tests.core.test_cube_real_headers import casa_cube, gipsy_header


@pytest.fixture
def page(data_root):
    write_hi_cube(data_root / "demo" / DEMO_CUBE, seed=9, config=small_config())
    from app.pages.cubes import CubePage

    return CubePage()


def open_quietly(page, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeaderRepairWarning)
        page.open(path, path.name)


def test_gipsy_cube_lists_its_repairs_and_beam_from_bmmaj(page, tmp_path):
    h = gipsy_header()
    h["OBJECT"] = "<script>alert(1)</script>"
    h["BUNIT"] = "<b>W.U.</b>"                        # text from the file is never markup
    path = write_fits(tmp_path / "ngc2903.fits", ramp_cube(6, 9, 11), h)
    open_quietly(page, path)
    assert page.cube.path == path
    assert page.repairs.visible
    html = page.repairs.object
    assert "Header repairs" in html
    assert "CUNIT1 and CUNIT2 = &#x27;DEGREE&#x27; read as deg" in html
    assert "RA---NCP" in html and "VELO-HEL" in html and "BMMAJ/BMMIN" in html
    assert "<b>W.U.</b>" not in html and "&lt;b&gt;W.U.&lt;/b&gt;" in html
    assert "**Beam** 14.1″ × 12.3″" in page.info.object and "BMMAJ" in page.info.object


def test_a_cube_without_repairs_hides_the_list(page):
    assert page.cube is not None
    assert not page.repairs.visible and page.repairs.object == ""


def test_velocity_convention_choice_changes_the_channel_label(page, tmp_path):
    path = write_fits(tmp_path / "ngc2903.fits", ramp_cube(6, 9, 11), gipsy_header())
    open_quietly(page, path)
    assert "(optical)" in page.channel_label.object
    page.channel = 2
    v_opt = page.cube.velocities_in("optical")[2].to_value(u.km / u.s)
    assert f"{v_opt:,.1f} km/s" in page.channel_label.object
    page.velocity = "radio"
    v_rad = page.cube.velocities_in("radio")[2].to_value(u.km / u.s)
    assert f"{v_rad:,.1f} km/s (radio)" in page.channel_label.object
    assert abs(v_rad - v_opt) > 1.0
    assert page.spectrum_view.velocity_axis.axis_label.startswith("Velocity, radio")


def test_moment0_in_jy_km_s_per_pixel_uses_each_channels_beam(page, tmp_path):
    majors = [3.0, 4.0, 6.0, 9.0, 12.0, 20.0]
    path, data = casa_cube(tmp_path, majors, data=np.abs(ramp_cube(6, 9, 11)) + 0.1)
    open_quietly(page, path)
    assert "varies per channel" in page.info.object
    page.param.update(view="Moment 0", moment_channels=(0, 5), moment_unit="pixel")
    expect = page.cube.integrated_flux_map((0, 5))
    np.testing.assert_allclose(page.plane, expect.value)
    assert page.plane_unit == u.Jy * u.km / u.s
    page.moment_unit = "beam"
    assert page.plane_unit == u.Jy / u.beam * u.km / u.s
    page.moment_unit = "native"
    assert page.plane_unit == u.Jy / u.beam * u.Hz
    assert page.banner.error_text == ""


def test_jy_per_pixel_on_a_cube_in_kelvin_shows_the_error(page, tmp_path):
    h = gipsy_header()
    h["BUNIT"] = "K"
    path = write_fits(tmp_path / "k.fits", ramp_cube(6, 9, 11), h)
    open_quietly(page, path)
    page.param.update(view="Moment 0", moment_unit="pixel")
    assert "not a flux density per beam" in page.banner.error_text


@pytest.mark.parametrize("key", ["hcn_mopra", "spectral_cube_example", "muse_minicube", "muse_subcube",
                                 "muse_cube_linear", "muse_bkg_cube"])
def test_every_corpus_cube_opens_on_the_page(page, key):
    from tests.corpus.files import corpus_path

    path = corpus_path(key)
    open_quietly(page, path)
    assert page.banner.error_text == ""
    assert page.cube.path == path
    assert "Channel <b>" in page.channel_label.object
    assert page.repairs.visible == bool(page.cube.repairs)
    if key in ("muse_cube_linear", "muse_bkg_cube"):
        assert "LINEAR" in page.repairs.object


def test_the_drawn_beam_is_the_channels_own_when_it_varies(page, tmp_path):
    path, _ = casa_cube(tmp_path, [3.0, 4.0, 6.0, 9.0, 12.0, 20.0])
    open_quietly(page, path)
    page.channel = 5
    assert page.image.beam.data["w"][0] != page.image.beam.data["h"][0]
    drawn = sorted([page.image.beam.data["w"][0], page.image.beam.data["h"][0]])
    assert drawn == pytest.approx([10.0, 20.0])                          # 20″ × 10″ on 1″ pixels
    page.channel = 0
    assert sorted([page.image.beam.data["w"][0], page.image.beam.data["h"][0]]) == pytest.approx([1.5, 3.0])
