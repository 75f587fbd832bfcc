"""`/api/v1/plex` through MediaNest's HTTP API, against a fake plex.tv and a fake Plex server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer, png_size
from tests.integration.auth.conftest import csrf
from tests.support.app import Started, ok_data, started
from tests.support.plex import FRIEND_SERVER_TOKEN, local_account, shared_with


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    """The Plex server; the friend's own server token sees Movies only."""
    return shared_with(plex_server, FRIEND_SERVER_TOKEN, "1")


@pytest.fixture
async def medianest(plex_settings: SettingsFactory) -> AsyncIterator[Started]:
    async with started(create_app(plex_settings(youtube_dir=Path("/data/youtube")))) as app:
        yield app


@pytest.fixture
async def local_user(medianest: Started, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with local_account(medianest, database_url, "local-viewer") as http:
        yield http


def key_of(fake: FakePlexServer, title: str) -> str:
    return fake.library.find(title).rating_key


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return dict(body["error"])


def fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 400, response.text
    return {detail["field"] for detail in error(response).get("details", [])}


class TestBrowsing:
    async def test_an_admin_sees_every_library_with_its_count_and_no_folders(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await admin.get("/api/v1/plex/libraries")

        assert ok_data(response) == [
            {"key": "1", "type": "movie", "title": "Movies", "itemCount": 6},
            {"key": "2", "type": "show", "title": "TV Shows", "itemCount": 2},
            {"key": "3", "type": "movie", "title": "YouTube", "itemCount": 1},
        ]

    async def test_the_server_is_described(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await friend.get("/api/v1/plex/server")

        assert ok_data(response) == {
            "name": "Home",
            "machineIdentifier": fake.machine_identifier,
            "version": fake.version,
            "platform": "Linux",
        }

    async def test_items_are_paged_with_the_totals_in_meta(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await admin.get(
            "/api/v1/plex/libraries/1/items", params={"page": 2, "pageSize": 2, "sort": "title"}
        )

        assert [item["title"] for item in ok_data(response)] == ["Arrival", "Blade Runner"]
        assert response.json()["meta"] == {"page": 2, "pageSize": 2, "total": 6, "totalPages": 3}
        assert [(p.start, p.size) for p in fake.pages] == [(2, 2)]
        item = ok_data(response)[0]
        assert {
            "ratingKey",
            "type",
            "title",
            "year",
            "summary",
            "thumb",
            "duration",
            "addedAt",
        } <= (item.keys())
        assert "files" not in item

    @pytest.mark.parametrize(("page", "page_size"), [(200, 20), (100_000, 100)])
    async def test_a_page_past_the_end_is_empty_and_keeps_the_librarys_total(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, page: int, page_size: int
    ) -> None:
        fake.library.add_items("1", 3000 - 6)

        response = await admin.get(
            "/api/v1/plex/libraries/1/items", params={"page": page, "pageSize": page_size}
        )

        assert ok_data(response) == []
        assert response.json()["meta"] == {
            "page": page,
            "pageSize": page_size,
            "total": 3000,
            "totalPages": 3000 // page_size,
        }

    async def test_a_collection_paged_past_its_end_keeps_its_item_count(
        self, admin: httpx.AsyncClient
    ) -> None:
        listed = await admin.get("/api/v1/plex/libraries/1/collections")
        (collection,) = ok_data(listed)

        opened = await admin.get(
            f"/api/v1/plex/collections/{collection['ratingKey']}",
            params={"page": 200, "pageSize": 20},
        )

        details = ok_data(opened)
        assert (details["items"], details["itemTotal"]) == ([], 2)
        assert opened.json()["meta"] == {"page": 200, "pageSize": 20, "total": 2, "totalPages": 1}

    async def test_an_item_comes_with_its_children(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await admin.get(f"/api/v1/plex/items/{key_of(fake, 'Breaking Bad')}")

        show = ok_data(response)
        assert show["title"] == "Breaking Bad"
        assert [season["title"] for season in show["children"]] == ["Season 1", "Season 2"]

    async def test_search_finds_titles(self, admin: httpx.AsyncClient) -> None:
        response = await admin.get("/api/v1/plex/search", params={"query": "alien"})

        assert {hit["title"] for hit in ok_data(response)} >= {"Alien", "Aliens"}

    async def test_search_pages_through_everything_found_and_counts_it(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("1", 45, prefix="Starlight")
        search = "/api/v1/plex/search"

        pages = [
            await admin.get(search, params={"query": "starlight", "page": n, "pageSize": 20})
            for n in (1, 2, 3, 4)
        ]

        metas = [page.json()["meta"] for page in pages]
        assert metas[0] == {"page": 1, "pageSize": 20, "total": 45, "totalPages": 3}
        assert [meta["page"] for meta in metas] == [1, 2, 3, 4]
        titles = [[hit["title"] for hit in ok_data(page)] for page in pages]
        assert [len(found) for found in titles] == [20, 20, 5, 0]
        assert len({title for found in titles for title in found}) == 45

    async def test_search_still_takes_a_limit_as_its_page_size(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await admin.get("/api/v1/plex/search", params={"query": "alien", "limit": 1})

        assert [hit["title"] for hit in ok_data(response)] == ["Alien"]
        assert response.json()["meta"] == {"page": 1, "pageSize": 1, "total": 3, "totalPages": 3}

    async def test_an_artist_named_as_asked_comes_first_then_albums_by_name(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_music()
        fake.library.add_movie("1", "Nina Simone: The Legend", year=1992)

        artist = await admin.get("/api/v1/plex/search", params={"query": "nina simone"})
        album = await admin.get("/api/v1/plex/search", params={"query": "kind of blue"})

        hits = ok_data(artist)
        assert [(hit["title"], hit["type"]) for hit in hits] == [
            ("Nina Simone", "artist"),
            ("Nina Simone: The Legend", "movie"),
        ]
        assert hits[0]["libraryTitle"] == "Music"
        assert [(hit["title"], hit["type"], hit["parentTitle"]) for hit in ok_data(album)] == [
            ("Kind of Blue", "album", "Miles Davis")
        ]

    async def test_search_without_a_query_says_one_is_required(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        for params in ({}, {"query": ""}, {"query": "   "}):
            response = await admin.get("/api/v1/plex/search", params=params)

            assert response.status_code == 400, params
            assert error(response)["message"] == "Search query is required"
            assert error(response)["details"] == [
                {"field": "query", "message": "Search query is required"}
            ]
        assert fake.hits == 0

    async def test_recently_added_is_newest_first(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        (newest,) = fake.library.add_items("1", 1, prefix="Brand New")

        response = await admin.get("/api/v1/plex/recently-added", params={"limit": 2})

        assert [item["ratingKey"] for item in ok_data(response)][:1] == [newest]
        assert len(ok_data(response)) == 2

    async def test_collections_are_listed_and_opened_with_their_items(
        self, admin: httpx.AsyncClient
    ) -> None:
        listed = await admin.get(
            "/api/v1/plex/libraries/1/collections", params={"search": "alien", "sort": "title"}
        )
        (collection,) = ok_data(listed)
        opened = await admin.get(f"/api/v1/plex/collections/{collection['ratingKey']}")

        assert collection["title"] == "Alien Collection"
        details = ok_data(opened)
        assert [item["title"] for item in details["items"]] == ["Alien", "Aliens"]
        assert opened.json()["meta"] == {"page": 1, "pageSize": 50, "total": 2, "totalPages": 1}

    async def test_signed_out_callers_are_unauthorized(self, medianest: Started) -> None:
        async with medianest.client() as http:
            response = await http.get("/api/v1/plex/libraries")

        assert response.status_code == 401


class TestPrivacy:
    async def test_a_shared_user_sees_only_the_libraries_shared_with_them(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await friend.get("/api/v1/plex/libraries")

        assert [library["title"] for library in ok_data(response)] == ["Movies"]
        tokens = {r.headers.get("x-plex-token") for r in fake.requests if r.path != "/identity"}
        assert tokens == {FRIEND_SERVER_TOKEN}

    async def test_a_shared_user_cannot_reach_a_library_not_shared_with_them(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        show = key_of(fake, "Breaking Bad")
        thumb = f"/library/metadata/{show}/thumb/1700000000"

        items = await friend.get("/api/v1/plex/libraries/2/items")
        item = await friend.get(f"/api/v1/plex/items/{show}")
        collections = await friend.get("/api/v1/plex/libraries/2/collections")
        image = await friend.get("/api/v1/plex/image", params={"path": thumb})
        search = await friend.get("/api/v1/plex/search", params={"query": "breaking"})

        assert items.status_code == item.status_code == collections.status_code == 404
        assert image.status_code == 404
        assert image.headers["content-type"].startswith("application/json")
        assert "Breaking Bad" not in items.text + item.text + image.text + search.text
        assert ok_data(search) == []

    async def test_an_admins_cached_answers_are_not_served_to_a_shared_user(
        self, admin: httpx.AsyncClient, friend: httpx.AsyncClient
    ) -> None:
        await admin.get("/api/v1/plex/libraries")
        await admin.get("/api/v1/plex/recently-added")

        libraries = await friend.get("/api/v1/plex/libraries")
        recent = await friend.get("/api/v1/plex/recently-added", params={"limit": 50})

        assert libraries.headers["x-cache"] == recent.headers["x-cache"] == "MISS"
        assert [library["title"] for library in ok_data(libraries)] == ["Movies"]
        assert {item["libraryKey"] for item in ok_data(recent)} == {"1"}

    async def test_a_shared_user_fetches_the_images_of_their_own_libraries(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        thumb = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        response = await friend.get("/api/v1/plex/image", params={"path": thumb})

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"

    async def test_a_local_account_is_told_to_sign_in_with_plex(
        self, local_user: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        for path in ("/api/v1/plex/libraries", "/api/v1/plex/libraries/1/items"):
            response = await local_user.get(path)
            assert response.status_code == 403
            assert error(response)["message"] == "Sign in with Plex to browse the library."
        assert fake.hits == 0

    async def test_a_user_cannot_refresh_scan_or_create_collections(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        headers = csrf(friend)
        body = {"libraryKey": "1", "title": "Mine", "ratingKeys": [key_of(fake, "Alien")]}

        refresh = await friend.post("/api/v1/plex/libraries/1/refresh", headers=headers)
        scan = await friend.post(
            "/api/v1/plex/libraries/1/scan", json={"path": "/data/movies"}, headers=headers
        )
        create = await friend.post("/api/v1/plex/collections", json=body, headers=headers)

        assert refresh.status_code == scan.status_code == create.status_code == 403
        assert fake.library.refreshes == []


class TestCaching:
    async def test_a_miss_then_a_hit_without_asking_plex(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        paths = [
            "/api/v1/plex/server",
            "/api/v1/plex/libraries",
            "/api/v1/plex/libraries/1/items",
            f"/api/v1/plex/items/{key_of(fake, 'Alien')}",
            "/api/v1/plex/search?query=alien",
            "/api/v1/plex/recently-added",
            "/api/v1/plex/libraries/1/collections",
        ]
        first = [await admin.get(path) for path in paths]
        hits = fake.hits
        second = [await admin.get(path) for path in paths]

        assert [r.headers["x-cache"] for r in first] == ["MISS"] * len(paths)
        assert [r.headers["x-cache"] for r in second] == ["HIT"] * len(paths)
        assert [r.json() for r in second] == [r.json() for r in first]
        assert fake.hits == hits

    async def test_a_refresh_makes_the_next_answers_fresh(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        await admin.get("/api/v1/plex/libraries/1/items")
        fake.library.add_items("1", 1, prefix="Zulu")

        refreshed = await admin.post("/api/v1/plex/libraries/1/refresh", headers=csrf(admin))
        after = await admin.get("/api/v1/plex/libraries/1/items")

        assert refreshed.status_code == 202
        assert ok_data(refreshed) == {"libraryKey": "1", "path": None}
        assert fake.library.refreshes == [("1", None)]
        assert after.headers["x-cache"] == "MISS"
        assert after.json()["meta"]["total"] == 7

    async def test_a_folder_scan_makes_the_next_answers_fresh(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        await admin.get("/api/v1/plex/libraries/3/items")

        scanned = await admin.post(
            "/api/v1/plex/libraries/3/scan",
            json={"path": "/data/youtube/Cooking"},
            headers=csrf(admin),
        )
        after = await admin.get("/api/v1/plex/libraries/3/items")

        assert scanned.status_code == 202
        assert fake.library.refreshes == [("3", "/data/youtube/Cooking")]
        assert after.headers["x-cache"] == "MISS"

    async def test_a_new_collection_shows_up_at_once(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        await admin.get("/api/v1/plex/libraries/1/collections")
        keys = [key_of(fake, "The Matrix"), key_of(fake, "Arrival")]

        created = await admin.post(
            "/api/v1/plex/collections",
            json={"libraryKey": "1", "title": "Weekend", "ratingKeys": keys},
            headers=csrf(admin),
        )
        listed = await admin.get("/api/v1/plex/libraries/1/collections")

        assert created.status_code == 201, created.text
        assert ok_data(created)["title"] == "Weekend"
        assert fake.library.members(ok_data(created)["ratingKey"]) == keys
        assert listed.headers["x-cache"] == "MISS"
        assert [c["title"] for c in ok_data(listed)] == ["Alien Collection", "Weekend"]


class TestPlexTrouble:
    async def test_plex_down_is_a_503_naming_plex(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.down()

        response = await admin.get("/api/v1/plex/libraries")

        assert response.status_code == 503
        assert error(response)["code"] == "SERVICE_UNAVAILABLE"
        assert "Plex" in error(response)["message"]
        assert error(response)["details"] == [{"service": "Plex"}]

    async def test_plex_too_slow_is_a_504_naming_plex(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.slow(2)

        response = await admin.get("/api/v1/plex/libraries/1/items")

        assert response.status_code == 504
        assert error(response)["code"] == "UPSTREAM_TIMEOUT"
        assert error(response)["details"] == [{"service": "Plex"}]

    async def test_a_scan_outside_the_librarys_folders_is_explained(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await admin.post(
            "/api/v1/plex/libraries/3/scan", json={"path": "/data/movies"}, headers=csrf(admin)
        )

        assert fields(response) == {"path"}
        assert "not inside the folders" in error(response)["message"]
        assert fake.library.refreshes == []


class TestImages:
    async def test_an_image_is_cached_on_disk_and_for_the_browser(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, make_settings: SettingsFactory
    ) -> None:
        thumb = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        first = await admin.get("/api/v1/plex/image", params={"path": thumb})
        hits = fake.hits
        second = await admin.get("/api/v1/plex/image", params={"path": thumb})

        assert first.status_code == second.status_code == 200
        assert first.headers["content-type"] == "image/png"
        assert first.headers["cache-control"] == "private, max-age=86400"
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
        assert second.content == first.content
        assert png_size(first.content) == (100, 150)
        assert fake.hits == hits
        cached = list((make_settings().data_dir / "cache" / "images").iterdir())
        assert len(cached) == 1

    async def test_a_width_is_resized_by_plexs_transcoder(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        thumb = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        response = await admin.get(
            "/api/v1/plex/image", params={"path": thumb, "width": 200, "height": 300}
        )

        assert response.status_code == 200
        assert png_size(response.content) == (200, 300)
        assert fake.transcodes == [(thumb, 200, 300)]

    async def test_anything_but_a_plex_artwork_path_is_refused_without_a_call(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        paths = [
            "https://evil.example/poster.jpg",
            "//evil.example/library/metadata/1/thumb/1",
            "/library/metadata/1/thumb/../../../../etc/passwd",
            "/library/metadata/1/thumb/1?url=http://evil.example/",
            "/library/metadata/1/thumb/1%2F..%2F..",
            "/library/parts/47070/1586877036/file",
            "",
        ]

        refused = {
            path: fields(await admin.get("/api/v1/plex/image", params={"path": path}))
            for path in paths
        }

        assert refused == {path: {"path"} for path in paths}
        assert fake.hits == 0

    async def test_sizes_are_bounded(self, admin: httpx.AsyncClient, fake: FakePlexServer) -> None:
        thumb = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        response = await admin.get(
            "/api/v1/plex/image", params={"path": thumb, "width": 1001, "height": 0}
        )

        assert fields(response) == {"width", "height"}
        assert fake.hits == 0


class TestValidation:
    async def test_bad_query_and_path_values_are_refused_field_by_field(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        cases = {
            "/api/v1/plex/libraries/abc/items": {"key"},
            "/api/v1/plex/libraries/1/items?pageSize=0&page=0": {"pageSize", "page"},
            "/api/v1/plex/libraries/1/items?pageSize=101": {"pageSize"},
            "/api/v1/plex/libraries/1/items?sort=rating&type=dog": {"sort", "type"},
            "/api/v1/plex/items/12a": {"ratingKey"},
            "/api/v1/plex/search?query=" + "a" * 201: {"query"},
            "/api/v1/plex/search?query=alien&limit=0": {"limit"},
            "/api/v1/plex/recently-added?limit=101": {"limit"},
            "/api/v1/plex/libraries/1/collections?sort=size": {"sort"},
            "/api/v1/plex/libraries/1/collections?search=" + "a" * 201: {"search"},
            "/api/v1/plex/collections/1.5": {"key"},
            "/api/v1/plex/collections/1?pageSize=500": {"pageSize"},
        }

        refused = {path: fields(await admin.get(path)) for path in cases}

        assert refused == cases
        assert fake.hits == 0

    async def test_a_bad_collection_is_refused_field_by_field(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        good = {"libraryKey": "1", "title": "Weekend", "ratingKeys": ["1"]}
        cases: list[tuple[dict[str, Any], set[str]]] = [
            ({**good, "libraryKey": "x"}, {"libraryKey"}),
            ({**good, "title": "  "}, {"title"}),
            ({**good, "title": "T" * 201}, {"title"}),
            ({**good, "ratingKeys": []}, {"ratingKeys"}),
            ({**good, "ratingKeys": ["1", "2;3"]}, {"ratingKeys.1"}),
            ({**good, "ratingKeys": ["1"] * 1001}, {"ratingKeys"}),
            ({"title": "Weekend"}, {"libraryKey", "ratingKeys"}),
        ]

        refused = [
            fields(await admin.post("/api/v1/plex/collections", json=body, headers=csrf(admin)))
            for body, _ in cases
        ]

        assert refused == [bad for _, bad in cases]
        assert fake.hits == 0

    async def test_a_scan_needs_a_folder(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        response = await admin.post(
            "/api/v1/plex/libraries/3/scan", json={"path": " "}, headers=csrf(admin)
        )

        assert fields(response) == {"path"}
        assert error(response)["message"] == "Give the folder to scan."
        assert fake.hits == 0
