"""The administrators' Announcements page: the form, and what was sent with whether it shows."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from medianest.core.db import utc_now
from tests.factories.broadcasts import make_broadcast
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import sign_in
from tests.integration.broadcasts.conftest import send
from tests.integration.web.conftest import PAGE
from tests.support.app import Started

PATH = "/admin/announcements"


def _listed(html: str) -> list[tuple[str, str]]:
    """(title, status) of each announcement listed, in order."""
    return re.findall(
        r'data-status="(\w+)">\s*<div class="announcement-body">\s*'
        r'<h3 class="announcement-title">\s*<span>([^<]*)</span>',
        html,
    )


class TestAnnouncementsPage:
    async def test_an_admin_gets_the_form_and_what_was_sent(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        now = utc_now()
        await make_broadcast(
            database_url,
            title="Ended",
            created_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
        )
        await send(admin, title="Showing", severity="critical")
        page = await admin.get(PATH, headers=PAGE)

        assert page.status_code == 200
        assert f'href="{PATH}" aria-current="page"' in page.text
        for name in ("title", "message", "severity", "expiresAt"):
            assert f'name="{name}"' in page.text
            assert f'data-field-error="{name}"' in page.text
        assert 'type="datetime-local"' in page.text
        assert [(title, status) for status, title in _listed(page.text)] == [
            ("Showing", "active"),
            ("Ended", "expired"),
        ]
        # Only what still shows can be withdrawn.
        assert page.text.count("data-withdraw=") == 1
        assert 'aria-label="Withdraw: Showing"' in page.text
        assert "Sent by admin" in page.text

    async def test_with_nothing_sent_it_says_what_will_be_listed(
        self, admin: httpx.AsyncClient
    ) -> None:
        page = await admin.get(PATH, headers=PAGE)
        assert "No announcements yet." in page.text

    async def test_past_the_last_page_leads_to_the_last_one(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        await make_broadcast(database_url)
        page = await admin.get(f"{PATH}?page=5", headers=PAGE)
        assert page.status_code in (302, 303)
        assert page.headers["location"] == PATH

    async def test_a_member_gets_403(self, medianest: Started, database_url: str) -> None:
        await make_user(database_url, username="bob")
        async with medianest.client() as bob:
            await sign_in(bob, "bob", PASSWORD)
            page = await bob.get(PATH, headers=PAGE)
        assert page.status_code == 403
        assert "This page is not for you" in page.text
        assert "announcements.js" not in page.text
