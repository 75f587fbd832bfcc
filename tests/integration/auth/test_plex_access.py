"""Who may sign in with Plex, decided against a fake plex.tv and a fake Plex server over HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from medianest.auth.plex_access import (
    AccessDecision,
    ConnectionSource,
    PlexServerAccess,
    PlexServerConnection,
    settings_connection,
)
from medianest.config import Settings
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.integrations.plex.errors import PLEX_SERVER, PLEX_TV
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexAccount, PlexTvClient, build_plex_tv_client
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv

FAST = {"http_connect_timeout": 0.5, "http_read_timeout": 0.3}
OWNER_ID, FRIEND_ID, OTHER_FRIEND_ID, STRANGER_ID = 1000, 2000, 3000, 4000


@pytest.fixture(scope="module")
def plex_tv_server() -> Iterator[FakePlexTv]:
    fake = FakePlexTv().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def plex_server_server() -> Iterator[FakePlexServer]:
    fake = FakePlexServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def plex_server(plex_server_server: FakePlexServer) -> FakePlexServer:
    plex_server_server.reset()
    return plex_server_server.start()


@pytest.fixture
def plex_tv(plex_tv_server: FakePlexTv, plex_server: FakePlexServer) -> FakePlexTv:
    """The owner of the fake server, a friend it is shared with, a friend of another server
    of the owner's, and a stranger."""
    fake = plex_tv_server
    fake.reset()
    owner = plex_server.owner_token
    fake.add_account(owner, id=OWNER_ID, username="owner")
    fake.add_account("token-of-friend", id=FRIEND_ID, username="friend", email=None)
    fake.add_account("token-of-other-friend", id=OTHER_FRIEND_ID, username="cousin")
    fake.add_account("token-of-stranger", id=STRANGER_ID, username="stranger")
    fake.share(owner, FRIEND_ID, plex_server.machine_identifier)
    fake.share(owner, OTHER_FRIEND_ID, "machine-id-of-the-owners-other-server")
    return fake.start()


def account(plex_tv: FakePlexTv, account_id: int) -> PlexAccount:
    found = next(a for a in plex_tv.accounts.values() if a.id == account_id)
    return PlexAccount(id=found.id, uuid=found.uuid, username=found.username, email=found.email)


@dataclass
class Rig:
    access: PlexServerAccess
    plex_tv: PlexTvClient
    servers: PlexServers
    breakers: Breakers
    settings: Settings
    metrics: Metrics


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(
    make_settings: SettingsFactory, plex_tv: FakePlexTv, plex_server: FakePlexServer
) -> AsyncIterator[RigFactory]:
    rigs: list[Rig] = []

    async def make(
        *,
        connection: ConnectionSource | None = None,
        **overrides: Any,
    ) -> Rig:
        values: dict[str, Any] = {
            "plex_tv_url": plex_tv.url,
            "plex_app_url": plex_tv.url,
            "plex_url": plex_server.url,
            "plex_token": plex_server.owner_token,
            **FAST,
            **overrides,
        }
        settings = make_settings(**values)
        metrics = Metrics()
        breakers = Breakers(settings, metrics)
        await breakers.start()
        plex = build_plex_tv_client(settings, breakers, metrics, "medianest-test-install")
        servers = PlexServers(
            settings, breakers, metrics, client_identifier="medianest-test-install"
        )
        access = PlexServerAccess(plex, servers, connection or settings_connection(settings))
        rig = Rig(access, plex, servers, breakers, settings, metrics)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.servers.aclose()
        await rig.plex_tv.aclose()
        await rig.breakers.close()


@pytest.fixture
async def rig(make_rig: RigFactory) -> Rig:
    return await make_rig()


class TestCheck:
    async def test_the_server_owner_is_let_in_as_owner(self, rig: Rig, plex_tv: FakePlexTv) -> None:
        decision = await rig.access.check(account(plex_tv, OWNER_ID))

        assert decision is AccessDecision.OWNER
        assert decision.allowed

    async def test_a_friend_this_server_is_shared_with_is_let_in(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        decision = await rig.access.check(account(plex_tv, FRIEND_ID))

        assert decision is AccessDecision.SHARED_USER
        assert decision.allowed

    async def test_a_friend_of_another_server_of_the_owner_is_refused(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        decision = await rig.access.check(account(plex_tv, OTHER_FRIEND_ID))

        assert decision is AccessDecision.NO_ACCESS
        assert not decision.allowed

    async def test_a_stranger_is_refused(self, rig: Rig, plex_tv: FakePlexTv) -> None:
        decision = await rig.access.check(account(plex_tv, STRANGER_ID))

        assert decision is AccessDecision.NO_ACCESS

    async def test_without_a_plex_server_nobody_is_let_in_and_plex_is_not_asked(
        self, make_rig: RigFactory, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        rig = await make_rig(plex_url=None, plex_token=None)

        decision = await rig.access.check(account(plex_tv, OWNER_ID))

        assert decision is AccessDecision.NO_SERVER
        assert not decision.allowed
        assert plex_tv.requests == []
        assert plex_server.hits == 0

    async def test_a_friend_shared_a_moment_ago_gets_in_at_once(
        self, rig: Rig, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        stranger = account(plex_tv, STRANGER_ID)
        assert await rig.access.check(stranger) is AccessDecision.NO_ACCESS

        plex_tv.share(plex_server.owner_token, STRANGER_ID, plex_server.machine_identifier)

        assert await rig.access.check(stranger) is AccessDecision.SHARED_USER

    async def test_a_server_connected_later_is_used_from_then_on(
        self, make_rig: RigFactory, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        connected: list[PlexServerConnection] = []

        async def source() -> PlexServerConnection | None:
            return connected[-1] if connected else None

        rig = await make_rig(connection=source, plex_url=None, plex_token=None)
        owner = account(plex_tv, OWNER_ID)
        assert await rig.access.check(owner) is AccessDecision.NO_SERVER

        connected.append(PlexServerConnection(plex_server.url, plex_server.owner_token))

        assert await rig.access.check(owner) is AccessDecision.OWNER


class TestServerFacts:
    async def test_the_server_and_its_owner_are_looked_up_once_for_many_sign_ins(
        self, rig: Rig, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        for account_id in (OWNER_ID, FRIEND_ID, STRANGER_ID, FRIEND_ID):
            await rig.access.check(account(plex_tv, account_id))

        assert [r.path for r in plex_server.requests] == ["/identity"]
        paths = [r.path for r in plex_tv.requests]
        assert paths.count("/api/v2/user") == 1
        assert paths.count("/api/users") == 3
        assert all(plex_server.owner_token not in r.query for r in plex_tv.requests)

    async def test_they_are_looked_up_again_after_ten_minutes(
        self, rig: Rig, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        now = [1000.0]
        access = PlexServerAccess(
            rig.plex_tv, rig.servers, settings_connection(rig.settings), clock=lambda: now[0]
        )
        owner = account(plex_tv, OWNER_ID)
        await access.check(owner)
        now[0] += 599
        await access.check(owner)
        assert plex_server.hits == 1

        now[0] += 2
        await access.check(owner)

        assert plex_server.hits == 2

    async def test_an_unreachable_plex_server_is_reported_naming_plex(
        self, rig: Rig, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        plex_server.down()

        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.access.check(account(plex_tv, FRIEND_ID))

        assert time.perf_counter() - started < 2
        assert caught.value.service == PLEX_SERVER
        assert caught.value.status == 503
        assert not caught.value.misconfigured

    async def test_a_slow_plex_server_is_a_timeout(
        self, rig: Rig, plex_tv: FakePlexTv, plex_server: FakePlexServer
    ) -> None:
        plex_server.slow(2)

        with pytest.raises(UpstreamTimeout) as caught:
            await rig.access.check(account(plex_tv, FRIEND_ID))

        assert caught.value.service == PLEX_SERVER

    async def test_an_address_that_is_not_a_plex_server_needs_an_administrator(
        self, make_rig: RigFactory, plex_tv: FakePlexTv
    ) -> None:
        rig = await make_rig(plex_url=plex_tv.url)

        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.access.check(account(plex_tv, FRIEND_ID))

        assert caught.value.misconfigured
        assert caught.value.service == PLEX_SERVER
        assert "does not answer like a Plex Media Server" in caught.value.message

    async def test_an_owner_token_plex_tv_refuses_needs_an_administrator(
        self, make_rig: RigFactory, plex_tv: FakePlexTv
    ) -> None:
        rig = await make_rig(plex_token="revoked-owner-token")

        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.access.check(account(plex_tv, FRIEND_ID))

        assert caught.value.misconfigured
        assert caught.value.service == PLEX_TV
        assert "owner's token" in caught.value.message
        assert "revoked-owner-token" not in caught.value.message

    async def test_plex_tv_down_is_reported_naming_plex_tv(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        friend = account(plex_tv, FRIEND_ID)
        plex_tv.down()

        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.access.check(friend)

        assert caught.value.service == PLEX_TV
        assert not caught.value.misconfigured
