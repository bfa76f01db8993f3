"""The real-file corpus: observations no one here made, taken from package distributions (see files.py)."""
