"""The Plex library: browsing, search, collections and scans on the connected Plex server."""
