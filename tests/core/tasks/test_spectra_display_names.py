"""Readable names for the 13 classes and UNKNOWN, and SDSS's CLASS / SUBCLASS for catalogues (issue 31)."""
from __future__ import annotations

import numpy as np
import pytest

from astroml_core.sim.spectra import CLASSES, UNEXPECTED
from astroml_core.tasks.spectra.classify import UNKNOWN
from astroml_core.tasks.spectra.display_names import (display_name, display_names, label_from_sdss, sdss_class,
                                                      sdss_columns)


@pytest.mark.parametrize("label, name", [
    ("GALAXY_nan", "Galaxy (no subclass)"), ("GALAXY_AGN", "Galaxy: AGN"),
    ("GALAXY_STARFORMING", "Galaxy: star-forming"), ("GALAXY_STARBURST", "Galaxy: starburst"),
    ("QSO_BROADLINE", "QSO: broad-line"), ("QSO_nan", "QSO (narrow/no lines)"), ("STAR_A0", "Star: A0"),
    ("STAR_K5", "Star: K5"), (UNKNOWN, "Unknown")])
def test_display_names_read_as_a_person_would_say_them(label, name):
    assert display_name(label) == name


def test_every_class_and_unknown_has_a_distinct_readable_name():
    names = [display_name(c) for c in CLASSES + (UNKNOWN,) + UNEXPECTED]
    assert len(set(names)) == len(names)
    assert not any("_" in n or "nan" in n for n in names)
    assert list(display_names(np.array(["STAR_F5", UNKNOWN, "STAR_F5"]))) == ["Star: F5", "Unknown", "Star: F5"]


def test_sdss_class_and_subclass_split_and_join_back():
    assert sdss_class("GALAXY_nan") == ("GALAXY", "")
    assert sdss_class("QSO_BROADLINE") == ("QSO", "BROADLINE")
    assert sdss_class("STAR_K3") == ("STAR", "K3")
    assert sdss_class(UNKNOWN) == ("UNKNOWN", "")
    for label in CLASSES + (UNKNOWN,):
        assert label_from_sdss(*sdss_class(label)) == label
    cls, sub = sdss_columns(np.array(["GALAXY_AGN", "QSO_nan", UNKNOWN]))
    assert list(cls) == ["GALAXY", "QSO", "UNKNOWN"] and list(sub) == ["AGN", "", ""]
    assert label_from_sdss("GALAXY", "nan") == "GALAXY_nan" and label_from_sdss("galaxy ", " ") == "GALAXY_nan"
