"""Guided lessons: a lesson (app/lessons/*.yaml) walks a class through one science page step by step.

Each step's text sits in a panel above the live page; entering a step sets the page's state (channel,
stretch, projection, ...) and runs its actions (detect, deblend, select a confusion cell, ...). An
action the page is not ready for yet (the survey still being analysed, detection still running) is
retried every half second until it applies. Questions check the answer. Lecturer mode enlarges
everything for a projector. The lesson and step are in the URL, so a link opens the same step.
"""
from __future__ import annotations

import logging

import numpy as np
import panel as pn
import param

from ..components.locking import every, with_document_lock
from ..components.url_state import copy_link_button, sync_url
from ..components.zoom import PageZoom
from ..lessons import Lesson, lessons
from .spec import PageSpec, page_spec

__all__ = ["SPEC", "LearnPage"]

log = logging.getLogger(__name__)

TITLE = "Lessons"
BLURB = ("Guided demos for teaching: step through finding HI in a cube, why deblending biases "
         "photometry, reading a latent space and a confusion matrix, posteriors and their coverage, "
         "and cosmology from one galaxy, on the live pages, with questions along the way. Lecturer "
         "mode makes everything larger.")

RETRY_MS = 500
LECTURER_ZOOM = 1.35


class LearnPage(pn.viewable.Viewer):
    """The lesson list, or one lesson: its step panel above the live page it runs on."""

    lesson = param.String(default="", doc="Slug of the open lesson ('' lists them)")
    step = param.Integer(default=0, bounds=(0, None), doc="Step shown (0-based)")
    lecturer = param.Boolean(default=False, label="Lecturer mode (larger)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.available = lessons()
        self.current: Lesson | None = None
        self.target = None
        self._pending: list[tuple[str, object]] = []
        self._shown: int | None = None          # the step shown last (None: none yet in this lesson)
        self._callback = None
        self.progress = pn.indicators.Progress(value=0, max=100, width=260, css_classes=["lesson-progress"])
        self.counter = pn.pane.HTML("", css_classes=["lesson-counter"], styles={"font-size": "13px"})
        self.title = pn.pane.Markdown("", css_classes=["lesson-title"], margin=(0, 10))
        self.text = pn.pane.Markdown("", css_classes=["lesson-text"], styles={"font-size": "15px"}, margin=(0, 10),
                                     sizing_mode="stretch_width")
        self.waiting = pn.pane.HTML("", css_classes=["lesson-waiting"], styles={"font-size": "13px", "color": "#8a5a00"})
        self.choices = pn.widgets.RadioBoxGroup(options=[], value=None, css_classes=["lesson-choices"], inline=False)
        self.check = pn.widgets.Button(label="Check my answer", width=160, css_classes=["lesson-check"])
        self.check.on_click(lambda e: with_document_lock(lambda: self.answer(self.choices.value)))
        self.feedback = pn.pane.HTML("", css_classes=["lesson-feedback"], styles={"font-size": "14px"})
        self.choices.param.watch(lambda e: setattr(self.feedback, "object", ""), "value")  # a new choice, no verdict yet
        self.question = pn.Column(pn.pane.Markdown("", css_classes=["lesson-prompt"]), self.choices, self.check,
                                  self.feedback, visible=False)
        self.back = pn.widgets.Button(label="← Back", width=100, css_classes=["lesson-back"])
        self.next = pn.widgets.Button(label="Next →", color="primary", width=100, css_classes=["lesson-next"])
        self.restart = pn.widgets.Button(label="Restart", width=100, css_classes=["lesson-restart"])
        # clicks can be processed outside the document lock: move on the next tick, locked
        self.back.on_click(lambda e: with_document_lock(lambda: self.go(self.step - 1)))
        self.next.on_click(lambda e: with_document_lock(lambda: self.go(self.step + 1)))
        self.restart.on_click(lambda e: with_document_lock(lambda: self.go(0)))
        self.zoom = PageZoom(zoom=LECTURER_ZOOM if self.lecturer else 1.0)
        self.copy_link = copy_link_button()
        sync_url(self, {"lesson": "lesson", "step": "step", "lecturer": "lecturer"})
        self._open()
        self.param.watch(lambda e: self._open(), "lesson")
        self.param.watch(lambda e: self._show_step(), "step")

    # --- opening and moving --------------------------------------------------------------------------
    def _open(self) -> None:
        self.current = self.available.get(self.lesson)
        self.target = page_spec(self.current.page).factory() if self.current else None
        self._shown = None
        if self.current is not None:
            self.step = min(self.step, len(self.current.steps) - 1)
            self._show_step()

    def go(self, step: int) -> None:
        """Show step ``step`` (clipped to the lesson)."""
        if self.current is not None:
            self.step = int(np.clip(step, 0, len(self.current.steps) - 1))

    def _show_step(self) -> None:
        lesson, k = self.current, self.step
        if lesson is None:
            return
        s = lesson.steps[k]
        last = k == len(lesson.steps) - 1
        self.counter.object = f"<b>{lesson.title}</b> · step {k + 1} of {len(lesson.steps)}" + (
            " · <span class='lesson-done'>lesson complete ✓</span>" if last else "")
        self.progress.value = int(100 * (k + 1) / len(lesson.steps))
        self.title.object = f"### {s.title}"
        self.text.object = s.text
        self.back.disabled, self.next.disabled = k == 0, last
        self.question.visible = s.question is not None
        if s.question is not None:
            self.question[0].object = f"**{s.question.prompt}**"
            self.choices.param.update(options=list(s.question.choices), value=None)
            self.feedback.object = ""
        # Next applies this step's settings on top of the page as the class left it; a jump (a link to a
        # step, Back, Restart) applies every setting up to this step, so the page is as the lesson has it
        forward = self._shown is not None and k == self._shown + 1
        self._shown = k
        settings = dict(s.set) if forward else {key: v for step in lesson.steps[:k + 1] for key, v in step.set.items()}
        self._apply(settings, s.do)

    def _apply(self, settings: dict, actions: list) -> None:
        """Set the page's state, then run the step's actions (those not ready yet are retried)."""
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in settings.items()}
        try:
            self.target.param.update(values)  # one re-render
            values = {}
        except Exception:
            pass
        for name, value in values.items():  # something did not fit: apply the rest one by one
            try:
                self.target.param.update({name: value})
            except Exception as exc:  # a lesson must never break the page: log it and go on
                log.warning("lesson %s step %s: %s = %r not applied: %s", self.lesson, self.step, name, value, exc)
        self._pending = list(actions)
        self._retry()

    def _retry(self) -> None:
        actions = page_spec(self.current.page).actions if self.current else {}
        still = []
        for name, value in self._pending:
            try:
                done = actions[name](self.target, value)
            except Exception as exc:
                log.warning("lesson action %s failed: %s", name, exc)
                done = True
            if not done:
                still.append((name, value))
        self._pending = still
        self.waiting.object = "The page is still working on this step…" if still else ""
        if still and self._callback is None:
            self._callback = every(self._tick, RETRY_MS)

    def _tick(self) -> None:
        self._retry()
        if not self._pending and self._callback is not None:
            self._callback()
            self._callback = None

    # --- questions and lecturer mode -----------------------------------------------------------------
    def answer(self, choice: str | None) -> bool:
        """Check the answer to this step's question and say whether it is right."""
        q = self.current.steps[self.step].question if self.current else None
        if q is None:
            return False
        if choice is None:
            self.feedback.object = "<span class='lesson-wrong'>Choose an answer first.</span>"
            return False
        right = q.check(choice)
        self.feedback.object = (f"<span class='lesson-right' style='color:#1a7f37'>✔ Correct.</span> {q.explain}" if right
                                else "<span class='lesson-wrong' style='color:#c62828'>✘ Not quite: that is not "
                                     "it. Think again and try another answer.</span>")
        return right

    @param.depends("lecturer", watch=True)
    def _lecturer(self) -> None:
        self.zoom.zoom = LECTURER_ZOOM if self.lecturer else 1.0

    # --- layout ----------------------------------------------------------------------------------------
    def _catalogue(self):
        cards = [pn.pane.HTML(f"<div class='lesson-card' style='border:1px solid #ccd;border-radius:6px;padding:10px 14px;"
                              f"width:360px'><h4 style='margin:0 0 6px 0'>{lesson.title}</h4>"
                              f"<div style='font-size:13px;color:#444'>{lesson.summary}</div>"
                              f"<div style='margin-top:8px'><a class='lesson-start' href='./learn?lesson={slug}'>"
                              f"Start ({len(lesson.steps)} steps, on the {lesson.page} page) →</a></div></div>")
                 for slug, lesson in self.available.items()]
        return pn.Column("## Lessons", pn.pane.Markdown(
            "Each lesson walks through a live page: it sets the view for you, runs the models, and asks a "
            "question now and then. Share a step with **Copy link**; *Lecturer mode* enlarges everything "
            "for a projector."), pn.FlexBox(*cards), self.zoom)

    def __panel__(self):
        if self.current is None:
            return self._catalogue()
        panel = pn.Card(
            pn.Row(self.counter, self.progress, pn.widgets.Checkbox.from_param(self.param.lecturer,
                                                                             css_classes=["lesson-lecturer"]),
                   self.copy_link, align="center"),
            self.title, self.text, self.waiting, self.question, pn.Row(self.back, self.next, self.restart),
            self.zoom, title="Lesson", collapsible=True, sizing_mode="stretch_width", css_classes=["lesson-panel"],
            styles={"background": "#f6f8fc"})
        return pn.Column(panel, self.target, sizing_mode="stretch_width")

SPEC = PageSpec(slug="learn", title=TITLE, blurb=BLURB, factory=LearnPage, order=60)
