"""The Plex adapters one MediaNest process shares: the plex.tv client and one Plex Media Server
client per address. Sign-in (auth), browsing and the sync (plex) and the connection test all
call through these; they are built before those domains and closed after them."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexTvClient, build_plex_tv_client


def plex_client_identifier(secret_key: str) -> str:
    """The X-Plex-Client-Identifier: stable for the installation and the same on every process
    (they share the secret key), without storing anything."""
    digest = hmac.new(secret_key.encode(), b"plex-client-identifier", hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass(kw_only=True)
class PlexUpstream(Domain):
    plex_tv: PlexTvClient
    servers: PlexServers


def build_plex_upstream(platform: Platform) -> PlexUpstream:
    settings = platform.settings
    assert settings.secret_key is not None, "with_secrets() fills it"
    client_identifier = plex_client_identifier(settings.secret_key.get_secret_value())
    plex_tv = build_plex_tv_client(settings, platform.breakers, platform.metrics, client_identifier)
    servers = PlexServers(
        settings, platform.breakers, platform.metrics, client_identifier=client_identifier
    )

    async def close() -> None:
        await plex_tv.aclose()
        await servers.aclose()

    return PlexUpstream(name="plex-upstream", stop=close, plex_tv=plex_tv, servers=servers)
