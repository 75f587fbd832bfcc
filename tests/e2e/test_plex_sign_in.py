"""Signing in with Plex: the popup opens the (fake) app.plex.tv page, the user approves there, and
the page they started from lands signed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    MOBILE,
    WIDE,
    ContextFactory,
    Site,
    SiteFactory,
    forward_url,
    screenshot,
    wait_closed,
)
from tests.fakes.plex_server import MACHINE_IDENTIFIER, OWNER_TOKEN, FakePlexServer
from tests.fakes.plex_tv import FakePlexTv

pytestmark = pytest.mark.browser

ALICE = "token-of-alice"
MALLORY = "token-of-mallory"


@pytest.fixture(scope="module")
def plex_fakes() -> Iterator[tuple[FakePlexTv, FakePlexServer]]:
    plex_tv = FakePlexTv().start()
    server = FakePlexServer().start()
    yield plex_tv, server
    server.stop()
    plex_tv.stop()


@pytest.fixture
def plex_tv(plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> FakePlexTv:
    plex_tv, _ = plex_fakes
    plex_tv.reset()
    plex_tv.add_account(OWNER_TOKEN, id=1, username="owner")
    alice = plex_tv.add_account(ALICE, id=2, username="alice")
    plex_tv.add_account(MALLORY, id=3, username="mallory")
    plex_tv.share(OWNER_TOKEN, alice.id, MACHINE_IDENTIFIER)
    return plex_tv


@pytest.fixture
def site(make_site: SiteFactory, plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> Site:
    plex_tv, server = plex_fakes
    return make_site(
        plex_tv_url=plex_tv.url,
        plex_app_url=plex_tv.url,
        plex_url=server.url,
        plex_token=OWNER_TOKEN,
    )


def _approve_in_popup(
    page: Page, plex_tv: FakePlexTv, username: str, shot: str = ""
) -> tuple[Page, str]:
    """Approve in the Plex window; returns that window and the app.plex.tv address it opened."""
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Sign in with Plex").click()
    popup = opened.value
    popup.wait_for_url(f"{plex_tv.url}/auth**")
    auth_url = popup.url
    expect(page.get_by_role("status")).to_contain_text("Waiting for you to approve")
    if shot:
        screenshot(page, shot)
    popup.get_by_role("button", name=f"Sign in as {username}").click()
    return popup, auth_url


def test_a_shared_plex_user_signs_in_through_the_plex_window(
    page: Page, site: Site, plex_tv: FakePlexTv
) -> None:
    page.goto("/help")
    page.locator("#links").get_by_role("link", name="Sign in").click()

    _approve_in_popup(page, plex_tv, "alice", shot="login-plex-waiting-desktop")

    expect(page).to_have_url(site.at("/help#links"))
    expect(page.locator(".me-name")).to_have_text("alice")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, alice!")
    # A member sees no admin entry.
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Home", "Library", "Requests", "Status", "Help", "Account"]
    )


def test_a_plex_user_without_access_is_told_why(
    page: Page, site: Site, plex_tv: FakePlexTv
) -> None:
    page.goto("/login")

    _approve_in_popup(page, plex_tv, "mallory")

    expect(page.get_by_role("alert")).to_have_text(
        "Your Plex account does not have access to this Plex server. "
        "Ask the server owner to share it with you."
    )
    expect(page.get_by_role("button", name="Sign in with Plex")).to_be_enabled()
    screenshot(page, "login-plex-no-access-desktop")


def test_the_plex_window_is_sent_back_to_medianest_and_closes_once_approved(
    page: Page, site: Site, plex_tv: FakePlexTv
) -> None:
    page.goto("/login")

    popup, auth_url = _approve_in_popup(page, plex_tv, "alice")

    assert forward_url(auth_url) == site.at("/auth/plex/done")
    wait_closed(popup)
    expect(page.locator(".me-name")).to_have_text("alice")
    assert page.context.pages == [page]


def test_the_page_closes_a_plex_window_that_stays_open_after_approval(
    page: Page, site: Site, plex_tv: FakePlexTv
) -> None:
    # A Plex window that does not follow forwardUrl: only the sign-in page can close it.
    plex_tv.stay_after_approval()
    page.goto("/login")

    popup, _ = _approve_in_popup(page, plex_tv, "alice")

    wait_closed(popup)
    expect(page.locator(".me-name")).to_have_text("alice")


def test_the_page_plex_sends_the_window_to_closes_itself(
    new_context: ContextFactory, site: Site
) -> None:
    page = new_context().new_page()
    page.goto("/login")
    with page.expect_popup() as opened:
        page.evaluate("window.open('/auth/plex/done', 'medianest-plex', 'popup')")
    wait_closed(opened.value)

    # Opened by hand (the "Open the Plex sign-in page" link), the browser keeps it open: it says
    # what to do, and shows nothing else.
    for name, viewport in (("desktop", WIDE), ("mobile", MOBILE)):
        tab = new_context(viewport).new_page()
        tab.goto("/auth/plex/done")
        expect(tab.get_by_role("heading", level=1)).to_have_text("You can close this window")
        expect(tab.locator("main")).to_contain_text("Go back to the MediaNest window")
        expect(tab.get_by_role("link", name="Sign in")).to_have_count(0)
        screenshot(tab, f"plex-done-{name}")


def test_cancelling_closes_the_plex_window(page: Page, plex_tv: FakePlexTv) -> None:
    page.goto("/login")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Sign in with Plex").click()
    popup = opened.value
    popup.wait_for_url(f"{plex_tv.url}/auth**")
    expect(page.get_by_role("status")).to_contain_text("Waiting for you to approve")

    page.get_by_role("button", name="Cancel").click()

    wait_closed(popup)
    expect(page.get_by_role("button", name="Sign in with Plex")).to_be_enabled()
