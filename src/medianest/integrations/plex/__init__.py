"""Plex on the wire: plex.tv (`tv.py`: PIN sign-in, accounts, servers, friends) and the Plex Media
Server (`server.py`: libraries, items, search, collections, scans, images, identity).

`wire.py` reads the server's JSON into `schemas.py`; `errors.py` holds what these calls raise.
"""
