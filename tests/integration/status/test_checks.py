"""MediaNest's own checks: Plex, Overseerr, its database and workers, on their pollers, once
across every process (the lease), never on a page view."""

from __future__ import annotations

import asyncio

from tests.conftest import SettingsFactory
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.uptime_kuma import UP, FakeUptimeKuma
from tests.integration.status.conftest import (
    SERVICES,
    StatusSettings,
    checks_of,
    domain_of,
    first_polls,
    medianest_with,
    member,
    signed_in,
    states,
)
from tests.support.app import Started, ok_data, started

from medianest.app import create_app
from medianest.status.checks import LEASE_INTERVALS
from medianest.status.models import Status

OVERSEERR_STATUS = "/api/v1/status"


def _status_calls(overseerr: FakeOverseerr) -> int:
    return sum(1 for call in overseerr.calls if call.path == OVERSEERR_STATUS)


class TestOwnChecks:
    async def test_everything_up_is_up_with_a_response_time(
        self, status_settings: StatusSettings, database_url: str
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
        found = await states(database_url)

        assert {s: found[s].status for s in ("plex", "overseerr", "database", "workers")} == {
            "plex": Status.UP,
            "overseerr": Status.UP,
            "database": Status.UP,
            "workers": Status.UP,
        }
        assert found["plex"].response_ms is not None
        assert found["overseerr"].response_ms is not None
        # No Redis configured: nothing to say about it.
        assert "redis" not in found

    async def test_a_service_not_answering_is_down_and_says_why(
        self,
        status_settings: StatusSettings,
        database_url: str,
        fake: FakePlexServer,
        overseerr: FakeOverseerr,
    ) -> None:
        fake.down()
        overseerr.failing(500)
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
        found = await states(database_url)

        assert (found["plex"].status, found["overseerr"].status) == (Status.DOWN, Status.DOWN)
        assert found["plex"].message == (
            "Nothing answers at Plex's address: it is stopped, or its machine is off."
        )
        assert found["overseerr"].message == "Overseerr answers with an error (HTTP 500)."

    async def test_what_nobody_connected_is_unknown_not_down(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        settings = make_settings(database_url=database_url, status_interval_seconds=3600)
        async with medianest_with(settings) as app:
            await first_polls(app)
        found = await states(database_url)

        assert (found["plex"].status, found["overseerr"].status) == (
            Status.UNKNOWN,
            Status.UNKNOWN,
        )
        assert found["plex"].message is not None
        assert "not connected" in found["plex"].message

    async def test_redis_and_its_workers_are_checked_when_configured(
        self, status_settings: StatusSettings, database_url: str, redis_url: str, redis_prefix: str
    ) -> None:
        # A web process taking jobs is a worker reading the queue.
        settings = status_settings(
            redis_url=redis_url, redis_prefix=redis_prefix, web_runs_jobs=True
        )
        async with medianest_with(settings) as app:
            await first_polls(app)
            # The queue's reader may join after the first check: look again.
            await checks_of(app).poll("own")
        found = await states(database_url)

        assert found["redis"].status == Status.UP
        assert found["workers"].status == Status.UP
        assert found["workers"].message == "Workers take jobs."

    async def test_no_worker_reading_the_queue_is_down(
        self, status_settings: StatusSettings, database_url: str, redis_url: str, redis_prefix: str
    ) -> None:
        settings = status_settings(redis_url=redis_url, redis_prefix=redis_prefix)
        async with medianest_with(settings) as app:
            await first_polls(app)
            slow = (await states(database_url))["workers"]
            # Its test job still waits at the next check.
            await checks_of(app).poll("own")
        found = await states(database_url)

        assert slow.status == Status.DEGRADED
        assert found["workers"].status == Status.DOWN
        assert found["workers"].message is not None
        assert "medianest worker" in found["workers"].message


class TestCadence:
    async def test_page_views_and_api_calls_never_poll_an_upstream(
        self,
        status_settings: StatusSettings,
        database_url: str,
        fake: FakePlexServer,
        overseerr: FakeOverseerr,
        kuma_v2: FakeUptimeKuma,
    ) -> None:
        kuma_v2.add_status_page("home", "Home")
        kuma_v2.add_monitor("home", 1, "NAS")
        kuma_v2.beat(1, UP, ping=12)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            await member(app, database_url)
            plex_before, overseerr_before = fake.calls("/identity"), _status_calls(overseerr)
            kuma_before = len(kuma_v2.calls)
            async with signed_in(app) as admin, signed_in(app, "viewer") as viewer:
                for n in range(50):
                    http = admin if n % 2 else viewer
                    assert (await http.get(SERVICES)).status_code == 200
                    assert (await http.get("/status")).status_code == 200
            # What the pages answered came from one poll each.
            assert fake.calls("/identity") == plex_before == 1
            assert _status_calls(overseerr) == overseerr_before == 1
            assert len(kuma_v2.calls) == kuma_before
            assert kuma_v2.calls.count("/api/status-page/home") == 1

    async def test_each_poller_polls_again_after_its_interval(
        self, status_settings: StatusSettings, fake: FakePlexServer
    ) -> None:
        async with medianest_with(status_settings(status_interval_seconds=1)) as app:
            await first_polls(app)
            for _ in range(200):
                if fake.calls("/identity") >= 3:
                    break
                await asyncio.sleep(0.05)
        assert fake.calls("/identity") >= 3


class TestLease:
    async def test_two_processes_poll_once_between_them(
        self,
        make_settings: SettingsFactory,
        pg_migrated_url: str,
        fake: FakePlexServer,
        overseerr: FakeOverseerr,
    ) -> None:
        def settings() -> object:
            return make_settings(
                database_url=pg_migrated_url,
                plex_url=fake.url,
                plex_token=fake.owner_token,
                overseerr_url=overseerr.url,
                overseerr_api_key=overseerr.api_key,
                status_interval_seconds=3600,
            )

        try:
            async with (
                started(create_app(settings())) as one,  # type: ignore[arg-type]
                started(create_app(settings())) as other,  # type: ignore[arg-type]
            ):
                holder, standby = await _holder_of(one, other)
                await first_polls(holder)
                await asyncio.sleep(0.3)

                assert not checks_of(standby).running
                assert fake.calls("/identity") == 1
                assert _status_calls(overseerr) == 1

                # The holder stops cleanly: the other takes over at its next attempt.
                await checks_of(holder).stop()
                await checks_of(standby).keeper.attempt()
                assert checks_of(standby).running
                await first_polls(standby)
                assert fake.calls("/identity") == 2
        finally:
            await _truncate(pg_migrated_url)

    async def test_a_holder_that_stops_renewing_is_taken_over_after_a_few_intervals(
        self, status_settings: StatusSettings
    ) -> None:
        async with (
            medianest_with(status_settings(status_interval_seconds=1)) as one,
            medianest_with(status_settings(status_interval_seconds=1)) as other,
        ):
            holder, standby = await _holder_of(one, other)
            assert not checks_of(standby).running
            # The holder hangs: it neither renews nor releases.
            checks_of(holder).keeper._task.cancel()  # type: ignore[union-attr]
            for _ in range(int((LEASE_INTERVALS + 10) / 0.05)):
                if checks_of(standby).running:
                    break
                await asyncio.sleep(0.05)
            assert checks_of(standby).running


class TestBoard:
    async def test_the_api_answers_what_was_polled(
        self, status_settings: StatusSettings, database_url: str
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            await domain_of(app).service.reload()
            async with signed_in(app) as admin:
                services = ok_data(await admin.get(SERVICES))

        by_id = {s["id"]: s for s in services}
        assert [s["id"] for s in services][:4] == ["plex", "overseerr", "workers", "database"]
        assert by_id["plex"]["status"] == "up"
        assert by_id["plex"]["kind"] == "plex"
        assert by_id["plex"]["group"] == "medianest"
        assert isinstance(by_id["plex"]["responseTimeMs"], int)
        assert by_id["plex"]["uptime"] == {"h24": 100.0, "d7": 100.0, "d30": 100.0}


async def _holder_of(one: Started, other: Started) -> tuple[Started, Started]:
    """(the app holding the checks' lease, the other one), once one holds it."""
    for _ in range(600):
        if checks_of(one).running:
            return one, other
        if checks_of(other).running:
            return other, one
        await asyncio.sleep(0.05)
    raise AssertionError("neither process took the lease")


async def _truncate(url: str) -> None:
    from tests.conftest import _truncate_all

    await _truncate_all(url)
