"""The vetting page: the next candidate this user has not voted on (most uncertain first), its preview and
the model's output, vote buttons with keyboard shortcuts, the comment thread, and the consensus as it
grows. Everything is read from and written to the shared vetting store; the page polls the campaign's
revision once a second, so votes cast in other sessions, processes or hosts appear without a reload.

``state.py`` holds the state and store calls (no widgets), ``text.py`` the HTML texts, ``preview.py`` the
candidate's Bokeh preview, ``page.py`` the view.
"""
from ..spec import PageSpec
from .page import VettingPage
from .state import VettingState

__all__ = ["SPEC", "VettingPage", "VettingState"]

TITLE = "Vetting"
BLURB = ("Vet the models' candidates together: the most uncertain first, a preview with units, one key "
         "per label, comment threads, and the consensus (majority and a reliability-weighted "
         "Dawid–Skene estimate) growing live as others vote. Admins export it with provenance.")
SPEC = PageSpec(slug="vetting", title=TITLE, blurb=BLURB, factory=VettingPage, order=50)
