"""The landing page: what AstroML Explorer is for and what each page does."""
from __future__ import annotations

import panel as pn

__all__ = ["LandingPage"]

INTRO = """
# AstroML Explorer

Look at what machine-learning models see in astronomical data — and check it against the data itself.
Everything runs on this server: FITS files with their WCS, trained models shipped with model cards,
classic baselines beside them. Nothing is downloaded at run time.

Pick a page:
"""


class LandingPage(pn.viewable.Viewer):
    """A card per page, with what it is for and a link to it."""

    def __init__(self, pages: list[dict], **params) -> None:
        super().__init__(**params)
        self._pages = pages

    def _card(self, page: dict) -> pn.viewable.Viewable:
        link = f"<a class='page-link' href='./{page['slug']}'>Open {page['title']} →</a>"
        return pn.Card(
            pn.pane.Markdown(page["blurb"], styles={"font-size": "15px"}),
            pn.pane.HTML(link, styles={"font-size": "16px"}),
            title=page["title"], collapsible=False, width=420, margin=10,
            css_classes=["page-card"],
        )

    def __panel__(self):
        return pn.Column(pn.pane.Markdown(INTRO, styles={"font-size": "15px"}),
                         pn.FlexBox(*[self._card(p) for p in self._pages]), sizing_mode="stretch_width")
