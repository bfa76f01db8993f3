"""The HI cube page: a folder for the page and the tools only it uses (regions, contours, PV, catalogues)."""
from ..spec import PageSpec
from .lessons import LESSON_ACTIONS
from .page import CubePage

__all__ = ["CubePage", "SPEC"]

BLURB = ("Browse radio HI data cubes slice by slice: channel player with frequency and velocity, "
         "sky axes from the WCS, DS9-style stretches, moment-0 and peak maps, the spectrum under "
         "any pixel; HI sources found by a 3-D network or a SoFiA-style baseline, drawn on the cube, "
         "with a linked catalogue and exports. Open the SDC2-style demo cube, upload a FITS cube, "
         "or open one on the server.")
SPEC = PageSpec(slug="cubes", title="HI cubes", blurb=BLURB, factory=CubePage, order=10, actions=LESSON_ACTIONS)
