"""The deblending page: a folder for its state (:mod:`.state`), its view and the figures only it uses."""
from ..spec import PageSpec
from .lessons import LESSON_ACTIONS
from .state import DeblendState
from .view import DeblendPage

__all__ = ["DeblendPage", "DeblendState", "SPEC"]

TITLE = "Deblending"
BLURB = ("Overlapping galaxies on g, r, i, z images: a colour composite with the segmentation masks "
         "of a deblending network and of sep (SExtractor) and photutils, per-source photometry side "
         "by side (and the truth on the simulated demo field), each galaxy's deblended image and "
         "residuals. Open the demo field or upload multi-band FITS.")
SPEC = PageSpec(slug="deblend", title=TITLE, blurb=BLURB, factory=DeblendPage, order=20, actions=LESSON_ACTIONS)
