"""Spectra: the 13-class ensemble classifier with uncertainties and anomaly score, 2-D survey maps."""
from .classify import Classification, classify, classify_arrays
from .embed import METHODS as EMBEDDINGS, Embedding, embed, place
from .survey import Survey, add_embedding, analyse, points_in_box, points_in_polygon, selection_table

__all__ = ["Classification", "classify", "classify_arrays", "EMBEDDINGS", "Embedding", "embed", "place", "Survey",
           "analyse", "add_embedding", "points_in_box", "points_in_polygon", "selection_table"]
