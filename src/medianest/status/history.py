"""Reading the rollups: uptime over 24 hours, 7 and 30 days, and history in buckets; pruning.

Uptime is the share of checks that did not find the service down (degraded and maintenance
count as up, as Uptime Kuma counts maintenance), over the hours of the window. History is one
query for any number of services: `24h` answers the last 24 hours in hourly buckets, `7d` and
`30d` the last 7 and 30 UTC days in daily buckets, the current hour or day included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from medianest.status.models import Heartbeat, Rollup

HistoryRange = Literal["24h", "7d", "30d"]
RANGES: tuple[HistoryRange, ...] = ("24h", "7d", "30d")

HEARTBEATS_KEPT = timedelta(hours=48)
ROLLUPS_KEPT = timedelta(days=90)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

Uptimes = tuple[float | None, float | None, float | None]


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    return hour_of(moment).replace(hour=0)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    up: int
    down: int
    degraded: int
    maintenance: int
    response_sum: float
    response_count: int

    @property
    def checks(self) -> int:
        return self.up + self.down + self.degraded + self.maintenance

    @property
    def avg_response_ms(self) -> float | None:
        return self.response_sum / self.response_count if self.response_count else None

    @property
    def uptime(self) -> float | None:
        return (self.checks - self.down) / self.checks if self.checks else None


def bucket_starts(range_: HistoryRange, now: datetime) -> list[datetime]:
    """The buckets of `range_`, oldest first, the one holding `now` last."""
    if range_ == "24h":
        last = hour_of(now)
        return [last - HOUR * n for n in range(23, -1, -1)]
    days = 7 if range_ == "7d" else 30
    last = day_of(now)
    return [last - DAY * n for n in range(days - 1, -1, -1)]


async def history(
    session: AsyncSession, ids: Sequence[str] | None, range_: HistoryRange, now: datetime
) -> dict[str, list[Bucket]]:
    """Each service's buckets over `range_` (every bucket, empty ones at zero), in one query;
    `ids` None: every service with a rollup in the range."""
    starts = bucket_starts(range_, now)
    statement = select(Rollup).where(Rollup.hour >= starts[0])
    if ids is not None:
        if not ids:
            return {}
        statement = statement.where(Rollup.service_id.in_(ids))
    hourly = range_ == "24h"
    sums: dict[str, dict[datetime, list[float]]] = defaultdict(dict)
    for row in await session.scalars(statement):
        start = row.hour if hourly else day_of(row.hour)
        found = sums[row.service_id].setdefault(start, [0, 0, 0, 0, 0.0, 0])
        found[0] += row.up
        found[1] += row.down
        found[2] += row.degraded
        found[3] += row.maintenance
        found[4] += row.response_sum
        found[5] += row.response_count
    wanted = list(ids) if ids is not None else list(sums)
    return {
        service_id: [_bucket(start, sums.get(service_id, {}).get(start)) for start in starts]
        for service_id in wanted
    }


def _bucket(start: datetime, sums: list[float] | None) -> Bucket:
    if sums is None:
        return Bucket(start, 0, 0, 0, 0, 0.0, 0)
    up, down, degraded, maintenance, response_sum, responses = sums
    return Bucket(
        start, int(up), int(down), int(degraded), int(maintenance), response_sum, int(responses)
    )


async def uptimes(session: AsyncSession, ids: Sequence[str], now: datetime) -> dict[str, Uptimes]:
    """Each service's uptime over the last 24 hours, 7 and 30 days (None: no checks in that
    window), in one query."""
    if not ids:
        return {}
    day, week, month = now - DAY, now - DAY * 7, now - DAY * 30
    checks = Rollup.up + Rollup.down + Rollup.degraded + Rollup.maintenance

    def within(since: datetime, value: ColumnElement[int] | InstrumentedAttribute[int]) -> Any:
        return func.sum(case((Rollup.hour >= hour_of(since), value), else_=0))

    rows = await session.execute(
        select(
            Rollup.service_id,
            within(day, checks),
            within(day, Rollup.down),
            within(week, checks),
            within(week, Rollup.down),
            func.sum(checks),
            func.sum(Rollup.down),
        )
        .where(Rollup.service_id.in_(ids), Rollup.hour >= hour_of(month))
        .group_by(Rollup.service_id)
    )
    return {
        row[0]: (_ratio(row[1], row[2]), _ratio(row[3], row[4]), _ratio(row[5], row[6]))
        for row in rows
    }


def _ratio(checks: int | None, down: int | None) -> float | None:
    total = int(checks or 0)
    return (total - int(down or 0)) / total if total else None


async def prune(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Delete heartbeats older than 48 hours and rollups older than 90 days; how many of each."""
    beats = await session.execute(
        delete(Heartbeat)
        .where(Heartbeat.at < now - HEARTBEATS_KEPT)
        .execution_options(synchronize_session=False)
    )
    rollups = await session.execute(
        delete(Rollup)
        .where(Rollup.hour < hour_of(now - ROLLUPS_KEPT))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(beats, "rowcount", 0) or 0), int(getattr(rollups, "rowcount", 0) or 0)
