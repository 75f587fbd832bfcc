"""PlexService against a fake plex.tv and a fake Plex server over real HTTP, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from medianest.auth.models import Role, User
from medianest.auth.plex_access import settings_connection
from medianest.auth.plex_tokens import PlexTokens
from medianest.auth.sessions import Principal
from medianest.config import Settings
from medianest.core.cache import CacheService, create_cache
from medianest.core.db import Database
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable, ValidationFailed
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.core.security import EncryptionService
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
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.transport import PlexUserToken
from medianest.integrations.plex.tv import build_plex_tv_client
from medianest.plex.callers import NotSharedWithYou, PlexNotConnected, PlexSignInRequired
from medianest.plex.images import Image, ImageDiskCache
from medianest.plex.service import PlexService
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer, png_size
from tests.fakes.plex_tv import FakePlexTv, server_resource
from tests.support.plex import CLIENT_ID, FRIEND_SERVER_TOKEN, FRIEND_TOKEN, fresh, shared_with

NEIGHBOUR_TOKEN, NEIGHBOUR_SERVER_TOKEN = "neighbour-plex-tv-token", "neighbour-server-token"


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    """The Plex server: Movies shared with the friend, TV Shows with the neighbour."""
    shared_with(plex_server, FRIEND_SERVER_TOKEN, "1")
    plex_server.library.share(NEIGHBOUR_SERVER_TOKEN, "2")
    return plex_server


@pytest.fixture
def plex_tv(plex_tv_server: FakePlexTv, fake: FakePlexServer) -> FakePlexTv:
    tv = fresh(plex_tv_server)
    for token, account_id, server_token in [
        (FRIEND_TOKEN, 2000, FRIEND_SERVER_TOKEN),
        (NEIGHBOUR_TOKEN, 3000, NEIGHBOUR_SERVER_TOKEN),
    ]:
        tv.add_account(token, id=account_id, username=f"user{account_id}")
        tv.set_resources(
            token,
            [
                server_resource("Elsewhere", "f" * 40, access_token="token-for-another-server"),
                server_resource("Home", fake.machine_identifier, access_token=server_token),
            ],
        )
    return tv


@dataclass
class Harness:
    service: PlexService
    db: Database
    cache: CacheService
    encryption: EncryptionService
    settings: Settings

    async def user(
        self, plex_token: str | None = None, *, role: Role = Role.USER, plex: bool = True
    ) -> Principal:
        """A user in the database (signed in with Plex with `plex_token`, unless not `plex`)."""
        name = f"user-{uuid.uuid4().hex[:8]}"
        user = User(
            username=name,
            username_key=name,
            role=role,
            plex_id=int(uuid.uuid4().int % 10**9) if plex else None,
            plex_token_encrypted=self.encryption.encrypt(plex_token) if plex_token else None,
        )
        async with self.db.unit_of_work() as session:
            session.add(user)
        return Principal(
            id=user.id,
            username=name,
            email=None,
            role=role,
            status="active",
            thumb=None,
            totp_enabled=False,
            requires_password_change=False,
            has_password=not plex,
            plex_linked=plex,
            session_id=uuid.uuid4(),
        )


@asynccontextmanager
async def service_for(settings: Settings, **options: Any) -> AsyncIterator[Harness]:
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    cache = create_cache(settings, metrics)
    db = Database(settings.resolved_database_url)
    encryption = EncryptionService(settings.encryption_keys)
    plex_tv = build_plex_tv_client(settings, breakers, metrics, CLIENT_ID)
    servers = PlexServers(settings, breakers, metrics, client_identifier=CLIENT_ID)
    service = PlexService(
        settings=settings,
        cache=cache,
        db=db,
        encryption=encryption,
        plex_tokens=PlexTokens(db, encryption),
        plex_tv=plex_tv,
        connection=settings_connection(settings),
        servers=servers,
        **options,
    )
    try:
        yield Harness(service, db, cache, encryption, settings)
    finally:
        await service.aclose()
        await servers.aclose()
        await plex_tv.aclose()
        await cache.close()
        await db.close()
        await breakers.close()


@pytest.fixture
def settings_for(
    make_settings: SettingsFactory, database_url: str, fake: FakePlexServer, plex_tv: FakePlexTv
) -> SettingsFactory:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "plex_tv_url": plex_tv.url,
            "plex_url": fake.url,
            "plex_token": OWNER_TOKEN,
            "youtube_dir": Path("/data/youtube"),
            "http_connect_timeout": 5.0,
            "http_read_timeout": 1.0,
            **overrides,
        }
        return make_settings(**values)

    return make


@pytest.fixture
async def harness(settings_for: SettingsFactory) -> AsyncIterator[Harness]:
    async with service_for(settings_for()) as built:
        yield built


@pytest.fixture
def plex(harness: Harness) -> PlexService:
    return harness.service


@pytest.fixture
async def admin(harness: Harness) -> Principal:
    return await harness.user(role=Role.ADMIN, plex=False)


@pytest.fixture
async def friend(harness: Harness) -> Principal:
    """A shared user who may see Movies only."""
    return await harness.user(FRIEND_TOKEN)


@pytest.fixture
async def neighbour(harness: Harness) -> Principal:
    """A shared user who may see TV Shows only."""
    return await harness.user(NEIGHBOUR_TOKEN)


def key_of(fake: FakePlexServer, title: str) -> str:
    return fake.library.find(title).rating_key


def resource_calls(plex_tv: FakePlexTv) -> int:
    return sum(1 for r in plex_tv.requests if r.path == "/api/v2/resources")


class TestGetClientForUser:
    async def test_an_admin_calls_with_the_owners_token(
        self, plex: PlexService, admin: Principal, plex_tv: FakePlexTv
    ) -> None:
        caller = await plex.get_client_for_user(admin)

        assert caller.token == OWNER_TOKEN
        assert not isinstance(caller.token, PlexUserToken)
        assert caller.scope == "owner"
        assert resource_calls(plex_tv) == 0

    async def test_a_shared_user_calls_with_their_own_token_for_this_server(
        self, plex: PlexService, friend: Principal, plex_tv: FakePlexTv
    ) -> None:
        caller = await plex.get_client_for_user(friend)

        assert caller.token == FRIEND_SERVER_TOKEN
        assert isinstance(caller.token, PlexUserToken)
        assert caller.scope == f"u:{friend.id}"
        resources = [r for r in plex_tv.requests if r.path == "/api/v2/resources"]
        assert [r.headers["x-plex-token"] for r in resources] == [FRIEND_TOKEN]

    async def test_concurrent_first_calls_share_one_plex_tv_lookup_and_then_the_pool(
        self, plex: PlexService, friend: Principal, plex_tv: FakePlexTv
    ) -> None:
        callers = await asyncio.gather(*(plex.get_client_for_user(friend) for _ in range(10)))
        again = await plex.get_client_for_user(friend)

        assert {c.token for c in [*callers, again]} == {FRIEND_SERVER_TOKEN}
        assert resource_calls(plex_tv) == 1
        assert plex.callers.pooled == 1

    async def test_idle_tokens_are_evicted_by_the_cleanup_timer_and_found_again_sealed(
        self, settings_for: SettingsFactory, plex_tv: FakePlexTv
    ) -> None:
        options = {"token_idle_seconds": 0.05, "cleanup_interval": 0.02}
        async with service_for(settings_for(), **options) as harness:
            friend = await harness.user(FRIEND_TOKEN)
            await harness.service.get_client_for_user(friend)
            assert harness.service.callers.pooled == 1

            for _ in range(50):
                await asyncio.sleep(0.02)
                if harness.service.callers.pooled == 0:
                    break
            caller = await harness.service.get_client_for_user(friend)

            assert caller.token == FRIEND_SERVER_TOKEN
            assert resource_calls(plex_tv) == 1

    async def test_the_token_in_redis_is_sealed_never_plain(
        self, settings_for: SettingsFactory, redis_url: str, redis_prefix: str
    ) -> None:
        settings = settings_for(redis_url=redis_url, redis_prefix=redis_prefix)
        async with service_for(settings) as harness:
            friend = await harness.user(FRIEND_TOKEN)
            await harness.service.get_client_for_user(friend)
            raw = redis.Redis.from_url(redis_url)
            try:
                stored = [raw.get(k) for k in raw.scan_iter(match=f"{redis_prefix}*plex:token:*")]
            finally:
                raw.close()

        assert len(stored) == 1
        assert stored[0] is not None
        assert FRIEND_SERVER_TOKEN.encode() not in stored[0]
        assert b'"sealed":"v1.' in stored[0]

    async def test_a_token_sealed_for_another_server_is_looked_up_again(
        self, plex: PlexService, harness: Harness, friend: Principal, plex_tv: FakePlexTv
    ) -> None:
        sealed = harness.encryption.encrypt("token-for-the-old-server")
        await harness.cache.set(f"plex:token:{friend.id}", {"server": "e" * 40, "sealed": sealed})

        caller = await plex.get_client_for_user(friend)

        assert caller.token == FRIEND_SERVER_TOKEN
        assert resource_calls(plex_tv) == 1

    async def test_a_token_plex_stops_accepting_is_looked_up_again(
        self, plex: PlexService, friend: Principal, fake: FakePlexServer, plex_tv: FakePlexTv
    ) -> None:
        await plex.get_client_for_user(friend)
        # The owner shared the server anew: the old token is gone, plex.tv lists a new one.
        fake.library.reset()
        fake.library.share("friends-new-server-token", "1")
        resource = server_resource(
            "Home", fake.machine_identifier, access_token="friends-new-server-token"
        )
        plex_tv.set_resources(FRIEND_TOKEN, [resource])

        with pytest.raises(UserTokenRefused):
            await plex.get_libraries(friend)
        libraries = await plex.get_libraries(friend)

        assert [lib.title for lib in libraries.value] == ["Movies"]
        assert resource_calls(plex_tv) == 2

    async def test_a_local_account_that_is_not_an_admin_must_sign_in_with_plex(
        self, plex: PlexService, harness: Harness, fake: FakePlexServer
    ) -> None:
        local = await harness.user(plex=False)

        with pytest.raises(PlexSignInRequired) as caught:
            await plex.get_libraries(local)

        assert caught.value.status == 403
        assert caught.value.message == "Sign in with Plex to browse the library."
        assert fake.hits == 0

    async def test_an_account_the_server_is_not_shared_with_is_refused(
        self, plex: PlexService, harness: Harness, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.add_account("stranger-token", id=4000, username="stranger")
        stranger = await harness.user("stranger-token")

        with pytest.raises(NotSharedWithYou) as caught:
            await plex.get_client_for_user(stranger)

        assert caught.value.status == 403

    async def test_a_plex_sign_in_plex_tv_no_longer_accepts_is_refused(
        self, plex: PlexService, harness: Harness
    ) -> None:
        revoked = await harness.user("a-token-plex-tv-forgot")

        with pytest.raises(UserTokenRefused) as caught:
            await plex.get_client_for_user(revoked)

        assert caught.value.status == 403

    async def test_without_a_connected_server_plex_is_named_as_not_connected(
        self, settings_for: SettingsFactory
    ) -> None:
        async with service_for(settings_for(plex_url=None, plex_token=None)) as harness:
            admin = await harness.user(role=Role.ADMIN, plex=False)
            with pytest.raises(PlexNotConnected) as caught:
                await harness.service.get_libraries(admin)

        assert caught.value.status == 503
        assert caught.value.details == [{"service": "Plex"}]


class TestServerInfo:
    async def test_the_server_is_described_then_served_from_the_cache(
        self, plex: PlexService, fake: FakePlexServer
    ) -> None:
        first = await plex.get_server_info()
        hits = fake.hits
        second = await plex.get_server_info()

        assert first.value.name == "Home"
        assert first.value.machine_identifier == fake.machine_identifier
        assert (first.hit, second.hit) == (False, True)
        assert second.value == first.value
        assert fake.hits == hits

    async def test_plex_down_is_a_503_naming_plex(
        self, plex: PlexService, fake: FakePlexServer
    ) -> None:
        fake.down()

        with pytest.raises(UpstreamUnavailable) as caught:
            await plex.get_server_info()

        assert caught.value.status == 503
        assert caught.value.service == "Plex"

    async def test_plex_too_slow_is_a_504_naming_plex(
        self, plex: PlexService, fake: FakePlexServer
    ) -> None:
        fake.slow(2)

        with pytest.raises(UpstreamTimeout) as caught:
            await plex.get_server_info()

        assert caught.value.status == 504
        assert caught.value.service == "Plex"


class TestGetLibraries:
    async def test_an_admin_sees_every_library_with_its_item_count(
        self, plex: PlexService, admin: Principal
    ) -> None:
        libraries = (await plex.get_libraries(admin)).value

        assert [(lib.key, lib.title, lib.item_count) for lib in libraries] == [
            ("1", "Movies", 6),
            ("2", "TV Shows", 2),
            ("3", "YouTube", 1),
        ]

    async def test_a_shared_user_sees_only_what_is_shared_with_them(
        self, plex: PlexService, friend: Principal, neighbour: Principal, fake: FakePlexServer
    ) -> None:
        friends = await plex.get_libraries(friend)
        neighbours = await plex.get_libraries(neighbour)
        hits = fake.hits
        friends_again = await plex.get_libraries(friend)

        assert [lib.title for lib in friends.value] == ["Movies"]
        assert [lib.title for lib in neighbours.value] == ["TV Shows"]
        assert (friends.hit, neighbours.hit, friends_again.hit) == (False, False, True)
        assert [lib.title for lib in friends_again.value] == ["Movies"]
        assert fake.hits == hits

    async def test_an_admins_cached_answer_is_not_served_to_a_shared_user(
        self, plex: PlexService, admin: Principal, friend: Principal
    ) -> None:
        await plex.get_libraries(admin)

        mine = await plex.get_libraries(friend)

        assert mine.hit is False
        assert [lib.title for lib in mine.value] == ["Movies"]

    async def test_every_admin_shares_the_owners_cached_answer(
        self, plex: PlexService, harness: Harness, admin: Principal
    ) -> None:
        other_admin = await harness.user(role=Role.ADMIN, plex=False)
        await plex.get_libraries(admin)

        assert (await plex.get_libraries(other_admin)).hit is True


class TestGetLibraryItems:
    async def test_a_page_is_asked_of_plex_with_its_start_and_size(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        page = (await plex.get_library_items(admin, "1", page=2, page_size=2)).value

        assert [item.title for item in page.items] == ["Arrival", "Blade Runner"]
        assert (page.offset, page.total_size) == (2, 6)
        assert [(p.start, p.size) for p in fake.pages] == [(2, 2)]

    @pytest.mark.parametrize(
        ("sort", "first"), [("title", "Alien"), ("addedAt", "Arrival"), ("year", "Arrival")]
    )
    async def test_items_are_sorted_as_asked(
        self, plex: PlexService, admin: Principal, sort: Any, first: str
    ) -> None:
        page = (await plex.get_library_items(admin, "1", sort=sort)).value

        assert page.items[0].title == first

    async def test_a_tv_library_lists_its_episodes_when_asked(
        self, plex: PlexService, admin: Principal
    ) -> None:
        page = (await plex.get_library_items(admin, "2", type="episode", page_size=50)).value

        assert page.total_size == 8
        assert {item.type for item in page.items} == {"episode"}

    async def test_a_miss_then_a_hit_without_asking_plex_again(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        first = await plex.get_library_items(admin, "1")
        hits = fake.hits
        second = await plex.get_library_items(admin, "1")

        assert (first.hit, second.hit) == (False, True)
        assert second.value == first.value
        assert fake.hits == hits

    async def test_a_shared_user_cannot_list_a_library_not_shared_with_them(
        self, plex: PlexService, friend: Principal
    ) -> None:
        with pytest.raises(LibraryNotFound) as caught:
            await plex.get_library_items(friend, "2")

        assert caught.value.status == 404

    async def test_a_key_that_is_not_a_plex_key_is_not_found_without_asking_plex(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        with pytest.raises(LibraryNotFound):
            await plex.get_library_items(admin, "1*")

        assert fake.hits == 0


class TestGetItem:
    async def test_a_show_comes_with_its_seasons(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        show = await plex.get_item(admin, key_of(fake, "Breaking Bad"))

        assert show.value.title == "Breaking Bad"
        assert [season.title for season in show.value.children] == ["Season 1", "Season 2"]

    async def test_a_shared_user_cannot_open_an_item_not_shared_with_them(
        self, plex: PlexService, friend: Principal, fake: FakePlexServer
    ) -> None:
        with pytest.raises(ItemNotFound):
            await plex.get_item(friend, key_of(fake, "Breaking Bad"))

        alien = await plex.get_item(friend, key_of(fake, "Alien"))
        assert alien.value.title == "Alien"


class TestSearch:
    async def test_titles_are_found_across_the_libraries(
        self, plex: PlexService, admin: Principal
    ) -> None:
        hits = (await plex.search(admin, "ali")).value.items

        assert {hit.title for hit in hits} >= {"Alien", "Aliens", "Alias"}

    async def test_a_shared_user_finds_only_what_is_shared_with_them(
        self, plex: PlexService, friend: Principal
    ) -> None:
        hits = (await plex.search(friend, "ali")).value.items

        assert {hit.title for hit in hits} >= {"Alien", "Aliens"}
        assert "Alias" not in {hit.title for hit in hits}

    async def test_the_same_words_in_another_case_are_a_hit(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        await plex.search(admin, "alien")
        hits = fake.hits

        again = await plex.search(admin, "  ALIEN ")

        assert again.hit is True
        assert fake.hits == hits

    @pytest.mark.parametrize("query", ["", "   "])
    async def test_a_blank_query_is_refused(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer, query: str
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await plex.search(admin, query)

        assert caught.value.message == "Search query is required"
        assert caught.value.details == [{"field": "query", "message": "Search query is required"}]
        assert fake.hits == 0


class TestGetRecentlyAdded:
    async def test_the_newest_additions_come_first(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        (newest,) = fake.library.add_items("1", 1, prefix="Brand New")

        recent = (await plex.get_recently_added(admin, limit=3)).value

        assert len(recent) == 3
        assert recent[0].rating_key == newest

    async def test_a_shared_user_sees_only_their_libraries_additions(
        self, plex: PlexService, friend: Principal
    ) -> None:
        recent = (await plex.get_recently_added(friend, limit=50)).value

        assert recent
        assert {item.library_key for item in recent} == {"1"}


class TestRefreshAndScan:
    async def test_a_refresh_asks_plex_and_drops_what_was_cached(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        await plex.get_library_items(admin, "1")
        await plex.get_libraries(admin)
        fake.library.add_items("1", 1, prefix="Fresh")

        await plex.refresh_library("1")
        items = await plex.get_library_items(admin, "1", page_size=50)
        libraries = await plex.get_libraries(admin)

        assert fake.library.refreshes == [("1", None)]
        assert (items.hit, libraries.hit) == (False, False)
        assert items.value.total_size == 7
        assert libraries.value[0].item_count == 7

    async def test_a_folder_scan_finds_the_new_file_and_drops_what_was_cached(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        await plex.get_library_items(admin, "3")
        fake.library.scan_polls = 0
        file = "/data/youtube/Cooking/Pasta Night [abc123def45].mp4"
        fake.library.stage_file("3", file, "Pasta Night")

        await plex.scan_directory("3", "/data/youtube/Cooking")
        items = await plex.get_library_items(admin, "3")

        assert fake.library.refreshes == [("3", "/data/youtube/Cooking")]
        assert items.hit is False
        assert "Pasta Night" in [item.title for item in items.value.items]

    async def test_a_folder_outside_the_library_is_refused_before_plex_scans(
        self, plex: PlexService, fake: FakePlexServer
    ) -> None:
        with pytest.raises(PathOutsideLibrary) as caught:
            await plex.scan_directory("3", "/data/movies")

        assert caught.value.status == 400
        assert fake.library.refreshes == []

    async def test_refreshing_a_library_that_does_not_exist_is_not_found(
        self, plex: PlexService
    ) -> None:
        with pytest.raises(LibraryNotFound):
            await plex.refresh_library("99")


class TestCollections:
    async def test_a_librarys_collections_are_listed_and_searched(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        fake.library.add_collection("1", "Best of 1999", [key_of(fake, "The Matrix")])

        every = (await plex.get_collections(admin, "1")).value
        found = await plex.get_collections(admin, "1", search="ALIEN")

        assert [c.title for c in every] == ["Alien Collection", "Best of 1999"]
        assert [c.title for c in found.value] == ["Alien Collection"]
        assert found.hit is True

    async def test_a_collection_comes_with_a_page_of_its_items(
        self, plex: PlexService, admin: Principal
    ) -> None:
        key = (await plex.get_collections(admin, "1")).value[0].rating_key

        details = (await plex.get_collection_details(admin, key, page=1, page_size=1)).value

        assert details.title == "Alien Collection"
        assert [item.title for item in details.items] == ["Alien"]
        assert details.item_total == 2

    async def test_a_shared_user_cannot_see_the_collections_of_a_library_not_shared(
        self, plex: PlexService, admin: Principal, neighbour: Principal
    ) -> None:
        key = (await plex.get_collections(admin, "1")).value[0].rating_key

        with pytest.raises(LibraryNotFound):
            await plex.get_collections(neighbour, "1")
        with pytest.raises(CollectionNotFound):
            await plex.get_collection_details(neighbour, key)

    async def test_a_large_collection_is_created_in_batches_and_the_cache_follows(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        keys = fake.library.add_items("1", 120)
        await plex.get_collections(admin, "1")

        created = await plex.create_collection("1", "Generated", keys)
        listed = await plex.get_collections(admin, "1")

        assert fake.library.members(created.rating_key) == keys
        puts = [r for r in fake.requests if r.method == "PUT"]
        assert len(puts) == 2
        assert created.child_count == 120
        assert listed.hit is False
        assert "Generated" in [c.title for c in listed.value]

    async def test_items_of_another_type_are_refused_by_plex(
        self, plex: PlexService, fake: FakePlexServer
    ) -> None:
        with pytest.raises(PlexRejected):
            await plex.create_collection("1", "Mixed", [key_of(fake, "Breaking Bad")])

    async def test_items_are_added_to_a_collection_and_its_cached_page_is_dropped(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        key = (await plex.get_collections(admin, "1")).value[0].rating_key
        await plex.get_collection_details(admin, key)

        await plex.add_to_collection(key, [key_of(fake, "Arrival")])
        details = await plex.get_collection_details(admin, key)

        assert details.hit is False
        assert [item.title for item in details.value.items][-1] == "Arrival"


class TestFindYoutubeLibrary:
    async def test_the_library_holding_the_youtube_folder_is_found(self, plex: PlexService) -> None:
        found = await plex.find_youtube_library()

        assert found is not None
        assert (found.key, found.title) == ("3", "YouTube")

    async def test_a_youtube_folder_inside_a_librarys_folder_belongs_to_it(
        self, settings_for: SettingsFactory
    ) -> None:
        settings = settings_for(youtube_dir=Path("/data/movies/YouTube"))
        async with service_for(settings) as harness:
            found = await harness.service.find_youtube_library()

        assert found is not None
        assert found.title == "Movies"

    async def test_none_when_no_library_holds_it(self, settings_for: SettingsFactory) -> None:
        async with service_for(settings_for(youtube_dir=Path("/srv/youtube"))) as harness:
            assert await harness.service.find_youtube_library() is None


class TestGetImage:
    async def test_an_image_is_fetched_once_then_served_from_disk(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        path = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        first = await plex.get_image(admin, path)
        hits = fake.hits
        second = await plex.get_image(admin, path)

        assert (first.hit, second.hit) == (False, True)
        assert second.value == first.value
        assert first.value.content_type == "image/png"
        assert fake.hits == hits

    async def test_a_width_is_resized_by_plexs_transcoder(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer
    ) -> None:
        path = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"

        image = (await plex.get_image(admin, path, width=120)).value

        assert fake.transcodes == [(path, 120, 120)]
        assert png_size(image.content) == (120, 120)

    async def test_a_shared_user_gets_images_of_their_libraries_only(
        self, plex: PlexService, friend: Principal, fake: FakePlexServer
    ) -> None:
        show = f"/library/metadata/{key_of(fake, 'Breaking Bad')}/thumb/1700000000"
        movie = f"/library/metadata/{key_of(fake, 'Alien')}/thumb/1700000000"
        section = "/library/sections/2/composite/1700000000"

        with pytest.raises(ImageNotFound):
            await plex.get_image(friend, show)
        with pytest.raises(ImageNotFound):
            await plex.get_image(friend, section)
        allowed = await plex.get_image(friend, movie)

        assert allowed.value.content_type == "image/png"
        image_calls = [r for r in fake.requests if "/thumb/" in r.path]
        assert [r.path for r in image_calls] == [movie]

    async def test_a_cached_image_is_still_refused_to_a_user_who_may_not_see_it(
        self, plex: PlexService, admin: Principal, friend: Principal, fake: FakePlexServer
    ) -> None:
        show = f"/library/metadata/{key_of(fake, 'Breaking Bad')}/thumb/1700000000"
        await plex.get_image(admin, show)

        with pytest.raises(ImageNotFound):
            await plex.get_image(friend, show)

    @pytest.mark.parametrize(
        "path",
        [
            "http://evil.example/library/metadata/1/thumb/1",
            "//evil.example/library/metadata/1/thumb/1",
            "/library/metadata/1/../../../etc/passwd",
            "/library/metadata/1/thumb/1?X-Plex-Token=x",
            "/library/metadata/1/thumb/1%3Fa",
            "/library/parts/47070/1586877036/file.avi",
            "/photo/:/transcode",
            "library/metadata/1/thumb/1",
        ],
    )
    async def test_anything_but_a_plex_artwork_path_is_refused_without_a_call(
        self, plex: PlexService, admin: Principal, fake: FakePlexServer, path: str
    ) -> None:
        with pytest.raises(InvalidImagePath) as caught:
            await plex.get_image(admin, path)

        assert caught.value.status == 400
        assert caught.value.details is not None
        assert caught.value.details[0]["field"] == "path"
        assert fake.hits == 0


class TestImageDiskCache:
    async def test_the_least_recently_read_images_go_first_past_the_bound(
        self, tmp_path: Path
    ) -> None:
        disk = ImageDiskCache(tmp_path / "images", max_bytes=3200)
        image = Image(b"x" * 900, "image/png")
        for key in ("a", "b", "c"):
            await disk.put(key, image)
            # File times can be as coarse as a few milliseconds.
            await asyncio.sleep(0.02)
        # Reading "a" makes "b" the least recently read.
        assert await disk.get("a") is not None
        await asyncio.sleep(0.02)

        await disk.put("d", image)

        assert await disk.get("b") is None
        assert [await disk.get(k) is not None for k in ("a", "c", "d")] == [True, True, True]
        assert await disk.size() <= 3200
