"""The spectra page: a survey's spectra in a 2-D map (UMAP, t-SNE, VAE latent or PCA) coloured by class,
uncertainty, anomaly score or redshift; lasso or box a region and read its spectra and table; the
classifier's confusion matrix, whose cells select their spectra; the most unexpected spectra; export.

``state`` holds what the page knows (UI-free), ``page`` draws it, ``lessons`` is what a lesson may do here."""
from __future__ import annotations

from ..spec import PageSpec
from .lessons import LESSON_ACTIONS
from .page import SpectraPage
from .state import SpectraState

__all__ = ["SPEC", "SpectraPage", "SpectraState", "LESSON_ACTIONS"]

TITLE = "Spectra"
BLURB = ("Tens of thousands of spectra in UMAP, t-SNE, VAE-latent or PCA maps, coloured by class, "
         "uncertainty or anomaly score: lasso a region and read its spectra, check the 13-class "
         "classifier's confusion matrix cell by cell, open the most unexpected spectra, export a selection.")

SPEC = PageSpec(slug="spectra", title=TITLE, blurb=BLURB, factory=SpectraPage, order=30, actions=LESSON_ACTIONS)
