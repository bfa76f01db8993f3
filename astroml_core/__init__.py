"""AstroML Explorer's science core: data, simulators, models, tasks, metrics and services.

Importable without Panel, Bokeh or HoloViews; the app is one client of it.
"""
__all__ = ["__version__"]
__version__ = "0.1.0"
