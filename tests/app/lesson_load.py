"""A class of N students following one lesson on one server at once, in headless Chromium.

``python -m tests.app.lesson_load http://127.0.0.1:5006 [--sessions 30] [--lesson latent_space] [-o out.json]``
opens N browser contexts; they open the lesson a few seconds apart (as a class does), then all press Next to the last step together. A step's latency is
from the click to the page showing the new step (the server has applied it). Prints and writes JSON:
sessions completed, page-open and step latencies (p50 / p95 / max).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

__all__ = ["run_class"]

COUNTER = "el => (el.shadowRoot || el).textContent || ''"


async def _step(page) -> int:
    loc = page.locator(".lesson-counter")
    m = re.search(r"step (\d+) of (\d+)", await loc.first.evaluate(COUNTER)) if await loc.count() else None
    return int(m.group(1)) if m else -1


async def _wait_step(page, k: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while await _step(page) != k:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"step {k} did not show within {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def _student(browser, url: str, lesson: str, n_steps: int, start: asyncio.Event, delay: float,
                   all_open: asyncio.Barrier) -> dict:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        await start.wait()
        await asyncio.sleep(delay)   # students come in one after another, as in a classroom
        t0 = time.perf_counter()
        await page.goto(f"{url}/learn?lesson={lesson}", timeout=180_000)
        await _wait_step(page, 1, 180)
        opened = time.perf_counter() - t0
        await all_open.wait()        # then everyone follows the lesson at the same time
        steps = []
        for k in range(2, n_steps + 1):
            t = time.perf_counter()
            await page.locator(".lesson-next button").click(timeout=60_000)
            await _wait_step(page, k, 180)
            steps.append(time.perf_counter() - t)
        done = "lesson complete" in await page.locator(".lesson-counter").first.evaluate(COUNTER)
        return {"opened_s": opened, "steps_s": steps, "completed": done, "error": None}
    except Exception as exc:  # noqa: BLE001 - a failed student is counted, not fatal
        await all_open.abort()   # nobody waits at the barrier for a student who is not coming
        return {"opened_s": None, "steps_s": [], "completed": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        await context.close()


async def _run(url: str, sessions: int, lesson: str, n_steps: int, stagger: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start, all_open = asyncio.Event(), asyncio.Barrier(sessions)
        tasks = [asyncio.create_task(_student(browser, url, lesson, n_steps, start, k * stagger, all_open))
                 for k in range(sessions)]
        start.set()
        results = await asyncio.gather(*tasks)
        await browser.close()
    return results


def run_class(url: str, sessions: int = 30, lesson: str = "latent_space", stagger: float = 3.0) -> dict:
    """N students open ``lesson`` ``stagger`` s apart, then all step through it at once; returns the summary."""
    from app.lessons import lessons

    n_steps = len(lessons()[lesson].steps)
    t0 = time.perf_counter()
    results = asyncio.run(_run(url, sessions, lesson, n_steps, stagger))
    steps = np.array([s for r in results for s in r["steps_s"]]) * 1e3
    opened = np.array([r["opened_s"] for r in results if r["opened_s"] is not None])
    pct = (lambda a, q: round(float(np.percentile(a, q)), 1) if a.size else None)
    return {"sessions": sessions, "lesson": lesson, "stagger_s": stagger, "steps_per_session": n_steps - 1,
            "completed": sum(r["completed"] for r in results), "errors": [r["error"] for r in results if r["error"]],
            "step_ms_p50": pct(steps, 50), "step_ms_p95": pct(steps, 95),
            "step_ms_max": round(float(steps.max()), 1) if steps.size else None,
            "open_s_p50": pct(opened, 50), "open_s_p95": pct(opened, 95), "wall_s": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.app.lesson_load")
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--lesson", default="latent_space")
    parser.add_argument("--stagger", type=float, default=3.0, help="seconds between students opening the lesson")
    parser.add_argument("-o", "--output", type=Path, default=Path("bench-results/lesson_load.json"))
    args = parser.parse_args(argv)
    summary = run_class(args.url, args.sessions, args.lesson, args.stagger)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0 if summary["completed"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
