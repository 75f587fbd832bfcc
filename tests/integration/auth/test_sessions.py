"""Device sessions: refresh with rotation and theft detection, logout, listing and revoking."""

from __future__ import annotations

import pytest

from medianest.app import create_app
from medianest.auth import sessions as sessions_module
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import bearer, csrf, sign_in
from tests.support.app import Started, started


class TestRefresh:
    async def test_the_remember_token_rotates_on_every_refresh(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="ann")
        async with medianest.client() as http:
            first = (await sign_in(http, "ann", PASSWORD, rememberMe=True)).json()["data"]
            refreshed = await http.post("/api/v1/auth/refresh", json={})
            second = refreshed.json()["data"]
            session = await http.get("/api/v1/auth/session", headers=bearer(second["token"]))
        assert refreshed.status_code == 200
        assert second["rememberToken"] and second["rememberToken"] != first["rememberToken"]
        assert http.cookies.get("remember_token") == second["rememberToken"]
        assert session.status_code == 200

    async def test_reusing_a_rotated_token_signs_that_device_out(
        self, medianest: Started, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sessions_module, "ROTATION_GRACE", sessions_module.timedelta(0))
        await make_user(database_url, username="ben")
        async with medianest.client() as victim, medianest.client() as thief:
            stolen = (await sign_in(victim, "ben", PASSWORD, rememberMe=True)).json()["data"]
            rotated = (await victim.post("/api/v1/auth/refresh", json={})).json()["data"]
            replay = await thief.post(
                "/api/v1/auth/refresh", json={"rememberToken": stolen["rememberToken"]}
            )
            victim_after = await victim.get(
                "/api/v1/auth/session", headers=bearer(rotated["token"])
            )
            victim_refresh = await victim.post("/api/v1/auth/refresh", json={})
        assert replay.status_code == 401
        assert "used from somewhere else" in replay.json()["error"]["message"]
        assert victim_after.status_code == 401
        assert victim_refresh.status_code == 401

    async def test_two_tabs_refreshing_at_once_are_not_theft(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="cat")
        async with medianest.client() as http:
            token = (await sign_in(http, "cat", PASSWORD, rememberMe=True)).json()["data"][
                "rememberToken"
            ]
            first = await http.post("/api/v1/auth/refresh", json={"rememberToken": token})
            second = await http.post("/api/v1/auth/refresh", json={"rememberToken": token})
            still = await http.get(
                "/api/v1/auth/session", headers=bearer(first.json()["data"]["token"])
            )
        assert first.status_code == second.status_code == 200
        assert second.json()["data"]["rememberToken"] is None
        assert still.status_code == 200

    async def test_refresh_without_a_token_asks_to_sign_in(self, medianest: Started) -> None:
        async with medianest.client() as http:
            response = await http.post("/api/v1/auth/refresh")
        assert response.status_code == 401


class TestLogout:
    async def test_the_old_token_stops_working_at_once(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="dan")
        async with medianest.client() as http:
            token = (await sign_in(http, "dan", PASSWORD)).json()["data"]["token"]
            out = await http.post("/api/v1/auth/logout", json={}, headers=csrf(http))
            after = await http.get("/api/v1/auth/session", headers=bearer(token))
        assert out.status_code == 200
        assert after.status_code == 401
        assert http.cookies.get("token") is None

    async def test_logout_everywhere_ends_every_device(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="eve")
        async with medianest.client() as laptop, medianest.client() as phone:
            await sign_in(laptop, "eve", PASSWORD)
            phone_token = (await sign_in(phone, "eve", PASSWORD)).json()["data"]["token"]
            await laptop.post(
                "/api/v1/auth/logout", json={"allSessions": True}, headers=csrf(laptop)
            )
            on_phone = await phone.get("/api/v1/auth/session", headers=bearer(phone_token))
        assert on_phone.status_code == 401


class TestDeviceSessions:
    async def test_lists_own_devices_and_marks_this_one(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="fay")
        async with (
            medianest.client(ip="198.51.100.1") as laptop,
            medianest.client(ip="198.51.100.2") as phone,
        ):
            await sign_in(laptop, "fay", PASSWORD)
            await phone.post(
                "/api/v1/auth/login",
                json={"username": "fay", "password": PASSWORD},
                headers={
                    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
                },
            )
            listed = (await laptop.get("/api/v1/auth/sessions")).json()["data"]
        assert len(listed) == 2
        current = [s for s in listed if s["current"]]
        assert len(current) == 1 and current[0]["ip"] == "198.51.100.1"
        other = next(s for s in listed if not s["current"])
        assert other["device"] == "Mobile Safari on iOS"
        assert other["ip"] == "198.51.100.2"

    async def test_revoking_a_device_signs_it_out(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="gil")
        async with medianest.client() as laptop, medianest.client() as phone:
            await sign_in(laptop, "gil", PASSWORD)
            phone_token = (await sign_in(phone, "gil", PASSWORD)).json()["data"]["token"]
            listed = (await laptop.get("/api/v1/auth/sessions")).json()["data"]
            other = next(s for s in listed if not s["current"])
            revoked = await laptop.delete(
                f"/api/v1/auth/sessions/{other['id']}", headers=csrf(laptop)
            )
            again = await laptop.delete(
                f"/api/v1/auth/sessions/{other['id']}", headers=csrf(laptop)
            )
            on_phone = await phone.get("/api/v1/auth/session", headers=bearer(phone_token))
        assert revoked.status_code == 200
        assert again.status_code == 404
        assert on_phone.status_code == 401

    async def test_someone_elses_session_is_not_found(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="hal")
        await make_user(database_url, username="ivy")
        async with medianest.client() as hal, medianest.client() as ivy:
            await sign_in(hal, "hal", PASSWORD)
            ivy_token = (await sign_in(ivy, "ivy", PASSWORD)).json()["data"]["token"]
            ivy_session = (await ivy.get("/api/v1/auth/sessions")).json()["data"][0]["id"]
            attempt = await hal.delete(f"/api/v1/auth/sessions/{ivy_session}", headers=csrf(hal))
            ivy_still = await ivy.get("/api/v1/auth/session", headers=bearer(ivy_token))
        assert attempt.status_code == 404
        assert ivy_still.status_code == 200

    async def test_changing_the_password_signs_other_devices_out(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="joe")
        async with medianest.client() as laptop, medianest.client() as phone:
            await sign_in(laptop, "joe", PASSWORD)
            phone_token = (await sign_in(phone, "joe", PASSWORD)).json()["data"]["token"]
            changed = await laptop.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": PASSWORD, "newPassword": "another-sturdy-phrase"},
                headers=csrf(laptop),
            )
            laptop_still = await laptop.get("/api/v1/auth/session")
            on_phone = await phone.get("/api/v1/auth/session", headers=bearer(phone_token))
        assert changed.status_code == 200
        assert laptop_still.status_code == 200
        assert on_phone.status_code == 401


class TestWithRedis:
    async def test_revocation_is_seen_at_once_through_the_shared_cache(
        self, make_settings: SettingsFactory, database_url: str, redis_url: str, redis_prefix: str
    ) -> None:
        settings = make_settings(
            database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix
        )
        await make_user(database_url, username="rue")
        # Two web processes sharing one Redis: a sign-out on one is honoured by the other.
        async with (
            started(create_app(settings)) as first,
            started(create_app(settings)) as second,
            first.client() as http,
            second.client() as other,
        ):
            token = (await sign_in(http, "rue", PASSWORD)).json()["data"]["token"]
            before = await other.get("/api/v1/auth/session", headers=bearer(token))
            await http.post("/api/v1/auth/logout", json={}, headers=csrf(http))
            after = await other.get("/api/v1/auth/session", headers=bearer(token))
        assert before.status_code == 200
        assert after.status_code == 401
