"""The HI finder says when a cube is unlike its training cubes, and the notes travel with the catalogue."""
from __future__ import annotations

from astropy.io import fits
from astropy.io.votable import parse
from astropy.table import QTable

from astroml_core.data import open_cube
from astroml_core.sim.hi import small_config, write_hi_cube
from astroml_core.tasks.hi import write_catalogue
from astroml_core.tasks.hi.applicability import cube_notes


def _cube(tmp_path, **cards):
    path = tmp_path / "cube.fits"
    write_hi_cube(path, 1001, None, small_config())
    with fits.open(path, mode="update") as hdul:
        for key, value in cards.items():
            if value is None:
                del hdul[0].header[key]
            else:
                hdul[0].header[key] = value
    return open_cube(path)


def test_a_simulated_hi_cube_gets_no_notes(tmp_path):
    assert cube_notes(_cube(tmp_path)) == []


def test_a_cube_of_another_line_with_a_huge_beam_and_no_beam_are_said(tmp_path):
    notes = cube_notes(_cube(tmp_path, RESTFRQ=88.6316e9))
    assert any("88.63 GHz" in n and "not HI" in n for n in notes)
    notes = cube_notes(_cube(tmp_path, BMAJ=40 / 3600, BMIN=40 / 3600))
    assert any("the beam spans 14.3 pixels" in n for n in notes)
    notes = cube_notes(_cube(tmp_path, BMAJ=None, BMIN=None, BPA=None))
    assert any("no beam in the header" in n for n in notes)


def test_notes_are_written_into_ecsv_and_votable_catalogues(tmp_path):
    table = QTable({"id": [0], "ra": [180.0], "dec": [-30.0]})
    table.meta["notes"] = ["this cube's noise looks unlike the training noise <&>"]
    write_catalogue(table, tmp_path / "cat.ecsv")
    assert QTable.read(tmp_path / "cat.ecsv").meta["notes"] == table.meta["notes"]
    write_catalogue(table, tmp_path / "cat.vot")
    infos = parse(str(tmp_path / "cat.vot")).get_first_table().infos
    assert [i.value for i in infos if i.name == "note"] == table.meta["notes"]


def test_an_optical_cube_is_said_to_be_no_hi_cube(tmp_path):
    cube = _cube(tmp_path, CTYPE3="WAVE", CUNIT3="Angstrom", CRVAL3=6563.0, CDELT3=1.25, CRPIX3=1.0,
                 RESTFRQ=None, SPECSYS=None)
    notes = cube_notes(cube)
    assert len(notes) == 1 and "optical/infrared" in notes[0] and "0.662 um" in notes[0]
