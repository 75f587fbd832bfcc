"""Requests: discover and search through Overseerr/Seerr, request as yourself, follow it to Plex."""
