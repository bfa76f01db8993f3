"""The cube page's HI sources panel: Detect through the app's job runner, the catalogue's table and ellipses,
compare mode against the truth, saliency, exports."""
from .panel import DetectionPanel
from .shapes import FALSE, MATCHED, MISSED

__all__ = ["DetectionPanel", "MATCHED", "FALSE", "MISSED"]
