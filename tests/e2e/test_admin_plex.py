"""An administrator connects the Plex server from /admin/plex: a failing test says why, a passing
one names the server, saving sticks; or they link their Plex account and pick the server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    WIDE,
    ContextFactory,
    Site,
    SiteFactory,
    forward_url,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
    wait_closed,
)
from tests.fakes.plex_server import MACHINE_IDENTIFIER, OWNER_TOKEN, FakePlexServer
from tests.fakes.plex_tv import FakePlexTv, server_resource
from tests.support.plex import fresh, plex_overrides
from tests.support.server import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def server(plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> FakePlexServer:
    _, server = plex_fakes
    return fresh(server)


@pytest.fixture
def plex_tv(plex_fakes: tuple[FakePlexTv, FakePlexServer], server: FakePlexServer) -> FakePlexTv:
    plex_tv, _ = plex_fakes
    fresh(plex_tv)
    plex_tv.add_account(OWNER_TOKEN, id=1, username="owner")
    plex_tv.set_resources(
        OWNER_TOKEN,
        [server_resource("Home", MACHINE_IDENTIFIER, access_token=OWNER_TOKEN, uri=server.url)],
    )
    return plex_tv


@pytest.fixture
def site(make_site: SiteFactory, plex_tv: FakePlexTv) -> Site:
    # No Plex server in the settings: the administrator connects it from the page.
    return make_site(**plex_overrides(plex_tv.url))


def _admin_page(new_context: ContextFactory, viewport: ViewportSize = DESKTOP) -> Page:
    context = new_context(viewport)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/admin/plex")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plex server")
    return page


def test_the_admin_tests_and_saves_the_server_address_and_token(
    new_context: ContextFactory, server: FakePlexServer
) -> None:
    page = _admin_page(new_context)
    expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    sub_nav = page.get_by_role("navigation", name="Administration")
    expect(sub_nav.get_by_role("link")).to_have_text(
        [
            "Audit log",
            "Activity",
            "Plex server",
            "Requests",
            "Requests service",
            "Announcements",
            "Status",
            "Alert channels",
            "Users",
        ]
    )
    expect(sub_nav.get_by_role("link", name="Plex server")).to_have_attribute(
        "aria-current", "page"
    )

    form = page.locator("#connection-form")
    form.get_by_label("Server address").fill(f"http://127.0.0.1:{free_port()}")
    form.get_by_label("Plex token").fill(OWNER_TOKEN)
    form.get_by_role("button", name="Test").click()
    result = form.locator("[data-test-result]")
    expect(result).to_contain_text("Nothing answered at 127.0.0.1")
    screenshot(page, "admin-plex-test-failed-desktop")

    form.get_by_label("Server address").fill(server.url)
    form.get_by_role("button", name="Test").click()
    expect(result).to_contain_text(f"Connected to “Home”, Plex {server.version}, in ")
    expect(result).to_contain_text(" ms.")

    form.get_by_role("button", name="Save").click()
    expect(result).to_have_text(f"Saved. MediaNest now uses “Home”, Plex {server.version}.")
    expect(form.get_by_label("Plex token")).to_have_value("")
    # Connecting starts a full library sync; the panel follows it until it is done.
    sync = page.locator("[data-sync]")
    expect(sync.locator("[data-sync-state]")).to_have_text("Up to date")
    expect(sync.locator("[data-sync-summary]")).to_contain_text("Last finished")

    page.reload()
    connection = page.locator("[data-connection]")
    expect(connection.get_by_text("Connected", exact=True)).to_be_visible()
    expect(connection.locator('[data-fact="name"]')).to_have_text("Home")
    expect(connection.locator('[data-fact="version"]')).to_have_text(server.version)
    expect(connection.locator('[data-fact="url"]')).to_have_text(server.url)
    expect(page.locator("#connection-form").get_by_label("Server address")).to_have_value(
        server.url
    )
    connection.get_by_role("button", name="Test the saved connection").click()
    expect(connection.locator("[data-saved-result]")).to_contain_text("Connected to “Home”")
    screenshot(page, "admin-plex-connected-desktop")

    phone = new_context(MOBILE)
    sign_in(phone)
    small = phone.new_page()
    small.goto("/admin/plex")
    expect(small.locator('[data-fact="name"]')).to_have_text("Home")
    assert horizontal_overflow(small) <= 0, "/admin/plex scrolls sideways at 375 px"
    screenshot(small, "admin-plex-connected-mobile")


def _link_plex_account(page: Page, plex_tv: FakePlexTv, site: Site) -> None:
    """Link the owner's Plex account from the page; the Plex window closes after approval."""
    account = page.locator("[data-account]")
    with page.expect_popup() as opened:
        account.get_by_role("button", name="Link Plex account").click()
    popup = opened.value
    popup.wait_for_url(f"{plex_tv.url}/auth**")
    assert forward_url(popup.url) == site.at("/auth/plex/done")
    popup.get_by_role("button", name="Sign in as owner").click()
    wait_closed(popup)
    expect(account.get_by_role("status").filter(has_text="Linked")).to_have_text(
        "Linked to the Plex account “owner”."
    )


def _primary(page: Page) -> list[str]:
    """The names of the buttons shown as the page's next step."""
    buttons = page.locator(
        "[data-account] .button-primary:visible, [data-account] .button-plex:visible"
    )
    return [name.strip() for name in buttons.all_inner_texts()]


def test_the_admin_links_their_plex_account_and_picks_the_server(
    new_context: ContextFactory, server: FakePlexServer, plex_tv: FakePlexTv, site: Site
) -> None:
    page = _admin_page(new_context, WIDE)
    account = page.locator("[data-account]")
    form = page.locator("#connection-form")
    assert _primary(page) == ["Link Plex account"]

    # Testing an address with no token and no linked account asks for one or the other.
    form.get_by_label("Server address").fill(server.url)
    form.get_by_role("button", name="Test").click()
    token_error = form.locator('[data-field-error="token"]')
    expect(token_error).to_have_text(
        "Enter the Plex server owner's token, or link your Plex account so MediaNest can use it."
    )
    screenshot(page, "admin-plex-token-asked-desktop")

    _link_plex_account(page, plex_tv, site)

    # Linked: that error is answered, and the next step is picking the server's address.
    expect(token_error).to_be_hidden()
    expect(form.get_by_label("Plex token")).not_to_have_attribute("aria-invalid", "true")
    servers = account.locator("[data-servers]")
    expect(servers).to_contain_text("Home")
    expect(servers).to_contain_text("Yours")
    assert _primary(page) == ["Use"]
    expect(account.get_by_role("button", name="Link another Plex account")).not_to_have_class(
        re.compile(r"button-(plex|primary)")
    )
    screenshot(page, "admin-plex-servers-desktop")
    servers.get_by_role("button", name=f"Use {server.url} for Home").click()

    expect(form.get_by_label("Server address")).to_have_value(server.url)
    expect(form.locator("[data-test-result]")).to_contain_text("Connected to “Home”")
    # No token typed: the linked account's is used.
    form.get_by_role("button", name="Save").click()
    expect(form.locator("[data-test-result]")).to_contain_text("Saved. MediaNest now uses “Home”")
    expect(page.locator('[data-fact="name"]')).to_have_text("Home")

    small = new_context(MOBILE)
    sign_in(small)
    phone = small.new_page()
    phone.goto("/admin/plex")
    # Already linked: finding the servers is the next step, linking another account is not.
    assert _primary(phone) == ["Find my servers"]
    phone.locator("[data-account]").get_by_role("button", name="Find my servers").click()
    expect(phone.locator("[data-servers]")).to_contain_text("Home")
    assert _primary(phone) == ["Use"]
    assert horizontal_overflow(phone) <= 0, "the server list scrolls sideways at 375 px"
    screenshot(phone, "admin-plex-servers-mobile")


def test_the_page_closes_a_plex_window_that_stays_open_after_linking(
    new_context: ContextFactory, plex_tv: FakePlexTv, site: Site
) -> None:
    plex_tv.stay_after_approval()
    page = _admin_page(new_context)

    _link_plex_account(page, plex_tv, site)

    assert page.context.pages == [page]


def test_sync_now_waits_for_a_server_and_the_panel_follows_a_sync_started_elsewhere(
    new_context: ContextFactory, server: FakePlexServer
) -> None:
    page = _admin_page(new_context)
    sync = page.locator("[data-sync]")
    expect(sync.get_by_role("button", name="Sync now")).to_be_disabled()
    expect(sync.locator("[data-sync-needs-plex]")).to_have_text(
        "Connect a Plex server above first: the library is indexed on its own as soon as it is"
        " connected."
    )

    form = page.locator("#connection-form")
    form.get_by_label("Server address").fill(server.url)
    form.get_by_label("Plex token").fill(OWNER_TOKEN)
    form.get_by_role("button", name="Save").click()
    expect(sync.locator("[data-sync-state]")).to_have_text("Up to date")
    expect(sync.get_by_role("button", name="Sync now")).to_be_enabled()
    expect(sync.locator("[data-sync-needs-plex]")).to_be_hidden()

    # Someone else starts a sync of a much larger library; this page was not reloaded.
    server.library.add_items("1", 3_000)
    server.slow(0.5)
    other = new_context()
    sign_in(other)
    response = other.request.post(
        "/api/v1/admin/plex/sync",
        data={"full": True},
        headers={"X-CSRF-Token": _csrf(other)},
    )
    assert response.status == 202, response.text()

    expect(sync.locator("[data-sync-state]")).to_have_text("Syncing", timeout=15_000)
    expect(sync.locator("[data-sync-count]")).to_contain_text(re.compile(r"of 3,\d{3} items"))
    screenshot(page, "admin-plex-sync-running-desktop")
    expect(sync.locator("[data-sync-state]")).to_have_text("Up to date", timeout=30_000)
    server.slow(0)
    expect(sync.locator("[data-sync-summary]")).to_contain_text(
        re.compile(r"3,\d{3} titles in \d libraries\.")
    )


def _csrf(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c.get("name") == "csrf_token")
