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
from tests.integration.auth.conftest import csrf, finish_first_run
from tests.support.app import Started, started

OWNER_ID, FRIEND_ID, CABIN_OWNER_ID, CABIN_FRIEND_ID = 1000, 2000, 3000, 4000
FRIEND = "friend-token"
FRIEND_ON_HOME = "friend-server-token-for-home"
CABIN_OWNER = "owner-token-of-the-cabin"
CABIN_FRIEND = "cabin-friend-token"
CABIN_ID = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture(scope="module")
def fake_plex_tv() -> Iterator[FakePlexTv]:
    fake = FakePlexTv().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def home_server() -> Iterator[FakePlexServer]:
    fake = FakePlexServer().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def cabin_server() -> Iterator[FakePlexServer]:
    fake = FakePlexServer(
        machine_identifier=CABIN_ID, owner_token=CABIN_OWNER, friendly_name="Cabin"
    ).start()
    yield fake
    fake.stop()


@pytest.fixture
def home(home_server: FakePlexServer) -> FakePlexServer:
    home_server.reset()
    home_server.start()
    # The friend's own server token: Home accepts it, as Plex does for a shared user.
    home_server.library.share(FRIEND_ON_HOME, "1")
    return home_server


@pytest.fixture
def cabin(cabin_server: FakePlexServer) -> FakePlexServer:
    cabin_server.reset()
    cabin_server.start()
    return cabin_server


@pytest.fixture
def plex(fake_plex_tv: FakePlexTv, home: FakePlexServer, cabin: FakePlexServer) -> FakePlexTv:
    fake = fake_plex_tv
    fake.reset()
    fake.start()
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
    return make_settings(
        database_url=database_url,
        plex_tv_url=plex.url,
        plex_app_url=plex.url,
        http_connect_timeout=0.5,
        http_read_timeout=0.5,
        **extra,
    )


@pytest.fixture
async def medianest(
    make_settings: SettingsFactory, database_url: str, plex: FakePlexTv
) -> AsyncIterator[Started]:
    async with started(create_app(settings_for(make_settings, database_url, plex))) as app:
        yield app


@pytest.fixture
async def admin(medianest: Started) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as the first (local) admin, past the first-run password change."""
    async with medianest.client() as http:
        await finish_first_run(http)
        yield http


async def connect(http: httpx.AsyncClient, url: str, token: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"url": url}
    if token is not None:
        body["token"] = token
    return await http.put("/api/v1/admin/services/plex", json=body, headers=csrf(http))


async def try_connection(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/api/v1/admin/services/plex/test", json=body, headers=csrf(http))


async def plex_sign_in(http: httpx.AsyncClient, plex: FakePlexTv, token: str) -> httpx.Response:
    """Sign in with Plex as the account of `token`, through the PIN flow."""
    pin = await http.post("/api/v1/auth/plex/pin", json={})
    assert pin.status_code == 201, pin.text
    pin_id = pin.json()["data"]["id"]
    plex.approve(pin_id, token)
    return await http.post("/api/v1/auth/plex/verify", json={"pinId": pin_id})
