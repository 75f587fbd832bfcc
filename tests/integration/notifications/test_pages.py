"""The inbox page as the server renders it, and the bell on every signed-in page."""

from __future__ import annotations

import re

import httpx

from medianest.core.db import Database, utc_now
from medianest.notifications.models import Notification
from tests.factories.notifications import make_notification
from tests.factories.users import make_user
from tests.integration.notifications.conftest import signed_in
from tests.support.app import Started

PAGE = {"Accept": "text/html"}


async def _page(http: httpx.AsyncClient, path: str) -> httpx.Response:
    return await http.get(path, headers=PAGE)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="notification-title">\s*<(?:a|span)[^>]*>([^<]*)<', html)


def _bells(html: str) -> list[str]:
    return re.findall(r'<a class="bell[^"]*" href="/notifications"[^>]*aria-label="([^"]*)"', html)


class TestInbox:
    async def test_signed_out_visitors_are_sent_to_sign_in(self, medianest: Started) -> None:
        async with medianest.client() as http:
            answer = await _page(http, "/notifications")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/notifications"

    async def test_lists_the_persons_own_newest_first_with_the_unread_marked(
        self, medianest: Started, database_url: str
    ) -> None:
        other = await make_user(database_url, username="otto")
        await make_notification(database_url, other.id, title="Not yours")
        async with signed_in(medianest, database_url, "nina") as (http, nina):
            await make_notification(database_url, nina.id, title="Dune is available", read=True)
            await make_notification(
                database_url, nina.id, title="Approved", link="/library", severity="success"
            )
            await make_notification(
                database_url, nina.id, title="Plex is down", severity="critical"
            )
            html = (await _page(http, "/notifications")).text
        assert _titles(html) == ["Plex is down", "Approved", "Dune is available"]
        assert html.count('class="badge badge-new" data-unread-badge>Unread<') == 2
        assert '<a href="/library" data-open>Approved</a>' in html
        assert "Urgent" in html
        assert "Not yours" not in html
        # The page knows the count already: both bells (sidebar, top bar) say it at once.
        assert _bells(html) == ["Notifications, 2 unread"] * 2
        assert "Mark all as read" in html

    async def test_unread_only(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "olga") as (http, olga):
            await make_notification(database_url, olga.id, title="Seen", read=True)
            await make_notification(database_url, olga.id, title="New")
            html = (await _page(http, "/notifications?show=unread")).text
        assert _titles(html) == ["New"]

    async def test_nothing_yet_says_what_will_show_up_here(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "pete") as (http, _):
            html = (await _page(http, "/notifications")).text
        assert "No notifications yet." in html
        assert "when a request you made changes status" in html
        assert "data-read-all hidden" in html
        assert _bells(html) == ["Notifications"] * 2

    async def test_a_page_past_the_end_goes_to_the_last_one(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "ruth") as (http, ruth):
            await make_notification(database_url, ruth.id)
            answer = await _page(http, "/notifications?page=4")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/notifications"

    async def test_a_stored_link_off_this_site_is_not_offered(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "sara") as (http, sara):
            # Written past the service's check, as an older version or a hand edit might have.
            db = Database(database_url)
            try:
                async with db.unit_of_work() as session:
                    session.add(
                        Notification(
                            user_id=sara.id,
                            type="broadcast",
                            title="Click me",
                            message=".",
                            link="//evil.example/",
                            severity="info",
                            created_at=utc_now(),
                        )
                    )
            finally:
                await db.close()
            html = (await _page(http, "/notifications")).text
        assert _titles(html) == ["Click me"]
        assert "evil.example" not in html


class TestBell:
    async def test_every_signed_in_page_has_the_bell(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "tom") as (http, _):
            pages = [(await _page(http, path)).text for path in ("/", "/account", "/help")]
        for html in pages:
            # Its count comes from the script on these pages.
            assert _bells(html) == ["Notifications"] * 2
            assert "/static/notifications/js/bell.js" in html
