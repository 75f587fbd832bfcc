"""A running MediaNest (see tests/integration/auth/conftest.py) and people signed in to it; one
that may push to the fake push service on 127.0.0.1, and telling people something through it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from medianest.auth.models import User
from medianest.core.job_queue import JobQueue
from medianest.notifications.domain import Notifications
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.fakes.push.server import FakePushService
from tests.integration.auth.conftest import admin, csrf, medianest, sign_in
from tests.support.app import Started, started

__all__ = ["admin", "medianest"]

SUBSCRIPTIONS = "/api/v1/notifications/push/subscriptions"


@asynccontextmanager
async def signed_in(
    medianest: Started, database_url: str, username: str, **fields: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, User]]:
    """A new member's browser, signed in (`make_user`'s keywords)."""
    user = await make_user(database_url, username=username, **fields)
    async with medianest.client() as http:
        answer = await sign_in(http, username, PASSWORD)
        assert answer.status_code == 200, answer.text
        yield http, user


@pytest.fixture(scope="session")
def push_server() -> Iterator[FakePushService]:
    server = FakePushService().start()
    yield server
    server.stop()


@pytest.fixture
def fake_push(push_server: FakePushService) -> FakePushService:
    push_server.reset()
    return push_server


@pytest.fixture
async def pushing(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Started]:
    """MediaNest allowed to push to the fake push service, which listens on 127.0.0.1 over
    plain HTTP (MEDIANEST_PUSH_ALLOW_INSECURE_ENDPOINTS)."""
    settings = make_settings(database_url=database_url, push_allow_insecure_endpoints=True)
    async with started(create_app(settings)) as handle:
        yield handle


def domain(medianest: Started) -> Notifications:
    found: Notifications = medianest.state["services"].domain("notifications")
    return found


async def settle(medianest: Started) -> None:
    """Wait until every job the app's in-process queue started (and any it sent again) ended."""
    queue: JobQueue = medianest.state["platform"].queue
    for _ in range(20):
        await queue.broker.wait_all()  # type: ignore[attr-defined]
        if not queue.broker._running_tasks:  # type: ignore[attr-defined]
            return


async def tell(
    medianest: Started,
    user_ids: list[uuid.UUID],
    *,
    type: str = "request.available",
    title: str = "Dune is available",
    message: str = "It is in the Movies library now.",
    link: str | None = "/requests",
    severity: str = "success",
    dedup_key: str | None = None,
) -> int:
    """Tell people something through the app's own NotificationService, as another domain does
    in its unit of work; returns how many inbox rows were made, once the jobs it queued ran."""
    platform = medianest.state["platform"]
    async with platform.db.unit_of_work() as session:
        made = await domain(medianest).service.notify(
            session,
            user_ids,
            type=type,
            title=title,
            message=message,
            link=link,
            severity=severity,
            dedup_key=dedup_key,
        )
    await settle(medianest)
    return len(made)


async def subscribe(http: httpx.AsyncClient, subscription: dict[str, Any]) -> httpx.Response:
    return await http.post(SUBSCRIPTIONS, json=subscription, headers=csrf(http))
