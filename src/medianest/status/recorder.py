"""Writing a poll: each service's current state, its new heartbeats and their hourly rollups, in
one transaction; then telling about what changed.

A change of status is one conditional update (`... WHERE id = :id AND status = :was`), so when
two processes record the same change at once (a lease handed over mid-poll) exactly one of them
makes it, and only that one logs it, tells administrators and publishes `service.status`.
Alerts are told in the same transaction as the change, with a dedup key naming the service and
the moment it went down: a restart, or a second process, never tells an outage twice.

Heartbeats are inserted `ON CONFLICT DO NOTHING` on (service, time) and only the rows the
database kept are added to the rollups, so a beat is counted once however often it is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, delete, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.bus import Bus
from medianest.core.db import Database, after_commit, utc_now
from medianest.status.alerts import Alert, Alerts, Change
from medianest.status.history import hour_of, uptimes
from medianest.status.models import Heartbeat, Rollup, ServiceKind, ServiceState, Status
from medianest.status.readings import Poll, Reading

log = structlog.get_logger(__name__)

STATUS_CHANNEL = "service.status"
"""Bus channel: `{id, name, status, responseTimeMs, since}` for each change of status."""
UPTIME_EVERY = timedelta(minutes=5)
# Past this many changes in one poll (a Kuma page coming back), one log line says the rest.
_LOGGED_CHANGES = 20

_COUNTED = {
    Status.UP: "up",
    Status.DOWN: "down",
    Status.DEGRADED: "degraded",
    Status.MAINTENANCE: "maintenance",
}


@dataclass(frozen=True, slots=True)
class _Stored:
    id: str
    status: Status
    down_since: datetime | None
    last_beat_at: datetime | None
    uptime_at: datetime | None


class Recorder:
    def __init__(self, *, db: Database, bus: Bus, alerts: Alerts) -> None:
        self._db = db
        self._bus = bus
        self._alerts = alerts

    async def record(self, poll: Poll, *, now: datetime | None = None) -> list[Change]:
        """Store `poll`; returns the changes of status this process made."""
        now = now or utc_now()
        async with self._db.unit_of_work() as session:
            stored = await self._stored(session, poll)
            changes = await self._write_states(session, poll, stored, now)
            changes += await self._silence(session, poll, stored, now)
            await self._remove(session, poll, stored)
            await self._write_beats(session, poll.readings, stored)
            if _uptime_due(poll.readings, stored, changes, now):
                await self._refresh_uptime(session, [r.id for r in poll.readings], now)
            await self._alerts.tell(session, changes)
            if changes:
                after_commit(session, lambda: self._publish(changes))
        _log(changes)
        return changes

    async def _stored(self, session: AsyncSession, poll: Poll) -> dict[str, _Stored]:
        ids = [r.id for r in poll.readings]
        condition: ColumnElement[bool] = ServiceState.id.in_(ids) if ids else false()
        if poll.owns:
            condition = or_(condition, *(ServiceState.id.startswith(p) for p in poll.owns))
        rows = await session.execute(
            select(
                ServiceState.id,
                ServiceState.status,
                ServiceState.down_since,
                ServiceState.last_beat_at,
                ServiceState.uptime_at,
            ).where(condition)
        )
        return {row.id: _Stored(row.id, Status(row.status), *row[2:]) for row in rows}

    async def _write_states(
        self, session: AsyncSession, poll: Poll, stored: dict[str, _Stored], now: datetime
    ) -> list[Change]:
        fresh: list[dict[str, Any]] = []
        same: list[dict[str, Any]] = []
        moved: list[tuple[Reading, _Stored]] = []
        for reading in poll.readings:
            found = stored.get(reading.id)
            values = _values(reading, found, now)
            if found is None:
                since = reading.since or reading.checked_at
                down_since = since if reading.status is Status.DOWN else None
                fresh.append(
                    values | {"status": reading.status, "since": since, "down_since": down_since}
                )
            elif found.status is reading.status:
                same.append(values)
            else:
                moved.append((reading, found))
        changes: list[Change] = []
        if fresh:
            inserted = set(
                await session.scalars(
                    _insert(session, ServiceState)
                    .on_conflict_do_nothing(index_elements=["id"])
                    .returning(ServiceState.id),
                    fresh,
                )
            )
            changes += [_first_sight(row) for row in fresh if row["id"] in inserted]
        if same:
            await session.execute(update(ServiceState), same)
        for reading, found in moved:
            change = await self._move(session, reading, found, now)
            if change is not None:
                changes.append(change)
        return changes

    async def _move(
        self, session: AsyncSession, reading: Reading, found: _Stored, now: datetime
    ) -> Change | None:
        """Change the service's status, unless another process already did."""
        since = reading.since or reading.checked_at
        down_since, alert = _outage(reading.status, found.down_since, since)
        result = await session.execute(
            update(ServiceState)
            .where(ServiceState.id == reading.id, ServiceState.status == found.status)
            .values(
                **_values(reading, found, now),
                status=reading.status,
                since=since,
                down_since=down_since,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return Change(
            id=reading.id,
            name=reading.name,
            kind=reading.kind,
            status=reading.status,
            was=found.status,
            since=since,
            response_ms=reading.response_ms,
            message=reading.message,
            alert=alert,
            outage_began=found.down_since if alert == "up" else since,
        )

    async def _silence(
        self, session: AsyncSession, poll: Poll, stored: dict[str, _Stored], now: datetime
    ) -> list[Change]:
        """Services whose watcher did not answer: unknown, their outage (if any) kept."""
        read = {r.id for r in poll.readings}
        changes: list[Change] = []
        for prefix, message in poll.silent.items():
            for found in stored.values():
                if found.id in read or not found.id.startswith(prefix):
                    continue
                if found.status is Status.UNKNOWN:
                    await session.execute(
                        update(ServiceState)
                        .where(ServiceState.id == found.id)
                        .values(message=message, updated_at=now)
                    )
                    continue
                result = await session.execute(
                    update(ServiceState)
                    .where(ServiceState.id == found.id, ServiceState.status == found.status)
                    .values(status=Status.UNKNOWN, since=now, message=message, updated_at=now)
                    .returning(ServiceState.name, ServiceState.kind)
                )
                named = result.first()
                if named is not None:
                    changes.append(
                        Change(
                            id=found.id,
                            name=named.name,
                            kind=ServiceKind(named.kind),
                            status=Status.UNKNOWN,
                            was=found.status,
                            since=now,
                            message=message,
                        )
                    )
        return changes

    async def _remove(self, session: AsyncSession, poll: Poll, stored: dict[str, _Stored]) -> None:
        read = {r.id for r in poll.readings}
        gone = [
            i
            for i in stored
            if i not in read
            and any(i.startswith(p) for p in poll.owns)
            and not any(i.startswith(p) for p in poll.silent)
        ]
        if gone:
            await session.execute(delete(ServiceState).where(ServiceState.id.in_(gone)))
            log.info("status.services_removed", services=len(gone))

    async def _write_beats(
        self, session: AsyncSession, readings: Sequence[Reading], stored: dict[str, _Stored]
    ) -> None:
        rows: list[dict[str, Any]] = []
        for reading in readings:
            found = stored.get(reading.id)
            newest = found.last_beat_at if found is not None else None
            rows += [
                {
                    "service_id": reading.id,
                    "at": beat.at,
                    "status": beat.status,
                    "response_ms": beat.response_ms,
                }
                for beat in reading.beats
                if beat.status is not Status.UNKNOWN and (newest is None or beat.at > newest)
            ]
        if not rows:
            return
        kept = await session.execute(
            _insert(session, Heartbeat)
            .on_conflict_do_nothing(index_elements=["service_id", "at"])
            .returning(Heartbeat.service_id, Heartbeat.at, Heartbeat.status, Heartbeat.response_ms),
            rows,
        )
        await self._roll_up(session, kept.all())

    async def _roll_up(self, session: AsyncSession, beats: Sequence[Any]) -> None:
        buckets: dict[tuple[str, datetime], dict[str, Any]] = defaultdict(
            lambda: (
                dict.fromkeys(("up", "down", "degraded", "maintenance", "response_count"), 0)
                | {"response_sum": 0.0}
            )
        )
        for beat in beats:
            bucket = buckets[(beat.service_id, hour_of(beat.at))]
            bucket[_COUNTED[Status(beat.status)]] += 1
            if beat.response_ms is not None:
                bucket["response_sum"] += beat.response_ms
                bucket["response_count"] += 1
        if not buckets:
            return
        rows = [
            {"service_id": service_id, "hour": hour, **counts}
            for (service_id, hour), counts in buckets.items()
        ]
        statement = _insert(session, Rollup)
        added = statement.excluded
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["service_id", "hour"],
                set_={
                    "up": Rollup.up + added.up,
                    "down": Rollup.down + added.down,
                    "degraded": Rollup.degraded + added.degraded,
                    "maintenance": Rollup.maintenance + added.maintenance,
                    "response_sum": Rollup.response_sum + added.response_sum,
                    "response_count": Rollup.response_count + added.response_count,
                },
            ),
            rows,
        )

    async def _refresh_uptime(
        self, session: AsyncSession, ids: Sequence[str], now: datetime
    ) -> None:
        found = await uptimes(session, ids, now)
        rows = [
            {
                "id": service_id,
                "uptime_24h": found.get(service_id, (None, None, None))[0],
                "uptime_7d": found.get(service_id, (None, None, None))[1],
                "uptime_30d": found.get(service_id, (None, None, None))[2],
                "uptime_at": now,
            }
            for service_id in ids
        ]
        if rows:
            await session.execute(update(ServiceState), rows)

    async def _publish(self, changes: Sequence[Change]) -> None:
        for change in changes:
            await self._bus.publish(STATUS_CHANNEL, change.message_for_bus())


def _values(reading: Reading, found: _Stored | None, now: datetime) -> dict[str, Any]:
    """What every poll writes of a service, its status aside."""
    beats = [b.at for b in reading.beats if b.status is not Status.UNKNOWN]
    newest = found.last_beat_at if found is not None else None
    if beats and (newest is None or max(beats) > newest):
        newest = max(beats)
    return {
        "id": reading.id,
        "name": reading.name,
        "kind": reading.kind,
        "group_key": reading.group_key,
        "group_title": reading.group_title,
        "position": reading.position,
        "last_check_at": reading.checked_at,
        "response_ms": reading.response_ms,
        "message": reading.message,
        "url": reading.url,
        "last_beat_at": newest,
        "updated_at": now,
    }


def _outage(
    status: Status, down_since: datetime | None, since: datetime
) -> tuple[datetime | None, Alert | None]:
    """(the outage's start after this change, the alert it makes: "down", "up" or None).

    An outage begins when a service goes down and ends when it is up again; degraded,
    maintenance and unknown on the way neither end it nor tell anything."""
    if status is Status.DOWN:
        return (since, "down") if down_since is None else (down_since, None)
    if status is Status.UP:
        return (None, "up") if down_since is not None else (None, None)
    return down_since, None


def _first_sight(row: dict[str, Any]) -> Change:
    """A service seen for the first time: already down is an outage to tell."""
    status: Status = row["status"]
    return Change(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        status=status,
        was=None,
        since=row["since"],
        response_ms=row["response_ms"],
        message=row["message"],
        alert="down" if status is Status.DOWN else None,
        outage_began=row["since"] if status is Status.DOWN else None,
    )


def _uptime_due(
    readings: Sequence[Reading],
    stored: dict[str, _Stored],
    changes: Sequence[Change],
    now: datetime,
) -> bool:
    """Uptime moves by one check in a thousand a minute: read again every few minutes, or at
    once when a service is new or changed."""
    if changes:
        return True
    for reading in readings:
        found = stored.get(reading.id)
        if found is None or found.uptime_at is None or now - found.uptime_at >= UPTIME_EVERY:
            return True
    return False


def _log(changes: Sequence[Change]) -> None:
    for change in changes[:_LOGGED_CHANGES]:
        if change.alert == "down":
            log.warning("status.down", service=change.id, was=change.was)
        elif change.alert == "up":
            log.info("status.recovered", service=change.id, was=change.was)
        else:
            log.info("status.changed", service=change.id, status=change.status, was=change.was)
    if len(changes) > _LOGGED_CHANGES:
        log.info("status.changed_more", services=len(changes) - _LOGGED_CHANGES)


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
