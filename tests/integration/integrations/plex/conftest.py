"""The fake Plex server, started once per module, for the server adapter's tests."""

from tests.support.plex import fake, plex_server

# A module's own fixtures of the same name win over these.
__all__ = ["fake", "plex_server"]
