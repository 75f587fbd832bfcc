"""MediaNest with no Overseerr connected yet, and a fake Overseerr (and a fake Seerr)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from medianest.core.db import Database
from medianest.plex.models import PlexItem
from tests.conftest import SettingsFactory
from tests.factories.users import make_user
from tests.fakes.overseerr import FakeOverseerr
from tests.integration.auth.conftest import admin, csrf, sign_in
from tests.support.app import Started, started

__all__ = ["admin"]

SERVICE = "/api/v1/admin/services/overseerr"
MEMBER_PASSWORD = "a-member-passphrase-1"


@pytest.fixture(scope="session")
def overseerr_server() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def seerr_server() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr(flavour="seerr").start()
    yield fake
    fake.stop()


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    return overseerr_server


@pytest.fixture
def seerr(seerr_server: FakeOverseerr) -> FakeOverseerr:
    seerr_server.reset()
    seerr_server.healthy()
    return seerr_server


@pytest.fixture
async def medianest(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Started]:
    # Two seconds: short enough for the timeout test, long enough for a loaded machine.
    settings = make_settings(database_url=database_url, http_read_timeout=2.0)
    async with started(create_app(settings)) as handle:
        yield handle


async def connect(
    http: httpx.AsyncClient, url: str, api_key: str | None, **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {"url": url, **extra}
    if api_key is not None:
        body["apiKey"] = api_key
    return await http.put(SERVICE, json=body, headers=csrf(http))


async def try_connection(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post(f"{SERVICE}/test", json=body, headers=csrf(http))


@pytest.fixture
async def connected(
    make_settings: SettingsFactory, database_url: str, overseerr: FakeOverseerr
) -> AsyncIterator[Started]:
    """MediaNest with the fake Overseerr connected from the settings."""
    settings = make_settings(
        database_url=database_url,
        http_read_timeout=2.0,
        overseerr_url=overseerr.url,
        overseerr_api_key=overseerr.api_key,
    )
    async with started(create_app(settings)) as handle:
        yield handle


@asynccontextmanager
async def member(
    app: Started, database_url: str, username: str, *, plex_id: int | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as a new member (with a Plex account id when given)."""
    await make_user(database_url, username=username, password=MEMBER_PASSWORD, plex_id=plex_id)
    async with app.client() as http:
        signed_in = await sign_in(http, username, MEMBER_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        yield http


async def ask(
    http: httpx.AsyncClient, media_type: str, tmdb_id: int, **extra: Any
) -> httpx.Response:
    body = {"mediaType": media_type, "tmdbId": tmdb_id, **extra}
    return await http.post("/api/v1/media/request", json=body, headers=csrf(http))


async def put_in_plex(database_url: str, tmdb_id: int, *, rating_key: str, title: str) -> None:
    """A movie the library index holds, as a Plex sync would have written it."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(
                PlexItem(
                    rating_key=rating_key,
                    library_key="1",
                    library_title="Movies",
                    type="movie",
                    title=title,
                    sort_title=title.lower(),
                    search_text=title.lower(),
                    tmdb_id=tmdb_id,
                )
            )
    finally:
        await db.close()
