"""MediaNest: one login for everything around a Plex server."""

__version__ = "0.1.0"
