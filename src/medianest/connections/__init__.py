"""Connections to the services around MediaNest: the Plex server now, Overseerr and Uptime
Kuma later."""
