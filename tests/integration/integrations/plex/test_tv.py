"""The plex.tv adapter against a fake plex.tv over real HTTP: PIN sign-in, accounts, friends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from medianest import __version__
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.integrations.plex.errors import (
    PLEX_TV,
    PlexRateLimited,
    PlexTvTokenRefused,
    UnknownPin,
)
from medianest.integrations.plex.tv import PlexTvClient, build_plex_tv_client
from tests.conftest import SettingsFactory
from tests.fakes.plex_tv import PAYLOADS, FakePlexTv, client_resource, server_resource

CLIENT_ID = "5a0e2c1f-medianest-test-install"
THRESHOLD = 3
FAST = {
    "breaker_threshold": THRESHOLD,
    "breaker_cooldown": 5.0,
    "http_connect_timeout": 0.5,
    "http_read_timeout": 0.3,
}
ALICE = "token-of-alice"
MACHINE_ID = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Rig:
    plex: PlexTvClient
    breakers: Breakers

    async def breaker(self) -> str:
        return (await self.breakers.states())[PLEX_TV]


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture(scope="module")
def plex_tv_server() -> Iterator[FakePlexTv]:
    fake = FakePlexTv().start()
    yield fake
    fake.stop()


@pytest.fixture
def plex_tv(plex_tv_server: FakePlexTv) -> FakePlexTv:
    plex_tv_server.reset()
    plex_tv_server.add_account(ALICE, id=1234567, username="alice")
    return plex_tv_server.start()


@pytest.fixture
async def make_rig(
    make_settings: SettingsFactory, plex_tv: FakePlexTv
) -> AsyncIterator[RigFactory]:
    rigs: list[Rig] = []

    async def make(*, client_identifier: str = CLIENT_ID, **overrides: Any) -> Rig:
        settings = make_settings(
            plex_tv_url=plex_tv.url, plex_app_url=plex_tv.url, **{**FAST, **overrides}
        )
        metrics = Metrics()
        breakers = Breakers(settings, metrics)
        await breakers.start()
        rig = Rig(build_plex_tv_client(settings, breakers, metrics, client_identifier), breakers)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.plex.aclose()
        await rig.breakers.close()


@pytest.fixture
async def rig(make_rig: RigFactory) -> Rig:
    return await make_rig()


def _near(moment: datetime, expected: datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 5


class TestCreatePin:
    async def test_a_strong_pin_expires_when_plex_says(self, rig: Rig) -> None:
        pin = await rig.plex.create_pin()

        assert pin.id > 0
        assert len(pin.code) >= 20
        assert pin.expires_at.tzinfo == UTC
        assert _near(pin.expires_at, datetime.now(UTC) + timedelta(seconds=1800))
        assert pin.auth_token is None
        assert not pin.authorized

    async def test_a_shorter_lifetime_from_plex_is_followed(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.pin_lifetime = 900

        pin = await rig.plex.create_pin()

        assert _near(pin.expires_at, datetime.now(UTC) + timedelta(seconds=900))

    async def test_medianest_names_itself_to_plex(self, rig: Rig, plex_tv: FakePlexTv) -> None:
        await rig.plex.create_pin()

        [sent] = plex_tv.requests
        assert (sent.method, sent.path, sent.query) == ("POST", "/api/v2/pins", "strong=true")
        assert sent.headers["x-plex-client-identifier"] == CLIENT_ID
        assert sent.headers["x-plex-product"] == "MediaNest"
        assert sent.headers["x-plex-version"] == __version__
        assert sent.headers["accept"] == "application/json"

    async def test_a_slow_plex_tv_times_out_and_the_pin_is_requested_only_once(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.slow(2)

        with pytest.raises(UpstreamTimeout) as caught:
            await rig.plex.create_pin()

        assert caught.value.service == PLEX_TV
        assert len(plex_tv.requests) == 1


class TestAuthUrl:
    def test_it_opens_the_plex_page_for_this_install_and_code(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        url = rig.plex.auth_url("3patfx1a78ukcbr7x0n9bl26t")

        assert url.startswith(f"{plex_tv.url}/auth#?")
        assert "[" not in url and "]" not in url
        assert "context%5Bdevice%5D%5Bproduct%5D=MediaNest" in url
        params = parse_qs(urlsplit(url).fragment.removeprefix("?"))
        assert params["clientID"] == [CLIENT_ID]
        assert params["code"] == ["3patfx1a78ukcbr7x0n9bl26t"]
        assert params["context[device][version]"] == [__version__]
        assert params["context[device][layout]"] == ["desktop"]
        assert "forwardUrl" not in params

    def test_plex_can_send_the_browser_back(self, rig: Rig) -> None:
        back = "https://media.example.com/auth/plex/callback?pin=1"

        url = rig.plex.auth_url("abc", forward_url=back)

        assert "forwardUrl=https%3A%2F%2Fmedia.example.com%2Fauth%2Fplex%2Fcallback" in url
        assert parse_qs(urlsplit(url).fragment.removeprefix("?"))["forwardUrl"] == [back]


class TestGetPin:
    async def test_polling_hands_over_the_token_once_the_user_approved(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        created = await rig.plex.create_pin()

        pin = await rig.plex.get_pin(created.id)
        polls = 1
        while not pin.authorized and polls < 20:
            if polls == 2:
                plex_tv.approve(created.code, ALICE)
            await asyncio.sleep(0.02)
            pin = await rig.plex.get_pin(created.id)
            polls += 1

        assert pin.auth_token == ALICE
        assert (pin.id, pin.code) == (created.id, created.code)
        assert polls == plex_tv.pin_polls == 3
        assert ALICE not in repr(pin)
        assert ALICE not in pin.model_dump_json()

    async def test_an_expired_pin_asks_the_user_to_start_again(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        pin = await rig.plex.create_pin()
        plex_tv.expire(pin.id)

        with pytest.raises(UnknownPin) as caught:
            await rig.plex.get_pin(pin.id)

        assert caught.value.status == 400
        assert caught.value.code == "INVALID_PIN"
        assert caught.value.message == "This sign-in link has expired. Start again."

    async def test_an_unknown_pin_is_treated_as_expired(self, rig: Rig) -> None:
        with pytest.raises(UnknownPin):
            await rig.plex.get_pin(42)

    async def test_a_pin_can_only_be_read_by_the_install_that_created_it(
        self, make_rig: RigFactory, plex_tv: FakePlexTv
    ) -> None:
        ours = await make_rig()
        other = await make_rig(client_identifier="another-medianest-install")
        pin = await ours.plex.create_pin()
        plex_tv.approve(pin.id, ALICE)

        with pytest.raises(UnknownPin):
            await other.plex.get_pin(pin.id)
        assert (await ours.plex.get_pin(pin.id)).auth_token == ALICE

    async def test_polling_too_fast_says_how_long_to_wait(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        pin = await rig.plex.create_pin()
        plex_tv.rate_limit_next(1, retry_after="7")

        with pytest.raises(PlexRateLimited) as caught:
            await rig.plex.get_pin(pin.id)

        assert caught.value.status == 429
        assert caught.value.code == "RATE_LIMITED"
        assert caught.value.retry_after == 7
        assert not (await rig.plex.get_pin(pin.id)).authorized

    async def test_without_retry_after_the_wait_is_two_seconds_and_plex_tv_stays_available(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        pin = await rig.plex.create_pin()
        plex_tv.rate_limit_next(THRESHOLD + 1)

        for _ in range(THRESHOLD + 1):
            with pytest.raises(PlexRateLimited) as caught:
                await rig.plex.get_pin(pin.id)
            assert caught.value.retry_after == 2

        assert await rig.breaker() == "closed"


class TestGetAccount:
    async def test_the_account_behind_a_token(self, rig: Rig, plex_tv: FakePlexTv) -> None:
        alice = plex_tv.accounts[ALICE]

        account = await rig.plex.get_account(ALICE)

        assert account.id == 1234567
        assert account.uuid == alice.uuid
        assert account.username == "alice"
        assert account.email == "alice@example.com"
        assert account.thumb == alice.thumb
        [sent] = plex_tv.requests
        assert sent.path == "/api/v2/user"
        assert sent.headers["x-plex-token"] == ALICE
        assert ALICE not in sent.query

    async def test_an_account_without_email_or_avatar(self, rig: Rig, plex_tv: FakePlexTv) -> None:
        plex_tv.add_account("token-of-kid", id=77, username="kid", email=None, thumb=None)

        account = await rig.plex.get_account("token-of-kid")

        assert (account.username, account.email, account.thumb) == ("kid", None, None)

    async def test_a_token_plex_refuses_is_a_failed_sign_in_not_an_outage(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        for _ in range(THRESHOLD + 1):
            with pytest.raises(PlexTvTokenRefused) as caught:
                await rig.plex.get_account("revoked-token")
            assert caught.value.status == 401
            assert caught.value.code == "UNAUTHORIZED"
            assert caught.value.message == "Plex did not accept the sign-in. Try again."

        assert await rig.breaker() == "closed"
        assert (await rig.plex.get_account(ALICE)).username == "alice"


class TestPlexTvOutage:
    async def test_plex_tv_down_is_reported_at_once_naming_it(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.down()

        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.plex.get_account(ALICE)
        elapsed = time.perf_counter() - started

        assert elapsed < 2
        assert caught.value.status == 503
        assert caught.value.service == PLEX_TV
        assert "plex.tv is unreachable" in caught.value.message
        assert not caught.value.misconfigured

    async def test_a_slow_plex_tv_is_a_timeout_naming_it(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        pin = await rig.plex.create_pin()
        plex_tv.slow(2)

        started = time.perf_counter()
        with pytest.raises(UpstreamTimeout) as caught:
            await rig.plex.get_pin(pin.id)
        elapsed = time.perf_counter() - started

        assert elapsed < 1.5
        assert caught.value.status == 504
        assert caught.value.service == PLEX_TV
        assert "plex.tv took too long" in caught.value.message


class TestGetResources:
    async def test_only_servers_are_listed_with_their_token_and_connections(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.set_resources(
            ALICE,
            [
                server_resource(
                    "Home", MACHINE_ID, access_token="srv-token", uri="http://10.0.0.5:32400"
                ),
                client_resource("Chrome"),
            ],
        )

        [server] = await rig.plex.get_resources(ALICE)

        assert server.name == "Home"
        assert server.client_identifier == MACHINE_ID
        assert server.owned
        assert server.access_token == "srv-token"
        [connection] = server.connections
        assert connection.uri == "http://10.0.0.5:32400"
        assert (connection.address, connection.port, connection.protocol) == (
            "10.0.0.5",
            32400,
            "http",
        )
        assert connection.local and not connection.relay
        [sent] = plex_tv.requests
        assert sent.query == "includeHttps=1&includeRelay=1"
        assert "srv-token" not in repr(server)

    async def test_a_refused_token_is_a_failed_sign_in(self, rig: Rig) -> None:
        with pytest.raises(PlexTvTokenRefused):
            await rig.plex.get_resources("revoked-token")


class TestGetSharedUsers:
    async def test_each_friend_comes_with_the_servers_shared_with_them(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.add_account("token-of-bob", id=200, username="bob")
        plex_tv.add_account("token-of-kid", id=300, username="kid", email=None)
        plex_tv.add_account("token-of-eve", id=400, username="eve")
        plex_tv.share(ALICE, 200, MACHINE_ID, "another-server")
        plex_tv.share(ALICE, 300, MACHINE_ID)
        plex_tv.share(ALICE, 400)

        friends = {friend.id: friend for friend in await rig.plex.get_shared_users(ALICE)}

        assert set(friends) == {200, 300, 400}
        assert friends[200].username == "bob"
        assert friends[200].email == "bob@example.com"
        assert friends[200].server_machine_ids == {MACHINE_ID, "another-server"}
        assert friends[300].email is None
        assert friends[300].server_machine_ids == {MACHINE_ID}
        assert friends[400].server_machine_ids == frozenset()
        [sent] = plex_tv.requests
        assert sent.headers["x-plex-token"] == ALICE
        assert ALICE not in sent.query

    async def test_the_captured_friends_list_is_understood(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.replace_friends_list((PAYLOADS / "users.xml").read_bytes())

        [friend] = await rig.plex.get_shared_users(ALICE)

        assert (friend.id, friend.username, friend.email) == (
            1234567,
            "alice",
            "alice@example.com",
        )
        assert friend.server_machine_ids == {MACHINE_ID}

    async def test_a_friends_list_declaring_entities_is_refused_unread(
        self, rig: Rig, plex_tv: FakePlexTv
    ) -> None:
        plex_tv.replace_friends_list((PAYLOADS / "users_doctype.xml").read_bytes())

        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.plex.get_shared_users(ALICE)

        assert time.perf_counter() - started < 1
        assert caught.value.service == PLEX_TV
        assert "could not read" in caught.value.message

    async def test_a_refused_owner_token_needs_an_administrator(self, rig: Rig) -> None:
        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.plex.get_shared_users("revoked-owner-token")

        assert caught.value.misconfigured
        assert caught.value.service == PLEX_TV
        assert await rig.breaker() == "closed"
