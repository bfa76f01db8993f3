"""``astroml users`` and ``astroml vetting``: accounts with hashed passwords, and an admin-only export."""
from __future__ import annotations

import io

import pytest
from astropy.table import Table

from astroml_core.cli import main
from astroml_core.vetting import CandidateIn, VettingStore


def test_users_add_role_remove_and_export(tmp_path, monkeypatch, capsys):
    db = f"sqlite:///{tmp_path / 'v.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "ann", "--role", "admin", "--password-stdin", "--db", db]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("b-long-password\n"))
    assert main(["users", "add", "bob", "--password-stdin", "--db", db]) == 0
    assert main(["users", "role", "bob", "viewer", "--db", db]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--db", db]) == 0
    assert capsys.readouterr().out.split() == ["ann", "admin", "bob", "viewer"]
    store = VettingStore(db)
    assert store.authenticate("ann", "a-long-password").role == "admin"
    cid = store.create_campaign("ann", "c", "spectrum", ["a", "b"], [CandidateIn("x", {"row": 0}, 0.4, 0.6, b"")])
    store.vote("ann", store.candidates(cid)[0].id, "b")
    assert main(["vetting", "export", str(cid), "-o", str(tmp_path / "c.ecsv"), "--as", "bob", "--db", db]) == 2
    assert "only an admin" in capsys.readouterr().err
    assert main(["vetting", "export", str(cid), "-o", str(tmp_path / "c.ecsv"), "--as", "ann", "--db", db]) == 0
    assert list(Table.read(tmp_path / "c.ecsv")["majority"]) == ["b"]
    assert main(["users", "remove", "bob", "--db", db]) == 0
    with pytest.raises(Exception, match="wrong user name or password"):
        store.authenticate("bob", "b-long-password")
