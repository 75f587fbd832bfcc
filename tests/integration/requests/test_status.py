"""Requests moving on: Overseerr's webhook, the sync that repairs a lost one, the Plex library,
and administrators approving and declining."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.fakes.overseerr import REQUEST, FakeOverseerr
from tests.integration.auth.conftest import ADMIN_PASSWORD, csrf, finish_first_run, sign_in
from tests.integration.requests.conftest import SERVICE, ask, member, put_in_plex
from tests.support.app import Started, ok_data

MOVIE, SHOW = 945961, 1399
ALICE_PLEX, CAROL_PLEX = 111, 333
WEBHOOK = "/api/v1/webhooks/overseerr"
APPROVED, DECLINED = 2, 3
MEDIA_PROCESSING, MEDIA_AVAILABLE = 3, 5


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_movie(MOVIE, "Alien: Romulus", year=2024)
    overseerr_server.add_show(SHOW, "Game of Thrones", seasons={1: 10, 2: 10})
    overseerr_server.add_user("alice", plex_id=ALICE_PLEX, permissions=REQUEST)
    overseerr_server.add_user("carol", plex_id=CAROL_PLEX, permissions=REQUEST)
    return overseerr_server


async def _authorization(app: Started) -> str:
    async with app.client() as admin:
        await finish_first_run(admin)
        found: str = ok_data(await admin.get(SERVICE))["webhook"]["authorization"]
        return found


async def _deliver(app: Started, body: dict[str, Any], authorization: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    async with app.client(ip="192.0.2.50") as overseerr_host:
        return await overseerr_host.post(WEBHOOK, content=json.dumps(body), headers=headers)


def _history(request: dict[str, Any]) -> list[tuple[str, str]]:
    return [(h["status"], h["source"]) for h in request["history"]]


class TestWebhook:
    async def test_available_moves_the_request_on_once(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            upstream_id = overseerr.requests[-1].id
            overseerr.set_request_status(upstream_id, APPROVED)
            overseerr.set_media_status(MOVIE, "movie", MEDIA_AVAILABLE)
            body = overseerr.webhook_body("MEDIA_AVAILABLE", upstream_id)
            first = await _deliver(connected, body, authorization)
            again = await _deliver(connected, body, authorization)
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert (first.status_code, again.status_code) == (204, 204)
        assert now["status"] == "available"
        assert _history(now) == [("pending", "user"), ("available", "webhook")]

    async def test_every_value_a_string_in_seerrs_template_too(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "tv", SHOW, seasons=[1]))
            upstream_id = overseerr.requests[-1].id
            body = overseerr.webhook_body("MEDIA_APPROVED", upstream_id)
            assert all(isinstance(v, str) for v in body["request"].values())
            delivered = await _deliver(connected, body, authorization)
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert delivered.status_code == 204
        assert now["status"] in ("approved", "processing")

    async def test_a_wrong_secret_is_refused_and_changes_nothing(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        await _authorization(connected)
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            body = overseerr.webhook_body("MEDIA_DECLINED", overseerr.requests[-1].id)
            wrong = await _deliver(connected, body, "Bearer mnw_not-the-secret")
            missing = await _deliver(connected, body, None)
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert (wrong.status_code, missing.status_code) == (401, 401)
        assert now["status"] == "pending"

    async def test_the_test_notification_and_garbage(self, connected: Started) -> None:
        authorization = await _authorization(connected)

        test = await _deliver(connected, {"notification_type": "TEST_NOTIFICATION"}, authorization)
        garbage = await _deliver(connected, {"hello": "world"}, authorization)

        assert (test.status_code, garbage.status_code) == (204, 400)

    async def test_a_title_requested_in_overseerr_itself_still_frees_ours(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            body = overseerr.webhook_body("MEDIA_AVAILABLE", tmdb_id=MOVIE, media_type="movie")
            body["request"] = None
            delivered = await _deliver(connected, body, authorization)
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert delivered.status_code == 204
        assert now["status"] == "available"


class TestTelling:
    async def test_the_requester_and_a_follower_are_each_told_once(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
            connected.client() as admin,
        ):
            mine = ok_data(await ask(alice, "movie", MOVIE))
            assert ok_data(await ask(carol, "movie", MOVIE))["following"] is True
            upstream_id = overseerr.requests[-1].id
            overseerr.set_request_status(upstream_id, APPROVED)
            overseerr.set_media_status(MOVIE, "movie", MEDIA_AVAILABLE)
            body = overseerr.webhook_body("MEDIA_AVAILABLE", upstream_id)
            for _ in range(2):
                await _deliver(connected, body, authorization)
            await sign_in(admin, "admin", ADMIN_PASSWORD)
            await admin.post("/api/v1/admin/requests/sync", headers=csrf(admin))
            told = [ok_data(await person.get("/api/v1/notifications")) for person in (alice, carol)]
            bell = ok_data(await carol.get("/api/v1/notifications/unread-count"))

        for inbox in told:
            assert [(n["type"], n["title"]) for n in inbox] == [
                ("request.available", "Alien: Romulus is in Plex")
            ]
            assert inbox[0]["link"] == f"/requests/mine#request-{mine['id']}"
        assert bell["unreadCount"] == 1

    async def test_a_burst_of_deliveries_moves_each_request_once(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        films = list(range(9100, 9106))
        for tmdb_id in films:
            overseerr.add_movie(tmdb_id, f"Film {tmdb_id}")
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            for tmdb_id in films:
                await ask(alice, "movie", tmdb_id)
            bodies = []
            for upstream in overseerr.requests:
                overseerr.set_request_status(upstream.id, APPROVED)
                overseerr.set_media_status(upstream.tmdb_id, "movie", MEDIA_AVAILABLE)
                bodies.append(overseerr.webhook_body("MEDIA_AVAILABLE", upstream.id))
            answers = await asyncio.gather(
                *(_deliver(connected, body, authorization) for body in bodies * 2)
            )
            mine = ok_data(await alice.get("/api/v1/media/requests"))
            inbox = ok_data(await alice.get("/api/v1/notifications", params={"pageSize": 50}))

        assert {a.status_code for a in answers} == {204}
        assert {r["status"] for r in mine} == {"available"}
        assert sorted(n["title"] for n in inbox) == sorted(f"Film {t} is in Plex" for t in films)

    async def test_a_decline_tells_the_reason(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            connected.client() as admin,
        ):
            mine = ok_data(await ask(alice, "movie", MOVIE))
            await finish_first_run(admin)
            await admin.post(
                f"/api/v1/admin/requests/{mine['id']}/decline",
                json={"reason": "Already on the shelf"},
                headers=csrf(admin),
            )
            inbox = ok_data(await alice.get("/api/v1/notifications"))

        assert [n["type"] for n in inbox] == ["request.status"]
        assert "declined" in inbox[0]["message"] and "Already on the shelf" in inbox[0]["message"]


class TestSync:
    async def test_a_lost_webhook_is_repaired(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            overseerr.set_request_status(overseerr.requests[-1].id, DECLINED)
            async with connected.client() as admin:
                await finish_first_run(admin)
                synced = await admin.post("/api/v1/admin/requests/sync", headers=csrf(admin))
                again = await admin.post("/api/v1/admin/requests/sync", headers=csrf(admin))
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert synced.status_code == 202, synced.text
        assert (ok_data(synced)["moved"], ok_data(again)["moved"]) == (1, 0)
        assert now["status"] == "declined"
        assert _history(now)[-1] == ("declined", "sync")

    async def test_a_webhook_and_the_sync_reporting_the_same_change_record_it_once(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        authorization = await _authorization(connected)
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            upstream_id = overseerr.requests[-1].id
            overseerr.set_request_status(upstream_id, APPROVED)
            overseerr.set_media_status(MOVIE, "movie", MEDIA_AVAILABLE)
            await _deliver(
                connected, overseerr.webhook_body("MEDIA_AVAILABLE", upstream_id), authorization
            )
            async with connected.client() as admin:
                await sign_in(admin, "admin", ADMIN_PASSWORD)
                synced = ok_data(
                    await admin.post("/api/v1/admin/requests/sync", headers=csrf(admin))
                )
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert synced["moved"] == 0
        assert _history(now) == [("pending", "user"), ("available", "webhook")]


class TestLibrary:
    async def test_a_movie_the_library_sync_finds_is_available(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))
            await put_in_plex(database_url, MOVIE, rating_key="9100", title="Alien: Romulus")
            plex = connected.state["services"].plex
            await plex.libraries_changed(["1"])
            now = ok_data(await alice.get(f"/api/v1/media/requests/{mine['id']}"))

        assert now["status"] == "available"
        assert _history(now)[-1] == ("available", "library")


class TestDecide:
    async def test_an_administrator_approves_and_declines_with_a_reason(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            connected.client() as admin,
        ):
            movie = ok_data(await ask(alice, "movie", MOVIE))
            show = ok_data(await ask(alice, "tv", SHOW, seasons=[1]))
            await finish_first_run(admin)
            everyone = ok_data(await admin.get("/api/v1/admin/requests"))
            approved = await admin.post(
                f"/api/v1/admin/requests/{movie['id']}/approve", headers=csrf(admin)
            )
            declined = await admin.post(
                f"/api/v1/admin/requests/{show['id']}/decline",
                json={"reason": "Not on any service yet"},
                headers=csrf(admin),
            )
            twice = await admin.post(
                f"/api/v1/admin/requests/{show['id']}/decline", headers=csrf(admin)
            )
            as_member = await alice.post(
                f"/api/v1/admin/requests/{movie['id']}/approve", headers=csrf(alice)
            )
            alices = ok_data(await alice.get("/api/v1/media/requests"))

        assert {r["id"] for r in everyone} == {movie["id"], show["id"]}
        assert approved.status_code == 200, approved.text
        assert ok_data(approved)["status"] in ("approved", "processing")
        assert (ok_data(declined)["status"], ok_data(declined)["reason"]) == (
            "declined",
            "Not on any service yet",
        )
        assert twice.status_code == 409
        assert as_member.status_code == 403
        by_id = {r["id"]: r["status"] for r in alices}
        assert by_id[show["id"]] == "declined"
        statuses = {r.status for r in overseerr.requests}
        assert DECLINED in statuses
