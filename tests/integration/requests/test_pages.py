"""The requests pages as a browser gets them: who may open which, what they show with Overseerr
connected, not connected yet, and down."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fakes.overseerr import REQUEST, FakeOverseerr
from tests.integration.auth.conftest import finish_first_run
from tests.integration.requests.conftest import ask, connect, member
from tests.integration.web.conftest import PAGE
from tests.support.app import Started

MOVIE, OTHER_MOVIE, SHOW = 945961, 550, 1399
ALICE_PLEX, BOB_PLEX = 111, 222


@pytest.fixture
def overseerr(overseerr_server: FakeOverseerr) -> FakeOverseerr:
    overseerr_server.reset()
    overseerr_server.healthy()
    overseerr_server.add_movie(MOVIE, "Alien: Romulus", year=2024)
    overseerr_server.add_movie(OTHER_MOVIE, "Alien Nation", year=1988)
    overseerr_server.add_show(SHOW, "Game of Thrones", seasons={1: 10, 2: 10, 3: 10})
    overseerr_server.add_user("alice", plex_id=ALICE_PLEX, permissions=REQUEST)
    overseerr_server.add_user("bob", plex_id=BOB_PLEX, permissions=REQUEST)
    return overseerr_server


async def page(http: httpx.AsyncClient, path: str) -> httpx.Response:
    return await http.get(path, headers=PAGE)


def cards(html: str) -> dict[str, str]:
    """Each poster's title and the text of its state (badge and action)."""
    found = {}
    for card in re.findall(r"<li class=\"poster-card title-card\".*?</li>", html, re.S):
        name = re.search(r'data-name="([^"]+)"', card)
        state = re.search(
            r"<div class=\"title-state\" data-state>(.*?)<p class=\"title-note\"", card, re.S
        )
        assert name and state, card
        text = " ".join(re.sub(r"<[^>]+>", " ", state.group(1)).split())
        found[name.group(1)] = text
    return found


class TestWhoMayOpen:
    async def test_an_anonymous_visitor_is_sent_to_sign_in(self, connected: Started) -> None:
        async with connected.client() as http:
            response = await page(http, "/requests?q=alien")

        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/requests%3Fq%3Dalien"

    async def test_a_member_gets_403_on_the_requests_service_page(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            response = await page(alice, "/admin/requests/service")
            home = await page(alice, "/")

        assert response.status_code == 403
        assert "This page is not for you" in response.text
        assert "admin_service.js" not in response.text
        assert "/admin/requests/service" not in home.text


class TestRequestsPage:
    async def test_a_member_gets_the_discover_rows_and_the_navigation_entry(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            response = await page(alice, "/requests")
            home = await page(alice, "/")

        assert response.status_code == 200
        for row in ("Trending", "Popular movies", "Popular shows", "Upcoming movies"):
            assert f">{row}</h2>" in response.text
        assert 'href="/requests" aria-current="page"' in response.text
        assert "image.tmdb.org/t/p/w342/" in response.text
        assert "Request a movie or show" in home.text
        nav = re.findall(r'<nav class="side-nav".*?</nav>', home.text, re.S)[0]
        labels = re.findall(r"<span>([^<]+)</span>", nav)
        assert labels.index("Library") < labels.index("Requests") < labels.index("Help")

    async def test_a_search_is_rendered_with_each_titles_state(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with (
            member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice,
            member(connected, database_url, "bob", plex_id=BOB_PLEX) as bob,
        ):
            assert (await ask(alice, "movie", MOVIE)).status_code == 201
            alices = await page(alice, "/requests?q=alien")
            bobs = await page(bob, "/requests?q=alien")

        assert alices.status_code == 200
        assert "Results for “alien”" in alices.text
        assert cards(alices.text)["Alien: Romulus"] == "Requested by you My request"
        assert cards(alices.text)["Alien Nation"] == "Request"
        assert cards(bobs.text)["Alien: Romulus"] == "Requested Notify me too"
        assert re.search(r'href="/requests/mine#request-[0-9a-f-]{36}"', alices.text)

    async def test_an_admin_sees_the_not_connected_page_with_where_to_connect(
        self, admin: httpx.AsyncClient
    ) -> None:
        response = await page(admin, "/requests")

        assert response.status_code == 503
        assert "MediaNest isn't connected to Overseerr yet" in response.text
        assert 'href="/admin/requests/service"' in response.text

    async def test_a_member_is_told_nothing_is_theirs_to_do_while_not_connected(
        self, medianest: Started, database_url: str
    ) -> None:
        async with member(medianest, database_url, "alice") as alice:
            response = await page(alice, "/requests")
            mine = await page(alice, "/requests/mine")

        assert response.status_code == 503
        assert "Nothing to do on your side." in response.text
        assert 'href="/admin/requests/service"' not in response.text
        # What they asked for is MediaNest's own: the list still opens.
        assert mine.status_code == 200

    async def test_while_overseerr_is_down_the_page_says_so_and_lists_their_requests(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await ask(alice, "movie", MOVIE)
            overseerr.down()
            response = await page(alice, "/requests")
            mine = await page(alice, "/requests/mine")

        assert response.status_code == 200
        assert "Overseerr is unreachable; requests are paused until it is back." in response.text
        assert "Your latest requests" in response.text
        assert "Alien: Romulus" in response.text
        assert mine.status_code == 200


class TestTitlePages:
    async def test_a_show_lists_its_seasons_with_their_states(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            await ask(alice, "tv", SHOW, seasons=[1])
            response = await page(alice, f"/requests/tv/{SHOW}")

        assert response.status_code == 200
        assert "<h1>Game of Thrones</h1>" in response.text
        assert re.search(r'id="season-1" name="season" value="1" disabled>', response.text)
        assert re.search(r'id="season-2" name="season" value="2">', response.text)
        assert "Request selected seasons" in response.text
        assert "Request all seasons" in response.text
        # Nobody here may ask for 4K.
        assert "In 4K" not in response.text

    async def test_a_movie_offers_the_request_button(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            response = await page(alice, f"/requests/movie/{MOVIE}")

        assert response.status_code == 200
        assert "<h1>Alien: Romulus</h1>" in response.text
        assert 'data-ask="movie"' in response.text


class TestMarkup:
    async def test_no_page_has_inline_scripts_or_styles(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            pages = [
                await page(alice, path)
                for path in (
                    "/requests",
                    "/requests?q=alien",
                    "/requests/discover/trending?page=2",
                    f"/requests/movie/{MOVIE}",
                    f"/requests/tv/{SHOW}",
                    "/requests/mine",
                )
            ]

        for response in pages:
            assert response.status_code == 200, response.url
            assert not re.search(r"<[^>]+ (style|on\w+)=", response.text), response.url
            assert not re.search(r"<script(?![^>]* src=)", response.text), response.url


class TestMyRequests:
    async def test_the_page_presets_its_filters_from_the_address(
        self, connected: Started, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        async with member(connected, database_url, "alice", plex_id=ALICE_PLEX) as alice:
            response = await page(alice, "/requests/mine?status=pending&mediaType=bogus")

        assert response.status_code == 200
        assert "<h1>My requests</h1>" in response.text
        assert '<option value="pending" selected>' in response.text
        assert '<option value="movie" selected>' not in response.text


class TestRequestsServicePage:
    async def test_an_admin_connects_from_the_page_and_gets_the_webhook(
        self, admin: httpx.AsyncClient, overseerr: FakeOverseerr
    ) -> None:
        before = await page(admin, "/admin/requests/service")
        assert (await connect(admin, overseerr.url, overseerr.api_key)).status_code == 200
        after = await page(admin, "/admin/requests/service")
        home = await page(admin, "/")

        assert before.status_code == 200
        assert "Not connected" in before.text
        assert 'href="/admin/requests/service" aria-current="page"' in before.text
        assert "Add Plex users Overseerr doesn't know yet" in before.text
        assert "Leave it empty to keep the saved key" in after.text
        assert re.search(r'value="[^"]*mnw_[^"]+" data-webhook-authorization', after.text)
        assert "/api/v1/webhooks/overseerr" in after.text
        assert overseerr.api_key not in after.text
        assert "Connect Overseerr for requests" in home.text

    async def test_the_setup_checklist_asks_for_overseerr_after_plex(
        self, admin: httpx.AsyncClient
    ) -> None:
        home = await page(admin, "/")

        assert home.text.index("Connect your Plex server") < home.text.index(
            "Connect Overseerr for requests"
        )


async def test_all_requests_is_for_administrators(
    connected: Started, database_url: str, overseerr: FakeOverseerr
) -> None:
    async with member(connected, database_url, "alice", plex_id=111) as alice:
        as_member = await alice.get("/admin/requests", headers={"Accept": "text/html"})
    async with connected.client() as admin:
        await finish_first_run(admin)
        as_admin = await admin.get("/admin/requests", headers={"Accept": "text/html"})

    assert as_member.status_code == 403
    assert as_admin.status_code == 200
    assert "All requests" in as_admin.text and "data-admin" in as_admin.text
