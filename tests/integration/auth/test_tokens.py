"""Access tokens that must not be accepted, CSRF for cookie sessions, and logs without secrets."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import bearer, csrf, sign_in
from tests.support.app import Started

SECRET = "test-secret-key-" + "x" * 32  # what make_settings configures


def _claims(body: dict[str, str], **changes: object) -> dict[str, object]:
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    claims.update(changes)
    return claims


class TestForgedTokens:
    @pytest.fixture
    async def signed_in(self, medianest: Started, database_url: str) -> dict[str, str]:
        await make_user(database_url, username="victim")
        async with medianest.client() as http:
            return dict((await sign_in(http, "victim", PASSWORD)).json()["data"])

    @pytest.mark.parametrize(
        "forge",
        [
            pytest.param(lambda c: jwt.encode(c, key="", algorithm="none"), id="alg-none"),
            pytest.param(
                lambda c: jwt.encode(c, SECRET + "-but-longer-for-hs512", algorithm="HS512"),
                id="hs512",
            ),
            pytest.param(
                lambda c: jwt.encode(c, "some-other-secret-that-is-long-enough", algorithm="HS256"),
                id="bad-signature",
            ),
            pytest.param(
                lambda c: jwt.encode({**c, "iss": "someone-else"}, SECRET, algorithm="HS256"),
                id="wrong-issuer",
            ),
            pytest.param(
                lambda c: jwt.encode({**c, "aud": "another-app"}, SECRET, algorithm="HS256"),
                id="wrong-audience",
            ),
            pytest.param(
                lambda c: jwt.encode(
                    {k: v for k, v in c.items() if k != "sid"}, SECRET, algorithm="HS256"
                ),
                id="no-session",
            ),
            pytest.param(
                lambda c: jwt.encode({**c, "sid": str(uuid.uuid4())}, SECRET, algorithm="HS256"),
                id="unknown-session",
            ),
            pytest.param(lambda c: "not.a.jwt", id="garbage"),
        ],
    )
    async def test_is_refused_with_401(
        self, medianest: Started, signed_in: dict[str, str], forge: object
    ) -> None:
        token = forge(_claims(signed_in))  # type: ignore[operator]
        async with medianest.client() as http:
            response = await http.get("/api/v1/auth/session", headers=bearer(token))
            genuine = await http.get("/api/v1/auth/session", headers=bearer(signed_in["token"]))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert genuine.status_code == 200

    async def test_an_expired_token_says_so(
        self, medianest: Started, signed_in: dict[str, str]
    ) -> None:
        past = datetime.now(UTC) - timedelta(minutes=1)
        token = jwt.encode(_claims(signed_in, exp=past), SECRET, algorithm="HS256")
        async with medianest.client() as http:
            response = await http.get("/api/v1/auth/session", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "TOKEN_EXPIRED"


class TestCsrf:
    async def test_cookie_sessions_need_the_csrf_header_for_changes(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="carol")
        async with medianest.client() as http:
            await sign_in(http, "carol", PASSWORD)
            forged = await http.post("/api/v1/auth/logout", json={})
            wrong = await http.post(
                "/api/v1/auth/logout", json={}, headers={"X-CSRF-Token": "guess"}
            )
            still_in = await http.get("/api/v1/auth/session")
            right = await http.post("/api/v1/auth/logout", json={}, headers=csrf(http))
        assert forged.status_code == wrong.status_code == 403
        assert "security token" in forged.json()["error"]["message"]
        assert still_in.status_code == 200
        assert right.status_code == 200

    async def test_bearer_clients_need_no_csrf_token(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="appuser")
        async with medianest.client() as login, medianest.client() as api:
            token = (await sign_in(login, "appuser", PASSWORD)).json()["data"]["token"]
            response = await api.post("/api/v1/auth/logout", json={}, headers=bearer(token))
        assert response.status_code == 200


class TestSecretsStayOutOfLogs:
    async def test_a_full_login_logs_no_token_password_or_totp_secret(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        from medianest.app import create_app
        from tests.support.app import started

        app = create_app(
            make_settings(database_url=database_url, log_format="json", log_level="DEBUG")
        )
        async with started(app) as medianest, medianest.client() as http:
            await sign_in(http, "admin", "admin")
            new_password = "a-brand-new-owner-phrase"
            await http.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": "admin", "newPassword": new_password},
                headers=csrf(http),
            )
            setup = (await http.post("/api/v1/auth/2fa/setup", headers=csrf(http))).json()["data"]
            import pyotp

            await http.post(
                "/api/v1/auth/2fa/enable",
                json={"code": pyotp.TOTP(setup["secret"]).now()},
                headers=csrf(http),
            )
            await http.post("/api/v1/auth/logout", json={}, headers=csrf(http))
            body = (await sign_in(http, "admin", new_password, totpCode="000000")).json()
        output = capfd.readouterr().err
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(line["event"] == "auth.login" for line in lines)
        for secret in (new_password, setup["secret"], http.cookies.get("csrf_token") or "x" * 40):
            assert secret not in output
        assert body["error"]["code"] == "INVALID_CREDENTIALS"
        assert "eyJ" not in output  # no JWT, whole or in part


class TestGeneralLimitPerUser:
    async def test_signed_in_users_behind_one_address_have_their_own_allowance(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        from medianest.app import create_app
        from tests.support.app import started

        app = create_app(make_settings(database_url=database_url, rate_limit_api="4/minute"))
        await make_user(database_url, username="mum")
        await make_user(database_url, username="dad")
        async with started(app) as medianest, medianest.client() as http:
            async with medianest.client() as login:
                mum = (await sign_in(login, "mum", PASSWORD)).json()["data"]["token"]
            async with medianest.client() as login:
                dad = (await sign_in(login, "dad", PASSWORD)).json()["data"]["token"]
            mum_codes = [
                (await http.get("/api/v1/auth/sessions", headers=bearer(mum))).status_code
                for _ in range(5)
            ]
            dad_code = (await http.get("/api/v1/auth/sessions", headers=bearer(dad))).status_code
        assert mum_codes == [200, 200, 200, 200, 429]
        assert dad_code == 200

    async def test_a_user_past_the_limit_is_still_told_who_they_are_and_can_sign_out(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        from medianest.app import create_app
        from tests.support.app import started

        app = create_app(make_settings(database_url=database_url, rate_limit_api="2/minute"))
        await make_user(database_url, username="mum")
        async with started(app) as medianest, medianest.client() as http:
            await sign_in(http, "mum", PASSWORD)
            spent = [(await http.get("/api/v1/auth/sessions")).status_code for _ in range(3)]
            checks = [(await http.get("/api/v1/auth/session")).status_code for _ in range(5)]
            signed_out = await http.post("/api/v1/auth/logout", headers=csrf(http))
            after = await http.get("/api/v1/auth/session")
        assert spent == [200, 200, 429]
        assert checks == [200] * 5
        assert signed_out.status_code == 200
        assert after.status_code == 401
