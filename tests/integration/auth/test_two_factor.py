"""Two-factor sign-in: setup, enabling with a code, backup codes, replay, disabling."""

from __future__ import annotations

import httpx
import pyotp

from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import csrf, sign_in
from tests.support.app import Started


async def _enable(http: httpx.AsyncClient) -> tuple[str, list[str]]:
    setup = (await http.post("/api/v1/auth/2fa/setup", headers=csrf(http))).json()["data"]
    assert setup["otpauthUrl"].startswith("otpauth://totp/MediaNest:")
    assert setup["qrSvg"].startswith("data:image/svg+xml")
    enabled = await http.post(
        "/api/v1/auth/2fa/enable",
        json={"code": pyotp.TOTP(setup["secret"]).now()},
        headers=csrf(http),
    )
    assert enabled.status_code == 200, enabled.text
    return setup["secret"], enabled.json()["data"]["backupCodes"]


class TestTwoFactor:
    async def test_enabling_needs_a_valid_code(self, medianest: Started, database_url: str) -> None:
        await make_user(database_url, username="kim")
        async with medianest.client() as http:
            await sign_in(http, "kim", PASSWORD)
            await http.post("/api/v1/auth/2fa/setup", headers=csrf(http))
            wrong = await http.post(
                "/api/v1/auth/2fa/enable", json={"code": "123456"}, headers=csrf(http)
            )
            session = (await http.get("/api/v1/auth/session")).json()["data"]["user"]
        assert wrong.status_code == 401
        assert session["twoFactorEnabled"] is False

    async def test_sign_in_then_asks_for_a_code_and_accepts_it_once(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="lea")
        async with medianest.client() as http:
            await sign_in(http, "lea", PASSWORD)
            secret, codes = await _enable(http)
        assert len(codes) == 10 and len(set(codes)) == 10
        async with medianest.client() as other:
            asked = await sign_in(other, "lea", PASSWORD)
            # The code used to enable 2FA belongs to this time step: it is spent already.
            replayed = await sign_in(other, "lea", PASSWORD, totpCode=pyotp.TOTP(secret).now())
            backup = await sign_in(other, "lea", PASSWORD, totpCode=codes[0].upper())
            backup_again = await sign_in(other, "lea", PASSWORD, totpCode=codes[0])
            wrong_password = await sign_in(other, "lea", "not-it", totpCode=codes[1])
        assert asked.status_code == 401
        assert asked.json()["error"]["code"] == "TOTP_REQUIRED"
        assert replayed.status_code == 401
        assert backup.status_code == 200
        assert backup_again.status_code == 401
        assert wrong_password.status_code == 401

    async def test_a_fresh_code_signs_in_and_cannot_be_replayed(
        self, medianest: Started, database_url: str
    ) -> None:
        from medianest.config import decode_key
        from medianest.core.security import EncryptionService

        secret = pyotp.random_base32()
        keys = EncryptionService([decode_key("q" * 43 + "=")])
        await make_user(database_url, username="max", totp_secret=secret, encryption=keys)
        code = pyotp.TOTP(secret).now()
        async with medianest.client() as http:
            first = await sign_in(http, "max", PASSWORD, totpCode=code)
            second = await sign_in(http, "max", PASSWORD, totpCode=code)
        assert first.status_code == 200, first.text
        assert second.status_code == 401

    async def test_disabling_needs_the_password(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="ned")
        async with medianest.client() as http:
            await sign_in(http, "ned", PASSWORD)
            await _enable(http)
            refused = await http.post(
                "/api/v1/auth/2fa/disable", json={"password": "wrong-one"}, headers=csrf(http)
            )
            done = await http.post(
                "/api/v1/auth/2fa/disable", json={"password": PASSWORD}, headers=csrf(http)
            )
        async with medianest.client() as other:
            plain = await sign_in(other, "ned", PASSWORD)
        assert refused.status_code == 400
        assert done.status_code == 200
        assert plain.status_code == 200
