"""The Overseerr adapter one MediaNest process shares: one client for the connected Overseerr
(or Seerr), made again when its address or key changes, and probing clients for the admin's test.
Built before the domains that call it and closed after them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from medianest.config import Settings
from medianest.core.domain import Domain
from medianest.core.http_client import client_key, create_http_client
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers, Upstream
from medianest.core.runtime import Platform
from medianest.integrations.overseerr.client import OverseerrClient
from medianest.integrations.overseerr.errors import OVERSEERR


class OverseerrClients:
    def __init__(self, settings: Settings, breakers: Breakers, metrics: Metrics) -> None:
        self._settings = settings
        self._breakers = breakers
        self._metrics = metrics
        self._current: tuple[str, OverseerrClient] | None = None
        self._retired: list[OverseerrClient] = []

    def client(self, url: str, api_key: str) -> OverseerrClient:
        """The client for this address and key; the one for an earlier pair is retired (closed
        at `aclose()`, not now: a call may still be using it)."""
        identity = client_key(url, api_key)
        if self._current is not None and self._current[0] == identity:
            return self._current[1]
        if self._current is not None:
            self._retired.append(self._current[1])
        http_client = self._http_client(url, api_key)
        client = OverseerrClient(
            Upstream(OVERSEERR, http_client, self._breakers, self._metrics),
            http_client=http_client,
        )
        self._current = (identity, client)
        return client

    @asynccontextmanager
    async def probing(self, url: str, api_key: str) -> AsyncIterator[OverseerrClient]:
        """A client that tries each call once, past the breaker, raising `OverseerrProbeFailed`;
        closed after the block."""
        client = OverseerrClient(None, http_client=self._http_client(url, api_key))
        try:
            yield client
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        clients = self._retired + ([self._current[1]] if self._current else [])
        self._current, self._retired = None, []
        for client in clients:
            await client.aclose()

    def _http_client(self, url: str, api_key: str) -> httpx.AsyncClient:
        return create_http_client(
            self._settings,
            base_url=url.rstrip("/"),
            headers={"Accept": "application/json", "X-Api-Key": api_key},
        )


@dataclass(kw_only=True)
class OverseerrUpstream(Domain):
    clients: OverseerrClients


def build_overseerr_upstream(platform: Platform) -> OverseerrUpstream:
    clients = OverseerrClients(platform.settings, platform.breakers, platform.metrics)
    return OverseerrUpstream(name="overseerr-upstream", stop=clients.aclose, clients=clients)
