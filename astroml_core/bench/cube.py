"""Cube browsing benchmark: open time, time to first slice, per-slice server time, peak RSS.

``open_s`` is the first open in a fresh process, lazy imports included (radio_beam, ~0.25 s);
``open_again_s`` is a second open of the same file (what a running server pays).
Run ``python -m astroml_core.bench cube``. Each cube is measured in a fresh subprocess (so RSS and
open time are not flattered by earlier work), with the file's pages dropped from the OS cache first
(cold), then again warm. Per-slice time is the server's whole work for one channel view: read the
plane, crop and block-average it to ≤ 1024 px, compute the colour limits and apply the stretch.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "write_big_cube", "measure"]

# SDC2's development-cube footprint (1286² pixels) with 650 channels: 4.30 GB of float32
BIG_SHAPE = (650, 1286, 1286)


def write_big_cube(path: Path, shape: tuple[int, int, int] = BIG_SHAPE, seed: int = 0) -> Path:
    """Write a ≥4 GB float32 FITS cube plane by plane (never holding it in memory)."""
    from astropy.io import fits

    from ..sim.hi import HICubeConfig, cube_header

    nchan, ny, nx = shape
    if path.exists() and path.stat().st_size >= nchan * ny * nx * 4:
        return path
    hdu = fits.PrimaryHDU(header=cube_header(HICubeConfig(nx=nx, ny=ny, n_channels=nchan)))
    hdu.header["BITPIX"], hdu.header["NAXIS"] = -32, 3
    for k, n in enumerate((nx, ny, nchan), start=1):
        hdu.header[f"NAXIS{k}"] = n
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    plane = (rng.standard_normal((ny, nx), dtype=np.float32) * 3e-5).astype(">f4")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(hdu.header.tostring().encode("ascii"))
        for c in range(nchan):
            fh.write(np.roll(plane, c * 7, axis=1).tobytes())
        pad = (-fh.tell()) % 2880
        fh.write(b"\0" * pad)
    os.replace(tmp, path)
    return path


def _drop_cache(path: Path) -> None:
    """Evict the file's pages from the OS page cache, so the next reads come from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1e3, 2)


def measure(path: Path, n_slices: int = 100, seed: int = 0) -> dict:
    """Measure one cube in this process (called in a fresh subprocess by :func:`run`)."""
    from ..data import open_cube
    from ..display import view_plane

    _drop_cache(path)
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    cube = open_cube(path)
    t_open = time.perf_counter() - t0
    rss_open = _rss_mb()
    t0 = time.perf_counter()
    open_cube(path)
    t_reopen = time.perf_counter() - t0

    def show(i: int) -> float:
        t = time.perf_counter()
        view_plane(cube.channel(i), interval="99.5%", stretch="asinh", max_px=1024)
        return time.perf_counter() - t

    first = show(cube.n_channels // 2)
    rng = np.random.default_rng(seed)
    channels = rng.choice(cube.n_channels, size=min(n_slices, cube.n_channels), replace=False)
    _drop_cache(path)
    cold = [show(int(c)) for c in channels]
    warm = [show(int(c)) for c in channels]
    _drop_cache(path)
    t = time.perf_counter()
    cube.spectrum(cube.shape[1] // 2, cube.shape[2] // 2)
    spectrum_cold = time.perf_counter() - t
    t = time.perf_counter()
    cube.spectrum(cube.shape[1] // 2, cube.shape[2] // 2)
    spectrum_warm = time.perf_counter() - t
    return {
        "file": str(path), "file_gb": round(path.stat().st_size / 1e9, 3),
        "shape": list(cube.shape), "plane_mb": round(cube.shape[1] * cube.shape[2] * 4 / 2**20, 2),
        "open_s": round(t_open, 4), "open_again_s": round(t_reopen, 4), "first_slice_s": round(first, 4),
        "time_to_first_slice_s": round(t_open + first, 4),
        "slice_cold_ms": {"p50": _pct(cold, 50), "p95": _pct(cold, 95), "n": len(cold)},
        "slice_warm_ms": {"p50": _pct(warm, 50), "p95": _pct(warm, 95), "n": len(warm)},
        "spectrum_cold_s": round(spectrum_cold, 4), "spectrum_warm_s": round(spectrum_warm, 4),
        "rss_before_open_mb": round(rss_before, 1), "rss_after_open_mb": round(rss_open, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run(out: Path, *, big_path: Path | None = None, keep_big: bool = False) -> dict:
    """Measure the demo cube and a ≥4 GB synthetic cube; write JSON to ``out`` and return it."""
    from ..config import settings
    from ..sim.hi import ensure_demo_cube

    cfg = settings()
    demo = ensure_demo_cube(cfg.demo_dir)
    big = big_path or cfg.data_root / "bench" / "big_cube.fits"
    t = time.perf_counter()
    write_big_cube(big)
    write_s = time.perf_counter() - t
    results = {"benchmark": "cube", "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
               "targets": {"big_open_s": 1.0, "big_open_rss_mb": 300, "slice_p95_ms": 50},
               "big_cube_write_s": round(write_s, 1)}
    for name, path in (("demo", demo), ("big", big)):
        proc = subprocess.run([sys.executable, "-m", "astroml_core.bench.cube", str(path)],
                              capture_output=True, text=True, check=True)
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    b = results["big"]
    results["pass"] = {
        "big_open_under_1s": b["open_s"] < 1.0,
        "big_open_rss_under_300mb": b["rss_after_open_mb"] < 300,
        "slice_p95_under_50ms": max(results[k]["slice_cold_ms"]["p95"] for k in ("demo", "big")) < 50,
    }
    if not keep_big:
        big.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":  # subprocess entry: measure one cube, print JSON
    print(json.dumps(measure(Path(sys.argv[1]))))
