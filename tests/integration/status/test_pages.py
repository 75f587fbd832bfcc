"""The status page, the administrators' Status page and the banner over every page while a
service people rely on is down: what a person sees, read from the board, never an upstream."""

from __future__ import annotations

import re

from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex_server import FakePlexServer
from tests.integration.status.conftest import (
    StatusSettings,
    checks_of,
    domain_of,
    first_polls,
    medianest_with,
    member,
    signed_in,
)
from tests.support.app import Started


async def _poll(app: Started, *names: str) -> None:
    """Poll `names` now and let this process's board read what they stored."""
    for name in names:
        await checks_of(app).poll(name)
    await domain_of(app).service.reload()


def _rows(html: str) -> dict[str, str]:
    """Each service row's id and state on the status page."""
    return dict(re.findall(r'data-service="([^"]+)" data-status="([^"]+)"', html))


def _banner_keys(html: str) -> list[str]:
    return re.findall(r'class="site-banner site-banner-\w+" data-banner="([^"]+)"', html)


class TestStatusPage:
    async def test_everyone_signed_in_sees_each_service_with_its_state_and_uptime(
        self, status_settings: StatusSettings, database_url: str, fake: FakePlexServer
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            fake.down()
            await _poll(app, "plex")
            await member(app, database_url)
            async with signed_in(app, "viewer") as viewer:
                page = await viewer.get("/status")

        assert page.status_code == 200
        rows = _rows(page.text)
        assert rows["plex"] == "down"
        assert rows["overseerr"] == "up"
        assert "MediaNest" in page.text
        assert "30 days" in page.text
        # Each row's bar says, for each hour checked, how it went.
        assert re.search(r'class="seg is-up" title="[^"]+ UTC: 100% up, \d+ checks?"', page.text)
        # A member is not shown where the services live.
        assert fake.url not in page.text

    async def test_signed_out_is_sent_to_sign_in(self, status_settings: StatusSettings) -> None:
        async with medianest_with(status_settings()) as app, app.client() as stranger:
            page = await stranger.get("/status", follow_redirects=False)

        assert page.status_code in (302, 303)
        assert page.headers["location"].startswith("/login")


class TestBanner:
    async def test_plex_down_shows_on_every_page_until_it_is_back(
        self, status_settings: StatusSettings, database_url: str, fake: FakePlexServer
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            await member(app, database_url)
            async with signed_in(app, "viewer") as viewer:
                before = await viewer.get("/")
                fake.down()
                await _poll(app, "plex")
                during = [await viewer.get(path) for path in ("/", "/notifications", "/account")]
                fake.healthy()
                await _poll(app, "plex")
                after = await viewer.get("/")

        assert not any(key.startswith("status:") for key in _banner_keys(before.text))
        for page in during:
            (key,) = [k for k in _banner_keys(page.text) if k.startswith("status:")]
            assert key.startswith("status:plex:")
            assert "Plex is down" in page.text
            assert 'href="/status"' in page.text
        assert 'site-banner-critical" data-banner="status:plex:' in during[0].text
        assert not any(key.startswith("status:") for key in _banner_keys(after.text))

    async def test_overseerr_down_is_a_warning(
        self, status_settings: StatusSettings, overseerr: FakeOverseerr
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            overseerr.down()
            await _poll(app, "overseerr")
            async with signed_in(app) as admin:
                home = await admin.get("/")

        assert 'site-banner-warning" data-banner="status:overseerr:' in home.text
        assert "new requests wait until it is back" in home.text


class TestAdminStatusPage:
    async def test_an_administrator_can_connect_uptime_kuma_there(
        self, status_settings: StatusSettings
    ) -> None:
        async with medianest_with(status_settings()) as app, signed_in(app) as admin:
            page = await admin.get("/admin/status")

        assert page.status_code == 200
        for label in ("Address", "Status pages", "API key"):
            assert f">{label}" in page.text
        assert ">Test</button>" in page.text
        assert ">Save</button>" in page.text

    async def test_a_member_is_refused(
        self, status_settings: StatusSettings, database_url: str
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await member(app, database_url)
            async with signed_in(app, "viewer") as viewer:
                page = await viewer.get("/admin/status")

        assert page.status_code == 403
