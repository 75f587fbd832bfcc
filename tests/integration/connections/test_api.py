"""Connecting the Plex server through `/api/v1/admin/services/plex` and `/api/v1/admin/plex/*`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from medianest.auth.models import User
from medianest.connections.models import ServiceConnection
from medianest.connections.service import ConnectionChanged
from medianest.core.db import Database
from medianest.core.security import EncryptionService
from tests.factories.users import make_user
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.integration.auth.conftest import csrf, sign_in
from tests.integration.connections.conftest import (
    CABIN_OWNER,
    FRIEND_ON_HOME,
    connect,
    try_connection,
)
from tests.support.app import Started, ok_data
from tests.support.plex import approved_pin
from tests.support.server import free_port

MEMBER_PASSWORD = "a-member-passphrase-1"


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return dict(body["error"])


async def _sign_in_member(http: httpx.AsyncClient, database_url: str) -> None:
    await make_user(database_url, username="bob", password=MEMBER_PASSWORD)
    assert (await sign_in(http, "bob", MEMBER_PASSWORD)).status_code == 200


async def _stored(database_url: str) -> ServiceConnection | None:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return await session.get(ServiceConnection, "plex")
    finally:
        await db.close()


async def _link(http: httpx.AsyncClient, plex: FakePlexTv, token: str) -> httpx.Response:
    pin_id = await approved_pin(http, plex, token)
    return await http.post("/api/v1/admin/plex/link", json={"pinId": pin_id}, headers=csrf(http))


class TestWhoMay:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/api/v1/admin/services/plex", None),
            ("PUT", "/api/v1/admin/services/plex", {"url": "http://127.0.0.1:32400"}),
            ("POST", "/api/v1/admin/services/plex/test", {}),
            ("GET", "/api/v1/admin/plex/servers", None),
            ("POST", "/api/v1/admin/plex/link", {"pinId": 1}),
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
        async with medianest.client() as member, medianest.client() as stranger:
            await _sign_in_member(member, database_url)
            as_member = await member.request(method, path, json=body, headers=csrf(member))
            as_stranger = await stranger.request(method, path, json=body)
        assert as_member.status_code == 403
        assert _error(as_member)["code"] == "FORBIDDEN"
        assert as_stranger.status_code == 401


class TestStatus:
    async def test_nothing_is_connected_at_first(self, admin: httpx.AsyncClient) -> None:
        status = ok_data(await admin.get("/api/v1/admin/services/plex"))
        assert status["configured"] is False
        assert status["tokenSet"] is False
        assert status["url"] is None
        assert status["server"] is None
        assert status["accountLinked"] is False

    async def test_a_saved_connection_shows_the_server_but_never_the_token(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        saved = await connect(admin, home.url + "/", home.owner_token)
        response = await admin.get("/api/v1/admin/services/plex")

        assert saved.status_code == 200, saved.text
        status = ok_data(response)
        assert status == ok_data(saved)
        assert status["url"] == home.url
        assert status["configured"] is True
        assert status["tokenSet"] is True
        assert status["server"] == {
            "name": "Home",
            "version": home.version,
            "machineIdentifier": home.machine_identifier,
        }
        assert home.owner_token not in saved.text + response.text


class TestTest:
    async def test_a_working_server_answers_with_its_name_version_and_latency(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        result = ok_data(await try_connection(admin, url=home.url, token=home.owner_token))
        assert result["ok"] is True
        assert result["name"] == "Home"
        assert result["version"] == home.version
        assert result["machineIdentifier"] == home.machine_identifier
        assert result["latencyMs"] >= 0
        assert result.get("error") is None

    async def test_nothing_listening_is_unreachable(self, admin: httpx.AsyncClient) -> None:
        url = f"http://127.0.0.1:{free_port()}"
        result = ok_data(await try_connection(admin, url=url, token="anything"))
        assert (result["ok"], result["reason"]) == (False, "unreachable")
        assert result["error"].startswith(f"Nothing answered at 127.0.0.1:{url.rsplit(':', 1)[1]}")

    async def test_a_server_that_stopped_answering_times_out(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        home.slow(4)
        result = ok_data(await try_connection(admin, url=home.url, token=home.owner_token))
        assert (result["ok"], result["reason"]) == (False, "timeout")
        assert "did not answer within 2 seconds" in result["error"]

    async def test_something_else_than_plex_is_not_a_plex_server(
        self, admin: httpx.AsyncClient, plex: FakePlexTv, home: FakePlexServer
    ) -> None:
        result = ok_data(await try_connection(admin, url=plex.url, token=home.owner_token))
        assert (result["ok"], result["reason"]) == (False, "not_plex")
        assert "not a Plex Media Server" in result["error"]

    async def test_a_token_the_server_refuses_is_said_so(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        result = ok_data(await try_connection(admin, url=home.url, token="not-a-token"))
        assert (result["ok"], result["reason"]) == (False, "token_refused")
        assert result["error"].startswith("The Plex server refused this token.")
        assert "not-a-token" not in result["error"]

    async def test_a_shared_users_token_is_not_the_owners(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        result = ok_data(await try_connection(admin, url=home.url, token=FRIEND_ON_HOME))
        assert (result["ok"], result["reason"]) == (False, "not_owner")
        assert "“Grandpa Joe”, which is only shared with “Home”" in result["error"]

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("ftp://192.168.1.20:32400", "Start the address with http:// or https://"),
            ("192.168.1.20:32400", "Start the address with http:// or https://"),
            ("http://me:secret@192.168.1.20:32400", "Leave the user name and password out"),
            ("http://192.168.1.20:32400/?x=1", "Leave out everything after ? or #"),
            ("http://192.168.1.20:99999", "This is not a valid address"),
            ("http://192.168.1.20 :32400", "cannot contain spaces"),
        ],
    )
    async def test_a_bad_address_is_refused_before_any_call(
        self, admin: httpx.AsyncClient, url: str, says: str
    ) -> None:
        result = ok_data(await try_connection(admin, url=url, token="anything"))
        assert (result["ok"], result["reason"]) == (False, "bad_url")
        assert says in result["error"]

    async def test_without_anything_given_the_saved_connection_is_tested(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200
        result = ok_data(await try_connection(admin))
        assert (result["ok"], result["name"]) == (True, "Home")

    async def test_with_nothing_saved_an_address_is_asked_for(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await try_connection(admin)
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"][0]["field"] == "url"

    async def test_without_a_token_to_use_one_is_asked_for(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        response = await try_connection(admin, url=home.url)
        assert response.status_code == 400
        assert _error(response)["details"][0]["field"] == "token"


class TestSave:
    async def test_a_failing_connection_is_not_saved_and_says_why(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        response = await connect(admin, home.url, FRIEND_ON_HOME)
        status = ok_data(await admin.get("/api/v1/admin/services/plex"))

        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "CONNECTION_FAILED"
        assert "is only shared with “Home”" in error["message"]
        assert error["details"] == [{"field": "token", "message": error["message"]}]
        assert status["configured"] is False

    async def test_an_unreachable_server_is_not_saved(self, admin: httpx.AsyncClient) -> None:
        response = await connect(admin, f"http://127.0.0.1:{free_port()}", "anything")
        assert response.status_code == 400
        assert _error(response)["details"][0]["field"] == "url"

    @pytest.mark.parametrize(
        "body",
        [{}, {"url": ""}, {"url": "javascript:alert(1)"}, {"url": "http://a:b@host"}],
    )
    async def test_an_invalid_address_is_a_validation_error(
        self, admin: httpx.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await admin.put("/api/v1/admin/services/plex", json=body, headers=csrf(admin))
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"][0]["field"] == "url"

    async def test_the_token_is_stored_encrypted(
        self,
        admin: httpx.AsyncClient,
        home: FakePlexServer,
        database_url: str,
        medianest: Started,
    ) -> None:
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200

        row = await _stored(database_url)
        assert row is not None
        assert row.token_encrypted is not None
        assert home.owner_token not in row.token_encrypted
        encryption: EncryptionService = medianest.state["services"].platform.encryption
        assert encryption.decrypt(row.token_encrypted) == home.owner_token
        assert (row.url, row.enabled) == (home.url, True)
        assert row.updated_by is not None

    async def test_saving_is_in_the_audit_log_without_the_token(
        self, admin: httpx.AsyncClient, home: FakePlexServer, database_url: str
    ) -> None:
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200
        log = ok_data(
            await admin.get("/api/v1/admin/audit-log", params={"action": "admin.plex_connected"})
        )
        assert len(log) == 1
        assert log[0]["actorName"] == "admin"
        assert log[0]["details"]["server"] == "Home"
        assert home.owner_token not in str(log)

    async def test_without_a_token_the_stored_one_is_kept(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200
        again = await connect(admin, home.url + "/")
        assert again.status_code == 200, again.text
        assert ok_data(again)["server"]["name"] == "Home"

    async def test_without_a_token_the_admins_linked_plex_account_is_used(
        self, admin: httpx.AsyncClient, plex: FakePlexTv, cabin: FakePlexServer
    ) -> None:
        assert (await _link(admin, plex, CABIN_OWNER)).status_code == 200
        saved = await connect(admin, cabin.url)
        assert saved.status_code == 200, saved.text
        assert ok_data(saved)["server"]["name"] == "Cabin"

    async def test_on_connected_hooks_run_after_the_save(
        self, admin: httpx.AsyncClient, medianest: Started, home: FakePlexServer, database_url: str
    ) -> None:
        seen: list[str | None] = []

        async def hook(_: ConnectionChanged) -> None:
            row = await _stored(database_url)
            seen.append(row.url if row else None)

        async def broken(_: ConnectionChanged) -> None:
            raise RuntimeError("a hook that fails")

        connections = medianest.state["services"].connections
        connections.on_changed(broken)
        connections.on_changed(hook)
        response = await connect(admin, home.url, home.owner_token)
        assert response.status_code == 200
        # The hook reads the committed row; the failing one does not stop it or the save.
        assert seen == [home.url]


class TestServers:
    async def test_without_a_linked_plex_account_the_admin_is_told_to_link_one(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await admin.get("/api/v1/admin/plex/servers")
        assert response.status_code == 409
        assert "Link your Plex account first" in _error(response)["message"]

    async def test_the_linked_accounts_servers_are_listed_without_tokens(
        self, admin: httpx.AsyncClient, plex: FakePlexTv, home: FakePlexServer
    ) -> None:
        assert (await _link(admin, plex, home.owner_token)).status_code == 200
        response = await admin.get("/api/v1/admin/plex/servers")
        servers = ok_data(response)
        assert servers == [
            {
                "name": "Home",
                "machineIdentifier": home.machine_identifier,
                "owned": True,
                "connections": [{"uri": home.url, "local": True, "relay": False}],
            }
        ]
        assert home.owner_token not in response.text


class TestLink:
    async def test_linking_keeps_the_token_encrypted_and_who_the_admin_is(
        self, admin: httpx.AsyncClient, plex: FakePlexTv, home: FakePlexServer, database_url: str
    ) -> None:
        linked = await _link(admin, plex, home.owner_token)
        session = ok_data(await admin.get("/api/v1/auth/session"))
        status = ok_data(await admin.get("/api/v1/admin/services/plex"))

        assert linked.status_code == 200, linked.text
        assert ok_data(linked)["username"] == "owner"
        assert session["user"]["username"] == "admin"
        assert session["user"]["plexLinked"] is False
        assert status["accountLinked"] is True
        db = Database(database_url)
        try:
            async with db.unit_of_work() as s:
                user = await s.scalar(select(User).where(User.username_key == "admin"))
        finally:
            await db.close()
        assert user is not None
        assert user.plex_id is None
        assert user.plex_token_encrypted is not None
        assert home.owner_token not in user.plex_token_encrypted

    async def test_a_pin_from_another_browser_cannot_be_linked(
        self, admin: httpx.AsyncClient, medianest: Started, plex: FakePlexTv, home: FakePlexServer
    ) -> None:
        async with medianest.client() as other:
            pin = await other.post("/api/v1/auth/plex/pin", json={})
        pin_id = pin.json()["data"]["id"]
        plex.approve(pin_id, home.owner_token)
        response = await admin.post(
            "/api/v1/admin/plex/link", json={"pinId": pin_id}, headers=csrf(admin)
        )
        assert response.status_code == 400
        assert _error(response)["code"] == "INVALID_PIN"
        assert ok_data(await admin.get("/api/v1/admin/services/plex"))["accountLinked"] is False

    async def test_a_pin_not_approved_yet_is_said_so(self, admin: httpx.AsyncClient) -> None:
        pin = await admin.post("/api/v1/auth/plex/pin", json={})
        response = await admin.post(
            "/api/v1/admin/plex/link",
            json={"pinId": pin.json()["data"]["id"]},
            headers=csrf(admin),
        )
        assert response.status_code == 400
        assert _error(response)["code"] == "PIN_NOT_AUTHORIZED"

    async def test_linking_is_in_the_audit_log(
        self, admin: httpx.AsyncClient, plex: FakePlexTv, home: FakePlexServer
    ) -> None:
        assert (await _link(admin, plex, home.owner_token)).status_code == 200
        log = ok_data(
            await admin.get(
                "/api/v1/admin/audit-log", params={"action": "admin.plex_account_linked"}
            )
        )
        assert [entry["details"]["plex_username"] for entry in log] == ["owner"]
