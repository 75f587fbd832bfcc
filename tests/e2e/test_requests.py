"""Requests in the browser, against the fake Overseerr: an administrator connects it and gets
the webhook's values; members search as they type, ask for a movie from its poster and for two
seasons of a show from its page, follow someone else's request, and cancel one in My requests;
when Overseerr's webhook says a title is in Plex, whoever asked or follows sees it and is told.
The Requests page has one search box, its own (the library's pages keep the header's).

Posters come from TMDB, which this machine cannot reach: each must become a frame with its title,
never the browser's broken-image mark."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, expect

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
from tests.fakes.overseerr import REQUEST, FakeOverseerr
from tests.fakes.overseerr.constants import AVAILABLE, REQUEST_APPROVED
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.support.plex import fresh, plex_overrides

pytestmark = pytest.mark.browser

MOVIE, SHOW = 945961, 1396
ALICE_PLEX, BOB_PLEX = 111, 222


@pytest.fixture(scope="module")
def overseerr_server() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr().start()
    yield fake
    fake.stop()


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_user("alice", plex_id=ALICE_PLEX, permissions=REQUEST)
    overseerr_server.add_user("bob", plex_id=BOB_PLEX, permissions=REQUEST)
    return overseerr_server


@pytest.fixture
def site(make_site: SiteFactory, overseerr: FakeOverseerr) -> Site:
    """MediaNest with the fake Overseerr connected from its settings, and two members."""
    site = make_site(
        overseerr_url=overseerr.url,
        overseerr_api_key=overseerr.api_key,
        # No sync behind a test's back: a request moves on only when a test sends a webhook.
        overseerr_sync_interval_seconds=0,
    )
    add_user(site, username="alice", plex_id=ALICE_PLEX)
    add_user(site, username="bob", plex_id=BOB_PLEX)
    return site


def member(new_context: ContextFactory, name: str, viewport: ViewportSize = WIDE) -> Page:
    context = new_context(viewport)
    sign_in(context, name, PASSWORD)
    return context.new_page()


def bell(page: Page) -> Locator:
    """The header's bell where this screen shows it (the sidebar's, or the top bar's on a phone)."""
    return page.locator("a[data-bell]:visible")


def paste_webhook_into(overseerr: FakeOverseerr, new_context: ContextFactory) -> None:
    """Give Overseerr's webhook agent the two values the admin's Requests service page shows."""
    context = new_context(WIDE)
    set_up_admin(context)
    admin = context.new_page()
    admin.goto("/admin/requests/service")
    webhook = admin.locator("[data-webhook]")
    overseerr.configure_webhook(
        webhook.get_by_label("Webhook URL", exact=True).input_value(),
        webhook.get_by_label("Authorization Header", exact=True).input_value(),
    )


def no_broken_posters(page: Page) -> None:
    """Posters that failed to load became frames with their title; none shows as a broken image
    (those further along a row wait, lazily, until they are scrolled to)."""
    frame = page.locator(".poster-missing").first
    expect(frame).to_be_visible()
    assert frame.get_attribute("aria-label")
    broken = page.evaluate(
        "[...document.querySelectorAll('img')]"
        ".filter(img => img.complete && img.naturalWidth === 0).length"
    )
    assert broken == 0


class TestConnecting:
    @pytest.fixture
    def site(self, make_site: SiteFactory) -> Site:
        # Nothing in the settings: the administrator connects Overseerr from the page.
        return make_site()

    def test_the_admin_connects_overseerr_and_gets_the_webhook(
        self, new_context: ContextFactory, overseerr: FakeOverseerr, site: Site
    ) -> None:
        context: BrowserContext = new_context(WIDE)
        set_up_admin(context)
        page = context.new_page()
        page.goto("/")
        checklist = page.get_by_text("Connect Overseerr for requests")
        expect(checklist).to_be_visible()
        page.goto("/admin")
        sub_nav = page.get_by_role("navigation", name="Administration")
        sub_nav.get_by_role("link", name="Requests service").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Requests service")
        expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
        expect(page.locator("[data-webhook]")).to_be_hidden()

        form = page.locator("#connection-form")
        form.get_by_label("Address").fill(overseerr.url)
        form.get_by_label("API key").fill("not-the-key")
        form.get_by_role("button", name="Test").click()
        result = form.locator("[data-test-result]")
        expect(result).to_have_class(re.compile("is-failed"))

        form.get_by_label("API key").fill(overseerr.api_key)
        form.get_by_role("button", name="Test").click()
        expect(result).to_contain_text(f"Connected to Overseerr {overseerr.version}, in ")
        expect(form.get_by_label("Add Plex users Overseerr doesn't know yet")).to_be_checked()

        form.get_by_role("button", name="Save").click()
        expect(result).to_have_text(
            f"Saved. MediaNest now sends requests to Overseerr {overseerr.version}."
            " Set up its webhook below."
        )
        expect(form.get_by_label("API key")).to_have_value("")
        webhook = page.locator("[data-webhook]")
        expect(webhook).to_be_visible()
        expect(webhook.get_by_label("Webhook URL", exact=True)).to_have_value(
            site.at("/api/v1/webhooks/overseerr")
        )
        authorization = webhook.get_by_label("Authorization Header", exact=True)
        expect(authorization).to_have_value(re.compile("mnw_"))
        expect(webhook.get_by_role("button", name="Copy the webhook URL")).to_be_visible()
        expect(
            webhook.get_by_role("button", name="Copy the Authorization Header value")
        ).to_be_visible()
        expect(webhook.get_by_text("Request Processing Failed")).to_be_visible()
        screenshot(page, "admin-requests-service-wide")

        before = authorization.input_value()
        page.once("dialog", lambda dialog: dialog.accept())
        webhook.get_by_role("button", name="Make a new secret").click()
        expect(webhook.locator("[data-secret-status]")).to_contain_text("New secret made.")
        assert authorization.input_value() != before

        page.reload()
        expect(
            page.locator("[data-connection]").get_by_text("Connected", exact=True)
        ).to_be_visible()
        expect(page.locator('[data-fact="flavour"]')).to_have_text("Overseerr")
        expect(page.get_by_text("Leave it empty to keep the saved key.")).to_be_visible()

        phone = new_context(MOBILE)
        sign_in(phone)
        small = phone.new_page()
        small.goto("/admin/requests/service")
        expect(small.locator("[data-webhook]")).to_be_visible()
        assert horizontal_overflow(small) <= 0, "/admin/requests/service scrolls sideways at 375 px"
        screenshot(small, "admin-requests-service-mobile")


class TestOneSearchBox:
    @pytest.fixture
    def site(
        self,
        make_site: SiteFactory,
        overseerr: FakeOverseerr,
        plex_fakes: tuple[FakePlexTv, FakePlexServer],
    ) -> Site:
        """Plex connected as well, so the library pages have their header search."""
        plex_tv, server = plex_fakes
        fresh(server)
        fresh(plex_tv).add_account(OWNER_TOKEN, id=1, username="owner")
        return make_site(
            **plex_overrides(plex_tv.url, server),
            overseerr_url=overseerr.url,
            overseerr_api_key=overseerr.api_key,
        )

    def test_the_requests_page_has_only_its_own_search_and_the_library_keeps_the_header_one(
        self, new_context: ContextFactory
    ) -> None:
        context = new_context(WIDE)
        set_up_admin(context)
        page = context.new_page()

        page.goto("/requests")
        expect(page.get_by_role("heading", level=1)).to_have_text("Requests")
        expect(page.get_by_role("search")).to_have_count(1)
        expect(page.locator("input[type=search]")).to_have_count(1)
        expect(page.get_by_role("link", name="Skip to search")).to_have_count(0)
        page.keyboard.press("/")
        expect(page.get_by_label("Movie or show to look for")).to_be_focused()

        page.goto("/library")
        expect(page.get_by_role("heading", level=1)).to_have_text("Movies")
        expect(page.get_by_role("combobox", name="Search the library")).to_be_visible()
        expect(page.get_by_role("link", name="Skip to search")).to_have_count(1)

        # The library's own search page, likewise, shows its box alone.
        page.goto("/search")
        expect(page.get_by_role("search")).to_have_count(1)
        expect(page.locator("input[type=search]")).to_have_count(1)


def test_members_request_follow_and_cancel(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    alice = member(new_context, "alice")
    alice.goto("/requests")
    for row in ("Trending", "Popular movies", "Popular shows", "Upcoming movies"):
        expect(alice.get_by_role("heading", name=row, exact=True)).to_be_visible()
    no_broken_posters(alice)
    screenshot(alice, "requests-wide")
    alice.get_by_role("button", name="Scroll on through trending").click()
    expect(alice.get_by_role("button", name="Scroll back through trending")).to_be_visible()

    search = alice.get_by_label("Movie or show to look for")
    search.press_sequentially("alien", delay=60)
    expect(alice.get_by_role("heading", name="Results for “alien”")).to_be_visible()
    expect(alice).to_have_url(re.compile(r"/requests\?q=alien$"))
    expect(alice.locator("[data-rows]")).to_be_hidden()
    romulus = alice.locator('[data-results] [data-title-card][data-name="Alien: Romulus"]')
    romulus.get_by_role("link", name="Request Alien: Romulus").click()
    expect(romulus.locator("[data-badge]")).to_have_text("Requested by you")
    expect(romulus.locator("[data-note]")).to_have_text(
        "Requested. Waiting for approval; you'll be told when it's available."
    )
    expect(alice.locator("[data-announce]")).to_contain_text("Alien: Romulus: Requested.")
    no_broken_posters(alice)

    alice.goto(f"/requests/tv/{SHOW}")
    expect(alice.get_by_role("heading", level=1)).to_have_text("Breaking Bad")
    alice.get_by_label("Season 1").check()
    alice.get_by_label("Season 2").check()
    alice.get_by_role("button", name="Request selected seasons").click()
    expect(alice.locator("[data-request-result]")).to_have_text(
        "Requested. Waiting for approval; you'll be told when it's available."
    )
    expect(alice.get_by_label("Season 1")).to_be_disabled()
    expect(alice.get_by_label("Season 2")).to_be_disabled()
    expect(alice.get_by_label("Season 3")).to_be_enabled()
    no_broken_posters(alice)
    screenshot(alice, "requests-show-wide")

    bob = member(new_context, "bob", MOBILE)
    bob.goto("/requests?q=alien")
    theirs = bob.locator('[data-title-card][data-name="Alien: Romulus"]')
    expect(theirs.locator("[data-badge]")).to_have_text("Requested")
    theirs.get_by_role("link", name="Notify me too when Alien: Romulus is available").click()
    expect(theirs.locator("[data-note]")).to_have_text("You'll be told when it's available.")
    assert horizontal_overflow(bob) <= 0, "/requests scrolls sideways at 375 px"
    screenshot(bob, "requests-search-mobile")
    # Opened on a search, the page gets its rows once the search is cleared.
    bob.get_by_label("Movie or show to look for").fill("")
    expect(bob.get_by_role("heading", name="Trending", exact=True)).to_be_visible()
    expect(bob).to_have_url(re.compile(r"/requests$"))
    expect(bob.locator("[data-results] [data-title-card]")).to_have_count(0)
    bob.goto(f"/requests/movie/{MOVIE}")
    expect(bob.get_by_role("heading", level=1)).to_have_text("Alien: Romulus")
    assert horizontal_overflow(bob) <= 0, "a title's page scrolls sideways at 375 px"
    screenshot(bob, "requests-movie-mobile")
    bob.goto("/requests/mine")
    followed = bob.locator("[data-request-id]")
    expect(followed).to_have_count(1)
    expect(followed.get_by_role("button", name="Stop following Alien: Romulus")).to_be_visible()
    expect(followed).to_contain_text("Asked for by alice")
    screenshot(bob, "my-requests-mobile")
    assert horizontal_overflow(bob) <= 0, "/requests/mine scrolls sideways at 375 px"

    alice.goto("/requests/mine")
    rows = alice.locator("[data-request-id]")
    expect(rows.locator(".request-title a")).to_have_text(["Breaking Bad", "Alien: Romulus"])
    expect(rows.first).to_contain_text("Seasons 1, 2")
    expect(rows.first.locator(".badge")).to_have_text("Waiting for approval")
    rows.nth(1).get_by_text("Status history").click()
    expect(rows.nth(1).locator(".request-history li")).to_have_count(1)
    screenshot(alice, "my-requests-wide")

    alice.once("dialog", lambda dialog: dialog.accept())
    rows.first.get_by_role("button", name="Cancel your request for Breaking Bad").click()
    expect(alice.locator("[data-list-status]")).to_have_text(
        "Your request for Breaking Bad is cancelled."
    )
    expect(rows).to_have_count(1)
    alice.reload()
    expect(alice.locator("[data-request-id] .request-title a")).to_have_text(["Alien: Romulus"])
    # Bob follows the movie: it stays requested for him.
    alice.once("dialog", lambda dialog: dialog.accept())
    alice.get_by_role("button", name="Cancel your request for Alien: Romulus").click()
    expect(alice.locator("[data-row-error]")).to_have_text(
        "Other people are waiting for this title too, so it stays requested."
    )


def test_a_requests_link_opens_its_history_in_my_requests(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    alice = member(new_context, "alice")
    alice.goto(f"/requests/movie/{MOVIE}")
    alice.get_by_role("button", name="Request").click()
    expect(alice.locator("[data-request-result]")).to_contain_text("Requested.")
    alice.get_by_role("link", name="See my request").click()
    expect(alice).to_have_url(re.compile(r"/requests/mine#request-"))
    row = alice.locator("[data-request-id]")
    expect(row.locator("details")).to_have_attribute("open", "")
    expect(row.locator(".request-history li")).to_have_count(1)


def test_a_request_while_overseerr_is_down_says_so_on_the_poster(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    alice = member(new_context, "alice", MOBILE)
    alice.goto("/requests?q=matrix")
    matrix = alice.locator('[data-title-card][data-name="The Matrix"]')
    expect(matrix.locator("[data-badge]")).to_have_count(0)
    overseerr.down()
    matrix.get_by_role("link", name="Request The Matrix").click()
    expect(matrix.locator("[data-note]")).to_have_text(
        "Overseerr is unreachable; requests are paused until it is back."
    )
    expect(matrix.get_by_role("link", name="Request The Matrix")).to_be_visible()


def test_an_administrator_approves_and_declines_on_all_requests(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    alice = member(new_context, "alice")
    for kind, tmdb_id in (("movie", MOVIE), ("tv", SHOW)):
        alice.goto(f"/requests/{kind}/{tmdb_id}")
        name = "Request all seasons" if kind == "tv" else "Request"
        alice.get_by_role("button", name=name, exact=True).click()
        expect(alice.locator("[data-request-result]")).to_contain_text("Requested.")

    context = new_context(WIDE)
    set_up_admin(context)
    admin = context.new_page()
    admin.goto("/admin/requests")
    expect(admin.get_by_role("heading", level=1)).to_have_text("All requests")
    rows = admin.locator("[data-request-id]")
    expect(rows).to_have_count(2)
    admin.get_by_role("button", name="Approve alice's request for Alien: Romulus").click()
    expect(admin.locator("[data-list-status]")).to_have_text("Alien: Romulus is approved.")
    admin.once("dialog", lambda dialog: dialog.accept("Not on any service yet"))
    admin.get_by_role("button", name="Decline alice's request for Breaking Bad").click()
    expect(admin.locator("[data-list-status]")).to_have_text("Breaking Bad is declined.")
    expect(rows.filter(has_text="Breaking Bad")).to_contain_text("Reason: Not on any service yet")
    screenshot(admin, "admin-requests-wide")

    alice.goto("/requests/mine")
    mine = alice.locator("[data-request-id]")
    expect(mine.filter(has_text="Breaking Bad").locator(".badge")).to_have_text("Declined")
    expect(mine.filter(has_text="Alien: Romulus").locator(".badge")).not_to_have_text(
        "Waiting for approval"
    )


def test_a_request_becomes_available_when_overseerrs_webhook_says_so(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    paste_webhook_into(overseerr, new_context)
    alice = member(new_context, "alice")
    alice.goto("/requests?q=alien")
    romulus = alice.locator('[data-results] [data-title-card][data-name="Alien: Romulus"]')
    romulus.get_by_role("link", name="Request Alien: Romulus").click()
    expect(romulus.locator("[data-badge]")).to_have_text("Requested by you")
    bob = member(new_context, "bob", MOBILE)
    bob.goto("/requests?q=alien")
    theirs = bob.locator('[data-title-card][data-name="Alien: Romulus"]')
    theirs.get_by_role("link", name="Notify me too when Alien: Romulus is available").click()
    expect(theirs.locator("[data-note]")).to_have_text("You'll be told when it's available.")

    alice.goto("/requests/mine")
    row = alice.locator("[data-request-id]")
    badge = row.locator(".request-state .badge")
    expect(badge).to_have_text("Waiting for approval")
    # The bell's count is set once it has asked.
    expect(bell(alice)).to_have_attribute("data-count", "0")
    expect(bell(alice)).to_have_accessible_name("Notifications")
    expect(bell(alice).locator("[data-bell-count]")).to_be_hidden()

    # Approved in Overseerr, downloaded, found in Plex: Overseerr's webhook says it is available.
    (asked,) = overseerr.requests
    overseerr.set_request_status(asked.id, REQUEST_APPROVED)
    overseerr.set_media_status(MOVIE, "movie", AVAILABLE)
    assert overseerr.send_webhook("MEDIA_AVAILABLE", asked.id) == 204

    # The open page hears it at once (tests/e2e/test_realtime.py); opening My requests again
    # shows the same, from the database.
    expect(bell(alice)).to_have_accessible_name("Notifications, 1 unread")
    alice.goto("/requests/mine")
    expect(badge).to_have_text("Available")
    expect(bell(alice)).to_have_accessible_name("Notifications, 1 unread")
    expect(bell(alice).locator("[data-bell-count]")).to_have_text("1")
    screenshot(alice, "my-requests-available-wide")

    bell(alice).click()
    expect(alice).to_have_url(site.at("/notifications"))
    told = alice.locator("[data-notification]")
    expect(told.locator(".notification-title a")).to_have_text(["Alien: Romulus is in Plex"])
    expect(told.locator(".notification-message")).to_have_text(
        ["Alien: Romulus (2024) is available in Plex. Enjoy!"]
    )
    expect(told.locator("[data-unread-badge]")).to_have_count(1)
    # Opening it marks it read and shows the request's history, the webhook's step last.
    told.get_by_role("link", name="Alien: Romulus is in Plex").click()
    expect(alice).to_have_url(re.compile(r"/requests/mine#request-"))
    history = row.locator(".request-history li")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("Available")
    expect(history.nth(1)).to_contain_text("from Overseerr")
    expect(bell(alice)).to_have_attribute("data-count", "0")
    expect(bell(alice)).to_have_accessible_name("Notifications")

    # Bob follows it: he sees it available and is told too.
    bob.goto("/requests/mine")
    expect(bob.locator("[data-request-id] .request-state .badge")).to_have_text("Available")
    expect(bell(bob)).to_have_accessible_name("Notifications, 1 unread")
    expect(bell(bob).locator("[data-bell-count]")).to_have_text("1")
    bell(bob).click()
    expect(bob.locator("[data-notification] .notification-title a")).to_have_text(
        ["Alien: Romulus is in Plex"]
    )
    assert horizontal_overflow(bob) <= 0, "/notifications scrolls sideways at 375 px"
    screenshot(bob, "notifications-request-available-mobile")
