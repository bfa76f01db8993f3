"""Galaxy deblending: the shipped detector + splitter networks and the sep / photutils baselines."""
from .classic import photutils_deblend, sep_deblend
from .model import DeblendResult, model_deblend
from .notes import model_notes
from .run import METHODS, deblend, deblend_all, joined_table, model_image

__all__ = ["METHODS", "deblend", "deblend_all", "model_image", "joined_table", "DeblendResult", "model_deblend", "sep_deblend",
           "photutils_deblend", "model_notes"]
