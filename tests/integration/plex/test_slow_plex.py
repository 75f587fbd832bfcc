"""A Plex server too slow to answer: every API call and page waits on it at most the upstream
deadline, retries included, then answers with what is held or a 504; slow calls open the breaker
as failed ones do. On both databases, against the fake Plex server.

The read timeout is set well above the deadline, so only the deadline can end a call in time.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.support.app import Started, ok_data, started
from tests.support.plex import sync_index

DEADLINE = 1.0
# Room for the answer to be built once the deadline is spent: a behaviour bound, not a benchmark.
MARGIN = 2.0
THRESHOLD = 3
# Far longer than any read timeout here: the fake answers once MediaNest gives up.
STUCK = 30.0
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
ITEMS = "/api/v1/plex/libraries/1/items"


@pytest.fixture
async def medianest(plex_settings: SettingsFactory) -> AsyncIterator[Started]:
    settings = plex_settings(
        upstream_deadline=DEADLINE,
        http_read_timeout=3.0,
        breaker_threshold=THRESHOLD,
        breaker_cooldown=60.0,
    )
    async with started(create_app(settings)) as app:
        yield app


async def timed(http: httpx.AsyncClient, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started_at = time.perf_counter()
    response = await http.get(path, **kwargs)
    return response, time.perf_counter() - started_at


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return dict(body["error"])


async def forget_fresh_answers(medianest: Started) -> None:
    """The fresh answers expire; what was held to fall back on stays."""
    await medianest.state["platform"].cache.invalidate_pattern("plex:owner:*")


class TestTheApi:
    async def test_a_library_page_answers_504_within_the_deadline(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.slow(STUCK)

        response, elapsed = await timed(admin, ITEMS)

        assert response.status_code == 504, response.text
        assert error(response)["code"] == "UPSTREAM_TIMEOUT"
        assert error(response)["details"] == [{"service": "Plex"}]
        assert "Plex" in error(response)["message"]
        assert elapsed < DEADLINE + MARGIN
        # No retry once the request's time is spent.
        assert fake.hits == 1

    async def test_what_was_held_answers_within_the_deadline(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        fresh = await admin.get(ITEMS, params={"pageSize": 2})
        await forget_fresh_answers(medianest)
        fake.slow(STUCK)

        response, elapsed = await timed(admin, ITEMS, params={"pageSize": 2})

        assert response.status_code == 200, response.text
        assert response.json()["meta"]["degraded"] is True
        assert ok_data(response) == ok_data(fresh)
        assert elapsed < DEADLINE + MARGIN

    async def test_slow_calls_open_the_breaker_and_the_next_call_is_refused_at_once(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.slow(STUCK)
        # Calls that reached Plex and timed out count. On a loaded machine a request can spend
        # its deadline before its call is sent; that 504 is not Plex's doing and is not counted,
        # so ask until THRESHOLD calls have reached it (each answered 504 all the same).
        for _ in range(THRESHOLD * 3):
            slow = await admin.get(ITEMS)
            assert slow.status_code == 504, slow.text
            if fake.hits >= THRESHOLD:
                break
        hits = fake.hits

        refused, elapsed = await timed(admin, ITEMS)

        assert refused.status_code == 503, refused.text
        assert error(refused)["code"] == "SERVICE_UNAVAILABLE"
        assert error(refused)["details"] == [{"service": "Plex"}]
        assert int(refused.headers["retry-after"]) > 0
        assert fake.hits == hits == THRESHOLD
        assert elapsed < DEADLINE


class TestThePages:
    async def test_with_nothing_held_the_library_says_plex_is_slow_within_the_deadline(
        self, admin: httpx.AsyncClient, fake: FakePlexServer
    ) -> None:
        fake.slow(STUCK)

        response, elapsed = await timed(admin, "/library/1", headers=PAGE)

        assert response.status_code == 504
        assert "A service is taking too long to answer" in response.text
        assert "Plex took too long to answer" in response.text
        assert elapsed < DEADLINE + MARGIN

    async def test_what_was_seen_before_is_shown_within_the_deadline(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        seen = await admin.get("/library/1", headers=PAGE)
        assert seen.status_code == 200
        await forget_fresh_answers(medianest)
        fake.slow(STUCK)

        response, elapsed = await timed(admin, "/library/1", headers=PAGE)

        assert response.status_code == 200
        assert "showing the library as" in response.text
        assert "Alien" in response.text
        assert elapsed < DEADLINE + MARGIN


class TestJobs:
    async def test_a_sync_started_by_a_request_is_not_held_to_that_requests_deadline(
        self, admin: httpx.AsyncClient, fake: FakePlexServer, medianest: Started
    ) -> None:
        # Each call answers within the read timeout, but a sync makes enough of them, one
        # after another, to outlast the deadline of the request that started it.
        fake.slow(DEADLINE / 2)

        await sync_index(admin, medianest)

        assert len(fake.pages) > 2
