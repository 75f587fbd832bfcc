"""Browsing the Plex library in the browser: tabs, endless grid, sorting, a show's page, the
header search, collections, and an administrator making a collection from selected titles."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    ContextFactory,
    Site,
    SiteFactory,
    api,
    horizontal_overflow,
    screenshot,
    set_up_admin,
)
from tests.fakes.plex_server import MACHINE_IDENTIFIER, OWNER_TOKEN, FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.support.plex import add_friend, fresh, plex_overrides, shared_with

pytestmark = pytest.mark.browser

ALICE = "token-of-alice"
ALICE_ON_THE_SERVER = "alice-token-for-the-server"
SMALLEST = ViewportSize(width=320, height=640)


@pytest.fixture
def plex_server(plex_fakes: tuple[FakePlexTv, FakePlexServer]) -> FakePlexServer:
    """The seeded library; alice's own token sees Movies and TV Shows, not YouTube."""
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
    return make_site(**plex_overrides(plex_tv.url, plex_server))


def sign_in_with_plex(context: BrowserContext, plex_tv: FakePlexTv, token: str = ALICE) -> None:
    """What the Plex popup does, straight through the API."""
    pin = api(context, "POST", "/auth/plex/pin", {})
    plex_tv.approve(pin["id"], token)
    api(context, "POST", "/auth/plex/verify", {"pinId": pin["id"]})


@pytest.fixture
def alice(new_context: ContextFactory, plex_tv: FakePlexTv) -> Page:
    context = new_context()
    sign_in_with_plex(context, plex_tv)
    return context.new_page()


@pytest.fixture
def music(plex_server: FakePlexServer) -> FakePlexServer:
    """The seeded library and a Music library (key 4) that alice may see too."""
    plex_server.library.add_music()
    plex_server.library.share(ALICE_ON_THE_SERVER, "1", "2", "4")
    return plex_server


def grid_titles(page: Page) -> list[str]:
    return page.locator("[data-grid] .poster-title").all_inner_texts()


def aspect_ratio(locator: Locator) -> float:
    """Width over height of the element as drawn."""
    box = locator.bounding_box()
    assert box is not None, "the element is drawn"
    return float(box["width"]) / float(box["height"])


def scrolled(row: Locator) -> float:
    return float(row.evaluate("row => row.scrollLeft"))


def test_a_library_shows_its_titles_and_loads_more_as_you_scroll(
    alice: Page, plex_server: FakePlexServer
) -> None:
    plex_server.library.add_items("1", 60)
    plex_server.library.add_movie("1", "A Home Video", year=2021, wire={"thumb": None})
    alice.goto("/library")

    tabs = alice.get_by_role("navigation", name="Libraries").get_by_role("link")
    expect(tabs).to_have_text(["Movies", "TV Shows"])
    expect(alice.get_by_role("heading", level=1)).to_have_text("Movies")
    expect(alice.get_by_role("heading", name="Recently added")).to_be_visible()
    expect(alice.locator("[data-grid] > li")).to_have_count(40)
    expect(alice.locator("[data-grid] > li").first.locator(".poster-empty")).to_be_visible()
    screenshot(alice, "library-desktop")

    alice.locator("[data-load-more]").scroll_into_view_if_needed()

    expect(alice.locator("[data-grid] > li")).to_have_count(67)
    expect(alice.get_by_role("link", name="Load more")).to_have_count(0)
    expect(alice.locator("[data-more-status]")).to_have_text("67 titles shown.")


def test_the_sort_applies_at_once_and_stays_in_the_address(alice: Page, site: Site) -> None:
    alice.goto("/library/1")
    expect(alice.get_by_role("button", name="Sort")).to_be_hidden()

    alice.get_by_label("Sort by").select_option("year")

    expect(alice).to_have_url(site.at("/library/1?sort=year"))
    assert grid_titles(alice)[:3] == ["Arrival", "Ex Machina", "The Matrix"]
    alice.get_by_label("Sort by").select_option("title")
    expect(alice).to_have_url(site.at("/library/1?sort=title"))
    assert grid_titles(alice)[0] == "Alien"


def test_a_show_opens_with_its_seasons_and_episodes(alice: Page) -> None:
    alice.goto("/library")
    alice.get_by_role("navigation", name="Libraries").get_by_role("link", name="TV Shows").click()
    alice.locator("[data-grid]").get_by_role("link", name=re.compile("^Breaking Bad")).click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Breaking Bad")
    seasons = alice.locator("details.season")
    expect(seasons).to_have_count(2)
    expect(seasons.nth(0).get_by_role("link", name="Episode 1x03")).to_be_visible()
    expect(seasons.nth(1).get_by_role("link", name="Episode 2x01")).to_be_hidden()
    seasons.nth(1).locator("summary").click()
    expect(seasons.nth(1).get_by_role("link", name="Episode 2x01")).to_be_visible()
    plex = alice.get_by_role("link", name="Open in Plex")
    expect(plex).to_have_attribute(
        "href", re.compile(rf"^https://app\.plex\.tv/desktop/#!/server/{MACHINE_IDENTIFIER}/")
    )
    screenshot(alice, "library-show-desktop")

    alice.get_by_role("link", name="Back to TV Shows").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("TV Shows")


def test_the_header_search_finds_titles_as_you_type(alice: Page, site: Site) -> None:
    alice.goto("/")
    box = alice.get_by_role("combobox", name="Search the library")

    box.press_sequentially("alie", delay=30)

    options = alice.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_text(
        [
            re.compile("^Alien.*Movie"),
            re.compile("^Aliens.*Movie"),
            re.compile("^Alien Collection"),
            "See all results for “alie”",
        ]
    )
    expect(box).to_have_attribute("aria-expanded", "true")
    for thumb in alice.locator("img.search-thumb").all():
        expect(thumb).to_have_js_property("complete", True)
    screenshot(alice, "search-dropdown-desktop")

    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "header-search-results-1")
    box.press("Escape")
    expect(alice.get_by_role("listbox")).to_be_hidden()
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")

    expect(alice.get_by_role("heading", level=1)).to_have_text("Aliens")

    alice.get_by_role("combobox", name="Search the library").fill("breaking")
    alice.get_by_role("combobox", name="Search the library").press("Enter")
    expect(alice).to_have_url(site.at("/search?q=breaking"))
    expect(alice.get_by_role("heading", level=1)).to_have_text("Results for “breaking”")
    expect(alice.locator(".poster-grid .poster-title")).to_have_text(["Breaking Bad"])


def test_music_has_square_covers_an_artist_lists_albums_and_an_album_its_tracks(
    music: FakePlexServer, alice: Page, new_context: ContextFactory, plex_tv: FakePlexTv
) -> None:
    alice.goto("/library")
    alice.get_by_role("navigation", name="Libraries").get_by_role("link", name="Music").click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Music")
    assert grid_titles(alice) == ["Miles Davis", "Nina Simone"]
    artist = alice.locator("[data-grid] .poster-card").first
    assert aspect_ratio(artist.locator(".poster")) == pytest.approx(1, abs=0.02)
    recent = alice.locator("[data-shelf-row] .poster").first
    assert aspect_ratio(recent) == pytest.approx(1, abs=0.02)
    screenshot(alice, "library-music-desktop")
    artist.get_by_role("link").click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Miles Davis")
    assert aspect_ratio(alice.locator(".title-poster .poster")) == pytest.approx(1, abs=0.02)
    albums = alice.get_by_role("region", name="Albums").locator(".poster-title")
    expect(albums).to_have_text(["Kind of Blue", "Sketches of Spain"])
    screenshot(alice, "library-artist-desktop")
    alice.get_by_role("link", name=re.compile("^Kind of Blue")).click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Kind of Blue")
    expect(alice.locator(".kicker")).to_have_text("Album · Miles Davis")
    tracks = alice.get_by_role("region", name="Tracks").get_by_role("listitem")
    expect(tracks).to_have_count(5)
    expect(tracks.first).to_have_text(re.compile(r"^\s*1\s*So What\s*Length 3:17\s*$"))
    expect(tracks.nth(4)).to_contain_text("Flamenco Sketches")
    expect(alice.locator(".facts")).to_contain_text("5 tracks")
    screenshot(alice, "library-album-desktop")
    alice.get_by_role("link", name="Back to Miles Davis").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Miles Davis")

    box = alice.get_by_role("combobox", name="Search the library")
    box.press_sequentially("nina", delay=30)
    found = alice.get_by_role("listbox").get_by_role("option").first
    expect(found).to_have_text(re.compile("^Nina Simone.*Artist"))
    assert aspect_ratio(found.locator(".search-thumb")) == pytest.approx(1, abs=0.02)

    phone = new_context(MOBILE)
    sign_in_with_plex(phone, plex_tv)
    small = phone.new_page()
    small.goto(f"/library/items/{music.library.find('Kind of Blue').rating_key}")
    expect(small.get_by_role("region", name="Tracks").get_by_role("listitem")).to_have_count(5)
    assert horizontal_overflow(small) <= 0
    screenshot(small, "library-album-mobile")


def test_the_results_page_says_how_many_were_found_and_pages_through_them(
    alice: Page,
    plex_server: FakePlexServer,
    site: Site,
    new_context: ContextFactory,
    plex_tv: FakePlexTv,
) -> None:
    plex_server.library.add_items("1", 50, prefix="Starlight")
    alice.goto("/search?q=starlight")

    expect(alice.locator(".page-head .lead")).to_have_text(
        "50 titles found in all; this page shows 1 to 40."
    )
    results = alice.locator(".poster-grid .poster-title")
    expect(results).to_have_count(40)
    first_page = set(results.all_inner_texts())
    expect(alice.get_by_text("Page 1 of 2")).to_be_visible()
    expect(alice.get_by_role("link", name="Previous page")).to_have_count(0)
    screenshot(alice, "search-pages-desktop")
    alice.get_by_role("link", name="Next page").click()

    expect(alice).to_have_url(site.at("/search?q=starlight&page=2"))
    expect(results).to_have_count(10)
    assert first_page.isdisjoint(results.all_inner_texts())
    assert len(first_page | set(results.all_inner_texts())) == 50
    expect(alice.locator(".page-head .lead")).to_contain_text("this page shows 41 to 50")
    expect(alice.get_by_role("link", name="Next page")).to_have_count(0)
    alice.get_by_role("link", name="Previous page").click()
    expect(alice).to_have_url(site.at("/search?q=starlight"))

    phone = new_context(MOBILE)
    sign_in_with_plex(phone, plex_tv)
    small = phone.new_page()
    small.goto("/search?q=starlight&page=2")
    expect(small.get_by_text("Page 2 of 2")).to_be_visible()
    assert horizontal_overflow(small) <= 0
    screenshot(small, "search-pages-mobile")


def test_the_recently_added_row_scrolls_with_buttons_at_its_edges(
    alice: Page, plex_server: FakePlexServer, new_context: ContextFactory, plex_tv: FakePlexTv
) -> None:
    plex_server.library.add_items("1", 12, prefix="Fresh")
    alice.goto("/library/1")
    row = alice.locator("[data-shelf-row]")
    back = alice.get_by_role("button", name="Scroll back through recently added")
    on = alice.get_by_role("button", name="Scroll on through recently added")
    last = row.locator(".poster-card").last

    expect(on).to_be_visible()
    expect(back).to_be_hidden()
    expect(last).not_to_be_in_viewport()
    screenshot(alice, "library-shelf-desktop")
    on.click()

    expect(back).to_be_visible()
    # Moved on by about a page: the ninth title, out of sight before, is in view.
    expect(row.locator(".poster-card").nth(8)).to_be_in_viewport()
    expect(row.locator(".poster-card").first).not_to_be_in_viewport()
    # By keyboard: the button is focusable, and at the end its focus moves to the other one.
    # Without motion each press scrolls at once, so the end is known after each.
    alice.emulate_media(reduced_motion="reduce")
    on.focus()
    for _ in range(10):
        alice.keyboard.press("Enter")
        if row.evaluate("row => row.scrollLeft + row.clientWidth >= row.scrollWidth - 1"):
            break
    expect(on).to_be_hidden()
    expect(last).to_be_in_viewport()
    expect(back).to_be_focused()
    alice.keyboard.press("Enter")
    expect(on).to_be_visible()

    phone = new_context(MOBILE)
    sign_in_with_plex(phone, plex_tv)
    small = phone.new_page()
    small.goto("/library/1")
    small_row = small.locator("[data-shelf-row]")
    small_back = small.get_by_role("button", name="Scroll back through recently added")
    expect(small.get_by_role("button", name="Scroll on through recently added")).to_be_visible()
    assert horizontal_overflow(small) <= 0
    screenshot(small, "library-shelf-mobile")
    box = small_row.bounding_box()
    assert box is not None
    # A sideways swipe or trackpad scroll moves the row itself, and the buttons follow it.
    small.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    small.mouse.wheel(400, 0)
    expect(small_back).to_be_visible()
    assert scrolled(small_row) > 0


def test_collections_are_listed_and_open(alice: Page) -> None:
    alice.goto("/library/1")
    alice.get_by_role("navigation", name="Movies").get_by_role("link", name="Collections").click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Movies: collections")
    screenshot(alice, "library-collections-desktop")
    alice.get_by_role("link", name=re.compile("^Alien Collection")).click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Alien Collection")
    expect(alice.locator("[data-grid] .poster-title")).to_have_text(["Alien", "Aliens"])
    screenshot(alice, "library-collection-desktop")


def test_an_admin_makes_a_collection_from_selected_titles(
    new_context: ContextFactory, plex_server: FakePlexServer
) -> None:
    context = new_context()
    set_up_admin(context)
    page = context.new_page()
    page.goto("/library/1")

    tabs = page.get_by_role("navigation", name="Libraries").get_by_role("link")
    expect(tabs).to_have_text(["Movies", "TV Shows", "YouTube"])
    page.get_by_text("Manage this library").click()
    page.get_by_role("button", name="Refresh library").click()
    expect(page.locator("[data-refresh-status]")).to_contain_text("Plex is looking for new files")
    page.get_by_role("button", name="Select titles").click()
    page.locator("[data-grid]").get_by_role("link", name=re.compile("^Blade Runner")).click()
    page.get_by_role("checkbox", name="Select The Matrix").check()
    expect(page.locator("[data-select-count]")).to_have_text("2 titles selected.")
    page.get_by_placeholder("Collection name").fill("Cyberpunk")
    screenshot(page, "library-select-desktop")
    page.get_by_role("button", name="Create collection").click()

    done = page.locator("[data-collection-status]")
    expect(done).to_contain_text("The collection “Cyberpunk” was created with 2 titles.")
    expect(page.locator("[data-select-bar]")).to_be_hidden()
    done.get_by_role("link", name="Open it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cyberpunk")
    expect(page.locator("[data-grid] .poster-title")).to_have_text(["Blade Runner", "The Matrix"])


def test_a_library_not_shared_has_no_tab_and_no_page(alice: Page) -> None:
    alice.goto("/library")
    expect(alice.get_by_role("navigation", name="Libraries")).not_to_contain_text("YouTube")

    response = alice.goto("/library/3")

    assert response is not None and response.status == 404
    expect(alice.get_by_role("heading", level=1)).to_have_text("We could not find that page")


def test_library_pages_fit_a_phone(
    new_context: ContextFactory, plex_tv: FakePlexTv, plex_server: FakePlexServer
) -> None:
    show = plex_server.library.find("Breaking Bad").rating_key
    collection = plex_server.library.find("Alien Collection").rating_key
    pages = {
        "library": ("/library", "Movies"),
        "library-collections": ("/library/1/collections", "Movies: collections"),
        "library-collection": (f"/library/collections/{collection}", "Alien Collection"),
        "library-show": (f"/library/items/{show}", "Breaking Bad"),
        "search-results": ("/search?q=alien", "Results for “alien”"),
    }
    for viewport, size in {"mobile": MOBILE, "320": SMALLEST}.items():
        context = new_context(size)
        sign_in_with_plex(context, plex_tv)
        page = context.new_page()
        for name, (path, heading) in pages.items():
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at {viewport} px"
            if viewport == "mobile":
                screenshot(page, f"{name}-mobile")

        page.goto("/library")
        page.get_by_role("combobox", name="Search the library").press_sequentially("alie")
        expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(4)
        assert horizontal_overflow(page) <= 0, f"the search list scrolls sideways at {viewport} px"
        if viewport == "mobile":
            screenshot(page, "search-dropdown-mobile")


def test_without_a_plex_server_the_admin_is_shown_where_to_connect_one(
    make_site: SiteFactory, browser: Browser
) -> None:
    bare = make_site()
    context = browser.new_context(viewport=DESKTOP, base_url=bare.url)
    try:
        set_up_admin(context)
        page = context.new_page()

        page.goto("/library")

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "MediaNest isn't connected to a Plex server yet"
        )
        expect(page.get_by_role("link", name="Connect a Plex server")).to_have_attribute(
            "href", "/admin/plex"
        )
        screenshot(page, "library-not-connected-desktop")
    finally:
        context.close()
