"""A person scrolling a large library as fast as the page lets them, searching on the way: every
poster loads, nothing is refused, and signing out still works afterwards. A poster that cannot
load is a calm frame with the title in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.conftest import ContextFactory, Site, SiteFactory, api, screenshot
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.support.plex import add_friend, fresh, plex_overrides, shared_with

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ALICE = "token-of-alice"
ALICE_ON_THE_SERVER = "alice-token-for-the-server"
TITLES = 3_000

BROKEN_IMAGES = """() => [...document.querySelectorAll("img.poster")]
    .filter((img) => img.complete && img.naturalWidth === 0).length"""
# Every poster in view has finished (loaded, or fallen back to its frame). Waited for instead of
# an idle network, which a loaded machine may not reach in a few seconds while posters arrive.
POSTERS_IN_VIEW_SETTLED = """() => [...document.querySelectorAll("img.poster")]
    .filter((img) => {
        const box = img.getBoundingClientRect();
        return box.bottom > 0 && box.top < window.innerHeight;
    })
    .every((img) => img.complete)"""


@pytest.fixture
def plex_server(plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> FakePlexServer:
    _, server = plex_fakes
    return shared_with(server, ALICE_ON_THE_SERVER, "1", "2")


@pytest.fixture
def plex_tv(
    plex_fakes: tuple[FakePlexTv, FakePlexServer], plex_server: FakePlexServer
) -> FakePlexTv:
    plex_tv, _ = plex_fakes
    fresh(plex_tv)
    plex_tv.add_account(OWNER_TOKEN, id=1, username="owner")
    add_friend(plex_tv, plex_server, ALICE, ALICE_ON_THE_SERVER, account_id=2, username="alice")
    return plex_tv


@pytest.fixture
def site(make_site: SiteFactory, plex_tv: FakePlexTv, plex_server: FakePlexServer) -> Site:
    # The defaults are what is under test here: no allowance is raised for this test.
    return make_site(**plex_overrides(plex_tv.url, plex_server))


@pytest.fixture
def alice(new_context: ContextFactory, plex_tv: FakePlexTv) -> Page:
    context = new_context()
    pin = api(context, "POST", "/auth/plex/pin", {})
    plex_tv.approve(pin["id"], ALICE)
    api(context, "POST", "/auth/plex/verify", {"pinId": pin["id"]})
    return context.new_page()


def test_a_fast_scroll_through_thousands_of_titles_loads_every_poster(
    alice: Page, plex_server: FakePlexServer
) -> None:
    plex_server.library.add_items("1", TITLES)
    refused: list[str] = []
    api_calls: list[str] = []
    images: list[str] = []

    def on_response(response: Response) -> None:
        if response.status == 429:
            refused.append(response.url)
        if "/api/v1/plex/image" in response.url:
            images.append(response.url)
        elif "/api/v1/" in response.url:
            api_calls.append(response.url)

    alice.on("response", on_response)
    alice.goto("/library/1")
    cards = alice.locator("[data-grid] > li")
    expect(cards).to_have_count(40)

    # As fast as the page can keep up: jump to the end again as soon as more titles arrived.
    shown = 40
    while alice.locator("[data-more]").count():
        alice.keyboard.press("End")
        # Each page of titles waits behind the forty posters of the one before: on a machine
        # busy with other work that can take a while, and the test is about what arrives.
        expect(cards).not_to_have_count(shown, timeout=60_000)
        shown = cards.count()
    assert shown > TITLES

    # Back up through the grid, past posters the fast scroll skipped, and search on the way.
    search = alice.get_by_role("combobox", name="Search the library")
    for word in ("Generated 12", "Generated 2999", "Alien"):
        alice.keyboard.press("Home")
        search.fill("")
        search.press_sequentially(word, delay=80)
        expect(alice.get_by_role("listbox").get_by_role("option").first).to_be_visible()
        for fraction in (0.9, 0.6, 0.3):
            alice.evaluate(f"window.scrollTo(0, document.body.scrollHeight * {fraction})")
            alice.wait_for_function(POSTERS_IN_VIEW_SETTLED, timeout=120_000)

    assert refused == []
    assert alice.evaluate(BROKEN_IMAGES) == 0
    assert alice.locator(".poster-missing").count() == 0
    # The figures behind the default allowances (docs/configuration.md).
    print(f"during the scroll and searches: {len(api_calls)} API requests, {len(images)} images")

    alice.get_by_role("button", name="Sign out").click()
    expect(alice).to_have_url(re.compile("/login"))


def test_a_poster_that_cannot_load_shows_the_title_in_a_plain_frame(
    alice: Page, plex_server: FakePlexServer
) -> None:
    plex_server.library.add_movie(
        "1", "Lost Art", year=2020, wire={"thumb": "/library/metadata/999999/thumb/1"}
    )
    alice.goto("/library/1?sort=addedAt")

    card = alice.locator("[data-grid] > li", has_text="Lost Art")
    frame = card.locator(".poster-missing")
    expect(frame).to_be_visible()
    expect(frame).to_have_text("Lost Art")
    assert alice.evaluate(BROKEN_IMAGES) == 0
    screenshot(alice, "library-missing-poster")

    card.get_by_role("link").click()
    expect(alice.locator(".title-poster .poster-missing")).to_have_text("Lost Art")
