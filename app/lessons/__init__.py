"""Guided lessons as data: one YAML file per lesson in this folder, read and checked by ``load_lesson``.

A lesson names the page it runs on and a list of steps. A step has a title and Markdown text, may set
the page's state (``set``: page parameters; ``do``: named actions such as ``detect`` or
``select_cell``, see app/pages/learn.py) and may ask a question with choices and one right answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = ["Lesson", "Step", "Question", "load_lesson", "lessons", "LessonError", "LESSON_DIR"]

LESSON_DIR = Path(__file__).resolve().parent


class LessonError(ValueError):
    """A lesson file that cannot be used: its message names the file and what is wrong."""


@dataclass(frozen=True)
class Question:
    """A multiple-choice question; ``explain`` is shown after any answer."""

    prompt: str
    choices: tuple[str, ...]
    answer: str
    explain: str = ""

    def check(self, choice: str | None) -> bool:
        """Whether ``choice`` is the right answer."""
        return choice == self.answer


@dataclass(frozen=True)
class Step:
    """One screen of a lesson: text, page state to set, actions to run, and perhaps a question."""

    title: str
    text: str
    set: dict = field(default_factory=dict)
    do: tuple[tuple[str, object], ...] = ()
    question: Question | None = None


@dataclass(frozen=True)
class Lesson:
    """A named walk through one page."""

    slug: str
    title: str
    page: str
    summary: str
    steps: tuple[Step, ...]
    order: int = 0


def _step(raw: dict, where: str) -> Step:
    if not isinstance(raw, dict) or "title" not in raw or "text" not in raw:
        raise LessonError(f"{where}: every step needs a title and text")
    q = raw.get("question")
    question = None
    if q is not None:
        choices = tuple(str(c) for c in q.get("choices", ()))
        if len(choices) < 2 or str(q.get("answer")) not in choices:
            raise LessonError(f"{where}: a question needs two or more choices, one of them the answer")
        question = Question(str(q["prompt"]), choices, str(q["answer"]), str(q.get("explain", "")))
    do = raw.get("do") or []
    if isinstance(do, dict):
        do = [do]
    actions = tuple((str(k), v) for item in do for k, v in (item.items() if isinstance(item, dict) else [(item, None)]))
    return Step(str(raw["title"]), str(raw["text"]), dict(raw.get("set") or {}), actions, question)


def load_lesson(path: str | Path) -> Lesson:
    """Read and check one lesson file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LessonError(f"{path.name}: {exc}") from exc
    if not isinstance(raw, dict) or not raw.get("steps") or "page" not in raw or "title" not in raw:
        raise LessonError(f"{path.name}: a lesson needs a title, a page and steps")
    steps = tuple(_step(s, f"{path.name} step {k + 1}") for k, s in enumerate(raw["steps"]))
    return Lesson(path.stem, str(raw["title"]), str(raw["page"]), str(raw.get("summary", "")), steps,
                  int(raw.get("order", 0)))


def lessons() -> dict[str, Lesson]:
    """Every lesson shipped in this folder, by slug, in their ``order``."""
    found = [load_lesson(p) for p in LESSON_DIR.glob("*.yaml")]
    return {lesson.slug: lesson for lesson in sorted(found, key=lambda x: (x.order, x.slug))}
