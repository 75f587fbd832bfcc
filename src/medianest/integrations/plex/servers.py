"""Clients for Plex Media Servers by address: one per server for every domain, and probing ones.

Browsing, syncing and sign-in all call the connected server: they share one `PlexServerClient`,
so one connection pool and the one Plex breaker. Trying an address before it is saved gets a
client of its own for the length of the test, past the breaker (`transport.py` says why).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from medianest.config import Settings
from medianest.core.http_client import create_http_client
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers, Upstream
from medianest.integrations.plex.errors import PLEX_SERVER
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.transport import ServerTransport
from medianest.integrations.plex.tv import plex_tv_headers


class PlexServers:
    """One `PlexServerClient` per server address, each closed by `aclose()`."""

    def __init__(
        self, settings: Settings, breakers: Breakers, metrics: Metrics, *, client_identifier: str
    ) -> None:
        self._settings = settings
        self._breakers = breakers
        self._metrics = metrics
        self._client_identifier = client_identifier
        self._clients: dict[str, PlexServerClient] = {}

    def client(self, url: str) -> PlexServerClient:
        """The client for the server at `url`, made on first use."""
        url = url.rstrip("/")
        found = self._clients.get(url)
        if found is None:
            found = build_plex_server_client(
                self._settings,
                self._breakers,
                self._metrics,
                url=url,
                client_identifier=self._client_identifier,
            )
            self._clients[url] = found
        return found

    @asynccontextmanager
    async def probing(self, url: str) -> AsyncIterator[PlexServerClient]:
        """A probing client for the server at `url`, closed after the block: it reads only
        `identity()` and `server_info()`, each tried once, and raises `PlexProbeFailed`."""
        client = PlexServerClient(ServerTransport(None, http_client=self._http_client(url)))
        try:
            yield client
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _http_client(self, url: str) -> httpx.AsyncClient:
        return _http_client(self._settings, url, self._client_identifier)


def build_plex_server_client(
    settings: Settings, breakers: Breakers, metrics: Metrics, *, url: str, client_identifier: str
) -> PlexServerClient:
    """The adapter for the server at `url` with its own HTTP client, closed by `aclose()`."""
    http_client = _http_client(settings, url, client_identifier)
    upstream = Upstream(PLEX_SERVER, http_client, breakers, metrics)
    return PlexServerClient(ServerTransport(upstream, http_client=http_client))


def _http_client(settings: Settings, url: str, client_identifier: str) -> httpx.AsyncClient:
    return create_http_client(
        settings, base_url=url.rstrip("/"), headers=plex_tv_headers(client_identifier)
    )
