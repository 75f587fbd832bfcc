"""The notification settings page and the alert channels page as the server renders them, and
the service worker served from the root."""

from __future__ import annotations

import re

import httpx

from tests.integration.auth.conftest import csrf
from tests.integration.notifications.conftest import signed_in
from tests.support.app import Started

PAGE = {"Accept": "text/html"}


def _checked(html: str, type: str) -> dict[str, bool]:
    row = re.search(rf'<tr data-type="{re.escape(type)}">(.*?)</tr>', html, re.S)
    assert row is not None, f"no row for {type}"
    boxes = re.findall(r'<input type="checkbox" name="(\w+)"[^>]*?( checked)?>', row.group(1))
    return {name: bool(checked) for name, checked in boxes}


class TestSettingsPage:
    async def test_shows_each_type_as_the_person_chose_it(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "ana") as (http, _):
            await http.put(
                "/api/v1/notifications/preferences",
                json={"types": {"broadcast": {"inApp": True, "push": False}}},
                headers=csrf(http),
            )
            answer = await http.get("/notifications/settings", headers=PAGE)
        html = answer.text
        assert answer.status_code == 200
        assert _checked(html, "broadcast") == {"inApp": True, "push": False}
        assert _checked(html, "request.available") == {"inApp": True, "push": True}
        assert 'data-type="service.down"' not in html
        assert "Turn on notifications in this browser" in html

    async def test_an_administrator_also_sees_the_service_alerts(
        self, admin: httpx.AsyncClient
    ) -> None:
        html = (await admin.get("/notifications/settings", headers=PAGE)).text
        assert _checked(html, "service.down") == {"inApp": True, "push": True}

    async def test_the_inbox_and_the_account_page_lead_to_it(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "ben") as (http, _):
            inbox = (await http.get("/notifications", headers=PAGE)).text
            account = (await http.get("/account", headers=PAGE)).text
        assert 'href="/notifications/settings"' in inbox
        assert 'href="/notifications/settings"' in account

    async def test_signed_out_visitors_are_sent_to_sign_in(self, medianest: Started) -> None:
        async with medianest.client() as http:
            answer = await http.get("/notifications/settings", headers=PAGE)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/notifications/settings"


class TestChannelsPage:
    async def test_is_for_administrators_and_never_shows_a_url_in_full(
        self, medianest: Started, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        saved = await admin.put(
            "/api/v1/admin/notifications/channels",
            json={
                "channels": [
                    {
                        "name": "Family",
                        "url": "json://127.0.0.1:9/hooks/tokenTOKEN",
                        "types": ["broadcast"],
                    }
                ]
            },
            headers=csrf(admin),
        )
        assert saved.status_code == 200, saved.text
        html = (await admin.get("/admin/notifications", headers=PAGE)).text
        async with signed_in(medianest, database_url, "cyd") as (http, _):
            refused = await http.get("/admin/notifications", headers=PAGE)
        assert 'value="Family"' in html
        assert "json://127.0.0.1:9/hooks/to…EN" in html
        assert "tokenTOKEN" not in html
        assert '<a href="/admin/notifications" aria-current="page">Alert channels</a>' in html
        assert refused.status_code == 403


async def test_the_service_worker_is_served_from_the_root(medianest: Started) -> None:
    async with medianest.client() as http:
        answer = await http.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["service-worker-allowed"] == "/"
    assert 'addEventListener("push"' in answer.text
    assert 'addEventListener("notificationclick"' in answer.text
