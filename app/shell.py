"""The one template every page lives in: header, navigation to each page, the page's content."""
from __future__ import annotations

from typing import Callable

import panel as pn

from .components.figure_format import FigureFormat
from .components.paint_cache import install as install_paint_cache
from .components.saved_views import SavedViews
from .pages.landing import LandingPage
from .pages.spec import page_spec, pages

__all__ = ["routes", "build"]


def _nav(active: str) -> pn.pane.HTML:
    items = [("", "Home")] + [(p.slug, p.title) for p in pages()]
    links = "".join(
        f"<li><a href='./{slug}' class='nav-link{' active' if slug == active else ''}'"
        f" style='font-weight:{'700' if slug == active else '400'}'>{label}</a></li>"
        for slug, label in items)
    return pn.pane.HTML(f"<ul class='app-nav' style='list-style:none;padding-left:4px;line-height:2.2;"
                        f"font-size:16px'>{links}</ul>", css_classes=["app-nav"])


class ShellTemplate(pn.template.BootstrapTemplate):
    """Bootstrap's template, attached to its document in one pass: Bokeh recomputes the document's whole
    model graph after every root added (about ten for a page), and all of that runs on the event loop
    every visitor shares; freezing it once saves ~0.15 s of each page load on 2 cores."""

    def server_doc(self, doc=None, title=None, location=True):
        doc = doc or pn.state.curdoc
        if doc is None:
            return super().server_doc(doc, title, location)
        with doc.models.freeze():
            return super().server_doc(doc, title, location)


def build(slug: str) -> pn.template.base.BasicTemplate:
    """A fresh template for one session of the page ``slug`` ('' is the landing page)."""
    install_paint_cache(pn.state.curdoc)
    content = LandingPage(pages()) if slug == "" else page_spec(slug).factory()
    title = "Home" if slug == "" else page_spec(slug).title
    template = ShellTemplate(
        title=f"AstroML Explorer · {title}", sidebar=[_nav(slug), SavedViews(), FigureFormat()], main=[content], sidebar_width=220,
        header_background="#1f2a44")
    return template


def routes() -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """URL path → a function building that page's template for one session (every registered page)."""
    return {"/": lambda: build(""), **{f"/{p.slug}": (lambda s=p.slug: build(s)) for p in pages()}}
