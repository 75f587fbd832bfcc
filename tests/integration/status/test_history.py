"""Heartbeats rolled up by the hour: uptime over 24 hours, 7 and 30 days, history in buckets
read in one query, old heartbeats and rollups pruned; the history route's answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from tests.integration.status.conftest import (
    SERVICES,
    StatusSettings,
    domain_of,
    first_polls,
    medianest_with,
    signed_in,
)
from tests.support.app import ok_data

from medianest.core.bus import MemoryBus
from medianest.core.db import Database
from medianest.status.alerts import Alerts
from medianest.status.history import history, hour_of, prune, uptimes
from medianest.status.models import Heartbeat, Rollup, ServiceKind, Status
from medianest.status.readings import Beat, Poll, Reading
from medianest.status.recorder import Recorder

NOW = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)


async def _no_admins(_: object) -> list[object]:
    return []


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


def _recorder(db: Database) -> Recorder:
    alerts = Alerts(notifications=None, admins=_no_admins)  # type: ignore[arg-type]
    return Recorder(db=db, bus=MemoryBus(), alerts=alerts)


def _month_of_beats(down_hours: set[int]) -> tuple[Beat, ...]:
    """One beat every 10 minutes over the 30 days before NOW; down in the hours `down_hours`
    back from NOW's hour, each response 100 ms."""
    beats = []
    moment = NOW - timedelta(days=30) + timedelta(minutes=10)
    while moment <= NOW:
        hours_back = int((hour_of(NOW) - hour_of(moment)).total_seconds() // 3600)
        status = Status.DOWN if hours_back in down_hours else Status.UP
        beats.append(Beat(moment, status, 100.0 if status is Status.UP else None))
        moment += timedelta(minutes=10)
    return tuple(beats)


def _reading(beats: tuple[Beat, ...], service_id: str = "kuma:home:1") -> Reading:
    return Reading(
        id=service_id,
        name="NAS",
        kind=ServiceKind.KUMA,
        status=beats[-1].status,
        checked_at=NOW,
        group_key="kuma:home",
        group_title="Home",
        beats=beats,
    )


class TestRollups:
    async def test_thirty_days_of_beats_give_uptime_and_history(self, db: Database) -> None:
        # Down for the hour two hours ago and for a whole day ten days ago.
        down = {2} | set(range(240, 264))
        await _recorder(db).record(Poll((_reading(_month_of_beats(down)),)), now=NOW)

        async with db.unit_of_work() as session:
            found = (await uptimes(session, ["kuma:home:1"], NOW))["kuma:home:1"]
            day = (await history(session, ["kuma:home:1"], "24h", NOW))["kuma:home:1"]
            month = (await history(session, ["kuma:home:1"], "30d", NOW))["kuma:home:1"]
            week = (await history(session, None, "7d", NOW))["kuma:home:1"]

        h24, d7, d30 = found
        # Six beats an hour; the current hour has had four so far.
        assert h24 == pytest.approx(1 - 6 / (24 * 6 + 4))
        assert d7 == pytest.approx(1 - 6 / (7 * 24 * 6 + 4))
        assert d30 == pytest.approx(1 - (6 + 24 * 6) / (30 * 24 * 6))
        assert len(day) == 24
        assert day[-1].start == datetime(2026, 12, 7, 12, tzinfo=UTC)
        assert day[-3].down == 6 and day[-3].up == 0
        assert day[-4].up == 6 and day[-4].avg_response_ms == 100.0
        assert len(month) == 30
        assert month[-1].start == datetime(2026, 12, 7, tzinfo=UTC)
        assert sum(b.down for b in month) == 6 + 24 * 6
        assert len(week) == 7

    async def test_beats_read_again_are_counted_once(self, db: Database) -> None:
        beats = _month_of_beats(set())[-30:]
        recorder = _recorder(db)
        await recorder.record(Poll((_reading(beats),)), now=NOW)
        # Kuma answers the same beats and one more; another recorder knows nothing of the first.
        more = (*beats, Beat(NOW + timedelta(minutes=1), Status.UP, 100.0))
        await _recorder(db).record(Poll((_reading(more),)), now=NOW + timedelta(minutes=1))

        async with db.unit_of_work() as session:
            counted = await session.scalar(select(func.sum(Rollup.up)))
            stored = await session.scalar(select(func.count()).select_from(Heartbeat))
        assert (counted, stored) == (31, 31)

    async def test_many_services_are_read_in_one_query(self, db: Database) -> None:
        beats = _month_of_beats({1})[-144:]
        readings = tuple(_reading(beats, f"kuma:home:{n}") for n in range(50))
        await _recorder(db).record(Poll(readings), now=NOW)

        async with db.unit_of_work() as session:
            statements: list[str] = []
            engine = session.get_bind().engine  # type: ignore[union-attr]

            def count(*args: object) -> None:
                statements.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", count)
            try:
                found = await history(session, None, "24h", NOW)
            finally:
                event.remove(engine, "before_cursor_execute", count)

        assert len(found) == 50
        assert all(sum(b.down for b in buckets) == 6 for buckets in found.values())
        assert len(statements) == 1


class TestPruning:
    async def test_old_heartbeats_and_rollups_go(self, db: Database) -> None:
        await _recorder(db).record(Poll((_reading(_month_of_beats(set())),)), now=NOW)

        async with db.unit_of_work() as session:
            beats, _ = await prune(session, NOW)
        async with db.unit_of_work() as session:
            oldest_beat = await session.scalar(select(func.min(Heartbeat.at)))
            rollups = await session.scalar(select(func.count()).select_from(Rollup))
        assert beats > 0
        assert oldest_beat is not None and oldest_beat >= NOW - timedelta(hours=48)
        # Rollups are kept 90 days: all 30 days' worth stay.
        assert rollups == 30 * 24 + 1

        async with db.unit_of_work() as session:
            _, gone = await prune(session, NOW + timedelta(days=100))
        assert gone == rollups


class TestHistoryRoute:
    async def test_a_service_s_history_by_range(self, status_settings: StatusSettings) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            await domain_of(app).service.reload()
            async with signed_in(app) as admin:
                day = ok_data(await admin.get(f"{SERVICES}/plex/history"))
                month = ok_data(
                    await admin.get(f"{SERVICES}/plex/history", params={"range": "30d"})
                )

        assert (day["range"], day["bucket"], len(day["buckets"])) == ("24h", "hour", 24)
        assert day["buckets"][-1]["up"] == 1
        assert day["buckets"][-1]["uptime"] == 100.0
        assert (month["bucket"], len(month["buckets"])) == ("day", 30)
        assert set(day["buckets"][0]) == {
            "start",
            "up",
            "down",
            "degraded",
            "maintenance",
            "avgResponseMs",
            "uptime",
        }

    async def test_a_bad_range_is_a_validation_error(self, status_settings: StatusSettings) -> None:
        async with medianest_with(status_settings()) as app:
            await first_polls(app)
            await domain_of(app).service.reload()
            async with signed_in(app) as admin:
                answer = await admin.get(f"{SERVICES}/plex/history", params={"range": "1y"})

        body = answer.json()
        assert answer.status_code == 400
        assert body["error"]["code"] == "VALIDATION_ERROR"
        assert body["error"]["details"][0]["field"] == "range"

    async def test_an_unknown_service_is_not_found(self, status_settings: StatusSettings) -> None:
        async with medianest_with(status_settings()) as app, signed_in(app) as admin:
            answer = await admin.get(f"{SERVICES}/kuma:nope:1/history")
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "NOT_FOUND")

    async def test_signed_out_is_401(self, status_settings: StatusSettings) -> None:
        async with medianest_with(status_settings()) as app, app.client() as stranger:
            assert (await stranger.get(SERVICES)).status_code == 401
            assert (await stranger.get(f"{SERVICES}/plex/history")).status_code == 401
            assert (await stranger.get("/status")).status_code in (303, 307)
