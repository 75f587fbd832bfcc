"""The /admin/plex page: for administrators only, showing what is stored, never the token."""

from __future__ import annotations

import httpx

from tests.factories.users import make_user
from tests.fakes.plex_server import FakePlexServer
from tests.integration.auth.conftest import sign_in
from tests.integration.connections.conftest import connect
from tests.support.app import Started

PAGE = {"Accept": "text/html"}
MEMBER_PASSWORD = "a-member-passphrase-1"


class TestPlexPage:
    async def test_the_admin_sees_the_connected_server_and_the_admin_navigation(
        self, admin: httpx.AsyncClient, home: FakePlexServer
    ) -> None:
        before = await admin.get("/admin/plex", headers=PAGE)
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200
        after = await admin.get("/admin/plex", headers=PAGE)

        assert before.status_code == 200
        assert "MediaNest is not connected to a Plex server yet" in before.text
        assert 'href="/admin/plex" aria-current="page"' in before.text
        assert 'href="/admin/audit-log"' in before.text
        assert after.status_code == 200
        assert '<dd data-fact="name">Home</dd>' in after.text
        assert f'value="{home.url}"' in after.text
        assert home.owner_token not in after.text

    async def test_admin_leads_to_the_plex_page(self, admin: httpx.AsyncClient) -> None:
        response = await admin.get("/admin", headers=PAGE)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/plex"

    async def test_members_are_refused_and_strangers_sent_to_sign_in(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="bob", password=MEMBER_PASSWORD)
        async with medianest.client() as member, medianest.client() as stranger:
            assert (await sign_in(member, "bob", MEMBER_PASSWORD)).status_code == 200
            refused = await member.get("/admin/plex", headers=PAGE)
            redirected = await stranger.get("/admin/plex", headers=PAGE)
        assert refused.status_code == 403
        assert "This page is for administrators." in refused.text
        assert redirected.status_code == 303
        assert redirected.headers["location"] == "/login?next=/admin/plex"
