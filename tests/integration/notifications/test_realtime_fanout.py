"""Who hears what on the live-updates socket, with Redis: each event published on the bus (here
by the test, as any process of the install would) reaches its user's sockets, the public ones
reach everyone, administrators hear every download, and nobody hears another person's news;
a socket that stops reading is dropped without holding the others up.

"Never receives" is shown by order: the bus delivers one process's messages in the order they
were published, so when a later public message is the next thing a socket gets, nothing
published before it was meant for that socket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from medianest.core.bus import Bus
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import finish_first_run, sign_in
from tests.support.sockets import Site, Socket, bus_of, ready, served

FELL_BEHIND = 1013


@pytest.fixture
def site(
    make_settings: SettingsFactory, database_url: str, redis_url: str, redis_prefix: str
) -> Iterator[Site]:
    settings = make_settings(
        database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix
    )
    with served(settings) as s:
        yield s


@pytest.fixture
async def bus(
    make_settings: SettingsFactory, redis_url: str, redis_prefix: str
) -> AsyncIterator[Bus]:
    """The install's bus, as another process of it publishes."""
    async with bus_of(make_settings(redis_url=redis_url, redis_prefix=redis_prefix)) as b:
        yield b


@asynccontextmanager
async def signed_in(
    site: Site, database_url: str, username: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A new member's browser, signed in, and their user id."""
    user = await make_user(database_url, username=username)
    async with site.browser() as http:
        answer = await sign_in(http, username, PASSWORD)
        assert answer.status_code == 200, answer.text
        yield http, str(user.id)


@asynccontextmanager
async def admin_browser(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with site.browser() as http:
        await finish_first_run(http)
        yield http


def progress(user_id: str, percent: float = 42.0) -> dict[str, Any]:
    return {
        "userId": user_id,
        "downloadId": str(uuid.uuid4()),
        "videoId": "dQw4w9WgXcQ",
        "status": "downloading",
        "percent": percent,
        "downloadedBytes": 420,
        "totalBytes": 1000,
        "speed": 100.0,
        "eta": 6,
    }


def notification(user_id: str, title: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "notification": {
            "id": str(uuid.uuid4()),
            "type": "download.completed",
            "title": title,
            "message": "It is in Plex now.",
            "link": None,
            "severity": "success",
            "read": False,
            "createdAt": "2026-12-07T10:00:00Z",
        },
    }


MARKER = {"id": "plex", "name": "Plex", "status": "up", "responseTimeMs": 12, "since": None}


async def next_is_the_marker(socket: Socket) -> None:
    assert await socket.next() == {"type": "service.status", "data": MARKER}


class TestIsolation:
    async def test_a_person_hears_their_own_download_and_notification_and_nobody_else_does(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        async with (
            signed_in(site, database_url, "ada") as (ada, ada_id),
            signed_in(site, database_url, "bob") as (bob, _),
            ready(site, http=ada) as ada_socket,
            ready(site, http=bob) as bob_socket,
        ):
            sent = progress(ada_id)
            told = notification(ada_id, "Your playlist is ready")
            await bus.publish("download.progress", sent)
            await bus.publish("notification.created", told)
            await bus.publish("service.status", MARKER)

            heard = [await ada_socket.next(), await ada_socket.next()]
            await next_is_the_marker(ada_socket)
            await next_is_the_marker(bob_socket)

        without_user = {k: v for k, v in sent.items() if k != "userId"}
        assert heard == [
            {"type": "download.progress", "data": without_user},
            {"type": "notification.created", "data": told["notification"]},
        ]

    async def test_every_tab_of_the_person_hears_it(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        async with (
            signed_in(site, database_url, "ada") as (ada, ada_id),
            ready(site, http=ada) as first_tab,
            ready(site, http=ada) as second_tab,
        ):
            await bus.publish(
                "request.updated",
                {"userId": ada_id, "requestId": "r1", "status": "available", "title": "Dune"},
            )
            heard = [await first_tab.next(), await second_tab.next()]

        expected = {
            "type": "request.updated",
            "data": {"requestId": "r1", "status": "available", "title": "Dune"},
        }
        assert heard == [expected, expected]

    async def test_administrators_hear_every_download_but_not_other_peoples_news(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        async with (
            admin_browser(site) as admin,
            signed_in(site, database_url, "ada") as (_, ada_id),
            ready(site, http=admin) as admin_socket,
        ):
            moving = progress(ada_id, 10.0)
            done = {
                "userId": ada_id,
                "downloadId": moving["downloadId"],
                "status": "completed",
                "itemsDone": 3,
                "itemCount": 3,
            }
            await bus.publish("download.progress", moving)
            await bus.publish(
                "notification.created", notification(ada_id, "Ada's playlist is ready")
            )
            await bus.publish(
                "request.updated",
                {"userId": ada_id, "requestId": "r1", "status": "available", "title": "Dune"},
            )
            await bus.publish("download.updated", done)
            await bus.publish("service.status", MARKER)

            heard = [await admin_socket.next(), await admin_socket.next()]
            await next_is_the_marker(admin_socket)

        assert [m["type"] for m in heard] == ["download.progress", "download.updated"]
        assert heard[1]["data"] == {
            "downloadId": moving["downloadId"],
            "status": "completed",
            "itemsDone": 3,
            "itemCount": 3,
        }

    async def test_an_administrators_own_download_is_heard_once(self, site: Site, bus: Bus) -> None:
        async with admin_browser(site) as admin, ready(site, http=admin) as socket:
            me = (await admin.get("/api/v1/auth/session")).json()["data"]["user"]["id"]
            await bus.publish("download.progress", progress(me))
            await bus.publish("service.status", MARKER)

            first = await socket.next()
            await next_is_the_marker(socket)

        assert first["type"] == "download.progress"

    async def test_service_status_reaches_everyone(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        async with (
            admin_browser(site) as admin,
            signed_in(site, database_url, "ada") as (ada, _),
            signed_in(site, database_url, "bob") as (bob, _),
            ready(site, http=admin) as admin_socket,
            ready(site, http=ada) as ada_socket,
            ready(site, http=bob) as bob_socket,
        ):
            await bus.publish("service.status", MARKER)
            for socket in (admin_socket, ada_socket, bob_socket):
                await next_is_the_marker(socket)

    async def test_news_naming_nobody_or_unreadable_goes_to_nobody(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        async with (
            signed_in(site, database_url, "ada") as (ada, ada_id),
            ready(site, http=ada) as socket,
        ):
            await bus.publish("notification.created", {"notification": {"title": "for whom?"}})
            await bus.publish("download.progress", {"downloadId": "d1", "percent": 1})
            await bus.publish("notification.created", {"userId": ada_id})
            await next_is_the_marker_after(bus, socket)


async def next_is_the_marker_after(bus: Bus, socket: Socket) -> None:
    await bus.publish("service.status", MARKER)
    await next_is_the_marker(socket)


class TestSlowTabs:
    async def test_a_tab_that_stops_reading_is_dropped_and_holds_nobody_up(
        self, site: Site, database_url: str, bus: Bus
    ) -> None:
        # 8 KiB a message: enough of them to fill the socket buffers between the two ends and
        # the server's queue for the tab that reads nothing.
        padding = "x" * 8192
        count = 2000
        async with (
            signed_in(site, database_url, "ada") as (ada, ada_id),
            signed_in(site, database_url, "bob") as (bob, bob_id),
            ready(site, http=ada, max_queue=1, compression=None) as stuck,
            ready(site, http=bob) as reading,
        ):
            stuck.pause()
            for n in range(count):
                await bus.publish("download.progress", {**progress(ada_id, n), "title": padding})
                await bus.publish("download.progress", {**progress(bob_id, n), "title": padding})
            heard = [(await reading.next())["data"]["percent"] for _ in range(count)]
            stuck.resume()
            code, _ = await stuck.closed()
            await next_is_the_marker_after(bus, reading)

        assert heard == list(range(count))
        assert code in (FELL_BEHIND, 1006)
        assert stuck.received < count
