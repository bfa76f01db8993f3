"""The spectra page's state without a browser: demo survey, maps, box/lasso and confusion-cell
selections, the spectra stack, the anomaly list, export, and a bad file that changes nothing."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astroml_core.sim.spectra import DEMO_SPECTRA, write_simulated
from astroml_core.tasks.spectra import points_in_box


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return write_simulated(tmp_path_factory.mktemp("spectra") / DEMO_SPECTRA, 3020, 2000, unexpected=0.03)


@pytest.fixture
def page(data_root, demo_file):
    (data_root / "demo" / DEMO_SPECTRA).symlink_to(demo_file)
    from app.pages.spectra import SpectraPage

    return SpectraPage()


def test_demo_survey_opens_classified_and_mapped(page):
    s = page.survey
    assert s is not None and len(s.spectra) == 2000
    assert page.param.colour_by.objects == ["true class", "predicted class", "uncertainty", "anomaly score", "redshift"]
    assert "umap" in s.embeddings                           # asked for by the default projection
    assert page.map.image.data["image"][0].shape == (page.map.height, page.map.width)
    assert "UMAP" in page.map.fig.title.text and page.map.fig.xaxis.axis_label == "UMAP 1"
    assert "2,000 spectra" in page.status.object


def test_box_selection_fills_table_and_stack_with_exactly_the_points_inside(page):
    c = page.survey.embeddings["umap"].coords
    x0, x1 = np.percentile(c[:, 0], [20, 60])
    y0, y1 = np.percentile(c[:, 1], [20, 60])
    page._geometry_selected({"type": "rect", "x0": x1, "x1": x0, "y0": y0, "y1": y1})
    expected = points_in_box(c, x0, x1, y0, y1)
    assert len(expected) > 10 and np.array_equal(np.sort(page.selection), np.sort(expected))
    assert len(page.table.value) == len(expected)
    assert set(page.table.value["id"]) == set(page.survey.spectra.ids[expected])
    assert f"{len(expected):,} spectra selected" in page.selection_info.object
    stack = page.stack.source.data
    assert len(stack["xs"]) == min(len(expected), page.stack.max_rows) + 1           # + the median
    assert page.stack.labels.data["text"][0] == "median of the selection"
    assert all(t.split(" · ")[0] in set(page.survey.spectra.ids[expected]) for t in page.stack.labels.data["text"][1:])
    assert len(page.stack.lines.data["x"]) > 3                                         # main lines marked
    page.select(expected[:1], "one point")
    assert "<b>1 spectrum selected</b>" in page.selection_info.object                # not "1 spectra"


def test_lasso_selection_and_the_map_marks_it(page):
    c = page.survey.embeddings["umap"].coords
    centre = np.median(c, axis=0)
    r = 0.3 * np.ptp(c, axis=0).min()
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    before = page.map.image.data["image"][0].copy()
    page._geometry_selected({"type": "poly", "x": list(centre[0] + r * np.cos(t)), "y": list(centre[1] + r * np.sin(t))})
    inside = np.hypot(*(c - centre).T) < 0.99 * r
    assert set(np.flatnonzero(inside)) <= set(page.selection) and len(page.selection) <= (np.hypot(*(c - centre).T) <= r).sum()
    assert not np.array_equal(page.map.image.data["image"][0], before)             # selection drawn in black


def test_confusion_cell_selects_its_spectra(page):
    src = page.confusion.source.data
    k = int(np.argmax([cnt if i != j else 0 for cnt, i, j in zip(src["count"], src["i"], src["j"])]))
    k = k if src["count"][k] else int(np.argmax(src["count"]))
    page._cell_selected(src["i"][k], src["j"][k])
    assert len(page.selection) == src["count"][k] > 0
    assert len(page.table.value) == src["count"][k]
    truth, pred = page.table.value["true_class"], page.table.value["predicted_class"]
    assert truth.nunique() == 1 and pred.nunique() == 1


def test_colour_by_value_and_projection_switch(page):
    page.colour_by = "anomaly score"
    assert "anomaly score" in page.legend.object
    page.projection = "PCA"
    assert page.map.fig.xaxis.axis_label == "PC 1"
    assert np.array_equal(page.coords, page.survey.embeddings["pca"].coords)


def test_top_anomalies_open_their_spectrum(page):
    table = page.anomalies.value
    assert len(table) == 50 and (np.diff(table["anomaly"]) <= 0).all()
    unexpected = {"BAL_QSO", "WHITE_DWARF", "CARBON_STAR", "ARTEFACT"}
    assert table["true"].head(20).isin(unexpected).mean() > 0.3      # the unexpected rise to the top
    assert len(page.saliency.source.data["x"]) == 0                  # nothing selected yet
    page._anomaly_clicked(type("E", (), {"new": [0]})())
    assert len(page.selection) == 1 and page.table.value["id"][0] == table["id"][0]
    # what the model sees in it: one attribution bar per display bin, named in the title
    assert len(page.saliency.source.data["x"]) == 960 and table["id"][0] in page.saliency.fig.title.text
    assert np.abs(page.saliency.source.data["top"]).max() > 0


def test_export_writes_the_selection_as_ecsv_and_csv(page):
    page.select(np.array([3, 1, 4]), "test")
    ecsv = Table.read(page.export("ecsv").getvalue().decode(), format="ascii.ecsv")
    assert list(ecsv["id"]) == list(page.survey.spectra.ids[[3, 1, 4]])
    csv = page.export("csv").getvalue().decode().splitlines()
    assert csv[0].startswith("id,") and len(csv) == 4


def test_a_bad_file_shows_an_error_and_keeps_the_survey(page, data_root):
    bad = data_root / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b"\0" * 100)
    survey = page.survey
    page.open(bad, "broken.fits")
    assert page.survey is survey
    assert page.banner._error.visible and "FITS" in page.banner._error.object


def test_one_sdss_spec_file_opens_with_the_maps_it_can_have(page, data_root):
    from astroml_core.sim.spectra import loglam_grid
    from tests.core.test_spectra_io import _sdss_file

    path, _ = _sdss_file(data_root / "spec-0266-51630-0003.fits", loglam_grid()[0] - 0.002, 3900)
    page.open(path, "spec-0266-51630-0003.fits")
    assert len(page.survey.spectra) == 1 and not page.banner._error.visible
    assert page.param.projection.objects == ["VAE latent", "PCA"] and page.projection == "VAE latent"
    assert list(page.table.value["id"]) == [] and page.survey.true_class[0] == "GALAXY_STARFORMING"


def test_several_sdss_files_dropped_together_open_as_one_set(page, data_root):
    from astroml_core.sim.spectra import loglam_grid
    from tests.core.test_spectra_io import _sdss_file

    grid0 = loglam_grid()[0]
    files = [_sdss_file(data_root / f"spec-0266-51630-000{i}.fits", grid0 - 0.001 * i, 3900, *kind)[0]
             for i, kind in enumerate([("GALAXY", "AGN", 0.1), ("STAR", "K1", 0.0), ("QSO", "BROADLINE", 1.2)])]
    page.open_many(files, "upload: 3 files")
    assert len(page.survey.spectra) == 3 and not page.banner._error.visible
    assert list(page.survey.true_class) == ["GALAXY_AGN", "STAR_K1", "QSO_BROADLINE"]
    assert list(page.survey.spectra.ids) == [f.stem for f in files]
    assert page.survey.spectra.path.stat().st_mode & 0o777 == 0o600     # private, like the uploads
    page.open_many([files[0], data_root / "missing.fits"], "upload: 2 files")
    assert page.banner._error.visible and len(page.survey.spectra) == 3          # the set shown is kept


def test_send_to_vetting_makes_a_campaign_of_the_selection_most_uncertain_first(page, logged_in):
    store = logged_in("ann", "admin")
    from app.pages.spectra import SpectraPage

    page = SpectraPage()  # built with ann logged in: the button is enabled
    assert not page.send.button.disabled
    assert page.send.send() is None and "select spectra first" in page.banner._error.object
    page._cell_selected(0, 0)
    chosen = set(page.survey.spectra.ids[page.selection])
    cid = page.send.send()
    cands = store.candidates(cid)
    assert {c.name for c in cands} == chosen and len(cands) == len(chosen)
    info = store.campaign(cid)
    assert info.kind == "spectrum" and info.model_name == "spectra_net" and "UNEXPECTED" in info.labels
    assert len(info.card_sha256) == 64 and f"campaign={cid}" in page.send.status.object
    first = store.next_candidate(cid, "ann")
    assert first.uncertainty == max(c.uncertainty for c in cands)


def test_send_to_vetting_is_refused_to_a_vetter(data_root, demo_file, logged_in):
    (data_root / "demo" / DEMO_SPECTRA).symlink_to(demo_file)
    logged_in("bob", "vetter")
    from app.pages.spectra import SpectraPage

    page = SpectraPage()
    assert page.send.button.disabled and "as an admin" in page.send.status.object
    page._cell_selected(0, 0)
    assert page.send.send() is None and "only an admin" in page.banner._error.object


def test_a_spectrum_the_classifier_declines_is_unknown_with_its_reason_in_words(page, data_root):
    """Issue 31: a spectrum covering 20% of the grid is UNKNOWN, said in the status, the table (with SDSS's
    CLASS/SUBCLASS), the stack's names and the legend; classified ones read as words, not labels."""
    from astroml_core.sim.spectra import loglam_grid
    from tests.core.test_spectra_io import _sdss_file

    grid0 = loglam_grid()[0]
    whole, _ = _sdss_file(data_root / "spec-0266-51630-0001.fits", grid0 - 0.001, 3900, "STAR", "K1", 0.0)
    short, _ = _sdss_file(data_root / "spec-0266-51630-0002.fits", grid0 + 0.1, 770)
    page.open_many([whole, short], "upload: 2 files")
    assert not page.banner._error.visible and len(page.survey.spectra) == 2
    unknown = int((page.survey.result.label == "UNKNOWN").sum())        # the whole one is noise: may be too
    assert unknown >= 1 and f"{unknown} UNKNOWN" in page.status.object
    page.select(np.array([0, 1]), "both")
    table = page.table.value
    row = table[table["id"] == short.stem].iloc[0]
    assert row["label"] == "UNKNOWN" and "covers only" in row["reason"] and row["CLASS"] == "UNKNOWN"
    other = table[table["id"] == whole.stem].iloc[0]
    assert other["CLASS"] in ("GALAXY", "QSO", "STAR", "UNKNOWN") and "covers only" not in other["reason"]
    names = page.stack.labels.data["text"]
    assert any(t.startswith(f"{short.stem} · Unknown: covers only") for t in names)
    assert not any("_" in t.split(" · ")[1] for t in names if " · " in t)     # "Star: K1", not "STAR_K1"
    page.colour_by = "predicted class"
    assert f"Unknown ({unknown})" in page.legend.object


def test_a_file_whose_every_spectrum_is_unknown_opens_and_says_so(page, data_root):
    from astroml_core.sim.spectra import loglam_grid
    from tests.core.test_spectra_io import _sdss_file

    short, _ = _sdss_file(data_root / "spec-0266-51630-0003.fits", loglam_grid()[0] + 0.1, 770)
    page.open(short, "short.fits")
    assert not page.banner._error.visible and list(page.survey.result.label) == ["UNKNOWN"]
    assert page.stack.fig.title.text.startswith("No spectrum was given a class (all UNKNOWN)")
    page.select(np.array([0]), "it")
    assert "Unknown: covers only" in page.stack.labels.data["text"][0]


def test_a_file_opened_earlier_whose_analysis_ends_later_does_not_replace_the_one_opened_last(page, data_root,
                                                                                             monkeypatch):
    """Served, analyses end in any order: the survey shown is the file the user opened last."""
    from app.pages.spectra import page as page_module

    first = write_simulated(data_root / "first.fits", 3021, 300)
    second = write_simulated(data_root / "second.fits", 3022, 400)
    held = []
    real = page_module.start_job
    monkeypatch.setattr(page_module, "start_job", lambda fn, *a, **kw: held.append((fn, a, kw)))
    page.open(first, "first")
    page.open(second, "second")
    monkeypatch.setattr(page_module, "start_job", real)
    for fn, args, kw in reversed(held):        # the second file's analysis ends first
        real(fn, *args, **kw)
    assert len(page.survey.spectra) == 400 and page.survey.spectra.path.name == "second.fits"
    assert "400 spectra" in page.status.object


def test_with_nothing_selected_each_class_median_is_stacked_in_the_rest_frame_with_sharp_lines(page):
    """The class atlas (nothing selected) moves each spectrum to its rest wavelength before the median: the
    demo file gives every spectrum a redshift. In the observed frame the galaxies' lines smeared to nothing."""
    from app.pages.spectra.spectra_stack import REST_AXIS
    from astroml_core.tasks.spectra.stacking import stack_spectra
    from astroml_core.tasks.spectra.survey import binned_wavelength, display_rows

    page.select(np.zeros(0, np.int64), "")
    atlas = page.survey.class_atlas()
    assert atlas.frame == "rest" and len(atlas.rows) >= 5
    assert page.stack.fig.xaxis.axis_label == REST_AXIS and "rest frame" in page.stack.fig.title.text
    assert len(page.stack.lines.data["x"]) > 3                   # lines marked at their rest wavelengths
    k = next(i for i, name in enumerate(atlas.names) if "starforming" in name.lower().replace("-", "").replace(" ", ""))
    lam, row = atlas.wavelengths[k], atlas.rows[k]
    near = np.abs(lam - 6564.6) < 15                              # Hα (vacuum)
    assert np.nanmax(row[near]) > 1.5 * np.nanmedian(row[(lam > 6000) & (lam < 6400)])
    members = np.flatnonzero(page.survey.result.pred == atlas.classes[k])[:200]
    observed = stack_spectra(binned_wavelength(page.survey.spectra.wavelength),
                             display_rows(*page.survey.spectra.rows(np.sort(members))), None)
    assert np.nanmax(row[near]) > np.nanmax(observed.median) * 1.2   # the observed-frame median had lost it


def test_the_selection_table_shows_its_columns_within_its_width(page):
    """Every column on screen has room (they were clipped: 1,131 px of columns in 1,060); SDSS's CLASS/SUBCLASS and
    the label stay in the export, off screen."""
    c = page.survey.embeddings["umap"].coords
    page._geometry_selected({"type": "rect", "x0": c[:, 0].min(), "x1": c[:, 0].max(),
                             "y0": c[:, 1].min(), "y1": c[:, 1].max()})
    table = page.table
    shown = [col for col in table.value.columns if col not in table.hidden_columns]
    assert {"CLASS", "SUBCLASS", "label"} <= set(table.value.columns) - set(shown)
    assert {"id", "predicted_class", "reason", "probability"} <= set(shown)
    assert all(col in table.widths for col in shown)
    assert sum(table.widths[col] for col in shown) <= table.width - 20
