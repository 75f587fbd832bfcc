"""Forgotten passwords: e-mailed links, admin-made links, single use, one hour."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from medianest.app import create_app
from medianest.auth.models import PasswordResetToken
from medianest.core.db import Database, utc_now
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import csrf, sign_in
from tests.support.app import Started, started
from tests.support.server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        # Set from the SMTP server's own thread.
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
async def mailing_medianest(
    make_settings: SettingsFactory, database_url: str, smtp: Any
) -> AsyncIterator[Started]:
    controller, _ = smtp
    settings = make_settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security="none",
        public_url="https://media.example",
    )
    async with started(create_app(settings)) as app:
        yield app


def _token(body: str) -> str:
    match = re.search(r"https://media\.example/reset-password#token=([\w-]+)", body)
    assert match, body
    return match.group(1)


class TestEmailedReset:
    async def test_the_link_arrives_and_sets_a_new_password_once(
        self, mailing_medianest: Started, smtp: Any, database_url: str
    ) -> None:
        _, inbox = smtp
        await make_user(database_url, username="olga", email="Olga@Example.com")
        async with mailing_medianest.client() as phone, mailing_medianest.client() as http:
            await sign_in(phone, "olga", PASSWORD)
            asked = await http.post(
                "/api/v1/auth/password-reset/request", json={"email": "olga@example.com"}
            )
            assert await asyncio.to_thread(inbox.arrived.wait, 10)
            token = _token(inbox.messages[0].get_payload(decode=True).decode())
            confirmed = await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": token, "newPassword": "a-whole-new-phrase-42"},
            )
            again = await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": token, "newPassword": "another-new-passphrase"},
            )
            old = await sign_in(http, "olga", PASSWORD)
            new = await sign_in(http, "olga", "a-whole-new-phrase-42")
            phone_after = await phone.get("/api/v1/auth/session")
        assert asked.status_code == 202
        assert inbox.messages[0]["To"] == "Olga@Example.com"
        assert confirmed.status_code == 200
        assert again.status_code == 400 and again.json()["error"]["code"] == "INVALID_TOKEN"
        assert old.status_code == 401 and new.status_code == 200
        assert phone_after.status_code == 401  # every session ended

    async def test_unknown_addresses_get_the_same_answer_and_no_mail(
        self, mailing_medianest: Started, smtp: Any
    ) -> None:
        _, inbox = smtp
        async with mailing_medianest.client() as http:
            response = await http.post(
                "/api/v1/auth/password-reset/request", json={"email": "who@example.com"}
            )
        assert response.status_code == 202
        assert "If that address belongs to an account" in response.json()["data"]["message"]
        await asyncio.sleep(0.3)
        assert inbox.messages == []

    async def test_a_link_older_than_an_hour_is_refused(
        self, mailing_medianest: Started, smtp: Any, database_url: str
    ) -> None:
        _, inbox = smtp
        await make_user(database_url, username="pat", email="pat@example.com")
        async with mailing_medianest.client() as http:
            await http.post(
                "/api/v1/auth/password-reset/request", json={"email": "pat@example.com"}
            )
            assert await asyncio.to_thread(inbox.arrived.wait, 10)
            db = Database(database_url)
            async with db.unit_of_work() as session:
                await session.execute(
                    update(PasswordResetToken).values(expires_at=utc_now() - timedelta(seconds=1))
                )
            await db.close()
            response = await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={
                    "token": _token(inbox.messages[0].get_payload(decode=True).decode()),
                    "newPassword": "a-whole-new-phrase-43",
                },
            )
        assert response.status_code == 400


class TestAdminResetLink:
    async def test_without_email_an_admin_hands_out_a_link(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="quinn")
        link = await admin.post(
            f"/api/v1/admin/users/{user.id}/password-reset-link", headers=csrf(admin)
        )
        assert link.status_code == 200
        url = link.json()["data"]["url"]
        token = url.split("#token=")[1]
        async with medianest.client() as http:
            confirmed = await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": token, "newPassword": "a-whole-new-phrase-44"},
            )
            signed_in = await sign_in(http, "quinn", "a-whole-new-phrase-44")
        assert confirmed.status_code == 200
        assert signed_in.status_code == 200
        log = (await admin.get("/api/v1/admin/audit-log", params={"action": "admin."})).json()[
            "data"
        ]
        assert log[0]["action"] == "admin.password_reset_link" and log[0]["targetId"] == str(
            user.id
        )


class TestOutstandingLinks:
    async def _link(self, admin: Any, user_id: object) -> str:
        answer = await admin.post(
            f"/api/v1/admin/users/{user_id}/password-reset-link", headers=csrf(admin)
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["url"]).split("#token=")[1]

    async def _confirm(self, medianest: Started, token: str, password: str) -> Any:
        async with medianest.client() as http:
            return await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": token, "newPassword": password},
            )

    async def test_using_one_link_voids_the_others(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="rita")
        first, second = await self._link(admin, user.id), await self._link(admin, user.id)

        used = await self._confirm(medianest, second, "a-whole-new-phrase-45")
        stale = await self._confirm(medianest, first, "someone-elses-phrase-46")

        assert used.status_code == 200
        assert stale.status_code == 400 and stale.json()["error"]["code"] == "INVALID_TOKEN"
        async with medianest.client() as http:
            assert (await sign_in(http, "rita", "a-whole-new-phrase-45")).status_code == 200

    async def test_changing_the_password_voids_every_link(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="sam")
        token = await self._link(admin, user.id)
        async with medianest.client() as http:
            await sign_in(http, "sam", PASSWORD)
            changed = await http.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": PASSWORD, "newPassword": "a-fresh-passphrase-47"},
                headers=csrf(http),
            )

        stale = await self._confirm(medianest, token, "someone-elses-phrase-48")

        assert changed.status_code == 200
        assert stale.status_code == 400 and stale.json()["error"]["code"] == "INVALID_TOKEN"
