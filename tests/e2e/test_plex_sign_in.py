"""Signing in with Plex: the popup opens the (fake) app.plex.tv page, the user approves there, and
the page they started from lands signed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site, SiteFactory, screenshot
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


def _approve_in_popup(page: Page, plex_tv: FakePlexTv, username: str, shot: str = "") -> None:
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Sign in with Plex").click()
    popup = opened.value
    popup.wait_for_url(f"{plex_tv.url}/auth**")
    expect(page.get_by_role("status")).to_contain_text("Waiting for you to approve")
    if shot:
        screenshot(page, shot)
    popup.get_by_role("button", name=f"Sign in as {username}").click()


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
        ["Home", "Library", "Help", "Account"]
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
