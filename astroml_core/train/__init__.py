"""``python -m astroml_core.train <name>`` rebuilds each shipped weight file from nothing and rewrites its card."""
