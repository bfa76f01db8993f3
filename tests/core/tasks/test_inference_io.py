"""Lightcone files for inference: what is accepted, resampling to the model grid, and typed refusals."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroml_core.errors import InvalidFITSError, MissingWCSError, NonFiniteError, ShapeError, TooLargeError
from astroml_core.sim.lightcone import FIDUCIAL, LightconeConfig, simulate_lightcone, write_lightcone
from astroml_core.tasks.inference import model_input, open_lightcone


@pytest.fixture(scope="module")
def lightcone_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lc") / "lc.fits"
    write_lightcone(path, simulate_lightcone(FIDUCIAL, seed=11, config=LightconeConfig(n_cells=16)))
    return path


def _rewrite(src, dst, edit):
    with fits.open(src) as hdul:
        hdus = fits.HDUList([h.copy() for h in hdul])
    edit(hdus)
    hdus.writeto(dst, overwrite=True)
    return dst


def test_model_input_is_the_model_grid_and_keeps_the_signal(lightcone_file):
    data = open_lightcone(lightcone_file)
    x = model_input(data)
    assert tuple(x.shape) == (16, 16, LightconeConfig().n_los)
    np.testing.assert_allclose(x.numpy(), data.tb, atol=1e-4)


def test_finer_cells_are_block_averaged_to_4_mpc(lightcone_file, tmp_path):
    data = open_lightcone(lightcone_file)
    fine = np.repeat(np.repeat(np.repeat(data.tb, 2, 0), 2, 1), 2, 2)          # 2 Mpc cells, same sky
    z = np.repeat(data.redshift, 2)

    with fits.open(lightcone_file) as hdul:
        primary = hdul[0].copy()
    primary.data = np.moveaxis(fine, -1, 0)
    primary.header["CDELT1"] = 2.0
    table = fits.table_to_hdu(Table({"z": z}))
    table.name = "REDSHIFT"
    fits.HDUList([primary, table]).writeto(tmp_path / "fine.fits")
    x = model_input(open_lightcone(tmp_path / "fine.fits"))
    assert tuple(x.shape) == (16, 16, LightconeConfig().n_los)
    np.testing.assert_allclose(x.numpy(), data.tb, atol=1e-3)


def test_not_fits_and_truncated_files_raise_invalid_fits(lightcone_file, tmp_path):
    (tmp_path / "a.fits").write_text("hello")
    with pytest.raises(InvalidFITSError, match="not a FITS file"):
        open_lightcone(tmp_path / "a.fits")
    cut = tmp_path / "cut.fits"
    cut.write_bytes(lightcone_file.read_bytes()[:200_000])
    with pytest.raises(InvalidFITSError):
        open_lightcone(cut)


def test_wrong_shape_missing_cells_nan_and_size_are_refused(lightcone_file, tmp_path):
    flat = _rewrite(lightcone_file, tmp_path / "flat.fits", lambda h: setattr(h[0], "data", h[0].data[0]))
    with pytest.raises(ShapeError, match="not a 3-D lightcone"):
        open_lightcone(flat)
    nocell = _rewrite(lightcone_file, tmp_path / "nocell.fits", lambda h: h[0].header.remove("CDELT1"))
    with pytest.raises(MissingWCSError, match="CDELT1"):
        open_lightcone(nocell)

    def poke(h):
        h[0].data[3, 2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="1 NaN"):
        open_lightcone(_rewrite(lightcone_file, tmp_path / "nan.fits", poke))
    with pytest.raises(TooLargeError):
        open_lightcone(lightcone_file, max_bytes=1000)


def test_a_short_lightcone_is_read_as_far_as_it_goes_and_a_too_short_one_says_how_long_it_must_be(lightcone_file, tmp_path):
    def shorten(n):
        def edit(h):
            h[0].data = h[0].data[:n]
            h["REDSHIFT"].data = h["REDSHIFT"].data[:n]
        return edit
    data = open_lightcone(_rewrite(lightcone_file, tmp_path / "short.fits", shorten(300)))
    x = model_input(data)
    assert tuple(x.shape) == (16, 16, LightconeConfig().n_los)
    np.testing.assert_allclose(x[:, :, :300].numpy(), data.tb, atol=1e-4)
    assert float(x[:, :, 300:].abs().max()) == 0.0           # the missing far end is zero
    tiny = open_lightcone(_rewrite(lightcone_file, tmp_path / "tiny.fits", shorten(50)))
    with pytest.raises(ShapeError, match=f"needs at least {LightconeConfig().n_los // 7 * 4} Mpc"):
        model_input(tiny)


def test_cli_simulates_a_lightcone_and_writes_its_posterior_samples(tmp_path):
    from astropy.table import Table

    from astroml_core.cli import main

    lc = tmp_path / "lc.fits"
    assert main(["sim", "lightcone", "--seed", "7", "-o", str(lc), "--param", "omega_m=0.33"]) == 0
    assert open_lightcone(lc).truth["omega_m"] == pytest.approx(0.33)
    out = tmp_path / "post.ecsv"
    assert main(["infer", "lightcone", str(lc), "-o", str(out), "-n", "2000"]) == 0
    samples = Table.read(out)
    assert len(samples) == 2000
    assert {"omega_m", "zeta", "log_tvir", "log_lx", "e0", "m_wdm"} <= set(samples.colnames)
    assert str(samples["e0"].unit) == "eV"
    assert ((samples["omega_m"] >= 0.2) & (samples["omega_m"] <= 0.4)).all()


def test_cli_combines_galaxies_and_refuses_a_table_without_their_columns(tmp_path, capsys):
    from astropy.table import Table

    from astroml_core.cli import main

    gal = tmp_path / "g.ecsv"
    assert main(["sim", "galaxies", "--universe", "A", "-n", "10", "-o", str(gal)]) == 0
    out = tmp_path / "om.ecsv"
    assert main(["infer", "galaxy", str(gal), "--rows", "1,2,3", "-o", str(out)]) == 0
    post = Table.read(out)
    assert post["weight"].sum() == pytest.approx(1.0) and "from 3 galaxies" in capsys.readouterr().out
    Table({"x": [1.0]}).write(tmp_path / "bad.ecsv")
    assert main(["infer", "galaxy", str(tmp_path / "bad.ecsv"), "-o", str(out)]) == 2


def test_a_lightcone_tiled_2_by_2_is_read_whole_seen_alike_by_the_cnn_and_flagged_as_wider_than_trained():
    import torch

    from astroml_core.registry import load_model
    from astroml_core.tasks.inference import LightconeData, grid_notes
    lc = simulate_lightcone(FIDUCIAL, seed=12)
    native = LightconeData(lc.tb, lc.redshift, lc.cell_mpc, "native")
    tiled = LightconeData(np.tile(lc.tb, (2, 2, 1)), lc.redshift, lc.cell_mpc, "tiled")
    assert model_input(tiled).shape[:2] == (2 * lc.tb.shape[0], 2 * lc.tb.shape[1])
    assert grid_notes(native) == []
    [note] = grid_notes(tiled)
    assert "256 Mpc wide, wider than the model was trained on (128–192 Mpc)" in note and "% of the time" in note
    member = load_model("lightcone_flow", "cpu").members[0]
    with torch.no_grad():       # the same periodic sky, so the same features; only the width told apart differs
        a, b = (member.features(member.moments(model_input(d)[None])).mean(dim=(2, 3)) for d in (native, tiled))
    torch.testing.assert_close(b, a, atol=1e-4, rtol=1e-3)


def test_boxes_between_the_trained_widths_carry_no_width_note():
    from astroml_core.tasks.inference import LightconeData, grid_notes
    box = LightconeData(np.zeros((40, 40, 700), np.float32), np.linspace(6, 20, 700), 4.0, "160 Mpc")
    assert grid_notes(box) == []


def test_other_cells_and_narrow_boxes_are_flagged_as_uncalibrated(lightcone_file):
    from astroml_core.tasks.inference import grid_notes
    narrow = open_lightcone(lightcone_file)                      # 16 cells of 4 Mpc: 64 Mpc wide
    assert any("64 Mpc wide" in n and "not calibrated" in n for n in grid_notes(narrow))
    fine = narrow.__class__(narrow.tb, narrow.redshift, 2.0, "fine")
    assert any("2 Mpc cells were averaged" in n for n in grid_notes(fine))
