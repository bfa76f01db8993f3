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


def test_votables_are_written_without_overrunning_a_buffer():
    # astropy 8.0's C TABLEDATA writer writes a byte past its buffer on some tables (it aborted this loop under
    # the debug allocator and, without it, crashed the test process later); write_table must not use it
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import tempfile
        from pathlib import Path
        import numpy as np
        from astropy.table import QTable
        from astroml_core.data.tables import write_table
        rng = np.random.default_rng(0)
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(200):
                n, m = rng.integers(1, 60), rng.integers(3, 16)
                write_table(QTable({f"c{j}": rng.normal(0, 10 ** rng.uniform(-3, 6), n) for j in range(m)}),
                            Path(tmp) / "t.vot")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONMALLOC="debug"))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
