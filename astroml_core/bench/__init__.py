"""Benchmarks: ``python -m astroml_core.bench <name>`` writes JSON figures (speed and memory targets live here)."""
