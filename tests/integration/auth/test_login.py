"""Signing in with a password: first run, failures, brute force, cookies and bearer tokens."""

from __future__ import annotations

import httpx
import pyotp
import pytest

from medianest.app import create_app
from medianest.auth.models import UserStatus
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import ADMIN_PASSWORD, bearer, csrf, sign_in
from tests.support.app import Started, started
from tests.support.server import free_port


class TestFirstRun:
    async def test_admin_admin_must_choose_a_password_before_anything_else(
        self, medianest: Started
    ) -> None:
        async with medianest.client() as http:
            signed_in = await sign_in(http, "admin", "admin")
            assert signed_in.status_code == 200
            assert signed_in.json()["data"]["user"]["requiresPasswordChange"] is True
            blocked = await http.get("/api/v1/admin/users")
            assert blocked.status_code == 403
            assert blocked.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"
            session = await http.get("/api/v1/auth/session")
            assert session.json()["data"]["user"]["username"] == "admin"

            changed = await http.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
                headers=csrf(http),
            )
            assert changed.status_code == 200
            allowed = await http.get("/api/v1/admin/users")
            assert allowed.status_code == 200
            assert allowed.json()["meta"]["total"] == 1

    @pytest.mark.parametrize(
        ("password", "complaint"),
        [
            ("short1!", "at least 10 characters"),
            ("admin-is-my-name", "must not contain your username"),
            ("1234567890", "most common"),
            ("iloveyou12", "most common"),
        ],
    )
    async def test_weak_passwords_are_refused_with_a_reason(
        self, medianest: Started, password: str, complaint: str
    ) -> None:
        async with medianest.client() as http:
            await sign_in(http, "admin", "admin")
            response = await http.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": "admin", "newPassword": password},
                headers=csrf(http),
            )
        assert response.status_code == 400
        error = response.json()["error"]
        assert complaint in error["message"]
        assert error["details"][0]["field"] == "newPassword"

    async def test_the_first_admin_is_created_once(
        self, make_settings: SettingsFactory, database_url: str, admin: httpx.AsyncClient
    ) -> None:
        # `admin` already went through the first run on this database; start again.
        app = create_app(make_settings(database_url=database_url))
        async with started(app) as restarted, restarted.client() as http:
            default = await sign_in(http, "admin", "admin")
            chosen = await sign_in(http, "admin", ADMIN_PASSWORD)
            users = (await http.get("/api/v1/admin/users")).json()
        assert default.status_code == 401
        assert chosen.status_code == 200
        assert users["meta"]["total"] == 1


class TestPasswordSignIn:
    async def test_unknown_user_and_wrong_password_look_the_same(
        self, admin: httpx.AsyncClient, medianest: Started
    ) -> None:
        async with medianest.client(ip="198.51.100.7") as http:
            unknown = await sign_in(http, "nobody-here", "whatever-password")
            wrong = await sign_in(http, "admin", "not-the-password")
        assert unknown.status_code == wrong.status_code == 401
        assert (
            unknown.json()["error"]["code"]
            == wrong.json()["error"]["code"]
            == "INVALID_CREDENTIALS"
        )
        assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]
        log = (
            await admin.get("/api/v1/admin/audit-log", params={"action": "auth.login_failed"})
        ).json()
        attempts = {(e["details"]["username"], e["ip"]) for e in log["data"]}
        assert {("nobody-here", "198.51.100.7"), ("admin", "198.51.100.7")} <= attempts

    async def test_username_is_case_insensitive(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="Grandma")
        async with medianest.client() as http:
            response = await sign_in(http, "grandma", PASSWORD)
        assert response.status_code == 200
        assert response.json()["data"]["user"]["username"] == "Grandma"

    async def test_a_session_works_by_cookie_and_by_bearer_token(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="sam")
        async with medianest.client() as browser, medianest.client() as app_client:
            body = (await sign_in(browser, "sam", PASSWORD)).json()["data"]
            assert browser.cookies.get("token") == body["token"]
            assert browser.cookies.get("csrf_token") == body["csrfToken"]
            assert body["rememberToken"] is None
            by_cookie = await browser.get("/api/v1/auth/session")
            by_bearer = await app_client.get("/api/v1/auth/session", headers=bearer(body["token"]))
        assert by_cookie.json()["data"]["user"]["username"] == "sam"
        assert by_bearer.json()["data"]["user"]["username"] == "sam"

    async def test_remember_me_gives_a_long_lived_cookie(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="rita")
        async with medianest.client() as http:
            response = await sign_in(http, "rita", PASSWORD, rememberMe=True)
        body = response.json()["data"]
        assert body["rememberToken"]
        cookies = response.headers.get_list("set-cookie")
        remember = next(c for c in cookies if c.startswith("remember_token="))
        assert "Max-Age=2592000" in remember and "HttpOnly" in remember
        token = next(c for c in cookies if c.startswith("token="))
        assert "HttpOnly" in token and "SameSite=lax" in token

    async def test_a_suspended_account_cannot_sign_in(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="gone", status=UserStatus.SUSPENDED)
        async with medianest.client() as http:
            response = await sign_in(http, "gone", PASSWORD)
        assert response.status_code == 403
        assert "suspended" in response.json()["error"]["message"]


class TestBruteForce:
    async def test_ten_failures_lock_the_account_even_for_the_right_password(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="target")
        async with medianest.client(ip="192.0.2.50") as attacker:
            codes = [
                (await sign_in(attacker, "target", f"guess-{n}")).status_code for n in range(10)
            ]
            locked = await sign_in(attacker, "target", PASSWORD)
        async with medianest.client(ip="192.0.2.51") as elsewhere:
            still_locked = await sign_in(elsewhere, "target", PASSWORD)
        assert codes == [401] * 10
        assert locked.status_code == still_locked.status_code == 429
        assert locked.json()["error"]["code"] == "RATE_LIMITED"
        assert int(locked.headers["retry-after"]) > 60
        assert "sign-in attempts" in locked.json()["error"]["message"]

    async def test_one_address_cannot_spray_many_accounts(self, medianest: Started) -> None:
        async with medianest.client(ip="192.0.2.60") as attacker:
            for n in range(10):
                await sign_in(attacker, f"someone-{n}", "password-guess")
            refused = await sign_in(attacker, "someone-else", "password-guess")
        assert refused.status_code == 429


class TestGuessingBehindASession:
    """A session buys no extra guesses: every password or code check spends the sign-in allowance."""

    async def _change(self, http: httpx.AsyncClient, current: str) -> httpx.Response:
        return await http.post(
            "/api/v1/auth/change-password",
            json={"currentPassword": current, "newPassword": "the-thief-wants-this-1"},
            headers=csrf(http),
        )

    async def test_current_password_guesses_run_out(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="victim")
        async with medianest.client(ip="192.0.2.70") as thief:
            assert (await sign_in(thief, "victim", PASSWORD)).status_code == 200
            guesses = [(await self._change(thief, f"guess-{n}")).status_code for n in range(10)]
            right = await self._change(thief, PASSWORD)
        async with medianest.client(ip="192.0.2.71") as owner:
            sign_in_locked = await sign_in(owner, "victim", PASSWORD)
        assert guesses == [400] * 10
        assert right.status_code == 429
        assert right.json()["error"]["code"] == "RATE_LIMITED"
        assert int(right.headers["retry-after"]) > 60
        assert sign_in_locked.status_code == 429

    async def test_an_account_locked_out_of_sign_in_cannot_guess_through_a_session(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="locked")
        async with medianest.client(ip="192.0.2.72") as thief:
            assert (await sign_in(thief, "locked", PASSWORD)).status_code == 200
            async with medianest.client(ip="192.0.2.73") as attacker:
                for n in range(10):
                    await sign_in(attacker, "locked", f"guess-{n}")
            changed = await self._change(thief, PASSWORD)
        assert changed.status_code == 429
        assert "sign-in attempts" in changed.json()["error"]["message"]

    async def test_two_factor_disable_guesses_run_out(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="phone")
        async with medianest.client(ip="192.0.2.74") as http:
            await sign_in(http, "phone", PASSWORD)
            setup = (await http.post("/api/v1/auth/2fa/setup", headers=csrf(http))).json()["data"]
            enabled = await http.post(
                "/api/v1/auth/2fa/enable",
                json={"code": pyotp.TOTP(setup["secret"]).now()},
                headers=csrf(http),
            )
            assert enabled.status_code == 200
            guesses = [
                (
                    await http.post(
                        "/api/v1/auth/2fa/disable",
                        json={"code": f"{n:06d}"},
                        headers=csrf(http),
                    )
                ).status_code
                for n in range(10)
            ]
            right = await http.post(
                "/api/v1/auth/2fa/disable", json={"password": PASSWORD}, headers=csrf(http)
            )
            still_on = (await http.get("/api/v1/auth/session")).json()["data"]["user"]
        assert guesses == [400] * 10
        assert right.status_code == 429
        assert still_on["twoFactorEnabled"] is True

    async def test_a_right_answer_forgives_earlier_slips(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="typo")
        async with medianest.client(ip="192.0.2.75") as http:
            await sign_in(http, "typo", PASSWORD)
            slips = [(await self._change(http, "typo-of-mine")).status_code for _ in range(9)]
            changed = await self._change(http, PASSWORD)
            for _ in range(9):
                await sign_in(http, "typo", "another-slip")
            after = await sign_in(http, "typo", "the-thief-wants-this-1")
        assert slips == [400] * 9
        assert changed.status_code == 200
        assert after.status_code == 200


class TestRedisDown:
    async def test_sign_in_is_still_limited_while_redis_is_unreachable(
        self, make_settings: SettingsFactory, database_url: str, redis_prefix: str
    ) -> None:
        await make_user(database_url, username="target")
        settings = make_settings(
            database_url=database_url,
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            redis_prefix=redis_prefix,
        )
        async with (
            started(create_app(settings)) as medianest,
            medianest.client(ip="192.0.2.80") as attacker,
        ):
            codes = [
                (await sign_in(attacker, "target", f"guess-{n}")).status_code for n in range(13)
            ]
        assert codes[:10] == [401] * 10
        assert codes[10:] == [429] * 3
