"""Tables written by suffix: units survive ECSV and VOTable, and go into CSV column names."""
from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astroml_core.data.tables import table_bytes, write_table
from astroml_core.errors import AstroMLError


def test_units_survive_every_format_and_an_unknown_suffix_is_refused(tmp_path):
    table = QTable({"id": np.arange(3), "flux_r": [1.5, 2.0, 3.25] * u.count})
    for suffix in (".ecsv", ".vot"):
        back = QTable.read(write_table(table, tmp_path / f"t{suffix}"))
        assert back["flux_r"].unit == u.count and np.allclose(back["flux_r"].value, [1.5, 2.0, 3.25])
    header = table_bytes(table, ".csv").decode().splitlines()[0]
    assert header == "id,flux_r [ct]"
    assert "flux_r" in table.colnames                  # the caller's table is left as it was
    with pytest.raises(AstroMLError, match=r"\.ecsv"):
        write_table(table, tmp_path / "t.txt")
