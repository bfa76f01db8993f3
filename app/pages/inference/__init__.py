"""The inference page: a folder for its state (:mod:`.state`), its view and the figures only it uses."""
from ..spec import PageSpec
from .lessons import LESSON_ACTIONS
from .state import InferenceState
from .view import InferencePage

__all__ = ["InferencePage", "InferenceState", "SPEC"]

TITLE = "Inference"
BLURB = ("Posteriors instead of points: six reionisation and cosmology parameters from a 21 cm "
         "lightcone (corner plot with the truth), Ω_m from one galaxy and from several galaxies of "
         "one universe, and the held-out checks that say whether the posteriors are calibrated.")
SPEC = PageSpec(slug="inference", title=TITLE, blurb=BLURB, factory=InferencePage, order=40, actions=LESSON_ACTIONS)
