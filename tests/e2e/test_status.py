"""The status page in the browser: a member watching it sees Plex go down within one check
interval and come back, with nothing reloaded; an administrator finds where to connect Uptime
Kuma. Screenshots at a phone's width and a wide screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    MOBILE,
    WIDE,
    ContextFactory,
    Site,
    SiteFactory,
    add_user,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
)
from tests.factories.users import PASSWORD
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.support.plex import fresh

pytestmark = pytest.mark.browser

# Seconds between MediaNest's checks here: short, so a test sees a change, long enough that a
# busy machine polls on time.
INTERVAL = 3
# What a loaded machine may add to one interval before the page shows the change.
MARGIN_MS = 7_000


@pytest.fixture
def plex_server(plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> FakePlexServer:
    _, server = plex_fakes
    return fresh(server)


@pytest.fixture
def site(make_site: SiteFactory, plex_server: FakePlexServer) -> Site:
    return make_site(
        plex_url=plex_server.url,
        plex_token=plex_server.owner_token,
        status_interval_seconds=INTERVAL,
    )


def plex_row(page: Page) -> Locator:
    return page.locator('[data-service="plex"]')


def test_a_member_sees_plex_go_down_and_come_back_live(
    new_context: ContextFactory, site: Site, plex_server: FakePlexServer
) -> None:
    add_user(site, username="viewer")
    context = new_context(WIDE)
    sign_in(context, "viewer", PASSWORD)
    page = context.new_page()
    page.goto("/status")
    expect(plex_row(page)).to_have_attribute("data-status", "up")
    expect(page.locator("html")).to_have_attribute("data-realtime", "on")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    plex_server.down()

    within = INTERVAL * 1000 + MARGIN_MS
    expect(plex_row(page)).to_have_attribute("data-status", "down", timeout=within)
    expect(plex_row(page).locator('[data-field="status"]')).to_have_text("Down")
    expect(page.locator("[data-status-summary]")).to_have_text("Plex is down.")
    screenshot(page, "status-plex-down-wide")

    plex_server.healthy()

    expect(plex_row(page)).to_have_attribute("data-status", "up", timeout=within)
    expect(page.locator("[data-status-summary]")).to_have_text(
        "Everything MediaNest watches is working."
    )
    assert navigations == []


def test_the_banner_says_plex_is_down_on_other_pages_and_fits_a_phone(
    new_context: ContextFactory, site: Site, plex_server: FakePlexServer
) -> None:
    add_user(site, username="viewer")
    context = new_context(MOBILE)
    sign_in(context, "viewer", PASSWORD)
    page = context.new_page()
    page.goto("/status")
    expect(plex_row(page)).to_have_attribute("data-status", "up")
    plex_server.down()
    expect(plex_row(page)).to_have_attribute(
        "data-status", "down", timeout=INTERVAL * 1000 + MARGIN_MS
    )

    page.goto("/help")
    banner = page.locator(".site-banner", has_text="Plex is down")
    expect(banner).to_be_visible()
    banner.get_by_role("link", name="See the status page").click()
    expect(page).to_have_url(site.at("/status"))
    assert horizontal_overflow(page) == 0
    screenshot(page, "status-plex-down-375")


def test_an_administrator_is_shown_where_to_connect_uptime_kuma(
    new_context: ContextFactory, site: Site
) -> None:
    context = new_context(WIDE)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/status")
    page.get_by_role("link", name="connect Uptime Kuma").click()
    expect(page).to_have_url(site.at("/admin/status"))
    expect(page.get_by_label("Address")).to_be_visible()
    expect(page.get_by_role("button", name="Test")).to_be_visible()
    screenshot(page, "admin-status-wide")
