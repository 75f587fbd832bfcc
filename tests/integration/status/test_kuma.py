"""Uptime Kuma's status pages through the Kuma poller, as 1.23 and 2.x answer them: a service per
monitor, pending shown as degraded, each beat stored once, pages that go quiet or go away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.fakes.uptime_kuma import DOWN, MAINTENANCE, PENDING, UP, FakeUptimeKuma
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
from tests.support.app import ok_data

from medianest.core.db import Database
from medianest.status.models import Heartbeat, Status


def _page(kuma: FakeUptimeKuma) -> None:
    kuma.add_status_page("home", "Home services")
    kuma.add_monitor("home", 3, "Plex", url="http://plex:32400/identity")
    kuma.add_monitor("home", 4, "NAS", group="Storage")
    kuma.add_monitor("home", 5, "Printer", send_url=False, url="http://printer.lan")
    kuma.add_monitor("home", 6, "Backups")
    kuma.add_monitor("home", 7, "Fresh")  # no checks yet
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    for minute in range(5):
        kuma.beat(3, UP, ping=40 + minute, at=start + timedelta(minutes=minute))
        kuma.beat(4, UP, ping=10, at=start + timedelta(minutes=minute))
        kuma.beat(5, UP, at=start + timedelta(minutes=minute))
        kuma.beat(6, MAINTENANCE, at=start + timedelta(minutes=minute))
    kuma.beat(4, DOWN, at=start + timedelta(minutes=6))
    kuma.beat(4, DOWN, at=start + timedelta(minutes=7))
    kuma.beat(5, PENDING, ping=900, at=start + timedelta(minutes=6))


async def _beats(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = await session.execute(
                select(Heartbeat.service_id, func.count()).group_by(Heartbeat.service_id)
            )
            return dict(rows.all())
    finally:
        await db.close()


class TestReading:
    async def test_each_monitor_is_a_service_in_both_generations(
        self, status_settings: StatusSettings, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _page(kuma)
        settings = status_settings(uptime_kuma_url=kuma.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
        found = await states(database_url)

        kuma_ids = sorted(i for i in found if i.startswith("kuma:"))
        assert kuma_ids == [f"kuma:home:{n}" for n in (3, 4, 5, 6, 7)]
        plex = found["kuma:home:3"]
        assert (plex.name, plex.status, plex.response_ms) == ("Plex", Status.UP, 44)
        assert (plex.group_key, plex.group_title) == ("kuma:home", "Home services")
        assert found["kuma:home:4"].status == Status.DOWN
        # Down since its first down beat, not since MediaNest looked.
        assert found["kuma:home:4"].since == found["kuma:home:4"].last_beat_at - timedelta(
            minutes=1
        )
        assert found["kuma:home:5"].status == Status.DEGRADED
        assert found["kuma:home:6"].status == Status.MAINTENANCE
        assert found["kuma:home:7"].status == Status.UNKNOWN
        assert found["kuma:home:7"].message == "Uptime Kuma has no checks of this monitor yet."
        # The page shows Plex's address; the printer's only /metrics knows.
        assert plex.url == "http://plex:32400/identity"
        assert found["kuma:home:5"].url is None

    async def test_the_api_key_adds_the_addresses_only_metrics_know(
        self, status_settings: StatusSettings, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _page(kuma)
        settings = status_settings(
            uptime_kuma_url=kuma.url,
            uptime_kuma_status_pages="home",
            uptime_kuma_api_key=kuma.api_key,
        )
        async with medianest_with(settings) as app:
            await first_polls(app)
        found = await states(database_url)

        assert found["kuma:home:5"].url == "http://printer.lan"

    async def test_each_beat_is_stored_once_however_often_kuma_answers_it(
        self, status_settings: StatusSettings, database_url: str, kuma: FakeUptimeKuma
    ) -> None:
        _page(kuma)
        settings = status_settings(uptime_kuma_url=kuma.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            await checks_of(app).poll("kuma")
            kuma.beat(3, UP, ping=50)
            await checks_of(app).poll("kuma")
        # A process that just started knows none of them: the database does.
        async with medianest_with(settings) as app:
            await first_polls(app)
        beats = await _beats(database_url)

        assert beats["kuma:home:3"] == 6
        assert beats["kuma:home:4"] == 7
        assert "kuma:home:7" not in beats

    async def test_a_monitor_taken_off_the_page_leaves_the_list(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        _page(kuma_v2)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            kuma_v2.reset()
            kuma_v2.add_status_page("home", "Home services")
            kuma_v2.add_monitor("home", 3, "Plex")
            await checks_of(app).poll("kuma")
        found = await states(database_url)

        assert sorted(i for i in found if i.startswith("kuma:")) == ["kuma:home:3"]

    async def test_a_kuma_not_answering_leaves_its_monitors_unknown(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        _page(kuma_v2)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            kuma_v2.down()
            try:
                await checks_of(app).poll("kuma")
            finally:
                kuma_v2.healthy()
        found = await states(database_url)

        assert {found[f"kuma:home:{n}"].status for n in (3, 4, 5, 6, 7)} == {Status.UNKNOWN}
        assert found["kuma:home:3"].message == "Uptime Kuma is not answering: not known now."

    async def test_a_status_page_gone_from_kuma_says_so(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        _page(kuma_v2)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            kuma_v2.remove_status_page("home")
            await checks_of(app).poll("kuma")
        found = await states(database_url)

        assert found["kuma:home:3"].status == Status.UNKNOWN
        message = found["kuma:home:3"].message
        assert message is not None
        assert 'no longer has the status page "home"' in message


class TestApi:
    async def test_monitor_addresses_are_for_administrators_only(
        self, status_settings: StatusSettings, database_url: str, kuma_v2: FakeUptimeKuma
    ) -> None:
        _page(kuma_v2)
        settings = status_settings(uptime_kuma_url=kuma_v2.url, uptime_kuma_status_pages="home")
        async with medianest_with(settings) as app:
            await first_polls(app)
            await domain_of(app).service.reload()
            await member(app, database_url)
            async with signed_in(app) as admin, signed_in(app, "viewer") as viewer:
                as_admin = {s["id"]: s for s in ok_data(await admin.get(SERVICES))}
                as_member = {s["id"]: s for s in ok_data(await viewer.get(SERVICES))}
                page = (await viewer.get("/status")).text

        assert as_admin["kuma:home:3"]["url"] == "http://plex:32400/identity"
        assert all("url" not in s for s in as_member.values())
        assert as_member["kuma:home:3"]["status"] == "up"
        assert as_member["kuma:home:5"]["status"] == "degraded"
        assert as_member["kuma:home:3"]["groupTitle"] == "Home services"
        assert "plex:32400" not in page
        assert "Home services" in page
