"""`/api/v1/plex` while Plex is down: answered from what MediaNest holds, marked degraded, and only
from the libraries each user may see; on both databases, against the fake Plex server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from medianest.core.runtime import Platform
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.support.app import Started, ok_data, started
from tests.support.plex import FRIEND_SERVER_TOKEN, shared_with, sync_index


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    """The Plex server; the friend's own server token sees Movies only."""
    return shared_with(plex_server, FRIEND_SERVER_TOKEN, "1")


@pytest.fixture
def cache_backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Where held answers are kept: in-process unless a test asks for Redis."""
    if getattr(request, "param", "memory") == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
        "web_runs_jobs": True,
    }


@pytest.fixture
async def medianest(
    plex_settings: SettingsFactory, cache_backend: dict[str, Any]
) -> AsyncIterator[Started]:
    settings = plex_settings(**cache_backend, http_read_timeout=3.0)
    async with started(create_app(settings)) as app:
        yield app


@pytest.fixture
async def indexed(admin: httpx.AsyncClient, medianest: Started) -> datetime:
    """The index holds the whole library; returns when its sync ended."""
    return await sync_index(admin, medianest)


def key_of(fake: FakePlexServer, title: str) -> str:
    return fake.library.find(title).rating_key


def degraded(response: httpx.Response) -> tuple[Any, datetime]:
    """The data of an answer served from what was held, and the time it is from."""
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["degraded"] is True, meta
    return ok_data(response), datetime.fromisoformat(meta["asOf"])


def unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "Plex" in error["message"]


class TestFromTheIndex:
    async def test_a_librarys_items_are_paged_from_the_index(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        fake.down()

        response = await admin.get(
            "/api/v1/plex/libraries/1/items", params={"page": 2, "pageSize": 2}
        )

        items, as_of = degraded(response)
        assert [item["title"] for item in items] == ["Arrival", "Blade Runner"]
        assert as_of == indexed
        meta = response.json()["meta"]
        assert (meta["page"], meta["pageSize"], meta["total"], meta["totalPages"]) == (2, 2, 6, 3)

    async def test_a_page_past_the_end_from_the_index_is_empty_with_the_real_total(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        fake.down()

        response = await admin.get(
            "/api/v1/plex/libraries/1/items", params={"page": 200, "pageSize": 20}
        )

        items, _ = degraded(response)
        assert items == []
        meta = response.json()["meta"]
        assert (meta["page"], meta["pageSize"], meta["total"], meta["totalPages"]) == (
            200,
            20,
            6,
            1,
        )

    async def test_a_page_past_the_end_held_from_plex_keeps_the_real_total(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        past_the_end = {"page": 200, "pageSize": 20}
        await admin.get("/api/v1/plex/libraries/1/items", params=past_the_end)
        # The fresh answer expires; what was held stays.
        await medianest.state["platform"].cache.invalidate_pattern("plex:owner:*")
        fake.down()

        response = await admin.get("/api/v1/plex/libraries/1/items", params=past_the_end)

        items, _ = degraded(response)
        assert items == []
        meta = response.json()["meta"]
        assert (meta["total"], meta["totalPages"]) == (6, 1)

    async def test_search_and_an_item_are_answered_from_the_index(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        alien = key_of(fake, "Alien")
        fake.down()

        search = await admin.get("/api/v1/plex/search", params={"query": "alien"})
        item = await admin.get(f"/api/v1/plex/items/{alien}")

        hits, searched_as_of = degraded(search)
        assert [hit["title"] for hit in hits] == ["Alien", "Aliens"]
        assert hits[0]["libraryTitle"] == "Movies"
        detail, item_as_of = degraded(item)
        assert (detail["ratingKey"], detail["title"], detail["year"]) == (alien, "Alien", 1979)
        assert searched_as_of == item_as_of == indexed

    async def test_artists_and_albums_are_found_by_name_page_after_page(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        fake.library.add_music()
        fake.library.add_items("1", 25, prefix="Blue Velvet")
        indexed = await sync_index(admin, medianest)
        fake.down()
        search = "/api/v1/plex/search"

        artist = await admin.get(search, params={"query": "simone"})
        pages = [
            await admin.get(search, params={"query": "blue", "page": n, "pageSize": 10})
            for n in (1, 3)
        ]

        hits, as_of = degraded(artist)
        assert [(hit["title"], hit["type"], hit["libraryTitle"]) for hit in hits] == [
            ("Nina Simone", "artist", "Music")
        ]
        assert as_of == indexed
        first, last = (degraded(page)[0] for page in pages)
        meta = pages[1].json()["meta"]
        assert (meta["page"], meta["pageSize"], meta["total"], meta["totalPages"]) == (3, 10, 27, 3)
        assert all(hit["title"].startswith("Blue Velvet") for hit in first)
        # Titles beginning with the word first, then those with it further in.
        assert [hit["title"] for hit in last][-2:] == ["Kind of Blue", "Pastel Blues"]
        assert len(last) == 7

    async def test_libraries_and_recent_additions_are_answered_from_the_index(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        fake.down()

        libraries = await admin.get("/api/v1/plex/libraries")
        recent = await admin.get("/api/v1/plex/recently-added", params={"limit": 3})

        listed, _ = degraded(libraries)
        assert [(lib["key"], lib["title"], lib["itemCount"]) for lib in listed] == [
            ("1", "Movies", 6),
            ("2", "TV Shows", 2),
            ("3", "YouTube", 1),
        ]
        newest, as_of = degraded(recent)
        assert len(newest) == 3
        added = [item["addedAt"] for item in newest]
        assert added == sorted(added, reverse=True)
        assert as_of == indexed

    async def test_an_open_breaker_is_answered_the_same_way(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        fake.down()

        answers = [
            await admin.get("/api/v1/plex/search", params={"query": f"alien {n}"}) for n in range(8)
        ]

        assert [r.status_code for r in answers] == [200] * 8
        assert all(r.json()["meta"]["degraded"] for r in answers)

    async def test_a_live_answer_is_not_marked(
        self, admin: httpx.AsyncClient, indexed: datetime
    ) -> None:
        response = await admin.get("/api/v1/plex/search", params={"query": "alien"})

        assert response.status_code == 200
        assert "degraded" not in response.json()["meta"]


class TestFromAHeldAnswer:
    async def test_an_expired_answer_is_served_with_the_time_plex_gave_it(
        self, admin: httpx.AsyncClient, medianest: Started, fake: FakePlexServer
    ) -> None:
        show = key_of(fake, "Breaking Bad")
        before = datetime.now().astimezone()
        fresh = await admin.get(f"/api/v1/plex/items/{show}")
        platform: Platform = medianest.state["platform"]
        # As when the fresh answer's five minutes are up.
        await platform.cache.invalidate_pattern("plex:owner:*")
        fake.down()

        response = await admin.get(f"/api/v1/plex/items/{show}")

        held, as_of = degraded(response)
        assert held == ok_data(fresh)
        assert [season["title"] for season in held["children"]] == ["Season 1", "Season 2"]
        assert before <= as_of <= datetime.now().astimezone()


class TestPrivacy:
    @pytest.mark.parametrize("cache_backend", ["memory", "redis"], indirect=True)
    async def test_a_user_gets_nothing_from_a_library_not_shared_with_them(
        self,
        friend: httpx.AsyncClient,
        medianest: Started,
        fake: FakePlexServer,
        indexed: datetime,
    ) -> None:
        show = key_of(fake, "Breaking Bad")
        await friend.get("/api/v1/plex/libraries")
        platform: Platform = medianest.state["platform"]
        # As when the fresh answers' time is up.
        await platform.cache.invalidate_pattern("plex:u:*")
        fake.down()

        libraries = await friend.get("/api/v1/plex/libraries")
        items = await friend.get("/api/v1/plex/libraries/2/items")
        item = await friend.get(f"/api/v1/plex/items/{show}")
        search = await friend.get("/api/v1/plex/search", params={"query": "breaking"})
        recent = await friend.get("/api/v1/plex/recently-added", params={"limit": 50})
        movies = await friend.get("/api/v1/plex/libraries/1/items")

        assert [lib["key"] for lib in degraded(libraries)[0]] == ["1"]
        unavailable(items)
        unavailable(item)
        assert degraded(search)[0] == []
        assert {entry["libraryKey"] for entry in degraded(recent)[0]} == {"1"}
        assert len(degraded(movies)[0]) == 6
        everything = items.text + item.text + search.text + recent.text + libraries.text
        assert "Breaking Bad" not in everything
        assert "TV Shows" not in everything

    async def test_a_user_never_seen_with_their_libraries_gets_plexs_error(
        self, friend: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        fake.down()

        unavailable(await friend.get("/api/v1/plex/libraries/1/items"))
        unavailable(await friend.get("/api/v1/plex/search", params={"query": "alien"}))


class TestNothingHeld:
    async def test_with_an_empty_index_plex_down_is_a_503_naming_plex(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        alien = key_of(fake, "Alien")
        fake.down()

        for path in (
            "/api/v1/plex/libraries",
            "/api/v1/plex/libraries/1/items",
            f"/api/v1/plex/items/{alien}",
            "/api/v1/plex/search?query=alien",
            "/api/v1/plex/recently-added",
        ):
            response = await admin.get(path)
            unavailable(response)
            assert response.json()["error"]["details"] == [{"service": "Plex"}]

    async def test_an_item_the_index_does_not_hold_is_a_503(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, indexed: datetime
    ) -> None:
        season = fake.library.children_of(fake.library.find("Breaking Bad"))[0].rating_key
        fake.down()

        unavailable(await admin.get(f"/api/v1/plex/items/{season}"))
        unavailable(await admin.get("/api/v1/plex/libraries/2/items", params={"type": "episode"}))
