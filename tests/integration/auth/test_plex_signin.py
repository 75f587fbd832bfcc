"""Sign in with Plex through MediaNest's API, against a fake plex.tv and a fake Plex server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.support.app import Started, started

OWNER_ID, FRIEND_ID, STRANGER_ID = 1000, 2000, 4000


@pytest.fixture(scope="module")
def fake_plex_tv() -> Iterator[FakePlexTv]:
    fake = FakePlexTv().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakePlexServer]:
    fake = FakePlexServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def plex(fake_plex_tv: FakePlexTv, fake_server: FakePlexServer) -> FakePlexTv:
    fake_server.reset()
    fake_server.start()
    fake = fake_plex_tv
    fake.reset()
    fake.add_account(
        fake_server.owner_token, id=OWNER_ID, username="owner", email="owner@example.com"
    )
    fake.add_account("friend-token", id=FRIEND_ID, username="Grandpa Joe", email="joe@example.com")
    fake.add_account("stranger-token", id=STRANGER_ID, username="stranger")
    fake.share(fake_server.owner_token, FRIEND_ID, fake_server.machine_identifier)
    return fake.start()


def _settings(
    make_settings: SettingsFactory,
    database_url: str,
    plex: FakePlexTv,
    server: FakePlexServer | None,
    **extra: object,
) -> object:
    values: dict[str, object] = {
        "database_url": database_url,
        "plex_tv_url": plex.url,
        "plex_app_url": plex.url,
        "http_connect_timeout": 0.5,
        "http_read_timeout": 0.5,
        **extra,
    }
    if server is not None:
        values.update(plex_url=server.url, plex_token=server.owner_token)
    return make_settings(**values)


@pytest.fixture
async def medianest(
    make_settings: SettingsFactory, database_url: str, plex: FakePlexTv, fake_server: FakePlexServer
) -> AsyncIterator[Started]:
    async with started(
        create_app(_settings(make_settings, database_url, plex, fake_server))
    ) as app:  # type: ignore[arg-type]
        yield app


async def _pin(http: httpx.AsyncClient) -> dict[str, object]:
    response = await http.post("/api/v1/auth/plex/pin", json={})
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def _verify(http: httpx.AsyncClient, pin_id: object, **extra: object) -> httpx.Response:
    return await http.post("/api/v1/auth/plex/verify", json={"pinId": pin_id, **extra})


class TestPinFlow:
    async def test_a_shared_friend_signs_in_and_becomes_a_user(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        async with medianest.client() as http:
            pin = await _pin(http)
            assert str(pin["authUrl"]).startswith(f"{plex.url}/auth#?")
            assert "code=" in str(pin["authUrl"]) and pin["pollIntervalMs"] == 1000
            waiting = await http.get(f"/api/v1/auth/plex/pin/{pin['id']}")
            early = await _verify(http, pin["id"])
            plex.approve(pin["id"], "friend-token")
            approved = await http.get(f"/api/v1/auth/plex/pin/{pin['id']}")
            signed_in = await _verify(http, pin["id"], rememberMe=True)
            session = await http.get("/api/v1/auth/session")
        assert waiting.json()["data"]["authorized"] is False
        assert early.status_code == 400
        assert early.json()["error"]["code"] == "PIN_NOT_AUTHORIZED"
        assert approved.json()["data"]["authorized"] is True
        assert "friend-token" not in approved.text
        assert signed_in.status_code == 200, signed_in.text
        user = signed_in.json()["data"]["user"]
        assert (user["username"], user["role"], user["plexLinked"]) == ("Grandpa Joe", "user", True)
        assert signed_in.json()["data"]["rememberToken"]
        assert session.json()["data"]["user"]["email"] == "joe@example.com"

    async def test_the_server_owner_becomes_an_admin(
        self, medianest: Started, plex: FakePlexTv, fake_server: FakePlexServer
    ) -> None:
        async with medianest.client() as http:
            pin = await _pin(http)
            plex.approve(pin["id"], fake_server.owner_token)
            response = await _verify(http, pin["id"])
        assert response.json()["data"]["user"]["role"] == "admin"

    async def test_signing_in_again_updates_the_same_account(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        ids = set()
        for _ in range(2):
            async with medianest.client() as http:
                pin = await _pin(http)
                plex.approve(pin["id"], "friend-token")
                ids.add((await _verify(http, pin["id"])).json()["data"]["user"]["id"])
        assert len(ids) == 1

    async def test_a_plex_account_without_access_is_refused(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        async with medianest.client() as http:
            pin = await _pin(http)
            plex.approve(pin["id"], "stranger-token")
            response = await _verify(http, pin["id"])
        assert response.status_code == 403
        assert "does not have access to this Plex server" in response.json()["error"]["message"]

    async def test_a_pin_started_in_another_browser_cannot_be_used(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        async with medianest.client() as victim, medianest.client() as attacker:
            pin = await _pin(victim)
            plex.approve(pin["id"], "friend-token")
            stolen = await _verify(attacker, pin["id"])
            own = await _verify(victim, pin["id"])
        assert stolen.status_code == 400
        assert stolen.json()["error"]["code"] == "INVALID_PIN"
        assert own.status_code == 200

    async def test_a_cache_that_lost_everything_loses_no_sign_in_and_no_pin_works_twice(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        cache = medianest.state["platform"].cache
        async with medianest.client() as browser:
            pin = await _pin(browser)
            plex.approve(pin["id"], "friend-token")
            # Redis restarted empty, or was too slow to answer, between start and finish.
            await cache.invalidate_pattern("*")
            signed_in = await _verify(browser, pin["id"])
            again = await _verify(browser, pin["id"])
        assert signed_in.status_code == 200, signed_in.text
        assert again.status_code == 400

    async def test_an_unknown_pin_is_an_invalid_pin(self, medianest: Started) -> None:
        async with medianest.client() as http:
            response = await _verify(http, 987654321)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_PIN"
        assert "Start again" in response.json()["error"]["message"]

    async def test_an_expired_pin_says_to_start_again(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        async with medianest.client() as http:
            pin = await _pin(http)
            plex.expire(pin["id"])
            status = await http.get(f"/api/v1/auth/plex/pin/{pin['id']}")
            verify = await _verify(http, pin["id"])
        assert status.status_code == verify.status_code == 400
        assert verify.json()["error"]["code"] == "INVALID_PIN"
        assert "Start again" in verify.json()["error"]["message"]

    async def test_polling_too_fast_is_answered_with_a_wait(
        self, medianest: Started, plex: FakePlexTv
    ) -> None:
        async with medianest.client() as http:
            pin = await _pin(http)
            plex.rate_limit_next(1, retry_after="3")
            response = await http.get(f"/api/v1/auth/plex/pin/{pin['id']}")
        assert response.status_code == 429
        assert response.json()["error"]["retryAfter"] == 3
        assert response.headers["retry-after"] == "3"


def _forward_url(auth_url: object) -> str | None:
    fragment = urlsplit(str(auth_url)).fragment.lstrip("?")
    return parse_qs(fragment).get("forwardUrl", [None])[0]


class TestPlexSendsTheWindowBack:
    """app.plex.tv follows `forwardUrl` after approval: only ever to MediaNest's own page."""

    async def test_to_the_address_the_browser_used(self, medianest: Started) -> None:
        async with medianest.client() as http:
            plain = await _pin(http)
            # Behind a proxy that ends TLS MediaNest sees http; the browser says https.
            behind_tls = await http.post(
                "/api/v1/auth/plex/pin", json={}, headers={"Origin": "https://testserver"}
            )
            same = await http.post(
                "/api/v1/auth/plex/pin", json={}, headers={"Origin": "http://testserver"}
            )
        assert _forward_url(plain["authUrl"]) == "http://testserver/auth/plex/done"
        assert _forward_url(behind_tls.json()["data"]["authUrl"]) == (
            "https://testserver/auth/plex/done"
        )
        assert _forward_url(same.json()["data"]["authUrl"]) == "http://testserver/auth/plex/done"

    async def test_never_to_another_site(self, medianest: Started) -> None:
        async with medianest.client() as http:
            answers = [
                await http.post("/api/v1/auth/plex/pin", json={}, headers=headers)
                for headers in (
                    {"Origin": "https://evil.example"},
                    {"Origin": "https://testserver.evil.example"},
                    {"Origin": "null"},
                    {"Origin": "javascript://testserver"},
                    {"Host": "evil.example/phish?"},
                    {"Host": "user@evil.example"},
                )
            ]
        for response in answers:
            assert response.status_code == 201, response.text
            auth_url = response.json()["data"]["authUrl"]
            assert _forward_url(auth_url) is None
            assert "evil" not in auth_url

    async def test_a_request_field_cannot_choose_it(self, medianest: Started) -> None:
        async with medianest.client() as http:
            response = await http.post(
                "/api/v1/auth/plex/pin", json={"forwardUrl": "https://evil.example/"}
            )
        auth_url = response.json()["data"]["authUrl"]
        assert _forward_url(auth_url) == "http://testserver/auth/plex/done"
        assert "evil" not in auth_url

    async def test_the_public_url_wins_when_set(
        self, make_settings: SettingsFactory, database_url: str, plex: FakePlexTv
    ) -> None:
        settings = _settings(
            make_settings, database_url, plex, None, public_url="https://media.example.com/nest/"
        )
        async with started(create_app(settings)) as medianest, medianest.client() as http:  # type: ignore[arg-type]
            response = await http.post(
                "/api/v1/auth/plex/pin", json={}, headers={"Origin": "https://evil.example"}
            )
        assert _forward_url(response.json()["data"]["authUrl"]) == (
            "https://media.example.com/nest/auth/plex/done"
        )


class TestPlexTrouble:
    async def test_no_server_configured_is_explained(
        self, make_settings: SettingsFactory, database_url: str, plex: FakePlexTv
    ) -> None:
        app = create_app(_settings(make_settings, database_url, plex, None))  # type: ignore[arg-type]
        async with started(app) as medianest, medianest.client() as http:
            pin = await _pin(http)
            plex.approve(pin["id"], "friend-token")
            response = await _verify(http, pin["id"])
        assert response.status_code == 403
        assert response.json()["error"]["message"] == (
            "MediaNest is not connected to a Plex server yet; ask your administrator."
        )

    async def test_plex_tv_down_is_a_clear_503(self, medianest: Started, plex: FakePlexTv) -> None:
        plex.down()
        async with medianest.client() as http:
            response = await http.post("/api/v1/auth/plex/pin", json={})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert "plex.tv" in error["message"] and error["details"] == [{"service": "plex.tv"}]

    async def test_plex_tv_slow_is_a_504(self, medianest: Started, plex: FakePlexTv) -> None:
        plex.slow(2.0)
        async with medianest.client() as http:
            response = await http.post("/api/v1/auth/plex/pin", json={})
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "UPSTREAM_TIMEOUT"
        assert "plex.tv" in response.json()["error"]["message"]
