"""The Overseerr/Seerr adapter against a fake Overseerr over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.integrations.overseerr.client import DiscoverRow, OverseerrClient
from medianest.integrations.overseerr.errors import (
    OVERSEERR,
    AlreadyRequestedUpstream,
    NoSeasonsLeft,
    OverseerrProbeFailed,
    OverseerrRefused,
    OverseerrUserRefused,
    ProbeFailure,
    TitleNotFound,
    UpstreamRequestNotFound,
)
from medianest.integrations.overseerr.schemas import MediaStatus, RequestStatus
from medianest.integrations.overseerr.upstream import OverseerrClients
from tests.conftest import SettingsFactory
from tests.fakes.overseerr import AUTO_APPROVE, REQUEST, FakeOverseerr
from tests.support.server import free_port

THRESHOLD = 3
FAST = {
    "breaker_threshold": THRESHOLD,
    "breaker_cooldown": 5.0,
    "http_connect_timeout": 0.5,
    "http_read_timeout": 0.5,
}
MOVIE, SHOW = 945961, 1399


@dataclass
class Rig:
    clients: OverseerrClients
    client: OverseerrClient
    breakers: Breakers

    async def breaker(self) -> str:
        return (await self.breakers.states())[OVERSEERR]


@pytest.fixture(scope="module")
def overseerr_server() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr().start()
    yield fake
    fake.stop()


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_movie(MOVIE, "Alien: Romulus", year=2024)
    overseerr_server.add_show(SHOW, "Game of Thrones", seasons={1: 10, 2: 10, 3: 10})
    return overseerr_server


@pytest.fixture
async def rig(make_settings: SettingsFactory, overseerr: FakeOverseerr) -> AsyncIterator[Rig]:
    settings = make_settings(**FAST)
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    clients = OverseerrClients(settings, breakers, metrics)
    yield Rig(clients, clients.client(overseerr.url, overseerr.api_key), breakers)
    await clients.aclose()
    await breakers.close()


def _last(overseerr: FakeOverseerr, path: str) -> Any:
    return next(call for call in reversed(overseerr.calls) if call.path == path)


class TestSearch:
    async def test_reserved_characters_are_percent_encoded_and_found(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        page = await rig.client.search("alien: romulus")

        assert [r.id for r in page.results] == [MOVIE]
        assert page.results[0].display_title == "Alien: Romulus"
        assert page.results[0].year == 2024
        sent = _last(overseerr, "/api/v1/search").query
        assert "alien%20romulus" not in sent and "alien%3A%20romulus" in sent

    async def test_a_title_overseerr_knows_carries_its_media_status(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        overseerr.set_media_status(MOVIE, "movie", MediaStatus.AVAILABLE)

        page = await rig.client.search("romulus")

        assert page.results[0].media_info is not None
        assert page.results[0].media_info.status == MediaStatus.AVAILABLE

    async def test_discover_rows_answer_pages(self, rig: Rig) -> None:
        for row in DiscoverRow:
            page = await rig.client.discover(row)
            assert page.results, row
            assert {r.media_type for r in page.results} <= {"movie", "tv"}, row


class TestDetails:
    async def test_a_show_lists_its_seasons(self, rig: Rig) -> None:
        show = await rig.client.tv(SHOW)

        assert show.name == "Game of Thrones"
        assert [(s.season_number, s.episode_count) for s in show.seasons if s.season_number] == [
            (1, 10),
            (2, 10),
            (3, 10),
        ]

    async def test_an_unknown_id_is_not_found_and_not_an_outage(self, rig: Rig) -> None:
        for _ in range(THRESHOLD + 1):
            with pytest.raises(TitleNotFound):
                await rig.client.movie(1)

        assert await rig.breaker() == "closed"
        assert (await rig.client.movie(MOVIE)).title == "Alien: Romulus"


class TestCreateRequest:
    async def test_made_as_the_user_so_their_auto_approve_applies(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        plain = overseerr.add_user("alice", plex_id=111, permissions=REQUEST)
        trusted = overseerr.add_user("bob", plex_id=222, permissions=REQUEST | AUTO_APPROVE)

        pending = await rig.client.create_request(as_user=plain, media_type="movie", tmdb_id=MOVIE)
        approved = await rig.client.create_request(
            as_user=trusted, media_type="tv", tmdb_id=SHOW, seasons=[1]
        )

        assert pending.status == RequestStatus.PENDING
        assert pending.requested_by is not None and pending.requested_by.id == plain
        assert approved.status == RequestStatus.APPROVED
        assert _last(overseerr, "/api/v1/request").headers["x-api-user"] == str(trusted)

    async def test_a_movie_already_requested_is_a_conflict(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice", permissions=REQUEST)
        bob = overseerr.add_user("bob", permissions=REQUEST)
        await rig.client.create_request(as_user=alice, media_type="movie", tmdb_id=MOVIE)

        with pytest.raises(AlreadyRequestedUpstream):
            await rig.client.create_request(as_user=bob, media_type="movie", tmdb_id=MOVIE)
        assert _last(overseerr, "/api/v1/request").json["is4k"] is False

    async def test_seasons_already_asked_for_leave_nothing_to_request(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice", permissions=REQUEST)
        first = await rig.client.create_request(
            as_user=alice, media_type="tv", tmdb_id=SHOW, seasons=[1, 2]
        )
        more = await rig.client.create_request(
            as_user=alice, media_type="tv", tmdb_id=SHOW, seasons=[2, 3]
        )

        with pytest.raises(NoSeasonsLeft):
            await rig.client.create_request(
                as_user=alice, media_type="tv", tmdb_id=SHOW, seasons=[1, 3]
            )
        assert [s.season_number for s in first.seasons] == [1, 2]
        assert [s.season_number for s in more.seasons] == [3]

    async def test_a_user_without_permission_hears_overseerrs_reason(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        nobody = overseerr.add_user("carol", permissions=0)

        with pytest.raises(OverseerrRefused) as refused:
            await rig.client.create_request(as_user=nobody, media_type="movie", tmdb_id=MOVIE)

        assert refused.value.reason
        assert await rig.breaker() == "closed"

    async def test_an_unknown_user_is_told_apart_from_a_refusal(self, rig: Rig) -> None:
        with pytest.raises(OverseerrUserRefused):
            await rig.client.create_request(as_user=999, media_type="movie", tmdb_id=MOVIE)


class TestRequests:
    async def test_pages_of_every_users_requests(self, rig: Rig, overseerr: FakeOverseerr) -> None:
        alice = overseerr.add_user("alice", permissions=REQUEST)
        for tmdb_id in range(5000, 5012):
            overseerr.add_movie(tmdb_id, f"Film {tmdb_id}")
            await rig.client.create_request(as_user=alice, media_type="movie", tmdb_id=tmdb_id)

        first = await rig.client.requests(take=5)
        last = await rig.client.requests(take=5, skip=10)

        assert (first.page_info.pages, first.page_info.results) == (3, 12)
        assert len(first.results) == 5 and len(last.results) == 2

    async def test_approve_decline_and_delete(self, rig: Rig, overseerr: FakeOverseerr) -> None:
        alice = overseerr.add_user("alice", permissions=REQUEST)
        movie = await rig.client.create_request(as_user=alice, media_type="movie", tmdb_id=MOVIE)
        show = await rig.client.create_request(
            as_user=alice, media_type="tv", tmdb_id=SHOW, seasons="all"
        )

        assert (await rig.client.approve(movie.id)).status == RequestStatus.APPROVED
        assert (await rig.client.decline(show.id)).status == RequestStatus.DECLINED
        await rig.client.delete_request(show.id)
        with pytest.raises(UpstreamRequestNotFound):
            await rig.client.get_request(show.id)


class TestUsers:
    async def test_users_carry_their_plex_id(self, rig: Rig, overseerr: FakeOverseerr) -> None:
        alice = overseerr.add_user("alice", plex_id=111)

        users = await rig.client.users()

        assert {(u.id, u.plex_id) for u in users.results} >= {(alice, 111)}

    async def test_a_plex_friend_is_imported_with_string_ids(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        overseerr.allow_plex_import(333, "dora", email="dora@example.com")

        made = await rig.client.import_from_plex([333])
        users = await rig.client.users()

        # Overseerr's answer to an import leaves the Plex id out; its user list has it.
        assert [u.plex_username for u in made] == ["dora"]
        assert {(u.id, u.plex_id) for u in users.results} >= {(made[0].id, 333)}
        assert _last(overseerr, "/api/v1/user/import-from-plex").json == {"plexIds": ["333"]}


class TestFailures:
    async def test_a_wrong_key_is_misconfiguration(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        wrong = rig.clients.client(overseerr.url, "not-the-key")

        with pytest.raises(UpstreamUnavailable) as failed:
            await wrong.search("alien")

        assert failed.value.misconfigured

    async def test_down_opens_the_breaker_and_then_fails_fast(
        self, rig: Rig, overseerr: FakeOverseerr
    ) -> None:
        overseerr.down()
        for _ in range(THRESHOLD):
            with pytest.raises(UpstreamUnavailable):
                await rig.client.search("alien")

        calls = len(overseerr.calls)
        with pytest.raises(UpstreamUnavailable):
            await rig.client.search("alien")

        assert await rig.breaker() == "opened"
        assert len(overseerr.calls) == calls

    async def test_slow_is_a_timeout(self, rig: Rig, overseerr: FakeOverseerr) -> None:
        overseerr.slow(1.5)

        with pytest.raises(UpstreamTimeout):
            await rig.client.discover(DiscoverRow.TRENDING)


class TestProbing:
    async def test_tells_overseerr_and_seerr_apart(
        self, make_settings: SettingsFactory, overseerr: FakeOverseerr
    ) -> None:
        seerr = FakeOverseerr(flavour="seerr").start()
        try:
            clients = OverseerrClients(
                make_settings(**FAST), Breakers(make_settings(), Metrics()), Metrics()
            )
            found = []
            for fake in (overseerr, seerr):
                async with clients.probing(fake.url, fake.api_key) as probe:
                    found.append(
                        (
                            (await probe.status()).version,
                            (await probe.public_settings()).media_server_type,
                        )
                    )
        finally:
            seerr.stop()

        assert found == [(overseerr.version, None), (seerr.version, 1)]

    async def test_each_failure_is_named(
        self, make_settings: SettingsFactory, overseerr: FakeOverseerr
    ) -> None:
        clients = OverseerrClients(
            make_settings(**FAST), Breakers(make_settings(), Metrics()), Metrics()
        )

        async def failure(url: str, key: str) -> ProbeFailure:
            async with clients.probing(url, key) as probe:
                with pytest.raises(OverseerrProbeFailed) as failed:
                    await _status_then_me(probe)
                return failed.value.failure

        refused = await failure(overseerr.url, "wrong")
        nothing = await failure(f"http://127.0.0.1:{free_port()}", overseerr.api_key)
        overseerr.slow(1.5)
        slow = await failure(overseerr.url, overseerr.api_key)

        assert (refused, nothing, slow) == (
            ProbeFailure.KEY_REFUSED,
            ProbeFailure.UNREACHABLE,
            ProbeFailure.TIMEOUT,
        )


async def _status_then_me(probe: OverseerrClient) -> None:
    await probe.status()
    await probe.me()


async def test_concurrent_reads_share_one_client(rig: Rig, overseerr: FakeOverseerr) -> None:
    pages = await asyncio.gather(*(rig.client.search("alien") for _ in range(10)))

    assert all(p.results for p in pages)
    assert rig.clients.client(overseerr.url, overseerr.api_key) is rig.client
