"""The fake Plex server and fake plex.tv, started once per module, and who signs in to a MediaNest
connected to them: shared by the Plex tests."""

from tests.integration.auth.conftest import admin
from tests.support.plex import fake, friend, plex_server, plex_settings, plex_tv, plex_tv_server

# Each module's own `fake` and `medianest` win over these.
__all__ = ["admin", "fake", "friend", "plex_server", "plex_settings", "plex_tv", "plex_tv_server"]
