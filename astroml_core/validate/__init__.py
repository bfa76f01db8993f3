"""Checks a reviewer runs by hand (not in CI): our simulators against the community's codes."""
