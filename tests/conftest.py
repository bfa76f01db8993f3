"""Shared fixtures: FITS cube builders for every header convention, and a private data root."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server


def sdc2_header(nx: int = 16, ny: int = 12, nchan: int = 10) -> fits.Header:
    """A modern RA---SIN/DEC--SIN/FREQ header with beam and unit (like SDC2's cubes)."""
    h = fits.Header()
    h["BUNIT"] = "Jy/beam"
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"], h["CUNIT1"] = "RA---SIN", 180.0, -2.8 / 3600, nx / 2, "deg"
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"], h["CUNIT2"] = "DEC--SIN", -30.0, 2.8 / 3600, ny / 2, "deg"
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "FREQ", 1.1e9, 3e4, 1.0, "Hz"
    h["RESTFRQ"] = 1.420405752e9
    h["BMAJ"] = h["BMIN"] = 7 / 3600
    h["BPA"] = 0.0
    h["RADESYS"], h["EQUINOX"], h["SPECSYS"] = "ICRS", 2000.0, "BARYCENT"
    return h


def write_fits(path: Path, data: np.ndarray, header: fits.Header) -> Path:
    """Write ``data`` with ``header`` (NAXIS cards come from the data) and return the path."""
    fits.PrimaryHDU(data, header).writeto(path, overwrite=True)
    return path


def ramp_cube(nchan: int = 10, ny: int = 12, nx: int = 16, seed: int = 0) -> np.ndarray:
    """A seeded float32 cube where every voxel differs (so a wrong slice is caught)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(nchan, ny, nx)) + np.arange(nchan)[:, None, None]).astype(np.float32)


@pytest.fixture
def make_cube(tmp_path):
    """make_cube(name, data=None, **header_changes) → path of a FITS cube (None values delete cards)."""

    def _make(name: str = "cube.fits", data: np.ndarray | None = None, header: fits.Header | None = None,
              **changes) -> Path:
        data = ramp_cube() if data is None else data
        h = header.copy() if header is not None else sdc2_header(data.shape[-1], data.shape[-2], data.shape[-3]
                                                                 if data.ndim >= 3 else 1)
        for key, value in changes.items():
            if value is None:
                h.remove(key, ignore_missing=True)
            else:
                h[key] = value
        return write_fits(tmp_path / name, data, h)

    return _make


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A private data root for settings(), with demo/ and uploads/ inside it."""
    root = tmp_path / "data"
    (root / "demo").mkdir(parents=True)
    monkeypatch.setenv("ASTROML_DATA_ROOT", str(root))
    monkeypatch.delenv("ASTROML_DEMO_DIR", raising=False)
    monkeypatch.delenv("ASTROML_UPLOAD_DIR", raising=False)
    return root


def hi_geometry(cfg, header):
    """The CubeGeometry of a simulated HI cube (noise 29 µJy/beam)."""
    from astropy.wcs import WCS

    from astroml_core.tasks.hi import CubeGeometry

    return CubeGeometry(cfg.frequencies_hz, cfg.pixel_arcsec, cfg.beam_arcsec, cfg.beam_arcsec,
                        1.42040575177e9, WCS(header).celestial, 29e-6)


def noiseless_hi_source(seed: int, cfg):
    """(data, labels, header, truth row) of a noiseless simulated cube holding exactly one source."""
    import warnings

    from scipy import ndimage

    from astroml_core.sim.hi import simulate_hi_cube

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        data, header, truth = simulate_hi_cube(seed, cfg)
    labels, n = ndimage.label(data > 1e-7)
    assert n == 1
    return data, labels, header, truth[0]


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test (``make test`` starts the server, see .ci/postgres.sh)."""
    import os
    import uuid

    base = os.environ.get("ASTROML_TEST_PG_URL")
    if base is None:
        pytest.skip("PostgreSQL tests run through `make test`, which starts the server (ASTROML_TEST_PG_URL)")
    if not base:
        pytest.fail("ASTROML_TEST_PG_URL is empty: .ci/postgres.sh could not start PostgreSQL")
    from sqlalchemy import create_engine, make_url, text

    name = f"astroml_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


def _drop_database(admin, name: str, tries: int = 20) -> None:
    """Drop a test database, retrying while a background worker (autovacuum) still holds it."""
    import time

    from sqlalchemy import exc, text

    for attempt in range(tries):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except exc.DBAPIError:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)


# --- browser tests (tests/app, tests/security): one served app and one Chromium per run ---------------
@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Serve the app (python -m app) on its demo data; yields (base URL, data root)."""
    root = tmp_path_factory.mktemp("served-data")
    proc, url = start_server(root)
    yield url, root
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    pw = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1250})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.fixture
def logged_in(data_root, monkeypatch):
    """logged_in(name, role) → the vetting store of the data root, with ``name`` logged in in this process."""
    from astroml_core.vetting import open_store

    def _as(name: str = "ann", role: str = "admin"):
        store = open_store()
        if store.user(name) is None:
            store.add_user(name, f"{name}-password", role)
        for module in ("app.components.send_to_vetting", "app.pages.vetting.page"):
            monkeypatch.setattr(f"{module}.current_user", lambda: name)
        return store

    return _as
