"""Parameter inference: posteriors from 21 cm lightcones and from one (or several) galaxies."""
from .galaxy import DEMO_UNIVERSES, CombinedPosterior, combined_posterior, demo_universe, galaxy_column_titles, galaxy_table
from .lightcone import LightconeData, grid_notes, lightcone_posterior, model_input, open_lightcone, parameter_unit, posterior_summary

__all__ = ["DEMO_UNIVERSES", "CombinedPosterior", "combined_posterior", "demo_universe", "galaxy_column_titles", "galaxy_table",
           "LightconeData", "grid_notes", "lightcone_posterior", "model_input", "open_lightcone", "parameter_unit", "posterior_summary"]
