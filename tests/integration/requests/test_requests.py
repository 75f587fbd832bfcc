"""Asking for titles through `/api/v1/media/request`, following others' requests, and the
caller's own requests, against a fake Overseerr."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from medianest.auth.models import User
from medianest.core.db import Database, utc_now
from medianest.requests.models import MediaRequest, RequestClaim, RequestStatus
from tests.fakes.overseerr import AUTO_APPROVE, REQUEST, FakeOverseerr
from tests.integration.auth.conftest import csrf, finish_first_run
from tests.integration.requests.conftest import ask, member, put_in_plex
from tests.support.app import Started, ok_data

MOVIE, OTHER_MOVIE, SHOW = 945961, 550, 1399
ALICE_PLEX, BOB_PLEX, CAROL_PLEX = 111, 222, 333
# Their Overseerr ids, as the fake gave them this test.
IDS: dict[str, int] = {}


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_movie(MOVIE, "Alien: Romulus", year=2024)
    overseerr_server.add_movie(OTHER_MOVIE, "Fight Club", year=1999)
    overseerr_server.add_show(SHOW, "Game of Thrones", seasons={1: 10, 2: 10, 3: 10})
    IDS["alice"] = overseerr_server.add_user("alice", plex_id=ALICE_PLEX, permissions=REQUEST)
    IDS["bob"] = overseerr_server.add_user(
        "bob", plex_id=BOB_PLEX, permissions=REQUEST | AUTO_APPROVE
    )
    IDS["carol"] = overseerr_server.add_user("carol", plex_id=CAROL_PLEX, permissions=REQUEST)
    return overseerr_server


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return dict(body["error"])


def _posted(overseerr: FakeOverseerr) -> list[Any]:
    return [c for c in overseerr.calls if c.method == "POST" and c.path == "/api/v1/request"]


class TestAsk:
    async def test_a_movie_is_requested_as_the_user_and_waits_for_approval(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            created = await ask(alice, "movie", MOVIE)
            listed = ok_data(await alice.get("/api/v1/media/requests"))
            one = ok_data(await alice.get(f"/api/v1/media/requests/{listed[0]['id']}"))

        assert created.status_code == 201, created.text
        request = ok_data(created)
        assert (request["title"], request["status"], request["following"]) == (
            "Alien: Romulus",
            "pending",
            False,
        )
        assert request["requestedBy"]["username"] == "alice"
        assert _posted(overseerr)[0].headers["x-api-user"] == str(IDS["alice"])
        assert [r["id"] for r in listed] == [request["id"]]
        assert [(h["status"], h["source"]) for h in one["history"]] == [("pending", "user")]

    async def test_overseerr_auto_approve_applies_to_the_user(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "bob", plex_id=BOB_PLEX) as bob:
            created = ok_data(await ask(bob, "movie", MOVIE))

        # Overseerr answers before its approval is carried out: approved, not yet processing.
        assert created["status"] == "approved"

    async def test_the_same_user_again_is_a_conflict(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await ask(alice, "movie", MOVIE)
            again = await ask(alice, "movie", MOVIE)

        assert (again.status_code, _error(again)["code"]) == (409, "ALREADY_REQUESTED")
        assert len(_posted(overseerr)) == 1

    async def test_another_user_follows_the_open_request(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
        ):
            first = ok_data(await ask(alice, "movie", MOVIE))
            followed = await ask(carol, "movie", MOVIE)
            carols = ok_data(await carol.get("/api/v1/media/requests"))

        assert followed.status_code == 200, followed.text
        assert ok_data(followed)["id"] == first["id"]
        assert ok_data(followed)["following"] is True
        assert [(r["id"], r["following"]) for r in carols] == [(first["id"], True)]
        assert len(_posted(overseerr)) == 1

    async def test_concurrent_identical_requests_make_one_upstream_request(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "bob", plex_id=BOB_PLEX) as bob,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
        ):
            overseerr.slow(0.05)
            answers = await asyncio.gather(
                ask(alice, "movie", MOVIE),
                ask(bob, "movie", MOVIE),
                ask(carol, "movie", MOVIE),
                ask(alice, "movie", MOVIE),
            )
            overseerr.slow(0)

        statuses = [a.status_code for a in answers]
        # One of them made it; the others follow it, or (Alice twice) already have it.
        assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
        ids = {ok_data(a)["id"] for a in answers if a.status_code in (200, 201)}
        assert len(ids) == 1
        assert len(_posted(overseerr)) == 1

    async def test_a_show_by_seasons_and_the_rest_for_a_second_user(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
        ):
            first = ok_data(await ask(alice, "tv", SHOW, seasons=[1, 2]))
            more = await ask(carol, "tv", SHOW, seasons=[2, 3])
            carols = ok_data(await carol.get("/api/v1/media/requests"))

        assert first["seasons"] == [1, 2]
        assert more.status_code == 201, more.text
        assert ok_data(more)["seasons"] == [3]
        # Carol follows Alice's request for season 2 as well.
        assert {(r["seasons"][0], r["following"]) for r in carols} == {(1, True), (3, False)}

    async def test_a_request_its_sender_never_finished_does_not_lock_the_title(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await _left_submitting(database_url, "alice", MOVIE)
            created = await ask(alice, "movie", MOVIE)

        assert created.status_code == 201, created.text
        assert len(_posted(overseerr)) == 1

    async def test_overseerr_down_saves_nothing(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await alice.get(f"/api/v1/media/movie/{MOVIE}")
            overseerr.down()
            refused = await ask(alice, "movie", MOVIE)
            overseerr.healthy()
            listed = ok_data(await alice.get("/api/v1/media/requests"))
            again = await ask(alice, "movie", MOVIE)

        assert refused.status_code == 503
        assert "Overseerr" in _error(refused)["message"]
        assert listed == []
        assert again.status_code == 201, again.text

    async def test_a_user_overseerr_does_not_know_is_imported_from_plex(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        overseerr.allow_plex_import(444, "dora", email="dora@example.com")
        async with member(connected, database_url, "dora", plex_id=444) as dora:
            created = await ask(dora, "movie", MOVIE)

        assert created.status_code == 201, created.text
        imports = [c for c in overseerr.calls if c.path == "/api/v1/user/import-from-plex"]
        assert [c.json for c in imports] == [{"plexIds": ["444"]}]
        assert _posted(overseerr)[0].headers["x-api-user"] not in {str(i) for i in IDS.values()}

    async def test_without_an_overseerr_account_the_user_is_told_to_ask(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "eve", plex_id=None) as eve:
            refused = await ask(eve, "movie", MOVIE)

        assert refused.status_code == 403
        assert "Ask the person who runs this server" in _error(refused)["message"]
        assert _posted(overseerr) == []

    async def test_overseerrs_refusal_reaches_the_user(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        overseerr.add_user("frank", plex_id=555, permissions=0)
        async with member(connected, database_url, "frank", plex_id=555) as frank:
            refused = await ask(frank, "movie", MOVIE)
            listed = ok_data(await frank.get("/api/v1/media/requests"))

        assert refused.status_code == 403
        assert _error(refused)["message"].startswith("Overseerr refused this request")
        assert listed == []

    async def test_a_movie_already_in_plex_is_not_requested(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        await put_in_plex(database_url, MOVIE, rating_key="9001", title="Fight Club")
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            refused = await ask(alice, "movie", MOVIE)

        assert (refused.status_code, _error(refused)["code"]) == (409, "ALREADY_AVAILABLE")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"mediaType": "movie", "tmdbId": MOVIE, "seasons": [1]}, "seasons"),
            ({"mediaType": "tv", "tmdbId": SHOW, "seasons": [9]}, "seasons"),
            ({"mediaType": "tv", "tmdbId": SHOW, "seasons": []}, "seasons"),
            ({"mediaType": "book", "tmdbId": MOVIE}, "mediaType"),
            ({"mediaType": "movie", "tmdbId": "945961"}, "tmdbId"),
        ],
    )
    async def test_bad_input_is_a_field_error(
        self,
        connected: Started,
        database_url: str,
        overseerr: FakeOverseerr,
        body: dict[str, Any],
        field: str,
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            refused = await alice.post("/api/v1/media/request", json=body, headers=csrf(alice))

        assert refused.status_code == 400, refused.text
        assert field in {d["field"] for d in _error(refused)["details"]}

    async def test_an_unknown_title_is_not_found(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            refused = await ask(alice, "movie", 1)

        assert refused.status_code == 404


class TestAllowance:
    async def test_the_21st_request_in_an_hour_is_refused_saying_when(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        ids = list(range(7000, 7021))
        for tmdb_id in ids:
            overseerr.add_movie(tmdb_id, f"Film {tmdb_id}")
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            answers = [await ask(alice, "movie", tmdb_id) for tmdb_id in ids]

        assert [a.status_code for a in answers] == [201] * 20 + [429]
        error = _error(answers[-1])
        assert error["code"] == "RATE_LIMITED" and error["retryAfter"] > 0
        assert answers[-1].headers["Retry-After"]

    async def test_administrators_are_not_counted(
        self, connected: Started, overseerr: FakeOverseerr
    ) -> None:
        ids = list(range(7100, 7122))
        for tmdb_id in ids:
            overseerr.add_movie(tmdb_id, f"Film {tmdb_id}")
        async with connected.client() as admin:
            await finish_first_run(admin)
            answers = [await ask(admin, "movie", tmdb_id) for tmdb_id in ids]

        assert {a.status_code for a in answers} == {201}


class TestSomeoneElses:
    async def test_another_users_request_is_not_found(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
        ):
            mine = ok_data(await ask(alice, "movie", MOVIE))["id"]
            path = f"/api/v1/media/requests/{mine}"
            answers = [
                await carol.get(path),
                await carol.delete(path, headers=csrf(carol)),
                await carol.post(f"{path}/follow", headers=csrf(carol)),
            ]
            still = ok_data(await alice.get(path))

        assert [a.status_code for a in answers] == [404, 404, 404]
        assert still["status"] == "pending"


class TestCancel:
    async def test_a_pending_request_is_withdrawn_in_overseerr_too(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            mine = ok_data(await ask(alice, "movie", MOVIE))["id"]
            cancelled = await alice.delete(f"/api/v1/media/requests/{mine}", headers=csrf(alice))
            listed = ok_data(await alice.get("/api/v1/media/requests"))
            again = await ask(alice, "movie", MOVIE)

        assert cancelled.status_code == 204, cancelled.text
        assert listed == []
        assert again.status_code == 201
        assert len(overseerr.requests) == 1

    async def test_an_approved_request_stays(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "bob", plex_id=BOB_PLEX) as bob:
            mine = ok_data(await ask(bob, "movie", MOVIE))["id"]
            refused = await bob.delete(f"/api/v1/media/requests/{mine}", headers=csrf(bob))

        assert refused.status_code == 409


class TestSearch:
    async def test_each_title_carries_one_state_for_the_caller(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        await put_in_plex(database_url, OTHER_MOVIE, rating_key="9001", title="Fight Club")
        overseerr.add_movie(8001, "Romulus Rising", year=2030)
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "carol", plex_id=CAROL_PLEX) as carol,
        ):
            await ask(alice, "movie", MOVIE)
            as_alice = ok_data(await alice.get("/api/v1/media/search", params={"query": "romulus"}))
            as_carol = ok_data(await carol.get("/api/v1/media/search", params={"query": "romulus"}))
            in_plex = ok_data(
                await carol.get("/api/v1/media/search", params={"query": "fight club"})
            )
            await ask(carol, "movie", MOVIE)
            as_follower = ok_data(
                await carol.get("/api/v1/media/search", params={"query": "romulus"})
            )

        def states(found: list[dict[str, Any]]) -> dict[int, tuple[str, bool, bool]]:
            return {
                t["tmdbId"]: (
                    t["availability"],
                    t["requestedByYou"],
                    t.get("requestId") is not None,
                )
                for t in found
            }

        assert states(as_alice)[MOVIE] == ("requested", True, True)
        assert states(as_carol)[MOVIE] == ("requested", False, False)
        assert states(as_carol)[8001] == ("none", False, False)
        followed = next(t for t in as_follower if t["tmdbId"] == MOVIE)
        assert (followed["requestedByYou"], followed["following"]) == (False, True)
        assert followed["requestId"] is not None
        plex = next(t for t in in_plex if t["tmdbId"] == OTHER_MOVIE)
        assert (plex["availability"], plex["plex"]) == ("available", {"ratingKey": "9001"})

    async def test_an_empty_query_is_refused(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            refused = await alice.get("/api/v1/media/search", params={"query": "  "})

        assert refused.status_code == 400

    async def test_overseerr_down_answers_503_naming_it(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        overseerr.down()
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            refused = await alice.get("/api/v1/media/search", params={"query": "alien"})

        assert refused.status_code == 503
        assert _error(refused)["details"][0]["service"] == "Overseerr"


class TestDetails:
    async def test_a_show_lists_each_seasons_state(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await ask(alice, "tv", SHOW, seasons=[2])
            show = ok_data(await alice.get(f"/api/v1/media/tv/{SHOW}"))

        assert [(s["seasonNumber"], s["availability"]) for s in show["seasons"]] == [
            (1, "none"),
            (2, "requested"),
            (3, "none"),
        ]
        assert show["requestedByYou"] is True


async def _left_submitting(database_url: str, username: str, tmdb_id: int) -> None:
    """A request whose process died between claiming the title and sending it."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            user_id = await session.scalar(select(User.id).where(User.username == username))
            assert user_id is not None
            left = MediaRequest(
                user_id=user_id,
                media_type="movie",
                tmdb_id=tmdb_id,
                title="Alien: Romulus",
                status=RequestStatus.SUBMITTING,
                created_at=utc_now() - timedelta(minutes=10),
            )
            session.add(left)
            await session.flush()
            session.add(RequestClaim(key=f"movie:{tmdb_id}:0", request_id=left.id))
    finally:
        await db.close()
