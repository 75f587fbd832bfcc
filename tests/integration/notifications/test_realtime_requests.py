"""Live news of requests, from the change itself: Overseerr's webhook moves a request on and
whoever asked or follows hears `request.updated` and `notification.created` on their open
socket; with Redis, from whichever process took the webhook, and a sign-out on one process
closes the socket on another."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest

from medianest.config import Settings
from tests.conftest import SettingsFactory
from tests.factories.users import make_user
from tests.fakes.overseerr import REQUEST, FakeOverseerr
from tests.integration.auth.conftest import csrf, finish_first_run, sign_in
from tests.integration.requests.conftest import MEMBER_PASSWORD, SERVICE, ask, overseerr_server
from tests.support.sockets import Site, Socket, bus_of, ready, served

__all__ = ["overseerr_server"]

MOVIE = 945961
ALICE_PLEX, CAROL_PLEX, BOB_PLEX = 111, 333, 444
APPROVED, MEDIA_AVAILABLE = 2, 5
WEBHOOK = "/api/v1/webhooks/overseerr"
MARKER = {
    "id": "overseerr",
    "name": "Overseerr",
    "status": "up",
    "responseTimeMs": 9,
    "since": None,
}


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_movie(MOVIE, "Alien: Romulus", year=2024)
    for name, plex_id in (("alice", ALICE_PLEX), ("carol", CAROL_PLEX), ("bob", BOB_PLEX)):
        overseerr_server.add_user(name, plex_id=plex_id, permissions=REQUEST)
    return overseerr_server


def settings_for(
    make_settings: SettingsFactory, database_url: str, overseerr: FakeOverseerr, **more: Any
) -> Settings:
    return make_settings(
        database_url=database_url,
        overseerr_url=overseerr.url,
        overseerr_api_key=overseerr.api_key,
        # A request moves on only when the test sends a webhook.
        overseerr_sync_interval_seconds=0,
        **more,
    )


@asynccontextmanager
async def member(
    site: Site, database_url: str, username: str, plex_id: int
) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(database_url, username=username, password=MEMBER_PASSWORD, plex_id=plex_id)
    async with site.browser() as http:
        answer = await sign_in(http, username, MEMBER_PASSWORD)
        assert answer.status_code == 200, answer.text
        yield http


async def webhook_secret(site: Site) -> str:
    async with site.browser() as admin:
        await finish_first_run(admin)
        found: str = (await admin.get(SERVICE)).json()["data"]["webhook"]["authorization"]
        return found


async def made_available(site: Site, overseerr: FakeOverseerr, authorization: str) -> None:
    """Overseerr approved the last request, the title is in Plex, and its webhook says so."""
    upstream_id = overseerr.requests[-1].id
    overseerr.set_request_status(upstream_id, APPROVED)
    overseerr.set_media_status(MOVIE, "movie", MEDIA_AVAILABLE)
    body = overseerr.webhook_body("MEDIA_AVAILABLE", upstream_id)
    async with site.browser() as overseerr_host:
        delivered = await overseerr_host.post(
            WEBHOOK,
            content=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": authorization},
        )
    assert delivered.status_code == 204, delivered.text


async def heard(socket: Socket) -> dict[str, dict[str, Any]]:
    """The two messages a request becoming available sends, by type."""
    first, second = await socket.next(), await socket.next()
    return {first["type"]: first["data"], second["type"]: second["data"]}


class TestOneProcess:
    @pytest.fixture
    def site(
        self, make_settings: SettingsFactory, database_url: str, overseerr: FakeOverseerr
    ) -> Iterator[Site]:
        with served(settings_for(make_settings, database_url, overseerr)) as s:
            yield s

    async def test_the_requester_and_a_follower_hear_their_request_become_available(
        self, site: Site, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await webhook_secret(site)
        async with (
            member(site, database_url, "alice", ALICE_PLEX) as alice,
            member(site, database_url, "carol", CAROL_PLEX) as carol,
        ):
            asked = (await ask(alice, "movie", MOVIE)).json()["data"]
            assert (await ask(carol, "movie", MOVIE)).json()["data"]["following"] is True
            async with ready(site, http=alice) as on_alice, ready(site, http=carol) as on_carol:
                await made_available(site, overseerr, authorization)
                news = [await heard(on_alice), await heard(on_carol)]
            inbox = (await alice.get("/api/v1/notifications")).json()["data"]

        for told in news:
            assert told["request.updated"] == {
                "requestId": asked["id"],
                "status": "available",
                "title": "Alien: Romulus",
            }
            assert told["notification.created"]["title"] == "Alien: Romulus is in Plex"
        # What the socket carried is the inbox's own notification, as the inbox lists it.
        assert news[0]["notification.created"] == inbox[0]


class TestTwoProcesses:
    """Two MediaNest processes on one database and one Redis, as behind a load balancer."""

    @pytest.fixture
    def settings(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        overseerr: FakeOverseerr,
        redis_url: str,
        redis_prefix: str,
    ) -> Settings:
        return settings_for(
            make_settings, database_url, overseerr, redis_url=redis_url, redis_prefix=redis_prefix
        )

    @pytest.fixture
    def sites(self, settings: Settings) -> Iterator[tuple[Site, Site]]:
        with ExitStack() as stack:
            yield stack.enter_context(served(settings)), stack.enter_context(served(settings))

    async def test_a_webhook_taken_by_one_reaches_the_requester_on_the_other(
        self,
        sites: tuple[Site, Site],
        settings: Settings,
        database_url: str,
        overseerr: FakeOverseerr,
    ) -> None:
        a, b = sites
        authorization = await webhook_secret(a)
        async with (
            member(b, database_url, "alice", ALICE_PLEX) as alice,
            member(a, database_url, "carol", CAROL_PLEX) as carol,
            member(b, database_url, "bob", BOB_PLEX) as bob,
        ):
            asked = (await ask(alice, "movie", MOVIE)).json()["data"]
            await ask(carol, "movie", MOVIE)
            async with (
                ready(b, http=alice) as alice_on_b,
                ready(a, http=carol) as carol_on_a,
                ready(b, http=bob) as bob_on_b,
            ):
                await made_available(a, overseerr, authorization)
                news = [await heard(alice_on_b), await heard(carol_on_a)]
                # Published once A had answered the webhook: anything A published for bob
                # would reach him before this.
                async with bus_of(settings) as bus:
                    await bus.publish("service.status", MARKER)
                marker = await bob_on_b.next()

        for told in news:
            assert told["request.updated"]["requestId"] == asked["id"]
            assert told["notification.created"]["type"] == "request.available"
        assert marker == {"type": "service.status", "data": MARKER}

    async def test_signing_out_on_one_closes_the_socket_on_the_other(
        self, sites: tuple[Site, Site], database_url: str
    ) -> None:
        a, b = sites
        await make_user(database_url, username="dora", password=MEMBER_PASSWORD)
        async with a.browser() as dora:
            assert (await sign_in(dora, "dora", MEMBER_PASSWORD)).status_code == 200
            async with ready(b, http=dora) as on_b:
                signed_out = await dora.post("/api/v1/auth/logout", json={}, headers=csrf(dora))
                code, _ = await on_b.closed()

        assert signed_out.status_code == 200
        assert code == 4401
