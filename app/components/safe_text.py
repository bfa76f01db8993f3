"""The one place where text from a user, a link or a file becomes page content.

Panel's HTML, Markdown, Alert and Str panes all send markup to the browser (Panel even runs the
``<script>`` tags an HTML pane holds), so anything not written by us goes through one of these first.
"""
from __future__ import annotations

import html
import re

__all__ = ["html_text", "md_text", "pre_text"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def html_text(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and quotes become entities, so it can never be markup."""
    return html.escape(str(value), quote=True)


def md_text(value: object) -> str:
    """``value`` as Markdown text: HTML-escaped, and Markdown's punctuation backslash-escaped, so no
    link, emphasis or heading can be made from it."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False).replace("\n", " "))


def pre_text(value: object) -> str:
    """``value`` as preformatted HTML (a FITS header, a log): escaped, line breaks kept."""
    return f"<pre style='margin:0;white-space:pre'>{html_text(value)}</pre>"
