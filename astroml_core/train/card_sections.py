"""Sections a later command adds to a shipped model card (the foreign test set, the real-file corpus),
replaced in place on a rerun, so the card reports all three test sets without retraining."""
from __future__ import annotations

import json

from ..registry import MODEL_DIR, read_card, write_card

__all__ = ["put_section"]


def _marker(key: str) -> tuple[str, str]:
    return f"<!-- section:{key} -->", f"<!-- /section:{key} -->"


def put_section(name: str, key: str, front_value: dict, markdown: str, model_dir=MODEL_DIR) -> None:
    """Set ``front[key]`` and the card body's section ``key`` (between markers; appended when new)."""
    front, body = read_card(name, model_dir)
    front[key] = json.loads(json.dumps(front_value, default=str))     # plain YAML types
    start, end = _marker(key)
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    if start in body and end in body:
        head, rest = body.split(start, 1)
        body = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        body = body.rstrip("\n") + "\n\n" + block
    write_card(name, front, body, model_dir)
