"""The login and logout pages' HTML, the cookies' options, and plain-text errors for their handlers."""
from __future__ import annotations

import html
import math

from tornado.web import HTTPError, RequestHandler

__all__ = ["PAGE", "LOGIN_FORM", "MESSAGES", "page_html", "safe_next", "cookie_options", "PlainErrors"]

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · AstroML Explorer</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f6f8; color: #1d2733; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 2px 12px rgba(0, 0, 0, .12); }}
h1 {{ font-size: 1.3rem; margin: 0 0 1rem; }}
label {{ display: block; margin: .8rem 0 .2rem; font-size: .9rem; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem;
       border: 1px solid #b8c2cc; border-radius: 4px; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0; border-radius: 4px;
         background: #1f5fa8; color: #fff; cursor: pointer; }}
.error {{ color: #a4161a; background: #fde8e8; padding: .5rem; border-radius: 4px; font-size: .9rem; }}
a {{ color: #1f5fa8; }}
</style></head>
<body><main>{body}</main></body></html>
"""

LOGIN_FORM = """<h1>Log in to AstroML Explorer</h1>
{message}
<form action="{action}" method="post" autocomplete="on">
<input type="hidden" name="_csrf" value="{csrf}">
<label for="username">User name</label>
<input type="text" id="username" name="username" maxlength="{max_name}" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" maxlength="{max_password}" required>
<button type="submit">Log in</button>
</form>
<p><a href="./">Continue as a guest</a></p>"""

MESSAGES = {"invalid": "Invalid username or password!"}


def page_html(title: str, body: str) -> str:
    return PAGE.format(title=html.escape(title), body=body)


def safe_next(url: str | None) -> str:
    """``url`` if it is a path on this server, else "/" (never another site: no scheme, no ``//``)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or any(c < " " for c in url):
        return "/"
    return url


def cookie_options(handler: RequestHandler, **extra) -> dict:
    """HttpOnly, SameSite=Lax, on the configured path, and Secure when the request came over https
    (behind a proxy only when ``--behind-proxy`` trusts its X-Forwarded-Proto)."""
    from panel.config import config

    return dict(httponly=True, samesite="Lax", path=config.cookie_path, secure=handler.request.protocol == "https",
                **extra)


class PlainErrors(RequestHandler):
    """Errors as one line of plain text (no template, nothing echoed)."""

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = exc.log_message if isinstance(exc, HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{message}\n")

    def _refuse(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.set_status(status)
        if retry_after is not None:
            self.set_header("Retry-After", str(max(1, math.ceil(retry_after))))
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(f"{message}\n")
