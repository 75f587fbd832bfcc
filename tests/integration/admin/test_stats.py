"""`GET /api/v1/admin/stats` and the Activity page, from seeded sessions and sign-ins on both
databases: active people over a day, a week and a month, sign-ins by method, browsers and
systems."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx

from medianest.auth.models import Role, UserStatus
from medianest.core.db import utc_now
from tests.factories.activity import make_session, make_sign_in
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import sign_in
from tests.integration.web.conftest import PAGE
from tests.support.app import Started, ok_data

STATS = "/api/v1/admin/stats"


async def _seed(database_url: str) -> None:
    """Beside the signed-in admin (a session and a password sign-in just now):

    - alice used Firefox on Ubuntu 2 hours ago, and Chrome on Windows 10 days ago;
    - bob signed in with Plex 3 days ago, from Chrome on Windows;
    - carol used Mobile Safari on iOS 20 days ago; dave, 40 days ago;
    - erin signed in with her password an hour ago, and that session is gone since;
    - sam, suspended since, was signed out an hour ago;
    - an account deleted since signed in with Plex an hour ago;
    - nina has never been here; carol's sign-in 25 days ago has no method recorded.
    """
    now = utc_now()
    alice = await make_user(database_url, username="alice")
    await make_session(database_url, alice.id, last_seen_at=now - timedelta(hours=2))
    await make_session(
        database_url,
        alice.id,
        device="Chrome on Windows",
        last_seen_at=now - timedelta(days=10),
    )
    bob = await make_user(database_url, username="bob", role=Role.ADMIN)
    three_days = now - timedelta(days=3)
    await make_session(database_url, bob.id, device="Chrome on Windows", last_seen_at=three_days)
    await make_sign_in(database_url, bob.id, username="bob", method="plex", at=three_days)
    carol = await make_user(database_url, username="carol")
    await make_session(
        database_url,
        carol.id,
        device="Mobile Safari on iOS",
        last_seen_at=now - timedelta(days=20),
    )
    await make_sign_in(
        database_url, carol.id, username="carol", method=None, at=now - timedelta(days=25)
    )
    dave = await make_user(database_url, username="dave")
    await make_session(database_url, dave.id, last_seen_at=now - timedelta(days=40))
    erin = await make_user(database_url, username="erin")
    an_hour_ago = now - timedelta(hours=1)
    await make_sign_in(database_url, erin.id, username="erin", at=an_hour_ago)
    sam = await make_user(database_url, username="sam", status=UserStatus.SUSPENDED)
    await make_session(database_url, sam.id, device="curl", last_seen_at=an_hour_ago, revoked=True)
    await make_sign_in(database_url, uuid.uuid4(), username="gone", method="plex", at=an_hour_ago)
    await make_user(database_url, username="nina")


def _by_name(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["name"]: row["sessions"] for row in rows}


class TestStats:
    async def test_counts_from_sessions_and_sign_ins(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        await _seed(database_url)

        answer = await admin.get(STATS)

        assert answer.status_code == 200
        stats = ok_data(answer)
        assert stats["users"] == {"total": 8, "active": 7, "suspended": 1, "admins": 2}
        # admin, alice, erin, sam; then bob; then carol. Not dave, nina, nor the deleted one.
        assert stats["activeUsers"] == {"h24": 4, "d7": 5, "d30": 6}
        assert stats["signIns"] == [
            {"method": "password", "h24": 2, "d7": 2, "d30": 2},
            {"method": "plex", "h24": 1, "d7": 2, "d30": 2},
            {"method": "unknown", "h24": 0, "d7": 0, "d30": 1},
        ]
        browsers = _by_name(stats["devices"]["browsers"])
        systems = _by_name(stats["devices"]["systems"])
        # The admin's own session is python-httpx's: no browser or system recognised in it.
        assert browsers == {"Chrome": 2, "Firefox": 1, "Mobile Safari": 1, "curl": 1, "Other": 1}
        assert systems == {"Windows": 2, "Ubuntu": 1, "iOS": 1, "Other": 2}
        assert stats["devices"]["browsers"][0]["name"] == "Chrome"
        assert stats["devices"]["browsers"][-1]["name"] == "Other"
        assert stats["asOf"].endswith("Z")

    async def test_past_eight_browsers_the_rest_count_as_other(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        user = await make_user(database_url, username="tinkerer")
        for n in range(10):
            for _ in range(n + 1):
                await make_session(database_url, user.id, device=f"Browser{n} on System{n}")

        stats = ok_data(await admin.get(STATS))

        browsers = stats["devices"]["browsers"]
        assert [row["name"] for row in browsers[:8]] == [f"Browser{n}" for n in range(9, 1, -1)]
        # Browser1 (2 sessions), Browser0 (1) and the admin's own session (1).
        assert browsers[8:] == [{"name": "Other", "sessions": 4}]

    async def test_with_nobody_else_it_counts_the_admin(self, admin: httpx.AsyncClient) -> None:
        stats = ok_data(await admin.get(STATS))
        assert stats["activeUsers"] == {"h24": 1, "d7": 1, "d30": 1}
        assert stats["signIns"] == [{"method": "password", "h24": 1, "d7": 1, "d30": 1}]

    async def test_a_member_is_forbidden(self, medianest: Started, database_url: str) -> None:
        await make_user(database_url, username="ursula")
        async with medianest.client() as http:
            await sign_in(http, "ursula", PASSWORD)
            answer = await http.get(STATS)
            page = await http.get("/admin/activity", headers=PAGE)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "FORBIDDEN"
        assert page.status_code == 403


class TestActivityPage:
    async def test_it_shows_the_same_counts(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        await _seed(database_url)

        page = await admin.get("/admin/activity", headers=PAGE)

        assert page.status_code == 200
        assert 'href="/admin/activity" aria-current="page"' in page.text
        active = dict(re.findall(r'<dd data-active="(\w+)">(\d+)</dd>', page.text))
        assert active == {"h24": "4", "d7": "5", "d30": "6"}
        methods = re.findall(r'<tr data-method="(\w+)">\s*<th scope="row">([^<]+)</th>', page.text)
        assert methods == [("password", "Password"), ("plex", "Plex"), ("unknown", "Not recorded")]
        assert "8 accounts: 2 administrators, 1 suspended." in page.text
        assert '<span class="activity-bar-name">Mobile Safari</span>' in page.text
        assert '<span class="activity-bar-name">iOS</span>' in page.text
