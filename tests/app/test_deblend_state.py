"""The deblending page's state without a browser: demo field, all three methods, table, selection,
masks, stamps, a single-band image and a bad file."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from astroml_core.sim.blends import DEMO_BLENDS, DEMO_BLENDS_TRUTH, BlendConfig, write_blend_field


@pytest.fixture
def page(data_root):
    """A DeblendPage over a private data root whose demo is a 128 × 128 field of 8 groups."""
    write_blend_field(data_root / "demo" / DEMO_BLENDS, 11, data_root / "demo" / DEMO_BLENDS_TRUTH,
                      BlendConfig(nx=128, ny=128, n_groups=8))
    from app.pages.deblend import DeblendPage

    return DeblendPage()


def test_demo_field_deblends_with_every_method_and_joins_their_fluxes(page):
    assert page.image is not None and page.image.bands == ("g", "r", "i", "z")
    assert page.param.view.objects == ["RGB", "g", "r", "i", "z"] and page.truth is not None
    assert page.source.path_input.placeholder == "e.g. demo/blends_demo.fits"     # this page's demo, as a path
    page.run()
    assert set(page.results) == {"model", "sep", "photutils"}
    assert page.status.object.startswith("Sources found: model") and "⚠" not in page.status.object   # on the grid
    frame = page.table.value
    assert len(frame) == len(page.results["model"].catalogue) > 3
    assert {"g", "z", "sep", "photutils", "truth", "β"} <= set(frame.columns) and "flux_err" not in frame.columns
    assert frame["β"].between(0, 1).all() and (frame["β"] > 0.1).any()     # 8 groups: some are blended
    # most model sources have a truth counterpart whose flux is close to the model's
    both = frame.dropna(subset=["truth"])
    assert len(both) >= 0.6 * len(frame)
    assert np.median(np.abs(both["r"] / both["truth"] - 1)) < 0.3
    page.band = "i"
    both = page.table.value.dropna(subset=["truth"])
    assert np.median(np.abs(both["i"] / both["truth"] - 1)) < 0.3      # now the i-band truth
    assert "i-band flux" in page.table_caption.object


def test_exports_are_the_shown_methods_catalogue_and_masks(page):
    import io

    from astropy.table import QTable
    from regions import Regions

    assert not page.downloads.visible                                  # nothing to export before a run
    page.run()
    for method in ("model", "sep"):
        page.method = method
        result = page.results[method]
        assert page.downloads.visible
        names = [b.filename for b in page.downloads]
        assert names == [f"blends_demo_{method}_sources.ecsv", f"blends_demo_{method}_sources.vot",
                         f"blends_demo_{method}_sources.reg", f"blends_demo_{method}_masks.fits"]
        for button in page.downloads[1::-1]:                            # VOTable, then ECSV
            table = QTable.read(io.BytesIO(button.callback().getvalue()), format="ascii.ecsv"
                                if button.filename.endswith(".ecsv") else "votable")
            assert len(table) == len(result.catalogue)
            if button.filename.endswith(".ecsv"):                         # (VOTable keeps no meta)
                assert table.meta["method"] == method and table.meta["image"] == "demo/blends_demo.fits"
            assert np.allclose(table["flux_r"].value, result.catalogue["flux_r"]) and str(table["flux_r"].unit) == "nJy"
        regions = Regions.parse(page.downloads[2].callback().getvalue().decode(), format="ds9")
        assert len(regions) == len(np.unique(result.segmap[result.segmap > 0]))
        with fits.open(io.BytesIO(page.downloads[3].callback().getvalue())) as hdul:
            assert np.array_equal(hdul[0].data, result.segmap) and hdul[0].header["METHOD"] == method
            assert hdul[0].header["CTYPE1"] == "RA---TAN"
    assert page.downloads[0].callback is not None and "card_sha256" not in table.meta   # sep: no network behind it
    page.method = "model"
    assert len(QTable.read(io.BytesIO(page.downloads[0].callback().getvalue()), format="ascii.ecsv").meta["card_sha256"]) == 64


def test_selecting_a_source_highlights_its_mask_and_shows_its_stamps(page):
    page.run()
    result = page.results["model"]
    row = result.catalogue[0]
    page._tap(float(row["x"]), float(row["y"]))                 # a click inside its mask
    assert page.selected == int(result.segmap[int(round(row["y"])), int(round(row["x"]))]) - 1
    assert page.view_fig.marker.data["x"] and "Source" in page.selection.object
    err = result.catalogue["flux_err_g"][page.selected]
    assert 0 < err < abs(result.catalogue["flux_g"][page.selected]) and f"± {err:.2g}" in page.selection.object
    assert f"blendedness {result.catalogue['blendedness'][page.selected]:.2f}" in page.selection.object
    stamp = page.stamps.sources[0][1].data["image"][0]
    assert stamp.shape == (64, 64) and stamp.max() > 0
    # what the network looked at for it: a 64 × 64 attribution map, mostly on its own mask
    title = page.saliency.view.fig.title.text
    assert page.saliency.view.image.data["image"][0].shape == (64, 64) and f"source {page.selected}" in title, title
    assert float(title.split("· ")[-1].split("×")[0]) > 2, title   # (8 groups in 128²: neighbours in every stamp)
    seen = page.saliency.seen.source.data                                 # the same, as contours on the image
    inner = [k for k, lvl in enumerate(seen["level"]) if lvl == "60% of peak"]
    assert inner and min(np.hypot(np.mean(seen["xs"][k]) - row["x"], np.mean(seen["ys"][k]) - row["y"])
                         for k in inner) < 4
    masks = page.view_fig.masks.data["image"][0].view(np.uint8).reshape(*page.image.shape, 4)
    assert (masks[..., 3] > 0).any()
    page.show_masks = False
    hidden = page.view_fig.masks.data["image"][0].view(np.uint8)
    assert hidden.size == 16 and (hidden == 0).all()
    page.show_masks, page.contours = True, True
    outlined = page.view_fig.masks.data["image"][0].view(np.uint8).reshape(*page.image.shape, 4)
    assert 0 < (outlined[..., 3] > 0).sum() < (masks[..., 3] > 0).sum()
    row_of = list(page.table.value["id"]).index(page.selected)
    assert page.table.selection == [row_of]                      # the click selects its table row (issue 34)
    page.method = "sep"
    assert page.selected is None and len(page.table.value) == len(page.results["sep"].catalogue)
    assert page.stamps.sources[0][1].data["image"] == [] and page.table.selection == []   # no stale stamps
    page.selected = 0
    assert "model sources only" in page.saliency.view.fig.title.text and page.saliency.seen.source.data["xs"] == []


def test_a_single_band_image_runs_the_baselines_and_a_bad_file_keeps_the_open_image(page, tmp_path):
    single = tmp_path / "single.fits"
    fits.PrimaryHDU(page.image.data[1]).writeto(single)
    page.open(single, "single band")
    assert page.image.bands == ("band1",) and page.method == "sep"
    stamp_titles = [(f.title.text, f.visible) for f in page.stamps.figs[0]]
    assert stamp_titles == [("band1 deblended", True), ("", False), ("", False), ("", False)]
    page.run()
    assert set(page.results) == {"sep", "photutils"} and len(page.table.value) > 0
    page.selected = 0                                     # its one-band stamps draw (four columns raised IndexError)
    assert page.banner.error_text == "" and len(page.stamps.sources[0][0].data["image"]) == 1
    assert page.stamps.sources[1][0].data["image"][0].shape == page.stamps.sources[0][0].data["image"][0].shape
    before = page.image
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"SIMPLE  =                    T" + b"\xff" * 5000)
    page.open(junk, "junk")
    assert "Could not read the file" in page.banner.error_text and page.image is before


def test_an_image_with_other_pixels_is_deblended_and_the_status_says_what_that_costs(page, tmp_path):
    from dataclasses import replace

    from astroml_core.sim.blends import BlendConfig
    path = tmp_path / "wide_pixels.fits"
    write_blend_field(path, 12, config=BlendConfig(pixel_arcsec=0.4, nx=96, ny=96, n_groups=4))
    page.open(path, "0.4″ pixels")
    page.run()
    assert page.status.object.startswith("Sources found: model")
    assert "<br>⚠ This image has 0.4″ pixels; the network was trained on 0.2″ pixels" in page.status.object


def test_deblended_galaxies_go_to_vetting_most_blended_first(page, logged_in):
    from astroml_core.vetting import decode_preview

    store = logged_in("ann", "admin")
    page.run()
    page.method = "sep"
    cid = page.send.send()
    cands = store.candidates(cid)
    assert len(cands) == len(page.results["sep"].catalogue) and store.campaign(cid).labels[0] == "correct"
    p = decode_preview(cands[0].preview)
    assert p["stamp"].shape == p["mask"].shape == (64, 64) and p["mask"][32, 32]
    shares = [c.meta["neighbour share"] for c in cands]
    assert store.next_candidate(cid, "ann").meta["neighbour share"] == max(shares) and max(shares) > min(shares)
