"""Set-up shared by the tests against the fake Plex server and the fake plex.tv.

The fakes start once per test module and each test gets them fresh. A conftest makes the fixtures
below visible by importing them (`tests/integration/plex/conftest.py` and its siblings), with
`admin` from `tests/integration/auth/conftest.py`; the helpers are imported by the tests that use
them.

The usual cast: the owner of the server "Home" (its owner token) and a friend the owner shares it
with, who reaches the server with their own server token (FRIEND_SERVER_TOKEN). Which libraries
that token sees is up to each module's `fake`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest

from medianest.config import Settings
from medianest.core.jobs import JobStatus
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.core.runtime import Platform
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.servers import build_plex_server_client
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv, server_resource
from tests.integration.auth.conftest import csrf, sign_in
from tests.support.app import Started, ok_data

OWNER_ID, FRIEND_ID = 1000, 2000
FRIEND_TOKEN, FRIEND_SERVER_TOKEN = "friend-plex-tv-token", "friend-token-for-the-server"
CLIENT_ID = "medianest-test-install"

Fake = TypeVar("Fake", FakePlexServer, FakePlexTv)


# The fakes


@contextmanager
def serving(fake: Fake) -> Iterator[Fake]:
    """`fake` answering for the block, stopped after it."""
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def fresh(fake: Fake) -> Fake:
    """`fake` as a new one: its state reset, and answering again if a test stopped it."""
    fake.reset()
    return fake.start()


def shared_with(server: FakePlexServer, server_token: str, *library_keys: str) -> FakePlexServer:
    """`server`, fresh, sharing `library_keys` with whoever holds the server token
    `server_token`."""
    fresh(server).library.share(server_token, *library_keys)
    return server


def add_friend(
    plex_tv: FakePlexTv,
    server: FakePlexServer,
    token: str,
    server_token: str,
    *,
    account_id: int,
    username: str,
) -> None:
    """An account on plex.tv (signed in with `token`) that `server`'s owner shares it with;
    plex.tv lists the server for it with the friend's own `server_token`."""
    plex_tv.add_account(token, id=account_id, username=username)
    plex_tv.share(server.owner_token, account_id, server.machine_identifier)
    resource = server_resource("Home", server.machine_identifier, access_token=server_token)
    plex_tv.set_resources(token, [resource])


@pytest.fixture(scope="module")
def plex_server() -> Iterator[FakePlexServer]:
    """The module's fake Plex server; a test gets it fresh through `fake`."""
    with serving(FakePlexServer()) as server:
        yield server


@pytest.fixture(scope="module")
def plex_tv_server() -> Iterator[FakePlexTv]:
    """The module's fake plex.tv; a test gets it fresh through `plex_tv`."""
    with serving(FakePlexTv()) as plex_tv:
        yield plex_tv


@pytest.fixture(scope="module")
def plex_fakes() -> Iterator[tuple[FakePlexTv, FakePlexServer]]:
    """Both fakes, for a module of browser tests (which takes them apart in its own fixtures)."""
    with serving(FakePlexTv()) as plex_tv, serving(FakePlexServer()) as server:
        yield plex_tv, server


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    """The Plex server, fresh: the seeded library, healthy, shared with nobody."""
    return fresh(plex_server)


@pytest.fixture
def plex_tv(plex_tv_server: FakePlexTv, fake: FakePlexServer) -> FakePlexTv:
    """plex.tv, fresh, knowing the owner of `fake` and the friend the owner shares it with."""
    tv = fresh(plex_tv_server)
    tv.add_account(fake.owner_token, id=OWNER_ID, username="owner")
    add_friend(tv, fake, FRIEND_TOKEN, FRIEND_SERVER_TOKEN, account_id=FRIEND_ID, username="friend")
    return tv


# MediaNest against the fakes


def plex_overrides(plex_tv_url: str, server: FakePlexServer | None = None) -> dict[str, Any]:
    """Settings that send Plex sign-in to the fake plex.tv at `plex_tv_url` and, given a `server`,
    connect MediaNest to it as its owner."""
    values: dict[str, Any] = {"plex_tv_url": plex_tv_url, "plex_app_url": plex_tv_url}
    if server is not None:
        values.update(plex_url=server.url, plex_token=server.owner_token)
    return values


def settings_with_plex(
    make_settings: SettingsFactory,
    database_url: str,
    plex_tv_url: str,
    server: FakePlexServer | None = None,
    **overrides: Any,
) -> Settings:
    """Settings of a MediaNest on `database_url` against the fakes (see `plex_overrides`), quick
    to give up on a fake made slow; keyword overrides win. A connection to a fake on loopback is
    refused at once or made at once, but on a busy machine the test's own event loop can wait
    that long for its turn: the connect timeout leaves room for that."""
    values: dict[str, Any] = {
        "database_url": database_url,
        **plex_overrides(plex_tv_url, server),
        "http_connect_timeout": 5.0,
        "http_read_timeout": 1.0,
        **overrides,
    }
    return make_settings(**values)


@pytest.fixture
def plex_settings(
    make_settings: SettingsFactory, database_url: str, fake: FakePlexServer, plex_tv: FakePlexTv
) -> SettingsFactory:
    """Settings of a MediaNest connected to `fake`, signing in through `plex_tv`; keyword
    overrides win."""

    def make(**overrides: Any) -> Settings:
        return settings_with_plex(make_settings, database_url, plex_tv.url, fake, **overrides)

    return make


@asynccontextmanager
async def server_client(settings: Settings, url: str) -> AsyncIterator[PlexServerClient]:
    """The adapter for the Plex server at `url`, with breakers of its own; closed after the
    block."""
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    client = build_plex_server_client(
        settings, breakers, metrics, url=url, client_identifier=CLIENT_ID
    )
    try:
        yield client
    finally:
        await client.aclose()
        await breakers.close()


# Signing in


async def approved_pin(http: httpx.AsyncClient, plex_tv: FakePlexTv, token: str) -> int:
    """A PIN MediaNest asked plex.tv for, approved there by the account of `token`."""
    pin = await http.post("/api/v1/auth/plex/pin", json={})
    assert pin.status_code == 201, pin.text
    pin_id: int = pin.json()["data"]["id"]
    plex_tv.approve(pin_id, token)
    return pin_id


async def plex_sign_in(http: httpx.AsyncClient, plex_tv: FakePlexTv, token: str) -> httpx.Response:
    """Sign in with Plex as the account of `token`, through the PIN flow; the verify answer."""
    pin_id = await approved_pin(http, plex_tv, token)
    return await http.post("/api/v1/auth/plex/verify", json={"pinId": pin_id})


@asynccontextmanager
async def local_account(
    medianest: Started, database_url: str, username: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in with the password of a new local (not Plex) user, `username`."""
    await make_user(database_url, username=username)
    async with medianest.client(ip="203.0.113.30") as http:
        signed_in = await sign_in(http, username, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        yield http


@pytest.fixture
async def friend(medianest: Started, plex_tv: FakePlexTv) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in with Plex as the friend, who sees what the module's `fake` shares
    with FRIEND_SERVER_TOKEN."""
    async with medianest.client(ip="203.0.113.20") as http:
        verified = await plex_sign_in(http, plex_tv, FRIEND_TOKEN)
        assert verified.status_code == 200, verified.text
        yield http


# The library index


async def sync_index(admin: httpx.AsyncClient, medianest: Started) -> datetime:
    """Index the whole library now; returns when the sync ended."""
    started_ = await admin.post("/api/v1/admin/plex/sync", json={"full": True}, headers=csrf(admin))
    assert started_.status_code == 202, started_.text
    platform: Platform = medianest.state["platform"]
    job_id = uuid.UUID(ok_data(started_)["jobId"])
    async with asyncio.timeout(30):
        while True:
            job = await platform.queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            await asyncio.sleep(0.05)
    assert job.status == JobStatus.SUCCEEDED, job.error
    status = ok_data(await admin.get("/api/v1/admin/plex/sync"))
    return datetime.fromisoformat(status["lastSucceededAt"])
