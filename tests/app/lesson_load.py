"""A class of N students following one lesson on one server at once, as websocket clients on loopback.

``python -m tests.app.lesson_load http://127.0.0.1:5006 [--sessions 30] [--lesson latent_space] [-o out.json]``

Each student does what a browser does, in Bokeh's own protocol: GET the lesson page (the server builds
the session and hands out its token), open the websocket, pull the document, announce it ready, then
press Next (a ``button_click`` event), answering every question by choosing the right answer and
pressing *Check my answer*. Students open the lesson ``--stagger`` seconds apart, as a class comes in,
then all step together. A step's latency runs from the click to the server's patch showing the new step
with none of its actions still pending (``.lesson-waiting`` empty). Headless Chromium cannot stand in:
30 Bokeh renderers on the same 2 cores are the bottleneck, not the server (see the issue 8 notes).
Prints and writes JSON: sessions completed, page-open and step latencies (p50 / p95 / max).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

__all__ = ["Student", "run_class"]


def _objects(node):
    """Every serialized Bokeh model in a document's JSON."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node:
            yield node
        for v in node.values():
            yield from _objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v)


def _bokeh_event(name: str, **values) -> dict:
    """A UI event as BokehJS sends it (a ``MessageSent`` patch of kind ``bokeh_event``)."""
    return {"kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": name,
                         "values": {"type": "map", "entries": [[k, v] for k, v in values.items()]}}}


class Student:
    """One browser session of the learn page, driven over Bokeh's websocket protocol.

    Keeps the attributes of the lesson widgets it reads (counter, waiting, feedback) up to date from the
    server's patches; every other patch is received and dropped, as a page that does not draw."""

    WATCHED = ("lesson-counter", "lesson-waiting", "lesson-feedback", "lesson-next", "lesson-check",
               "lesson-choices")

    def __init__(self, url: str, lesson: str) -> None:
        self.url, self.lesson = url.rstrip("/"), lesson
        self.models: dict[str, dict] = {}       # css class → the model's id and attributes
        self._ids: dict[str, str] = {}         # model id → css class
        self._ws = None

    async def open(self) -> None:
        """GET the page, connect its websocket, pull the document and announce it ready."""
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver
        from tornado.httpclient import AsyncHTTPClient
        from tornado.websocket import websocket_connect

        page = await AsyncHTTPClient().fetch(f"{self.url}/learn?lesson={self.lesson}", request_timeout=300)
        token = re.search(r'"token":\s*"([^"]+)"', page.body.decode()).group(1)
        host = urlsplit(self.url).netloc
        self._ws = await websocket_connect(f"ws://{host}/learn/ws", subprotocols=["bokeh", token],
                                           max_message_size=256 * 2**20, connect_timeout=300)
        self._protocol = Protocol()
        self._receiver = Receiver(self._protocol)
        await self._recv()                                      # ACK
        await self._send(self._protocol.create("PULL-DOC-REQ"))
        reply = await self._recv()
        while reply.msgtype != "PULL-DOC-REPLY":       # patches sent before the reply are already in it
            reply = await self._recv()
        for obj in _objects(reply.content["doc"]):
            css = [c for c in obj.get("attributes", {}).get("css_classes") or [] if c in self.WATCHED]
            if css:
                self.models[css[0]] = {"id": obj["id"], **obj["attributes"]}
                self._ids[obj["id"]] = css[0]
        missing = set(self.WATCHED) - set(self.models)
        if missing:
            raise RuntimeError(f"lesson widgets missing from the document: {sorted(missing)}")
        await self._patch(_bokeh_event("document_ready"))

    async def close(self) -> None:
        if self._ws is not None:
            self._ws.close()

    # --- what the student reads -------------------------------------------------------------------------
    def step(self) -> int:
        m = re.search(r"step (\d+) of (\d+)", self.models["lesson-counter"].get("text", ""))
        return int(m.group(1)) if m else -1

    def settled(self, k: int) -> bool:
        """Step ``k`` is shown and the page has applied all of its actions."""
        return self.step() == k and not self.models["lesson-waiting"].get("text")

    # --- what the student does ------------------------------------------------------------------------
    async def click(self, css: str) -> None:
        await self._patch(_bokeh_event("button_click", model={"id": self.models[css]["id"]}))

    async def choose(self, index: int) -> None:
        """Pick answer ``index`` of the radio group (the browser sends the new ``active`` value)."""
        model = self.models["lesson-choices"]
        model["active"] = index
        await self._patch({"kind": "ModelChanged", "model": {"id": model["id"]}, "attr": "active", "new": index})

    async def wait(self, done, timeout: float) -> None:
        """Apply the server's patches until ``done()`` holds."""
        deadline = time.perf_counter() + timeout
        while not done():
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"not done within {timeout:.0f} s (step {self.step()})")
            msg = await asyncio.wait_for(self._recv(), left)
            if msg.msgtype == "PATCH-DOC":
                self._apply(msg.content["events"])

    # --- protocol -------------------------------------------------------------------------------------
    def _apply(self, events: list[dict]) -> None:
        for ev in events:
            if ev.get("kind") == "ModelChanged" and ev["model"]["id"] in self._ids:
                self.models[self._ids[ev["model"]["id"]]][ev["attr"]] = ev["new"]

    async def _patch(self, event: dict) -> None:
        from bokeh.protocol.messages.patch_doc import patch_doc

        await self._send(patch_doc(patch_doc.create_header(), {}, {"events": [event]}))

    async def _send(self, msg) -> None:
        for part in (msg.header_json, msg.metadata_json, msg.content_json):
            await self._ws.write_message(part)

    async def _recv(self):
        while True:
            fragment = await self._ws.read_message()
            if fragment is None:
                raise ConnectionError("the server closed the websocket")
            msg = await self._receiver.consume(fragment)
            if msg is not None:
                return msg


async def _answer(student: Student, question, timeout: float) -> None:
    """Choose the right answer and check it; the server must say it is correct."""
    await student.choose(list(question.choices).index(question.answer))
    await student.click("lesson-check")
    await student.wait(lambda: "Correct" in student.models["lesson-feedback"].get("text", ""), timeout)


async def _follow(url: str, lesson: str, start_delay: float, all_open: asyncio.Barrier, timeout: float,
                  think: float, seed: int) -> dict:
    from app.lessons import lessons

    steps = lessons()[lesson].steps
    student = Student(url, lesson)
    rng = np.random.default_rng(seed)
    try:
        await asyncio.sleep(start_delay)    # students come in one after another, as in a classroom
        t0 = time.perf_counter()
        await student.open()
        await student.wait(lambda: student.settled(1), timeout)
        opened = time.perf_counter() - t0
        await all_open.wait()               # then everyone follows the lesson at the same time
        latencies = []
        for k in range(1, len(steps) + 1):
            if steps[k - 1].question is not None:
                await _answer(student, steps[k - 1].question, timeout)
            if k == len(steps):
                break
            await asyncio.sleep(rng.uniform(0, 2 * think))   # reading the step
            t = time.perf_counter()
            await student.click("lesson-next")
            await student.wait(lambda: student.settled(k + 1), timeout)
            latencies.append(time.perf_counter() - t)
        done = "lesson complete" in student.models["lesson-counter"].get("text", "")
        return {"opened_s": opened, "steps_s": latencies, "completed": done, "error": None}
    except Exception as exc:  # noqa: BLE001 - a failed student is counted, not fatal
        await all_open.abort()              # nobody waits at the barrier for a student who is not coming
        return {"opened_s": None, "steps_s": [], "completed": False, "error": f"step {student.step()}: {type(exc).__name__}: {exc}"}
    finally:
        await student.close()


async def _run(url: str, sessions: int, lesson: str, stagger: float, timeout: float, think: float) -> list[dict]:
    all_open = asyncio.Barrier(sessions)
    return await asyncio.gather(*[_follow(url, lesson, k * stagger, all_open, timeout, think, k)
                                  for k in range(sessions)])


def run_class(url: str, sessions: int = 30, lesson: str = "latent_space", stagger: float = 1.0,
              think: float = 0.0, timeout: float = 300.0) -> dict:
    """N students open ``lesson`` ``stagger`` s apart, then step through it together, each reading a step
    for a random 0–2×``think`` s before pressing Next (0: all press at the same instant); returns the summary."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:     # its own event loop, even when the caller has one running
        results = pool.submit(asyncio.run, _run(url, sessions, lesson, stagger, timeout, think)).result()
    steps = np.array([s for r in results for s in r["steps_s"]]) * 1e3
    opened = np.array([r["opened_s"] for r in results if r["opened_s"] is not None])
    pct = (lambda a, q: round(float(np.percentile(a, q)), 1) if a.size else None)
    return {"sessions": sessions, "lesson": lesson, "stagger_s": stagger, "think_s": think, "client": "bokeh websocket",
            "completed": sum(r["completed"] for r in results), "errors": [r["error"] for r in results if r["error"]],
            "steps_measured": int(steps.size), "step_ms_p50": pct(steps, 50), "step_ms_p95": pct(steps, 95),
            "step_ms_max": round(float(steps.max()), 1) if steps.size else None,
            "step_ms_p95_by_step": {f"{k + 1}→{k + 2}": pct(np.array([r["steps_s"][k] for r in results
                                                                        if len(r["steps_s"]) > k]) * 1e3, 95)
                                    for k in range(max((len(r["steps_s"]) for r in results), default=0))},
            "open_s_p50": pct(opened, 50), "open_s_p95": pct(opened, 95), "wall_s": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.app.lesson_load")
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--lesson", default="latent_space")
    parser.add_argument("--stagger", type=float, default=1.0, help="seconds between students opening the lesson")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a student reads a step before Next (0: everyone at once)")
    parser.add_argument("-o", "--output", type=Path, default=Path("bench-results/lesson_load.json"))
    args = parser.parse_args(argv)
    summary = run_class(args.url, args.sessions, args.lesson, args.stagger, args.think)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0 if summary["completed"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
