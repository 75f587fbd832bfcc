"""The Uptime Kuma adapter one MediaNest process shares: one client for the connected Kuma, made
again when its address or API key changes, and probing clients for the admin's test. Built
before the domains that call it and closed after them."""

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
from medianest.integrations.uptime_kuma.checks import check_api_key
from medianest.integrations.uptime_kuma.client import UptimeKumaClient
from medianest.integrations.uptime_kuma.errors import UPTIME_KUMA


class UptimeKumaClients:
    def __init__(self, settings: Settings, breakers: Breakers, metrics: Metrics) -> None:
        self._settings = settings
        self._breakers = breakers
        self._metrics = metrics
        self._current: tuple[str, UptimeKumaClient] | None = None
        self._retired: list[UptimeKumaClient] = []

    def client(self, url: str, api_key: str | None = None) -> UptimeKumaClient:
        """The client for this address and key (None: `/metrics` without credentials); the one
        for an earlier pair is retired (closed at `aclose()`, not now: a call may still be using
        it). Raises `InvalidApiKey` for a key that cannot be Kuma's."""
        key = check_api_key(api_key) if api_key is not None else None
        identity = client_key(url, key)
        if self._current is not None and self._current[0] == identity:
            return self._current[1]
        if self._current is not None:
            self._retired.append(self._current[1])
        http_client = self._http_client(url)
        client = UptimeKumaClient(
            Upstream(UPTIME_KUMA, http_client, self._breakers, self._metrics),
            http_client=http_client,
            api_key=key,
        )
        self._current = (identity, client)
        return client

    @asynccontextmanager
    async def probing(
        self, url: str, api_key: str | None = None
    ) -> AsyncIterator[UptimeKumaClient]:
        """A client that tries each call once, past the breaker, raising
        `UptimeKumaProbeFailed`; closed after the block. Raises `InvalidApiKey` before any call."""
        key = check_api_key(api_key) if api_key is not None else None
        client = UptimeKumaClient(None, http_client=self._http_client(url), api_key=key)
        try:
            yield client
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        clients = self._retired + ([self._current[1]] if self._current else [])
        self._current, self._retired = None, []
        for client in clients:
            await client.aclose()

    def _http_client(self, url: str) -> httpx.AsyncClient:
        return create_http_client(self._settings, base_url=url.rstrip("/"))


@dataclass(kw_only=True)
class UptimeKumaUpstream(Domain):
    clients: UptimeKumaClients


def build_uptime_kuma_upstream(platform: Platform) -> UptimeKumaUpstream:
    clients = UptimeKumaClients(platform.settings, platform.breakers, platform.metrics)
    return UptimeKumaUpstream(name="uptime-kuma-upstream", stop=clients.aclose, clients=clients)
