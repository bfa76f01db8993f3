"""AstroML Explorer's Panel UI: pages, shared components and the server entry point (no science here)."""
