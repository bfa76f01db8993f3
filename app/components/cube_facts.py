"""Moved to app/pages/cubes/cube_facts.py (only the cube page uses it); this name stays until regions.py imports it from there."""
from ..pages.cubes.cube_facts import *  # noqa: F401,F403
