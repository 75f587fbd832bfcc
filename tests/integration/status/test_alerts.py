"""Administrators are told exactly once when a service goes down and once when it recovers:
however many polls see it, however many processes poll, across restarts."""

from __future__ import annotations

import asyncio

from tests.factories.users import make_user
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.uptime_kuma import DOWN, PENDING, UP, FakeUptimeKuma
from tests.integration.status.conftest import (
    StatusSettings,
    alerts,
    checks_of,
    first_polls,
    medianest_with,
    states,
)

from medianest.auth.models import Role, UserStatus
from medianest.status.models import Status


async def _admins(database_url: str) -> tuple[str, str]:
    """Two active administrators and a suspended one (who is never told)."""
    one = await make_user(database_url, username="ops-one", role=Role.ADMIN)
    two = await make_user(database_url, username="ops-two", role=Role.ADMIN)
    await make_user(database_url, username="ops-gone", role=Role.ADMIN, status=UserStatus.SUSPENDED)
    await make_user(database_url, username="member")
    return str(one.id), str(two.id)


class TestOwnServices:
    async def test_one_alert_per_admin_when_down_and_one_when_back(
        self, status_settings: StatusSettings, database_url: str, fake: FakePlexServer
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            ids = await _admins(database_url)
            checks = checks_of(app)
            fake.down()
            for _ in range(3):
                await checks.poll("plex")
            down = await alerts(database_url)
            fake.healthy()
            for _ in range(3):
                await checks.poll("plex")
        told = await alerts(database_url)

        assert [(a.type, a.title) for a in down] == [("service.down", "Plex is down")] * 3
        # The first admin (made at start) and the two others; never the suspended one.
        assert len({str(a.user_id) for a in down}) == 3
        assert set(ids) <= {str(a.user_id) for a in down}
        ups = [a for a in told if a.type == "service.up"]
        assert len(ups) == 3
        assert ups[0].title == "Plex is back up"
        assert all(a.link == "/status" for a in told)
        assert down[0].severity == "critical"
        assert "library" in down[0].message

    async def test_degraded_tells_nothing(
        self,
        status_settings: StatusSettings,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        # No worker: the first check finds workers slow (degraded), which is no alert.
        settings = status_settings(redis_url=redis_url, redis_prefix=redis_prefix)
        async with medianest_with(settings) as app:
            await first_polls(app)
        assert (await states(database_url))["workers"].status == Status.DEGRADED
        assert await alerts(database_url) == []

    async def test_a_restart_does_not_tell_an_outage_again(
        self, status_settings: StatusSettings, database_url: str, overseerr: FakeOverseerr
    ) -> None:
        overseerr.down()
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            await checks_of(app).poll("overseerr")
        told = await alerts(database_url)

        assert [a.type for a in told] == ["service.down"]
        assert told[0].title == "Overseerr is down"

    async def test_down_again_after_recovering_is_a_new_alert(
        self, status_settings: StatusSettings, database_url: str, fake: FakePlexServer
    ) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            checks = checks_of(app)
            for _ in range(2):
                fake.down()
                await checks.poll("plex")
                fake.healthy()
                await checks.poll("plex")
        told = await alerts(database_url)

        assert [a.type for a in told] == ["service.down", "service.up"] * 2
        assert len({a.dedup_key for a in told}) == 4


class TestTwoProcesses:
    async def test_both_seeing_the_outage_at_once_tell_it_once(
        self, status_settings: StatusSettings, database_url: str, fake: FakePlexServer
    ) -> None:
        async with (
            medianest_with(status_settings()) as one,
            medianest_with(status_settings()) as other,
        ):
            await first_polls(one if checks_of(one).running else other)
            fake.down()
            # Both poll at the same moment, as while a lease changes hands.
            await asyncio.gather(checks_of(one).poll("plex"), checks_of(other).poll("plex"))
            await asyncio.gather(checks_of(one).poll("plex"), checks_of(other).poll("plex"))
            fake.healthy()
            await asyncio.gather(checks_of(one).poll("plex"), checks_of(other).poll("plex"))
        told = await alerts(database_url)

        assert [a.type for a in told] == ["service.down", "service.up"]


class TestKumaMonitors:
    async def test_a_few_monitors_are_told_one_by_one(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        kuma_v2.add_status_page("home", "Home")
        for n in (1, 2):
            kuma_v2.add_monitor("home", n, f"Service {n}")
            kuma_v2.beat(n, UP)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            kuma_v2.beat(1, DOWN)
            kuma_v2.beat(2, PENDING)
            await checks_of(app).poll("kuma")
        told = await alerts(database_url)

        # Pending is Kuma retrying: degraded, not down.
        assert [a.title for a in told] == ["Service 1 is down"]

    async def test_many_changing_in_one_poll_make_one_summary(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        kuma_v2.add_status_page("home", "Home")
        for n in range(1, 9):
            kuma_v2.add_monitor("home", n, f"Service {n}")
            kuma_v2.beat(n, UP)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            for n in range(1, 9):
                kuma_v2.beat(n, DOWN)
            await checks_of(app).poll("kuma")
            for n in range(1, 9):
                kuma_v2.beat(n, UP)
            await checks_of(app).poll("kuma")
        told = await alerts(database_url)

        assert [a.title for a in told] == [
            "8 monitors in Uptime Kuma are down",
            "8 monitors in Uptime Kuma are back up",
        ]
        assert told[0].message.startswith("Service 1, Service 2, Service 3, Service 4, Service 5")
        assert "and 3 more" in told[0].message
