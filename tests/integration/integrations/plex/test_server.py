"""The Plex Media Server adapter against a fake Plex server over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable, ValidationFailed
from medianest.integrations.plex.errors import (
    CollectionNotFound,
    ImageNotFound,
    InvalidImagePath,
    ItemNotFound,
    LibraryNotFound,
    PathOutsideLibrary,
    PlexRejected,
    UserTokenRefused,
)
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.transport import PlexUserToken
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer, png_size
from tests.support.plex import CLIENT_ID, server_client

# Short enough for the slow-Plex tests (the fake stalls 2 s), long enough that a loaded machine's
# fake answers a page of 200 in time: a retried page would be asked twice.
FAST = {"http_connect_timeout": 0.5, "http_read_timeout": 1.0}
FRIEND = "server-token-of-a-friend"


@pytest.fixture
async def plex(
    make_settings: SettingsFactory, fake: FakePlexServer
) -> AsyncIterator[PlexServerClient]:
    async with server_client(make_settings(**FAST), fake.url) as client:
        yield client


def query(fake: FakePlexServer, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in fake.requests if r.path == path]


class TestServer:
    async def test_the_identity_is_read_without_a_token(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        identity = await plex.identity()

        assert identity.machine_identifier == fake.machine_identifier
        assert identity.version == fake.version
        assert "x-plex-token" not in fake.requests[0].headers

    async def test_server_info_names_the_server(self, plex: PlexServerClient) -> None:
        info = await plex.server_info(token=OWNER_TOKEN)

        assert info.name == "Home"
        assert info.platform == "Linux"
        assert info.model_dump(by_alias=True).keys() == {
            "name",
            "machineIdentifier",
            "version",
            "platform",
        }

    async def test_the_token_travels_in_a_header_never_in_a_url(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        await plex.libraries(token=OWNER_TOKEN)
        await plex.library_items("1", token=OWNER_TOKEN)
        alien = fake.library.find("Alien").rating_key
        await plex.image(f"/library/metadata/{alien}/thumb/1", token=OWNER_TOKEN, width=90)

        assert len(fake.requests) == 3
        for request in fake.requests:
            assert request.headers["x-plex-token"] == OWNER_TOKEN
            assert OWNER_TOKEN not in request.query
            assert request.headers["x-plex-client-identifier"] == CLIENT_ID
            assert request.headers["x-plex-product"] == "MediaNest"


class TestLibraries:
    async def test_every_library_is_listed_with_its_folders(self, plex: PlexServerClient) -> None:
        libraries = await plex.libraries(token=OWNER_TOKEN)

        assert [(lib.key, lib.type, lib.title) for lib in libraries] == [
            ("1", "movie", "Movies"),
            ("2", "show", "TV Shows"),
            ("3", "movie", "YouTube"),
        ]
        assert libraries[2].locations == ["/data/youtube"]
        assert not libraries[0].refreshing
        assert libraries[0].scanned_at is not None
        assert libraries[0].scanned_at.tzinfo is not None
        assert libraries[0].item_count is None

    async def test_items_are_counted_without_listing_any(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("3", 40)

        libraries = await plex.libraries(token=OWNER_TOKEN, include_counts=True)

        assert [lib.item_count for lib in libraries] == [6, 2, 41]
        assert [page.size for page in fake.pages] == [0, 0, 0]
        assert await plex.library_size("3", token=OWNER_TOKEN) == 41

    async def test_a_shared_user_sees_only_the_libraries_shared_with_them(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.share(FRIEND, "1")

        libraries = await plex.libraries(token=PlexUserToken(FRIEND))

        assert [lib.title for lib in libraries] == ["Movies"]

    async def test_a_shared_user_cannot_list_a_library_not_shared_with_them(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.share(FRIEND, "1")

        with pytest.raises(LibraryNotFound) as caught:
            await plex.library_items("2", token=PlexUserToken(FRIEND))

        assert caught.value.status == 404
        assert "not shared with you" in caught.value.message

    async def test_a_shared_users_refused_token_is_theirs_to_renew(
        self, plex: PlexServerClient
    ) -> None:
        with pytest.raises(UserTokenRefused) as caught:
            await plex.libraries(token=PlexUserToken("revoked-friend-token"))

        assert caught.value.status == 403
        assert "Sign in with Plex again" in caught.value.message

    async def test_a_server_token_plex_refuses_needs_an_administrator(
        self, plex: PlexServerClient
    ) -> None:
        with pytest.raises(UpstreamUnavailable) as caught:
            await plex.libraries(token="revoked-owner-token")

        assert caught.value.misconfigured
        assert caught.value.service == "Plex"
        assert caught.value.status == 503
        assert "revoked-owner-token" not in caught.value.message

    async def test_an_unknown_library_is_not_found(self, plex: PlexServerClient) -> None:
        with pytest.raises(LibraryNotFound):
            await plex.library_items("99", token=OWNER_TOKEN)


class TestLibraryItems:
    async def test_a_page_holds_what_a_poster_grid_shows(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        page = await plex.library_items("1", token=OWNER_TOKEN, start=0, size=2)

        assert (page.offset, page.total_size) == (0, 6)
        assert [item.title for item in page.items] == ["Alien", "Aliens"]
        alien = page.items[0]
        assert alien.model_dump(by_alias=True, include={"rating_key", "type", "year"}) == {
            "ratingKey": fake.library.find("Alien").rating_key,
            "type": "movie",
            "year": 1979,
        }
        assert alien.thumb is not None
        assert alien.thumb.startswith(f"/library/metadata/{alien.rating_key}/thumb/")
        assert alien.duration == 6_000_000
        assert alien.added_at == datetime.fromtimestamp(fake.library.find("Alien").added_at, UTC)
        assert alien.library_key == "1"
        assert "files" not in alien.model_dump(by_alias=True)

    async def test_the_next_page_starts_where_the_last_ended(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        page = await plex.library_items("1", token=OWNER_TOKEN, start=4, size=2)

        assert page.offset == 4
        assert [item.title for item in page.items] == ["Ex Machina", "The Matrix"]
        assert query(fake, "/library/sections/1/all")[0]["X-Plex-Container-Start"] == ["4"]

    @pytest.mark.parametrize(
        ("sort", "first"),
        [("year:desc", "Arrival"), ("year:asc", "Alien"), ("titleSort:desc", "The Matrix")],
    )
    async def test_plex_sorts_the_library(
        self, plex: PlexServerClient, sort: str, first: str
    ) -> None:
        page = await plex.library_items("1", token=OWNER_TOKEN, sort=sort)

        assert page.items[0].title == first

    async def test_a_tv_library_lists_its_episodes_when_asked(self, plex: PlexServerClient) -> None:
        page = await plex.library_items("2", token=OWNER_TOKEN, type="episode", size=200)

        assert page.total_size == 8
        assert {item.grandparent_title for item in page.items} == {"Breaking Bad", "Alias"}
        assert all(item.type == "episode" for item in page.items)

    async def test_guids_become_external_ids_when_asked_for(self, plex: PlexServerClient) -> None:
        plain = await plex.library_items("2", token=OWNER_TOKEN)
        with_ids = await plex.library_items("2", token=OWNER_TOKEN, include_guids=True)

        assert plain.items[1].external_ids.tmdb is None
        bad = with_ids.items[1]
        assert bad.title == "Breaking Bad"
        assert bad.external_ids.model_dump() == {"tmdb": 1396, "imdb": "tt0903747", "tvdb": 81189}

    async def test_odd_values_cost_only_themselves(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_movie(
            "3",
            "Odd Clip",
            wire={
                "type": "clip",
                "year": "2021",
                "duration": "about an hour",
                "childCount": "3",
                "Guid": [{"id": "imdb://tt7654321"}, "not an object"],
            },
        )
        fake.library.add_movie("3", "No Key", wire={"ratingKey": None})

        page = await plex.library_items("3", token=OWNER_TOKEN, include_guids=True)

        assert [item.title for item in page.items] == ["Knife Skills 101", "Odd Clip"]
        odd = page.items[1]
        assert (odd.type, odd.year, odd.duration, odd.child_count) == ("clip", 2021, None, 3)
        assert odd.external_ids.imdb == "tt7654321"

    async def test_pages_hold_one_to_two_hundred_items(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        for size in (0, 201):
            with pytest.raises(ValueError, match=r"1\.\.200"):
                await plex.library_items("1", token=OWNER_TOKEN, size=size)

        assert fake.hits == 0


class TestIterLibraryItems:
    async def test_a_large_library_is_read_in_pages_of_two_hundred(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("3", 449)

        keys = [item.rating_key async for item in plex.iter_library_items("3", token=OWNER_TOKEN)]

        assert len(keys) == len(set(keys)) == 450
        assert [(p.start, p.size) for p in fake.pages] == [(0, 200), (200, 200), (400, 200)]
        assert all(q["includeGuids"] == ["1"] for q in query(fake, "/library/sections/3/all"))

    async def test_items_come_with_their_external_ids(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        [key] = fake.library.add_items("3", 1)

        items = [item async for item in plex.iter_library_items("3", token=OWNER_TOKEN)]

        assert items[-1].rating_key == key
        assert items[-1].external_ids.imdb == f"tt{int(key):07d}"
        assert items[-1].external_ids.tmdb == int(key)

    async def test_only_items_changed_since_are_read(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        keys = fake.library.add_items("3", 300)
        since = int(time.time())
        fake.library.update_item(keys[10], title="Renamed")
        fake.library.update_item(keys[250], summary="New summary")

        changed = [
            item
            async for item in plex.iter_library_items("3", token=OWNER_TOKEN, updated_since=since)
        ]

        assert sorted(item.rating_key for item in changed) == [keys[10], keys[250]]
        assert [(p.start, p.size) for p in fake.pages] == [(0, 200)]
        assert query(fake, "/library/sections/3/all")[0]["updatedAt>>"] == [str(since - 1)]

    async def test_stopping_early_leaves_the_rest_unread(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("3", 1000)

        async for item in plex.iter_library_items("3", token=OWNER_TOKEN):
            if item.title.endswith("0"):
                break

        assert len(fake.pages) <= 2


class TestItem:
    async def test_a_movie_comes_with_its_details(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        alien = await plex.item(fake.library.find("Alien").rating_key, token=OWNER_TOKEN)

        assert (alien.title, alien.year, alien.library_title) == ("Alien", 1979, "Movies")
        assert alien.external_ids.imdb == "tt0078748"
        assert "Sigourney Weaver" in alien.cast
        assert alien.genres == ["Science Fiction"]
        assert alien.children == []

    async def test_a_show_comes_with_its_seasons(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        show = await plex.item(fake.library.find("Breaking Bad").rating_key, token=OWNER_TOKEN)

        assert show.external_ids.tvdb == 81189
        assert (show.child_count, show.leaf_count) == (2, 6)
        assert [(s.title, s.index, s.leaf_count) for s in show.children] == [
            ("Season 1", 1, 3),
            ("Season 2", 2, 3),
        ]

    async def test_a_season_comes_with_its_episodes(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        show = await plex.item(fake.library.find("Alias").rating_key, token=OWNER_TOKEN)

        season = await plex.item(show.children[0].rating_key, token=OWNER_TOKEN)

        assert season.parent_title == "Alias"
        assert [(e.index, e.grandparent_title) for e in season.children] == [
            (1, "Alias"),
            (2, "Alias"),
        ]
        assert await plex.children(season.rating_key, token=OWNER_TOKEN) == season.children

    async def test_an_item_no_longer_there_is_not_found(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        gone = fake.library.find("Arrival").rating_key
        fake.library.remove_item(gone)

        with pytest.raises(ItemNotFound) as caught:
            await plex.item(gone, token=OWNER_TOKEN)

        assert caught.value.status == 404
        assert "not on the Plex server" in caught.value.message

    async def test_a_key_that_is_not_a_plex_id_is_not_sent(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        with pytest.raises(ItemNotFound):
            await plex.item("1/../../sections", token=OWNER_TOKEN)

        assert fake.hits == 0

    async def test_a_shared_user_cannot_open_an_item_of_another_library(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.share(FRIEND, "1")

        with pytest.raises(ItemNotFound):
            await plex.item(fake.library.find("Alias").rating_key, token=PlexUserToken(FRIEND))


class TestSearch:
    async def test_titles_are_found_across_libraries_but_not_actors(
        self, plex: PlexServerClient
    ) -> None:
        hits = await plex.search("ali", token=OWNER_TOKEN)

        assert [(hit.title, hit.type) for hit in hits] == [
            ("Alien", "movie"),
            ("Aliens", "movie"),
            ("Alias", "show"),
            ("Alien Collection", "collection"),
        ]
        assert hits[2].library_title == "TV Shows"
        assert "Alicia Vikander" not in {hit.title for hit in hits}

    async def test_one_library_can_be_searched(self, plex: PlexServerClient) -> None:
        hits = await plex.search("ali", token=OWNER_TOKEN, section="2")

        assert [hit.title for hit in hits] == ["Alias"]

    async def test_a_shared_user_finds_only_what_is_shared_with_them(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.share(FRIEND, "2")

        hits = await plex.search("ali", token=PlexUserToken(FRIEND))

        assert [hit.title for hit in hits] == ["Alias"]

    async def test_no_more_than_the_limit_of_each_kind_is_returned(
        self, plex: PlexServerClient
    ) -> None:
        hits = await plex.search("a", token=OWNER_TOKEN, limit=3)

        kinds = [hit.type for hit in hits]
        assert kinds == ["movie"] * 3 + ["show"] * 2 + ["collection"]

    async def test_an_empty_query_is_refused_without_asking_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        with pytest.raises(ValidationFailed, match="Search query is required"):
            await plex.search("  ", token=OWNER_TOKEN)

        assert fake.hits == 0


class TestRecentlyAdded:
    async def test_the_newest_come_first(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        keys = fake.library.add_items("1", 5)

        added = await plex.recently_added(token=OWNER_TOKEN, limit=3)

        assert [item.rating_key for item in added] == keys[:-4:-1]
        assert query(fake, "/library/recentlyAdded")[0]["X-Plex-Container-Size"] == ["3"]

    async def test_one_library_at_a_time(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("1", 5)

        added = await plex.recently_added(token=OWNER_TOKEN, section="2")

        assert {item.type for item in added} == {"season"}
        assert {item.parent_title for item in added} == {"Breaking Bad", "Alias"}


class TestCollections:
    async def test_a_librarys_collections_are_listed_with_their_sizes(
        self, plex: PlexServerClient
    ) -> None:
        [collection] = await plex.collections("1", token=OWNER_TOKEN)

        assert (collection.title, collection.child_count) == ("Alien Collection", 2)
        assert (collection.subtype, collection.smart, collection.library_key) == (
            "movie",
            False,
            "1",
        )
        assert await plex.collections("3", token=OWNER_TOKEN) == []

    async def test_a_collection_and_its_items(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        key = fake.library.find("Alien Collection").rating_key

        collection = await plex.collection(key, token=OWNER_TOKEN)
        items = await plex.collection_items(key, token=OWNER_TOKEN)

        assert collection.title == "Alien Collection"
        assert [item.title for item in items.items] == ["Alien", "Aliens"]
        assert items.total_size == 2

    async def test_a_collection_of_a_few_items_is_created_in_one_call(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        keys = [fake.library.find(title).rating_key for title in ("Knife Skills 101",)]
        keys += fake.library.add_items("3", 2)

        created = await plex.create_collection(
            "3",
            "YouTube: Cooking",
            keys,
            token=OWNER_TOKEN,
            machine_identifier=fake.machine_identifier,
        )

        assert (created.title, created.child_count, created.library_key) == (
            "YouTube: Cooking",
            3,
            "3",
        )
        assert fake.library.members(created.rating_key) == keys
        [sent] = query(fake, "/library/collections")
        assert sent["uri"] == [
            f"server://{fake.machine_identifier}/com.plexapp.plugins.library"
            f"/library/metadata/{','.join(keys)}"
        ]
        assert (sent["type"], sent["smart"], sent["sectionId"]) == (["1"], ["0"], ["3"])

    async def test_a_long_list_is_sent_in_batches_of_short_urls(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        keys = fake.library.add_items("3", 120)

        created = await plex.create_collection(
            "3",
            "A long playlist",
            keys,
            token=OWNER_TOKEN,
            machine_identifier=fake.machine_identifier,
        )

        calls = [r for r in fake.requests if r.method in ("POST", "PUT")]
        assert len(calls) >= 3
        assert all(len(f"{fake.url}{r.path}?{r.query}") < 2000 for r in calls)
        assert fake.library.members(created.rating_key) == keys
        assert created.child_count == 120

    async def test_items_are_added_and_removed(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        collection = fake.library.find("Alien Collection").rating_key
        blade_runner = fake.library.find("Blade Runner").rating_key
        alien = fake.library.find("Alien").rating_key

        await plex.add_to_collection(
            collection,
            [blade_runner],
            token=OWNER_TOKEN,
            machine_identifier=fake.machine_identifier,
        )
        await plex.remove_from_collection(collection, alien, token=OWNER_TOKEN)

        assert fake.library.members(collection) == [
            fake.library.find("Aliens").rating_key,
            blade_runner,
        ]

    async def test_items_of_another_type_are_refused_by_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        season = fake.library.find("Season 1").rating_key

        with pytest.raises(PlexRejected) as caught:
            await plex.create_collection(
                "1",
                "Mixed",
                [season],
                token=OWNER_TOKEN,
                machine_identifier=fake.machine_identifier,
            )

        assert caught.value.status == 400
        assert "of one type" in caught.value.message

    async def test_a_collection_no_longer_there_is_not_found(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        alien = fake.library.find("Alien").rating_key

        with pytest.raises(CollectionNotFound):
            await plex.collection("999999", token=OWNER_TOKEN)
        with pytest.raises(CollectionNotFound):
            await plex.collection(alien, token=OWNER_TOKEN)
        with pytest.raises(CollectionNotFound):
            await plex.add_to_collection(
                "999999", [alien], token=OWNER_TOKEN, machine_identifier=fake.machine_identifier
            )

    async def test_ids_that_are_not_plex_ids_are_refused_without_asking_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        with pytest.raises(ValidationFailed, match="not Plex item ids: 12,13"):
            await plex.create_collection(
                "1",
                "Sneaky",
                ["1", "12,13"],
                token=OWNER_TOKEN,
                machine_identifier=fake.machine_identifier,
            )

        assert fake.hits == 0


class TestScans:
    async def test_a_library_refresh_shows_while_plex_scans(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        await plex.refresh_library("1", token=OWNER_TOKEN)

        assert fake.library.refreshes == [("1", None)]
        assert await plex.is_refreshing("1", token=OWNER_TOKEN)
        assert not await plex.is_refreshing("1", token=OWNER_TOKEN)

    async def test_a_folder_of_the_library_is_scanned_and_its_files_appear(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        file = "/data/youtube/Baking/Sourdough [abc123].mp4"
        fake.library.stage_file("3", file, "Sourdough")

        await plex.scan_path("3", "/data/youtube/Baking/", token=OWNER_TOKEN)
        assert await plex.is_refreshing("3", token=OWNER_TOKEN)
        assert not await plex.is_refreshing("3", token=OWNER_TOKEN)

        assert fake.library.refreshes == [("3", "/data/youtube/Baking")]
        newest = await plex.library_items("3", token=OWNER_TOKEN, sort="addedAt:desc", size=1)
        assert newest.items[0].title == "Sourdough"
        assert newest.items[0].files == [file]

    async def test_a_folder_outside_the_library_is_refused_before_any_scan(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        with pytest.raises(PathOutsideLibrary) as caught:
            await plex.scan_path("3", "/data/movies/Alien (1979)", token=OWNER_TOKEN)

        assert caught.value.status == 400
        assert "/data/youtube" in caught.value.message
        assert fake.library.refreshes == []
        assert fake.calls("/library/sections/3/refresh") == 0

    async def test_the_folders_already_known_are_checked_without_asking_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        [*_, youtube] = await plex.libraries(token=OWNER_TOKEN)
        before = fake.hits

        with pytest.raises(PathOutsideLibrary):
            await plex.scan_path("3", "/data/tv/Alias", token=OWNER_TOKEN, library=youtube)

        assert fake.hits == before

    @pytest.mark.parametrize(
        "path", ["/data/youtube/../movies", "Baking", "", "/data/youtube/\x00"]
    )
    async def test_a_folder_that_is_not_a_plain_full_path_is_refused_without_a_call(
        self, plex: PlexServerClient, fake: FakePlexServer, path: str
    ) -> None:
        with pytest.raises(PathOutsideLibrary):
            await plex.scan_path("3", path, token=OWNER_TOKEN)

        assert fake.hits == 0


class TestImages:
    async def test_a_poster_comes_as_plex_has_it(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        alien = fake.library.find("Alien").rating_key

        data, content_type = await plex.image(
            f"/library/metadata/{alien}/thumb/17", token=OWNER_TOKEN
        )

        assert content_type == "image/png"
        assert png_size(data) == (100, 150)
        assert fake.transcodes == []

    async def test_a_resized_poster_comes_from_the_transcoder(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        path = f"/library/metadata/{fake.library.find('Alien').rating_key}/thumb/17"

        data, content_type = await plex.image(path, token=OWNER_TOKEN, width=300, height=450)

        assert (content_type, png_size(data)) == ("image/png", (300, 450))
        assert fake.transcodes == [(path, 300, 450)]
        [sent] = query(fake, "/photo/:/transcode")
        assert (sent["minSize"], sent["upscale"]) == (["1"], ["1"])

    @pytest.mark.parametrize(
        "path",
        [
            "http://evil.example/library/metadata/1/thumb/1",
            "//evil.example/library/metadata/1/thumb/1",
            "/library/metadata/1/../../../../etc/passwd",
            "/library/%2e%2e/%2e%2e/identity",
            "/library/metadata/1/thumb/1?X-Plex-Token=stolen",
            "/library/metadata/1/thumb/1#fragment",
            "/photo/:/transcode?url=http://169.254.169.254/",
            "library/metadata/1/thumb/1",
            "/library/metadata/1/thumb/1\r\nX-Injected: 1",
        ],
    )
    async def test_paths_that_are_not_library_images_are_refused_without_a_call(
        self, plex: PlexServerClient, fake: FakePlexServer, path: str
    ) -> None:
        with pytest.raises(InvalidImagePath) as caught:
            await plex.image(path, token=OWNER_TOKEN, width=300, height=450)

        assert caught.value.status == 400
        assert fake.hits == 0

    async def test_an_image_plex_does_not_have_is_not_found(self, plex: PlexServerClient) -> None:
        with pytest.raises(ImageNotFound):
            await plex.image("/library/metadata/999999/thumb/1", token=OWNER_TOKEN)

    async def test_a_size_out_of_range_is_refused_without_a_call(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        with pytest.raises(ValidationFailed, match="width"):
            await plex.image("/library/metadata/1/thumb/1", token=OWNER_TOKEN, width=40_000)

        assert fake.hits == 0


class TestFailures:
    async def test_plex_down_is_reported_at_once_naming_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.down()

        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as caught:
            await plex.libraries(token=OWNER_TOKEN)

        assert time.perf_counter() - started < 2
        assert (caught.value.status, caught.value.service) == (503, "Plex")
        assert not caught.value.misconfigured
        assert "Plex is unreachable" in caught.value.message

    async def test_a_slow_plex_is_a_timeout_naming_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.slow(2)

        with pytest.raises(UpstreamTimeout) as caught:
            await plex.library_items("1", token=OWNER_TOKEN)

        assert (caught.value.status, caught.value.service) == (504, "Plex")

    async def test_plex_failing_is_reported_naming_plex(
        self, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.failing(500)

        with pytest.raises(UpstreamUnavailable) as caught:
            await plex.search("alien", token=OWNER_TOKEN)

        assert caught.value.service == "Plex"
        assert not caught.value.misconfigured
