"""The upstream client factory: what every adapter's client gets without asking."""

from __future__ import annotations

import httpx

from medianest import __version__
from medianest.core.http_client import create_http_client
from tests.conftest import SettingsFactory


class TestCreateHttpClient:
    async def test_timeouts_follow_the_settings_with_a_short_connect(
        self, make_settings: SettingsFactory
    ) -> None:
        settings = make_settings(http_connect_timeout=1.5, http_read_timeout=25)

        async with create_http_client(settings) as client:
            assert client.timeout.connect == 1.5
            assert client.timeout.read == 25
            assert client.timeout.write == 25
            assert client.timeout.pool == 1.5

    async def test_an_explicit_timeout_wins(self, make_settings: SettingsFactory) -> None:
        timeout = httpx.Timeout(60, connect=2)

        async with create_http_client(make_settings(), timeout=timeout) as client:
            assert client.timeout == timeout

    async def test_adapter_headers_are_sent_beside_the_user_agent(
        self, make_settings: SettingsFactory
    ) -> None:
        headers = {"X-Plex-Product": "MediaNest", "Accept": "application/json"}

        async with create_http_client(
            make_settings(), base_url="http://plex.local:32400", headers=headers
        ) as client:
            request = client.build_request("GET", "/identity")

        assert request.url == "http://plex.local:32400/identity"
        assert request.headers["user-agent"].startswith(f"MediaNest/{__version__}")
        assert request.headers["x-plex-product"] == "MediaNest"
        assert request.headers["accept"] == "application/json"

    async def test_redirects_are_left_to_the_adapter(self, make_settings: SettingsFactory) -> None:
        async with create_http_client(make_settings()) as client:
            assert client.follow_redirects is False
