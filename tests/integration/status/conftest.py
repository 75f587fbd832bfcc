"""MediaNest watching the fake Plex server, the fake Overseerr and fake Uptime Kumas (1.23 and
2.x), with helpers to reach its status domain and wait for its pollers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.uptime_kuma import FakeUptimeKuma
from tests.integration.auth.conftest import admin, finish_first_run, sign_in
from tests.support.app import Started, started
from tests.support.plex import fake, plex_server

from medianest.app import create_app
from medianest.config import Settings
from medianest.core.db import Database
from medianest.notifications.models import Notification
from medianest.status.checks import StatusChecks
from medianest.status.domain import StatusDomain
from medianest.status.models import ServiceState

__all__ = ["admin", "fake", "plex_server"]

SERVICES = "/api/v1/status/services"
KUMA_SERVICE = "/api/v1/admin/services/uptime-kuma"
# Long enough that no scheduled poll comes during a test: the tests poll themselves.
NEVER = 3600


@pytest.fixture(scope="session")
def overseerr_server() -> Iterator[FakeOverseerr]:
    server = FakeOverseerr().start()
    yield server
    server.stop()


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    return overseerr_server


@pytest.fixture(scope="session")
def kuma_servers() -> Iterator[dict[str, FakeUptimeKuma]]:
    servers = {mode: FakeUptimeKuma(mode).start() for mode in ("v1", "v2")}  # type: ignore[arg-type]
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(params=["v1", "v2"])
def kuma(request: pytest.FixtureRequest, kuma_servers: dict[str, FakeUptimeKuma]) -> FakeUptimeKuma:
    """A fresh fake Uptime Kuma, as 1.23 and as 2.x in turn."""
    server = kuma_servers[request.param]
    server.reset()
    server.healthy()
    return server


@pytest.fixture
def kuma_v2(kuma_servers: dict[str, FakeUptimeKuma]) -> FakeUptimeKuma:
    server = kuma_servers["v2"]
    server.reset()
    server.healthy()
    return server


StatusSettings = Callable[..., Settings]


@pytest.fixture
def status_settings(
    make_settings: SettingsFactory,
    database_url: str,
    fake: FakePlexServer,
    overseerr: FakeOverseerr,
) -> StatusSettings:
    """Settings of a MediaNest connected to the fake Plex server and the fake Overseerr, its
    checks on but never due during a test; keyword overrides win."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "plex_url": fake.url,
            "plex_token": fake.owner_token,
            "overseerr_url": overseerr.url,
            "overseerr_api_key": overseerr.api_key,
            "status_interval_seconds": NEVER,
            "http_connect_timeout": 5.0,
            "http_read_timeout": 2.0,
            **overrides,
        }
        return make_settings(**values)

    return make


def domain_of(app: Started) -> StatusDomain:
    domain = app.state["services"].domain("status")
    assert isinstance(domain, StatusDomain)
    return domain


def checks_of(app: Started) -> StatusChecks:
    return domain_of(app).checks


async def first_polls(app: Started, *, within: float = 30.0) -> None:
    """Until every poller of `app` (the lease holder) has polled once."""
    checks = checks_of(app)
    for _ in range(int(within / 0.05)):
        if checks.running and all(p.last_refresh_ok is not None for p in checks.pollers.values()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the status pollers did not poll within the time given")


@asynccontextmanager
async def medianest_with(settings: Settings) -> AsyncIterator[Started]:
    async with started(create_app(settings)) as handle:
        yield handle


@asynccontextmanager
async def signed_in(app: Started, username: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on `app`: the first admin's (`username` None) or a new member's."""
    async with app.client() as http:
        if username is None:
            await finish_first_run(http)
        else:
            answer = await sign_in(http, username, PASSWORD)
            assert answer.status_code == 200, answer.text
        yield http


async def member(app: Started, database_url: str, username: str = "viewer") -> None:
    await make_user(database_url, username=username)


async def states(database_url: str) -> dict[str, ServiceState]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return {row.id: row for row in await session.scalars(select(ServiceState))}
    finally:
        await db.close()


async def alerts(database_url: str) -> list[Notification]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = await session.scalars(
                select(Notification)
                .where(Notification.type.in_(("service.down", "service.up")))
                .order_by(Notification.created_at)
            )
            return list(rows)
    finally:
        await db.close()
