"""`StatusService`: every process's in-memory board of the services, read from the database a
few seconds after anything changed and never from an upstream, so a page view or an API call
costs no poll however many people look.

The board is read again every `refresh_seconds` when the stored states changed (one cheap
query tells), and at once when `service.status` is heard on the bus. Its JSON for the API and
the status page's history bars are made once per board, on first use. When the database cannot
be read, the last board is kept and says the database is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import structlog
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.bus import Bus
from medianest.core.db import Database, utc_now
from medianest.core.errors import NotFound
from medianest.core.poller import Poller
from medianest.core.schemas import Envelope
from medianest.status.history import Bucket, HistoryRange, history, hour_of
from medianest.status.models import ServiceKind, ServiceState, Status
from medianest.status.own import DATABASE
from medianest.status.readings import MEDIANEST_GROUP, MEDIANEST_TITLE
from medianest.status.recorder import STATUS_CHANNEL
from medianest.status.schemas import BucketRead, HistoryRead, ServiceRead, UptimeRead

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 5.0
T = TypeVar("T")
_LIST = TypeAdapter(Envelope[list[ServiceRead]])
_MEMBERS_SEE = {"data": {"__all__": {"url"}}}


class ServiceNotFound(NotFound):
    message = "There is no service with this id on the status page."


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 2)


@dataclass(frozen=True, slots=True)
class ServiceView:
    id: str
    name: str
    kind: ServiceKind
    status: Status
    since: datetime
    group_key: str
    group_title: str
    position: int = 0
    response_ms: float | None = None
    last_check_at: datetime | None = None
    message: str | None = None
    url: str | None = None
    uptime_24h: float | None = None
    uptime_7d: float | None = None
    uptime_30d: float | None = None

    @classmethod
    def of(cls, row: ServiceState) -> ServiceView:
        return cls(
            id=row.id,
            name=row.name,
            kind=ServiceKind(row.kind),
            status=Status(row.status),
            since=row.since,
            group_key=row.group_key,
            group_title=row.group_title,
            position=row.position,
            response_ms=row.response_ms,
            last_check_at=row.last_check_at,
            message=row.message,
            url=row.url,
            uptime_24h=row.uptime_24h,
            uptime_7d=row.uptime_7d,
            uptime_30d=row.uptime_30d,
        )

    def read(self) -> ServiceRead:
        return ServiceRead(
            id=self.id,
            name=self.name,
            kind=self.kind.value,
            status=self.status.value,
            response_time_ms=None if self.response_ms is None else round(self.response_ms),
            last_check_at=self.last_check_at,
            since=self.since,
            uptime=UptimeRead(
                h24=_percent(self.uptime_24h),
                d7=_percent(self.uptime_7d),
                d30=_percent(self.uptime_30d),
            ),
            group=self.group_key,
            group_title=self.group_title,
            url=self.url,
            message=self.message,
        )


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    title: str
    services: tuple[ServiceView, ...]


@dataclass(slots=True)
class Board:
    """The services at one moment: MediaNest's own first, then each Kuma page by title."""

    services: tuple[ServiceView, ...] = ()
    fingerprint: tuple[Any, ...] | None = None
    database_ok: bool = True
    by_id: dict[str, ServiceView] = field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    _json: dict[bool, bytes] = field(default_factory=dict)
    _bars: tuple[datetime, dict[str, list[Bucket]]] | None = None
    _drawn: tuple[datetime, dict[str, Any]] | None = None
    _kept: dict[Hashable, tuple[Hashable, Any]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, services: Sequence[ServiceView], *, fingerprint: tuple[Any, ...] | None = None
    ) -> Board:
        def order(s: ServiceView) -> tuple[bool, str, str, int, str]:
            own = s.group_key == MEDIANEST_GROUP
            return (not own, s.group_title.lower(), s.group_key, s.position, s.id)

        ordered = tuple(sorted(services, key=order))
        groups: list[Group] = []
        for service in ordered:
            if groups and groups[-1].key == service.group_key:
                last = groups[-1]
                groups[-1] = replace(last, services=(*last.services, service))
            else:
                groups.append(Group(service.group_key, service.group_title, (service,)))
        return cls(
            services=ordered,
            fingerprint=fingerprint,
            by_id={s.id: s for s in ordered},
            groups=tuple(groups),
        )

    def json(self, *, admin: bool) -> bytes:
        """`GET /services`' answer for an administrator (with addresses) or anyone else."""
        found = self._json.get(admin)
        if found is None:
            envelope = Envelope[list[ServiceRead]](data=[s.read() for s in self.services])
            exclude = None if admin else _MEMBERS_SEE
            found = _LIST.dump_json(envelope, by_alias=True, exclude=exclude)
            self._json[admin] = found
        return found

    def with_database_down(self, now: datetime) -> Board:
        """This board, saying the database cannot be read (what is stored cannot say it)."""
        was = self.by_id.get(DATABASE)
        down = ServiceView(
            id=DATABASE,
            name="Database",
            kind=ServiceKind.MEDIANEST,
            status=Status.DOWN,
            since=was.since if was is not None and was.status is Status.DOWN else now,
            group_key=MEDIANEST_GROUP,
            group_title=MEDIANEST_TITLE,
            position=was.position if was is not None else 3,
            last_check_at=now,
            message="MediaNest cannot reach its database: what is shown here may be old.",
        )
        others = [s for s in self.services if s.id != DATABASE]
        board = Board.of([*others, down], fingerprint=None)
        board.database_ok = False
        return board


class StatusService:
    def __init__(self, *, db: Database, bus: Bus, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._db = db
        self._bus = bus
        self._board = Board()
        self._poller = Poller("status-board", self.reload, interval=refresh_seconds)
        self._listener: asyncio.Task[None] | None = None

    @property
    def board(self) -> Board:
        return self._board

    async def start(self) -> None:
        """Read the board once, then keep it fresh until `stop()`."""
        with contextlib.suppress(Exception):
            await self._poller.refresh_now()
        self._poller.start()
        if self._listener is None:
            ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(ready), name="status-board-listener"
            )
            await ready.wait()

    async def stop(self) -> None:
        await self._poller.stop()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def reload(self) -> Board:
        """Read the board again now, when anything stored changed. Raises what the database
        raises (the board then says it is down)."""
        try:
            async with self._db.sessionmaker() as session:
                fingerprint = tuple(
                    (
                        await session.execute(
                            select(func.count(), func.max(ServiceState.updated_at))
                        )
                    ).one()
                )
                if fingerprint == self._board.fingerprint and self._board.database_ok:
                    return self._board
                rows = await session.scalars(select(ServiceState))
                services = [ServiceView.of(row) for row in rows]
        except Exception:
            self._board = self._board.with_database_down(utc_now())
            raise
        self._board = Board.of(services, fingerprint=fingerprint)
        return self._board

    def service(self, service_id: str) -> ServiceView:
        """Raises `ServiceNotFound`."""
        found = self._board.by_id.get(service_id)
        if found is None:
            raise ServiceNotFound()
        return found

    async def history(
        self, session: AsyncSession, service_id: str, range_: HistoryRange
    ) -> HistoryRead:
        """The service's buckets over `range_`, from the rollups. Raises `ServiceNotFound`."""
        self.service(service_id)
        found = await history(session, [service_id], range_, utc_now())
        return HistoryRead(
            id=service_id,
            range=range_,
            bucket="hour" if range_ == "24h" else "day",
            buckets=[_bucket_read(b) for b in found.get(service_id, [])],
        )

    async def bars(self, session: AsyncSession) -> dict[str, list[Bucket]]:
        """Every service's last 24 hours by the hour, for the status page: read once per
        board and hour."""
        board = self._board
        now = utc_now()
        held = board._bars
        if held is not None and held[0] == hour_of(now):
            return held[1]
        found = await history(session, None, "24h", now)
        board._bars = (hour_of(now), found)
        return found

    async def drawn_bars(
        self, session: AsyncSession, draw: Callable[[ServiceView, Sequence[Bucket]], Any]
    ) -> dict[str, Any]:
        """Each service's `bars` as `draw` makes them (its view, its buckets), made once per
        board and hour: a thousand services' bars are 24,000 hourly segments, far too many to
        make again for every page view."""
        board = self._board
        hour = hour_of(utc_now())
        held = board._drawn
        if held is not None and held[0] == hour:
            return held[1]
        bars = await self.bars(session)
        drawn = {s.id: draw(s, bars.get(s.id, ())) for s in board.services}
        board._drawn = (hour, drawn)
        return drawn

    def kept(self, key: Hashable, stamp: Hashable, make: Callable[[], T]) -> T:
        """What `make()` made for the current board under `key`, made again once the board or
        `stamp` (the minute, say) changed: one value per key, so nothing piles up."""
        kept = self._board._kept
        held = kept.get(key)
        if held is None or held[0] != stamp:
            held = kept[key] = (stamp, make())
        value: T = held[1]
        return value

    async def _listen(self, ready: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(STATUS_CHANNEL) as inbox:
                ready.set()
                async for _ in inbox:
                    self._poller.request_refresh()
        finally:
            ready.set()


def _bucket_read(bucket: Bucket) -> BucketRead:
    return BucketRead(
        start=bucket.start,
        up=bucket.up,
        down=bucket.down,
        degraded=bucket.degraded,
        maintenance=bucket.maintenance,
        avg_response_ms=None
        if bucket.avg_response_ms is None
        else round(bucket.avg_response_ms, 1),
        uptime=_percent(bucket.uptime),
    )
