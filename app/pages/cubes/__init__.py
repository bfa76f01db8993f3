"""The HI cube page: a folder for the page and the tools only it uses (regions, contours, PV, catalogues)."""
from .page import PAGE, CubePage

__all__ = ["CubePage", "PAGE"]
