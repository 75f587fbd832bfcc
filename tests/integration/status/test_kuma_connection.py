"""Connecting Uptime Kuma through `/api/v1/admin/services/uptime-kuma`: validation, tests that
fail with a reason, a key that is never returned, the settings as the first connection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.conftest import SettingsFactory
from tests.fakes.uptime_kuma import UP, FakeUptimeKuma, new_api_key
from tests.integration.auth.conftest import csrf
from tests.integration.status.conftest import (
    KUMA_SERVICE,
    checks_of,
    medianest_with,
    member,
    signed_in,
    states,
)
from tests.support.app import Started, ok_data
from tests.support.server import free_port

from medianest.connections.models import ServiceConnection
from medianest.core.db import Database
from medianest.core.security import EncryptionService


@pytest.fixture
async def medianest(make_settings: SettingsFactory, database_url: str) -> Any:
    async with medianest_with(
        make_settings(database_url=database_url, http_read_timeout=2.0)
    ) as app:
        yield app


def _error(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert body["success"] is False, body
    return dict(body["error"])


def _kuma_page(kuma: FakeUptimeKuma) -> None:
    kuma.add_status_page("home", "Home")
    kuma.add_monitor("home", 1, "NAS")
    kuma.add_monitor("home", 2, "Router")
    kuma.beat(1, UP)


async def _stored(database_url: str) -> ServiceConnection | None:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return await session.get(ServiceConnection, "uptime-kuma")
    finally:
        await db.close()


async def _put(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.put(KUMA_SERVICE, json=body, headers=csrf(http))


async def _test(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post(f"{KUMA_SERVICE}/test", json=body, headers=csrf(http))


class TestWhoMay:
    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", ""), ("PUT", ""), ("POST", "/test"), ("DELETE", "")],
    )
    async def test_members_get_403_and_strangers_401(
        self, medianest: Started, database_url: str, method: str, path: str
    ) -> None:
        await member(medianest, database_url)
        body = {"url": "http://127.0.0.1:3001", "statusPages": ["home"]}
        async with signed_in(medianest, "viewer") as viewer, medianest.client() as stranger:
            as_member = await viewer.request(
                method, KUMA_SERVICE + path, json=body, headers=csrf(viewer)
            )
            as_stranger = await stranger.request(method, KUMA_SERVICE + path, json=body)
        assert (as_member.status_code, _error(as_member)["code"]) == (403, "FORBIDDEN")
        assert as_stranger.status_code == 401


class TestTest:
    async def test_a_working_kuma_counts_its_monitors(
        self, medianest: Started, kuma: FakeUptimeKuma
    ) -> None:
        _kuma_page(kuma)
        async with signed_in(medianest) as admin:
            found = ok_data(
                await _test(admin, url=kuma.url, statusPages=["Home"], apiKey=kuma.api_key)
            )
        assert found["ok"] is True
        assert found["monitors"] == 2
        assert found["version"] == kuma.version
        assert isinstance(found["latencyMs"], int)

    @pytest.mark.parametrize(
        ("case", "reason"),
        [
            ("unknown page", "status_page_not_found"),
            ("wrong key", "key_refused"),
            ("nothing there", "unreachable"),
        ],
    )
    async def test_failures_say_why(
        self, medianest: Started, kuma: FakeUptimeKuma, case: str, reason: str
    ) -> None:
        _kuma_page(kuma)
        body: dict[str, Any] = {"url": kuma.url, "statusPages": ["home"]}
        if case == "unknown page":
            body["statusPages"] = ["home", "garage"]
        elif case == "wrong key":
            body["apiKey"] = new_api_key(7)
        else:
            body["url"] = f"http://127.0.0.1:{free_port()}"
        async with signed_in(medianest) as admin:
            found = ok_data(await _test(admin, **body))
        assert (found["ok"], found["reason"]) == (False, reason)
        assert found["error"]
        if case == "unknown page":
            assert '"garage"' in found["error"]

    async def test_a_slug_kuma_could_not_have_is_a_validation_error(
        self, medianest: Started, kuma: FakeUptimeKuma
    ) -> None:
        async with signed_in(medianest) as admin:
            answer = await _test(admin, url=kuma.url, statusPages=["my page!"])
            no_pages = await _test(admin, url=kuma.url, statusPages=[])
            bad_key = await _test(admin, url=kuma.url, statusPages=["home"], apiKey="secret")
        assert (answer.status_code, _error(answer)["details"][0]["field"]) == (400, "statusPages")
        assert _error(no_pages)["details"][0]["field"] == "statusPages"
        assert (bad_key.status_code, _error(bad_key)["details"][0]["field"]) == (400, "apiKey")


class TestSave:
    async def test_a_tested_connection_is_saved_and_polled(
        self, medianest: Started, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _kuma_page(kuma)
        async with signed_in(medianest) as admin:
            saved = ok_data(
                await _put(admin, url=kuma.url + "/", statusPages=["home"], apiKey=kuma.api_key)
            )
            read = ok_data(await admin.get(KUMA_SERVICE))
            await checks_of(medianest).poll("kuma")
        stored = await _stored(database_url)

        assert saved == read
        assert (read["url"], read["statusPages"], read["configured"]) == (kuma.url, ["home"], True)
        assert read["apiKeySet"] is True
        assert "apiKey" not in read
        assert kuma.api_key not in str(read)
        assert stored is not None and stored.token_encrypted is not None
        assert kuma.api_key not in stored.token_encrypted
        assert "kuma:home:1" in await states(database_url)

    async def test_a_failing_test_saves_nothing(
        self, medianest: Started, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        async with signed_in(medianest) as admin:
            answer = await _put(admin, url=kuma.url, statusPages=["garage"])
        error = _error(answer)
        assert (answer.status_code, error["code"]) == (400, "CONNECTION_FAILED")
        assert error["details"][0]["field"] == "statusPages"
        assert await _stored(database_url) is None

    async def test_bad_input_is_a_validation_error(self, medianest: Started) -> None:
        async with signed_in(medianest) as admin:
            no_scheme = await _put(admin, url="kuma.lan:3001", statusPages=["home"])
            not_a_list = await _put(admin, url="http://kuma.lan", statusPages="home")
        assert (no_scheme.status_code, _error(no_scheme)["details"][0]["field"]) == (400, "url")
        assert not_a_list.status_code == 400
        assert _error(not_a_list)["code"] == "VALIDATION_ERROR"

    async def test_the_key_is_kept_left_out_and_forgotten_on_null(
        self, medianest: Started, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _kuma_page(kuma)
        async with signed_in(medianest) as admin:
            await _put(admin, url=kuma.url, statusPages=["home"], apiKey=kuma.api_key)
            kept = ok_data(await _put(admin, url=kuma.url, statusPages=["home"]))
            forgotten = ok_data(await _put(admin, url=kuma.url, statusPages=["home"], apiKey=None))
        assert (kept["apiKeySet"], forgotten["apiKeySet"]) == (True, False)
        stored = await _stored(database_url)
        assert stored is not None and stored.token_encrypted is None

    async def test_disconnecting_takes_the_monitors_off(
        self, medianest: Started, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _kuma_page(kuma)
        async with signed_in(medianest) as admin:
            await _put(admin, url=kuma.url, statusPages=["home"])
            await checks_of(medianest).poll("kuma")
            off = ok_data(await admin.delete(KUMA_SERVICE, headers=csrf(admin)))
            await checks_of(medianest).poll("kuma")
        assert off["configured"] is False
        assert not [i for i in await states(database_url) if i.startswith("kuma:")]


class TestSettings:
    async def test_the_settings_are_the_first_connection_with_the_key_sealed(
        self, make_settings: SettingsFactory, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _kuma_page(kuma)
        settings = make_settings(
            database_url=database_url,
            uptime_kuma_url=kuma.url,
            uptime_kuma_status_pages="home, Garage",
            uptime_kuma_api_key=kuma.api_key,
        )
        async with medianest_with(settings) as app, signed_in(app) as admin:
            read = ok_data(await admin.get(KUMA_SERVICE))
        stored = await _stored(database_url)

        assert (read["configured"], read["statusPages"]) == (True, ["home", "garage"])
        assert read["apiKeySet"] is True
        assert stored is not None and stored.token_encrypted is not None
        opened = EncryptionService(settings.encryption_keys).decrypt(stored.token_encrypted)
        assert opened == kuma.api_key
