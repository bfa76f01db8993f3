"""Browser benchmark of the HI cube page: what a user waits for, timed in Chromium against a running server.

Run ``python -m astroml_core.bench browse``. It serves the app (``python -m app``) on a fresh data root with
its demo cube (512 channels × 256² pixels) and drives headless Chromium (playwright, /usr/bin/chromium):

* channel step: click "▶" until the channel label and the image data in the browser have both changed (40
  steps, from a second after the first pixel click);
* pixel → spectrum: click a pixel until the spectrum's data in the browser has changed; the first click right
  after the cube opened is reported on its own and counted in the p95;
* full-band moment 0: choose the view "Moment 0" (all channels) until the image data has changed;
* play: play at "5 fps" for ~5 s and count the image updates that reach the browser;
* region spectrum: three ellipses drawn one after another in a page just opened, each timed from the release
  until its spectrum has arrived; the slowest is held to the target (only when the page has a regions tool).

Times are taken in the browser (``performance.now()``) from the moment the press reaches the page until the
Bokeh models hold the new values and one animation frame has passed. The app only runs here: this module never imports it.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .served import CHROMIUM, CHROMIUM_ARGS, TO_SCREEN, start_server, stop_server

__all__ = ["run", "TARGETS"]

TARGETS = {"channel_step_p95_ms": 150.0, "pixel_spectrum_p95_ms": 300.0, "moment0_full_ms": 1000.0,
           "region_spectrum_ms": 500.0, "play_fps_min": 4.5}
N_STEPS, N_PIXELS, PLAY_S, FPS = 40, 20, 5.0, 5.0

# --- page-side helpers (JavaScript) ---------------------------------------------------------------
_JS_HELPERS = r"""
() => {
  const doc = Bokeh.documents[0];
  const byName = (n) => doc.get_model_by_name(n);
  let labelModel = null;          // found once: walking every model at each 2 ms check would load the page
  const label = () => {
    if (labelModel === null || labelModel.document === null) {
      labelModel = null;
      for (const m of doc.all_models) {
        if (m.css_classes && m.css_classes.includes("channel-label")) { labelModel = m; break; }
      }
    }
    return labelModel === null ? "" : String(labelModel.text);
  };
  const sig = (arr) => {           // a cheap fingerprint of an array: length and a spread of samples
    if (!arr) return "none";
    const a = arr.length !== undefined && typeof arr[0] === "object" ? arr[0] : arr;
    if (!a || a.length === undefined) return "none";
    const n = a.length; let s = n + ":";
    for (let k = 0; k < 64; k++) s += a[Math.floor(k * n / 64)] + ",";
    return s;
  };
  const image = () => { const d = byName("cube-image-source").data; return sig(d.image) + sig(d.x) + sig(d.dw); };
  const spectrum = () => sig(byName("spectrum-source").data.flux);
  const regions = () => { const s = byName("region-spectrum-source"); return s ? sig(s.data.flux) : null; };
  window.__bench = {label, image, spectrum, regions, byName};
  // the clock starts when the press reaches the page, not when playwright was asked to click
  // (a drag's clock starts at the release: the wait for the result begins when the user lets go)
  for (const kind of ["pointerdown", "pointerup"]) {
    window.addEventListener(kind, () => {
      if (window.__armed === kind) { window.__t0 = performance.now(); window.__armed = null; }
    }, true);
  }
  window.__bench.waitFor = (what, before, t0, timeoutMs) => new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      const changed = what.every((w, i) => window.__bench[w]() !== before[i]);
      if (changed) { requestAnimationFrame(() => resolve(performance.now() - t0)); return; }
      if (now - t0 > timeoutMs) { resolve(null); return; }
      setTimeout(check, 2);
    };
    check();
  });
  window.__bench.count = (ms) => new Promise((resolve) => {
    let last = window.__bench.image(), n = 0; const t0 = performance.now();
    const tick = () => {
      const s = window.__bench.image(); if (s !== last) { n++; last = s; }
      if (performance.now() - t0 < ms) setTimeout(tick, 5); else resolve([n, performance.now() - t0]);
    };
    tick();
  });
  return true;
}
"""
_MARK = """([what, on]) => { window.__t0 = performance.now(); window.__armed = on;
                              return what.map(w => window.__bench[w]()); }"""
_WAIT = "([what, before, timeout]) => window.__bench.waitFor(what, before, window.__t0, timeout)"
def _timed(page, what: list[str], act, timeout_ms: float = 60_000, on: str = "pointerdown") -> float | None:
    """Milliseconds from the ``on`` event of ``act()`` (or, without one, from just before it) until every
    fingerprint in ``what`` has changed (None: timeout)."""
    before = page.evaluate(_MARK, [what, on])
    act()
    return page.evaluate(_WAIT, [what, before, timeout_ms])




def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_idle(pid: int, limit_s: float = 180.0) -> float:
    """Wait until the server uses < 15% of a core over a second (its start-up warm-ups done); seconds waited."""
    t0 = time.time()
    while time.time() - t0 < limit_s:
        before = _cpu_seconds(pid)
        time.sleep(1.0)
        if _cpu_seconds(pid) - before < 0.15:
            break
    return round(time.time() - t0, 1)


# --- the measurements -------------------------------------------------------------------------------
def _stats(values: list[float | None]) -> dict:
    done = [v for v in values if v is not None]
    if not done:
        return {"n": len(values), "timeouts": len(values)}
    return {"n": len(values), "timeouts": len(values) - len(done), "median_ms": round(float(np.median(done)), 1),
            "p95_ms": round(float(np.percentile(done, 95)), 1) if len(done) == len(values) else None,
            "max_ms": round(float(np.max(done)), 1)}


def _open(page, url: str) -> float:
    """Load the cube page and wait for its first channel image; seconds."""
    t = time.perf_counter()
    page.goto(url + "/cubes")
    page.wait_for_selector(".channel-label >> text=MHz", timeout=120_000)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('cube-image-source').data.image[0].length > 4",
                           timeout=120_000)
    page.evaluate(_JS_HELPERS)
    return time.perf_counter() - t


def _click_pixel(page, x: float, y: float) -> None:
    sx, sy = page.evaluate(TO_SCREEN, ["cube-figure", x, y])
    page.mouse.click(sx, sy)


def _pixels(n: int, size: int = 256, seed: int = 1) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [(int(x), int(y)) for x, y in rng.integers(8, size - 8, size=(n, 2))]


def _channel_steps(page, n: int) -> list[float | None]:
    """Click "▶" ``n`` times, each once the last step has arrived (a plain mouse click at the button's
    centre: playwright's checks before a locator click would add ~0.1 s to every step)."""
    box = page.locator(".channel-forward button").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return [_timed(page, ["label", "image"], lambda: page.mouse.click(x, y), 20_000) for _ in range(n)]


def _settle(page, quiet_s: float = 1.0, limit_s: float = 30.0) -> None:
    """Wait until the image has not changed for ``quiet_s`` (frames of a stopped player may still be arriving)."""
    last, since, t0 = page.evaluate("() => window.__bench.image()"), time.time(), time.time()
    while time.time() - since < quiet_s and time.time() - t0 < limit_s:
        time.sleep(0.1)
        now = page.evaluate("() => window.__bench.image()")
        if now != last:
            last, since = now, time.time()


def _moment0(page) -> float | None:
    _settle(page)
    return _timed(page, ["image"], lambda: page.locator(".view-choice").get_by_text("Moment 0", exact=True).click())


def _play(page) -> dict:
    """Play at 5 fps for ~PLAY_S s; image updates the browser received per second."""
    page.locator(".channel-play button").click()
    n, ms = page.evaluate("([ms]) => window.__bench.count(ms)", [PLAY_S * 1000])
    page.locator(".channel-play button").click()
    _settle(page)
    return {"updates": n, "seconds": round(ms / 1000, 2), "fps": round(n / (ms / 1000), 2), "asked_fps": FPS}


def _region_spectrum(page, boxes=((60, 60, 140, 140), (150, 40, 220, 120), (30, 150, 120, 230))) -> dict:
    """Draw ellipse regions one after another with the regions tool when the page has one, each timed from the
    release until its spectrum arrives (the first in a page just opened)."""
    has = page.evaluate("() => !!window.__bench.byName('cube-regions-source')")
    if not has:
        return {"ms": None, "reason": "the page has no regions tool (no 'cube-regions-source')"}
    page.locator(".bk-tab", has_text="Regions").first.click()
    page.locator(".region-shape button", has_text="Ellipse").click()
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('cube-figure')"
                           ".toolbar.active_drag?.name === 'region-box-tool'")
    times = []
    for bx0, by0, bx1, by1 in boxes:
        (x0, y0), (x1, y1) = (page.evaluate(TO_SCREEN, ["cube-figure", x, y]) for x, y in ((bx0, by0), (bx1, by1)))

        def drag() -> None:
            page.mouse.move(x0, y0)
            page.mouse.down()
            page.mouse.move(x1, y1, steps=12)
            page.mouse.up()

        ms = _timed(page, ["regions"], drag, 20_000, on="pointerup")
        times.append(None if ms is None else round(ms, 1))
        page.wait_for_timeout(1000)
    done = [t for t in times if t is not None]
    return {"ms": max(done) if len(done) == len(times) else None, "each_ms": times,
            "median_ms": round(float(np.median(done)), 1) if done else None,
            "region": "ellipses of 70–90 px drawn one after another, each timed from the release; ms: the slowest"}


def measure(url: str) -> dict:
    """Drive Chromium through the cube page at ``url``; every figure in milliseconds unless named otherwise."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1250})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(url + "/")                 # the JS bundles into the browser cache, not timed
            out["open_s"] = round(_open(page, url), 2)
            pixels = _pixels(N_PIXELS)
            first = _timed(page, ["spectrum"], lambda: _click_pixel(page, *pixels[0]), 20_000)
            page.wait_for_timeout(1000)        # a user reads the spectrum before stepping on
            steps = _channel_steps(page, N_STEPS)
            rest = []
            for xy in pixels[1:]:
                rest.append(_timed(page, ["spectrum"], lambda xy=xy: _click_pixel(page, *xy), 20_000))
                page.wait_for_timeout(100)
            out["channel_step"] = _stats(steps)
            out["pixel_spectrum"] = dict(_stats([first] + rest), first_click_ms=None if first is None else round(first, 1),
                                         later_median_ms=_stats(rest).get("median_ms"))
            out["play"] = _play(page)
            moment = _moment0(page)
            out["moment0_full"] = {"ms": None if moment is None else round(moment, 1)}
            fresh = context.new_page()                # a region in a page of its own: the views above stay as they were
            fresh.set_default_timeout(60_000)
            _open(fresh, url)
            out["region_spectrum"] = _region_spectrum(fresh)
            shot = Path(os.environ.get("ASTROML_BENCH_SHOT", "/tmp/shots/browse-bench.png"))
            shot.parent.mkdir(parents=True, exist_ok=True)
            fresh.screenshot(path=str(shot))
            out["screenshot"] = str(shot)
            context.close()
        finally:
            browser.close()
    return out


def _verdict(r: dict) -> dict:
    step, pix = r["channel_step"], r["pixel_spectrum"]
    region = r["region_spectrum"].get("ms")
    return {"channel_step_p95": step.get("p95_ms") is not None and step["p95_ms"] <= TARGETS["channel_step_p95_ms"],
            "pixel_spectrum_p95": pix.get("p95_ms") is not None and pix["p95_ms"] <= TARGETS["pixel_spectrum_p95_ms"],
            "moment0_full": r["moment0_full"]["ms"] is not None and r["moment0_full"]["ms"] <= TARGETS["moment0_full_ms"],
            "region_spectrum": None if region is None else region <= TARGETS["region_spectrum_ms"],
            "play_fps": r["play"]["fps"] >= TARGETS["play_fps_min"]}


def _table(r: dict) -> str:
    step, pix, play = r["channel_step"], r["pixel_spectrum"], r["play"]
    rows = [("channel step (median / p95)", f"{step.get('median_ms')} / {step.get('p95_ms')} ms", "p95 ≤ 150 ms"),
            ("pixel → spectrum (first / p95)", f"{pix.get('first_click_ms')} / {pix.get('p95_ms')} ms", "p95 ≤ 300 ms"),
            ("moment 0, all channels", f"{r['moment0_full']['ms']} ms", "≤ 1000 ms"),
            ("region spectrum (slowest of 3)", f"{r['region_spectrum'].get('ms')} ms", "≤ 500 ms"),
            ("play at 5 fps", f"{play['fps']} fps", "≥ 4.5 fps")]
    lines = [f"{'':32s} {'measured':>22s}   target   pass"]
    keys = ["channel_step_p95", "pixel_spectrum_p95", "moment0_full", "region_spectrum", "play_fps"]
    for (name, value, target), key in zip(rows, keys):
        lines.append(f"{name:32s} {value:>22s}   {target:14s} {r['pass'][key]}")
    return "\n".join(lines)


def run(out: Path, keep: bool = False) -> dict:
    """Serve the app on its demo data, drive Chromium through the cube page, write JSON, print a table."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"the browse benchmark needs playwright (pip install playwright): {exc}") from exc
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"the browse benchmark needs Chromium at {CHROMIUM} (apt-get install chromium)")
    given = os.environ.get("ASTROML_BENCH_DATA_ROOT")          # reuse a data root (its demo data already made)
    root = Path(given) if given else Path(tempfile.mkdtemp(prefix="astroml-browse-"))
    keep = keep or bool(given)
    proc, url = start_server(root, timeout_s=300)
    try:
        idle_s = _wait_idle(proc.pid)
        results = {"benchmark": "browse", "machine": {"cpus": os.cpu_count()}, "cube": "demo: 512 × 256 × 256",
                   "server_warmup_wait_s": idle_s, "targets": TARGETS}
        results.update(measure(url))
        results["pass"] = _verdict(results)
    finally:
        stop_server(proc)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(_table(results), file=sys.stderr)
    return results
