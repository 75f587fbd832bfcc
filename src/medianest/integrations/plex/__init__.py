"""Plex on the wire: plex.tv (`tv.py`: PIN sign-in, accounts, servers, friends) and the Plex Media
Server (`server.py`: libraries, items, search, collections, scans, images, identity).

`servers.py` hands out one client per server address (and probing ones for the connection
test); `transport.py` sends a call and says what its status means; `checks.py` checks what goes
out; `wire.py` reads the server's JSON into `schemas.py`; `errors.py` holds what they raise.
"""
