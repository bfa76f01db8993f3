"""The landing page: what AstroML Explorer is for, what each page does, and what this server offers."""
from __future__ import annotations

from pathlib import Path

import panel as pn

from astroml_core.config import settings
from astroml_core.data import list_fits

from .spec import PageSpec

__all__ = ["LandingPage"]

INTRO = """
# AstroML Explorer

Look at what machine-learning models see in astronomical data — and check it against the data
itself. Everything runs on this server: FITS files with their WCS, trained models shipped with
model cards, classic baselines beside them. Nothing is downloaded at run time.
"""
SCREENSHOTS = Path(__file__).resolve().parents[2] / "assets" / "screenshots"


class LandingPage(pn.viewable.Viewer):
    """A card per page (what it is for, a preview, a link) and a summary of this server's data."""

    def __init__(self, pages: list[PageSpec], **params) -> None:
        super().__init__(**params)
        self._pages = pages

    def _card(self, page: PageSpec) -> pn.viewable.Viewable:
        link = f"<a class='page-link' href='./{page.slug}' style='font-size:17px'>Open {page.title} →</a>"
        preview = SCREENSHOTS / f"{page.slug}.png"
        items = [pn.pane.Markdown(page.blurb, styles={"font-size": "15px"}), pn.pane.HTML(link)]
        if preview.exists():
            items.insert(0, pn.pane.PNG(str(preview), width=440, margin=(5, 10)))
        return pn.Card(*items, title=page.title, collapsible=False, width=480, margin=10,
                       header_background="#1f2a44", header_color="white", css_classes=["page-card"],
                       styles={"font-size": "16px"})

    @staticmethod
    def _server() -> pn.viewable.Viewable:
        cfg = settings()
        files = list_fits(cfg.data_root)
        text = (f"**Data root** {len(files)} FITS file{'s' if len(files) != 1 else ''} "   # not its server path
                f"can be opened by path  \n**Uploads** up to {cfg.max_upload_bytes / 2**20:,.0f} MB, "
                f"deleted when the session ends  \n**Largest file opened** {cfg.max_cube_bytes / 2**30:,.0f} GB")
        return pn.Card(pn.pane.Markdown(text, styles={"font-size": "14px"}), title="This server", width=480,
                       margin=10, collapsible=False, css_classes=["server-card"])

    def __panel__(self):
        return pn.Column(pn.pane.Markdown(INTRO, styles={"font-size": "15px"}),
                         pn.FlexBox(*[self._card(p) for p in self._pages], self._server()),
                         sizing_mode="stretch_width")
