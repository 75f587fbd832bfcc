"""MediaNest with no Plex server connected yet, a fake plex.tv and two fake Plex servers.

Server "Home" is owned by OWNER (its owner token) and shared with FRIEND; server "Cabin" is
owned by CABIN_OWNER and shared with CABIN_FRIEND. plex.tv lists each account's servers
(`/api/v2/resources`) at the fake servers' real addresses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from medianest.config import Settings
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv, server_resource
from tests.integration.auth.conftest import admin, csrf
from tests.support.app import Started, started
from tests.support.plex import (
    fresh,
    plex_server,
    plex_tv_server,
    serving,
    settings_with_plex,
    shared_with,
)

# The shared fixtures this directory's tests use: Home is `plex_server`, plex.tv `plex_tv_server`.
__all__ = ["admin", "plex_server", "plex_tv_server"]

OWNER_ID, FRIEND_ID, CABIN_OWNER_ID, CABIN_FRIEND_ID = 1000, 2000, 3000, 4000
FRIEND = "friend-token"
FRIEND_ON_HOME = "friend-server-token-for-home"
CABIN_OWNER = "owner-token-of-the-cabin"
CABIN_FRIEND = "cabin-friend-token"
CABIN_ID = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture(scope="module")
def cabin_server() -> Iterator[FakePlexServer]:
    fake = FakePlexServer(
        machine_identifier=CABIN_ID, owner_token=CABIN_OWNER, friendly_name="Cabin"
    )
    with serving(fake) as cabin:
        yield cabin


@pytest.fixture
def home(plex_server: FakePlexServer) -> FakePlexServer:
    # The friend's own server token: Home accepts it, as Plex does for a shared user.
    return shared_with(plex_server, FRIEND_ON_HOME, "1")


@pytest.fixture
def cabin(cabin_server: FakePlexServer) -> FakePlexServer:
    return fresh(cabin_server)


@pytest.fixture
def plex(plex_tv_server: FakePlexTv, home: FakePlexServer, cabin: FakePlexServer) -> FakePlexTv:
    fake = fresh(plex_tv_server)
    fake.add_account(home.owner_token, id=OWNER_ID, username="owner")
    fake.add_account(FRIEND, id=FRIEND_ID, username="Grandpa Joe")
    fake.add_account(FRIEND_ON_HOME, id=FRIEND_ID, username="Grandpa Joe")
    fake.add_account(CABIN_OWNER, id=CABIN_OWNER_ID, username="cabin-owner")
    fake.add_account(CABIN_FRIEND, id=CABIN_FRIEND_ID, username="Aunt May")
    fake.share(home.owner_token, FRIEND_ID, home.machine_identifier)
    fake.share(CABIN_OWNER, CABIN_FRIEND_ID, CABIN_ID)
    fake.set_resources(
        home.owner_token,
        [
            server_resource(
                "Home", home.machine_identifier, access_token=home.owner_token, uri=home.url
            )
        ],
    )
    friend_view = [
        server_resource(
            "Home", home.machine_identifier, access_token=FRIEND_ON_HOME, uri=home.url, owned=False
        )
    ]
    fake.set_resources(FRIEND, friend_view)
    fake.set_resources(FRIEND_ON_HOME, friend_view)
    fake.set_resources(
        CABIN_OWNER,
        [server_resource("Cabin", CABIN_ID, access_token=CABIN_OWNER, uri=cabin.url)],
    )
    return fake


def settings_for(
    make_settings: SettingsFactory, database_url: str, plex: FakePlexTv, **extra: Any
) -> Settings:
    # Two seconds: short enough for the timeout test, long enough that a loaded machine's fake
    # plex.tv still answers the owner check in time.
    return settings_with_plex(make_settings, database_url, plex.url, http_read_timeout=2.0, **extra)


@pytest.fixture
async def medianest(
    make_settings: SettingsFactory, database_url: str, plex: FakePlexTv
) -> AsyncIterator[Started]:
    async with started(create_app(settings_for(make_settings, database_url, plex))) as app:
        yield app


async def connect(http: httpx.AsyncClient, url: str, token: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"url": url}
    if token is not None:
        body["token"] = token
    return await http.put("/api/v1/admin/services/plex", json=body, headers=csrf(http))


async def try_connection(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/api/v1/admin/services/plex/test", json=body, headers=csrf(http))
