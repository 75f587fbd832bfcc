"""Connecting Overseerr or Seerr through `/api/v1/admin/services/overseerr`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from medianest.app import create_app
from medianest.connections.models import ServiceConnection
from medianest.core.audit import AuditEntry
from medianest.core.db import Database
from medianest.core.security import EncryptionService
from tests.conftest import SettingsFactory
from tests.factories.users import make_user
from tests.fakes.flaky import FlakyUpstream
from tests.fakes.overseerr import FakeOverseerr
from tests.integration.auth.conftest import ADMIN_PASSWORD, csrf, finish_first_run, sign_in
from tests.integration.requests.conftest import SERVICE, connect, try_connection
from tests.support.app import Started, ok_data, started
from tests.support.server import free_port

MEMBER_PASSWORD = "a-member-passphrase-1"


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return dict(body["error"])


async def _stored(database_url: str) -> ServiceConnection | None:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return await session.get(ServiceConnection, "overseerr")
    finally:
        await db.close()


class TestWhoMay:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", SERVICE, None),
            ("PUT", SERVICE, {"url": "http://127.0.0.1:5055", "apiKey": "k"}),
            ("POST", f"{SERVICE}/test", {}),
            ("POST", f"{SERVICE}/webhook-secret", None),
        ],
    )
    async def test_members_get_403_and_strangers_401(
        self,
        medianest: Started,
        admin: httpx.AsyncClient,
        database_url: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
    ) -> None:
        await make_user(database_url, username="bob", password=MEMBER_PASSWORD)
        async with medianest.client() as member, medianest.client() as stranger:
            assert (await sign_in(member, "bob", MEMBER_PASSWORD)).status_code == 200
            as_member = await member.request(method, path, json=body, headers=csrf(member))
            as_stranger = await stranger.request(method, path, json=body)
        assert (as_member.status_code, _error(as_member)["code"]) == (403, "FORBIDDEN")
        assert as_stranger.status_code == 401


class TestStatus:
    async def test_nothing_is_connected_at_first(self, admin: httpx.AsyncClient) -> None:
        status = ok_data(await admin.get(SERVICE))

        assert (status["configured"], status["apiKeySet"], status["url"]) == (False, False, None)
        assert (status["webhook"], status["flavour"]) == (None, None)
        assert status["allowPlexImport"] is True


class TestTest:
    async def test_a_working_overseerr_answers_with_version_flavour_and_latency(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        result = ok_data(await try_connection(admin, url=overseerr.url, apiKey=overseerr.api_key))

        assert (result["ok"], result["flavour"], result["version"]) == (
            True,
            "overseerr",
            overseerr.version,
        )
        assert result["latencyMs"] >= 0

    async def test_seerr_is_recognised(
        self, admin: httpx.AsyncClient, seerr: FakeOverseerr
    ) -> None:
        result = ok_data(
            await try_connection(admin, url=seerr.url + "/api/v1/", apiKey=seerr.api_key)
        )

        assert (result["ok"], result["flavour"], result["version"]) == (
            True,
            "seerr",
            seerr.version,
        )

    async def test_nothing_listening_is_unreachable(self, admin: httpx.AsyncClient) -> None:
        port = free_port()
        result = ok_data(await try_connection(admin, url=f"http://127.0.0.1:{port}", apiKey="k"))

        assert (result["ok"], result["reason"]) == (False, "unreachable")
        assert result["error"].startswith(f"Nothing answered at 127.0.0.1:{port}")

    async def test_a_wrong_key_is_refused(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        result = ok_data(await try_connection(admin, url=overseerr.url, apiKey="not-it"))

        assert (result["ok"], result["reason"]) == (False, "key_refused")
        assert "API key" in result["error"]

    async def test_something_else_is_not_overseerr(self, admin: httpx.AsyncClient) -> None:
        other = FlakyUpstream().start()
        try:
            result = ok_data(await try_connection(admin, url=other.url, apiKey="k"))
        finally:
            other.stop()

        assert (result["ok"], result["reason"]) == (False, "not_overseerr")

    async def test_an_overseerr_that_stopped_answering_times_out(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        overseerr.slow(4)

        result = ok_data(await try_connection(admin, url=overseerr.url, apiKey=overseerr.api_key))

        assert (result["ok"], result["reason"]) == (False, "timeout")
        assert "did not answer within 2 seconds" in result["error"]

    async def test_a_bad_address_is_explained(self, admin: httpx.AsyncClient) -> None:
        result = ok_data(await try_connection(admin, url="ftp://overseerr", apiKey="k"))

        assert (result["ok"], result["reason"]) == (False, "bad_url")
        assert "http://" in result["error"]


class TestConnect:
    async def test_a_working_connection_is_kept_with_its_key_sealed(
        self,
        admin: httpx.AsyncClient,
        overseerr: FakeOverseerr,
        database_url: str,
        medianest: Started,
    ) -> None:
        saved = await connect(admin, overseerr.url + "/", overseerr.api_key)
        shown = await admin.get(SERVICE)

        assert saved.status_code == 200, saved.text
        status = ok_data(shown)
        assert status == ok_data(saved)
        assert (status["url"], status["configured"], status["apiKeySet"]) == (
            overseerr.url,
            True,
            True,
        )
        assert (status["flavour"], status["version"]) == ("overseerr", overseerr.version)
        assert status["webhook"]["url"] == "http://testserver/api/v1/webhooks/overseerr"
        assert status["webhook"]["authorization"].startswith("Bearer mnw_")
        assert overseerr.api_key not in saved.text + shown.text
        row = await _stored(database_url)
        assert row is not None and row.token_encrypted is not None
        assert overseerr.api_key not in row.token_encrypted
        encryption: EncryptionService = medianest.state["platform"].encryption
        assert encryption.decrypt(row.token_encrypted) == overseerr.api_key

    async def test_a_failing_test_saves_nothing(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr, database_url: str
    ) -> None:
        refused = await connect(admin, overseerr.url, "not-it")

        assert refused.status_code == 400
        error = _error(refused)
        assert error["code"] == "CONNECTION_FAILED"
        assert error["details"][0]["field"] == "apiKey"
        assert await _stored(database_url) is None

    async def test_an_empty_key_keeps_the_stored_one_and_the_policy_is_saved(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        first = ok_data(await connect(admin, overseerr.url, overseerr.api_key))
        again = await connect(admin, overseerr.url, "", allowPlexImport=False)

        assert again.status_code == 200, again.text
        status = ok_data(again)
        assert status["allowPlexImport"] is False
        # The webhook secret stays what was pasted into Overseerr.
        assert status["webhook"]["authorization"] == first["webhook"]["authorization"]

    async def test_missing_key_is_a_field_error(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        response = await connect(admin, overseerr.url, None)

        assert response.status_code == 400
        assert _error(response)["details"][0]["field"] == "apiKey"

    async def test_connecting_is_in_the_audit_log(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr, database_url: str
    ) -> None:
        await connect(admin, overseerr.url, overseerr.api_key)

        db = Database(database_url)
        try:
            async with db.unit_of_work() as session:
                actions = list(await session.scalars(select(AuditEntry.action)))
        finally:
            await db.close()
        assert "admin.overseerr_connected" in actions


class TestWebhookSecret:
    async def test_a_new_secret_replaces_the_old(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        before = ok_data(await connect(admin, overseerr.url, overseerr.api_key))
        after = await admin.post(f"{SERVICE}/webhook-secret", headers=csrf(admin))

        assert after.status_code == 200, after.text
        assert ok_data(after)["webhook"]["authorization"] != before["webhook"]["authorization"]

    async def test_nothing_to_replace_before_connecting(self, admin: httpx.AsyncClient) -> None:
        response = await admin.post(f"{SERVICE}/webhook-secret", headers=csrf(admin))

        assert response.status_code == 503
        assert "connect Overseerr" in _error(response)["message"]


class TestSettings:
    async def test_the_settings_seed_the_first_connection_until_one_is_saved(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        overseerr: FakeOverseerr,
        seerr: FakeOverseerr,
    ) -> None:
        settings = make_settings(
            database_url=database_url,
            overseerr_url=overseerr.url,
            overseerr_api_key=overseerr.api_key,
        )
        async with started(create_app(settings)) as app, app.client() as http:
            await finish_first_run(http)
            seeded = ok_data(await http.get(SERVICE))
            switched = await connect(http, seerr.url, seerr.api_key)
        async with started(create_app(settings)) as app, app.client() as http:
            await sign_in(http, "admin", ADMIN_PASSWORD)
            kept = ok_data(await http.get(SERVICE))

        assert (seeded["url"], seeded["configured"]) == (overseerr.url, True)
        assert seeded["webhook"]["authorization"].startswith("Bearer mnw_")
        assert switched.status_code == 200, switched.text
        assert (kept["url"], kept["flavour"]) == (seerr.url, "seerr")
