"""The library pages against a fake plex.tv and a fake Plex server: who sees which page, and
that a shared user sees only the libraries shared with them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.integration.web.conftest import MEMBER_PASSWORD, PAGE, AppFactory, browse
from tests.support.app import Started, started
from tests.support.plex import FRIEND_SERVER_TOKEN, shared_with


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    """The Plex server; the friend's own server token sees Movies and TV Shows, not YouTube."""
    return shared_with(plex_server, FRIEND_SERVER_TOKEN, "1", "2")


@pytest.fixture
async def medianest(plex_settings: SettingsFactory) -> AsyncIterator[Started]:
    async with started(create_app(plex_settings())) as app:
        yield app


async def page(http: httpx.AsyncClient, path: str) -> httpx.Response:
    return await http.get(path, headers=PAGE)


def tabs(html: str) -> list[str]:
    nav = re.search(r'<nav class="library-tabs".*?</nav>', html, re.S)
    assert nav, "the page shows the library tabs"
    return re.findall(r'<a href="/library/\d+"[^>]*>([^<]+)</a>', nav.group(0))


def titles(html: str) -> list[str]:
    grid = re.search(r"<ul class=\"poster-grid\".*?</ul>", html, re.S)
    assert grid, "the page shows a poster grid"
    return re.findall(r'<span class="poster-title">([^<]+)</span>', grid.group(0))


class TestSignInFirst:
    @pytest.mark.parametrize(
        ("path", "login"),
        [
            ("/library", "/login?next=/library"),
            ("/library/1?sort=year", "/login?next=/library/1%3Fsort%3Dyear"),
            ("/library/items/1001", "/login?next=/library/items/1001"),
            ("/library/1/collections", "/login?next=/library/1/collections"),
            ("/search?q=alien", "/login?next=/search%3Fq%3Dalien"),
        ],
    )
    async def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(
        self, make_app: AppFactory, path: str, login: str
    ) -> None:
        async with browse(make_app()) as browser:
            response = await browser.page(path)

        assert response.status_code == 303
        assert response.headers["location"] == login


class TestBrowsing:
    async def test_the_library_opens_on_the_first_library_with_every_title(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await page(admin, "/library")

        assert response.status_code == 200
        assert tabs(response.text) == ["Movies", "TV Shows", "YouTube"]
        assert titles(response.text) == [
            "Alien",
            "Aliens",
            "Arrival",
            "Blade Runner",
            "Ex Machina",
            "The Matrix",
        ]
        assert "Recently added" in response.text
        assert 'loading="lazy"' in response.text
        assert 'width="300" height="450"' in response.text
        # The Content-Security-Policy allows no inline style or script.
        assert " style=" not in response.text
        assert "<script>" not in response.text

    async def test_a_sort_picked_in_the_address_orders_the_grid(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await page(admin, "/library/1?sort=year")

        assert titles(response.text)[:2] == ["Arrival", "Ex Machina"]
        assert '<option value="year" selected>' in response.text

    async def test_an_unknown_sort_lists_by_title(self, admin: httpx.AsyncClient) -> None:
        response = await page(admin, "/library/1?sort=bogus")

        assert response.status_code == 200
        assert titles(response.text)[0] == "Alien"

    async def test_a_long_library_links_to_its_next_page(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.library.add_items("1", 50)

        first = await page(admin, "/library/1")
        second = await page(admin, "/library/1?sort=title&page=2")

        assert len(titles(first.text)) == 40
        assert 'href="/library/1?sort=title&amp;page=2" rel="next"' in first.text
        assert len(titles(second.text)) == 16
        assert 'rel="next"' not in second.text
        assert "Recently added" not in second.text

    async def test_a_show_lists_its_seasons_and_their_episodes_with_a_link_to_plex(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        show = fake.library.find("Breaking Bad").rating_key

        response = await page(friend, f"/library/items/{show}")

        assert response.status_code == 200
        assert "<h1>Breaking Bad</h1>" in response.text
        assert response.text.count('class="season"') == 2
        assert response.text.count('class="episode"') == 6
        assert "Episode 2x03" in response.text
        assert "45 min" in response.text
        assert (
            f"https://app.plex.tv/desktop/#!/server/{fake.machine_identifier}"
            f"/details?key=%2Flibrary%2Fmetadata%2F{show}"
        ) in response.text
        assert 'href="/library/2"' in response.text

    async def test_an_episode_leads_back_to_its_season(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        episode = fake.library.find("Episode 2x01")

        response = await page(friend, f"/library/items/{episode.rating_key}")

        assert "<h1>Episode 2x01</h1>" in response.text
        assert "Breaking Bad, season 2 episode 1" in response.text
        assert f'href="/library/items/{episode.parent_key}"' in response.text
        assert "Back to Breaking Bad, Season 2" in response.text

    async def test_a_movie_shows_its_running_time(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        movie = fake.library.find("Alien").rating_key

        response = await page(admin, f"/library/items/{movie}")

        assert "<h1>Alien</h1>" in response.text
        assert "1 h 40 min" in response.text
        assert "Sigourney Weaver" in response.text

    async def test_collections_are_listed_and_open(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        collection = fake.library.find("Alien Collection").rating_key

        listing = await page(friend, "/library/1/collections")
        details = await page(friend, f"/library/collections/{collection}")

        assert titles(listing.text) == ["Alien Collection"]
        assert f'href="/library/collections/{collection}"' in listing.text
        assert details.status_code == 200
        assert "<h1>Alien Collection</h1>" in details.text
        assert titles(details.text) == ["Alien", "Aliens"]

    async def test_the_results_page_shows_what_matches(self, friend: httpx.AsyncClient) -> None:
        response = await page(friend, "/search?q=alien")

        assert response.status_code == 200
        assert set(titles(response.text)) == {"Alien", "Aliens", "Alien Collection"}

    async def test_the_results_page_without_a_query_asks_for_one(
        self, friend: httpx.AsyncClient
    ) -> None:
        response = await page(friend, "/search")

        assert response.status_code == 200
        assert "Search the library" in response.text


class TestPrivacy:
    async def test_a_shared_user_sees_only_the_tabs_of_the_libraries_shared_with_them(
        self, friend: httpx.AsyncClient
    ) -> None:
        response = await page(friend, "/library")

        assert tabs(response.text) == ["Movies", "TV Shows"]

    async def test_a_library_not_shared_is_not_found(
        self, friend: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        clip = fake.library.find("Knife Skills 101").rating_key

        library = await page(friend, "/library/3")
        collections = await page(friend, "/library/3/collections")
        item = await page(friend, f"/library/items/{clip}")
        found = await page(friend, "/search?q=knife")

        assert library.status_code == collections.status_code == item.status_code == 404
        assert "Knife Skills" not in library.text + item.text + found.text

    async def test_a_member_gets_no_administrators_controls(
        self, friend: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        member = await page(friend, "/library/1")
        owner = await page(admin, "/library/1")

        assert "Manage this library" not in member.text
        assert "data-pick" not in member.text
        assert "Manage this library" in owner.text
        assert "data-pick" in owner.text


class TestWithoutPlex:
    async def test_no_server_connected_is_explained_and_the_admin_is_shown_where_to_fix_it(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            response = await browser.page("/library")

        assert response.status_code == 503
        assert "MediaNest isn't connected to a Plex server yet" in response.text
        assert 'href="/admin/plex"' in response.text

    async def test_a_local_member_is_asked_to_sign_in_with_plex(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            response = await browser.page("/library")

        assert response.status_code == 403
        assert "Sign in with Plex to browse the library." in response.text

    async def test_plex_down_with_nothing_held_gets_the_outage_page(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.failing(500)

        response = await page(admin, "/library")

        assert response.status_code == 503
        assert "A service is not available right now" in response.text
        assert "Plex" in response.text

    async def test_what_was_seen_before_is_shown_with_a_banner_saying_so(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        await page(admin, "/library")
        # The fresh answers expire; what was held stays.
        await medianest.state["platform"].cache.invalidate_pattern("plex:owner:*")
        fake.failing(500)

        response = await page(admin, "/library")

        assert response.status_code == 200
        assert "Plex is unreachable; showing the library as" in response.text
        assert titles(response.text)[0] == "Alien"
