"""The record of the library sync: which sync runs, how far it got, how it ended.

One sync runs at a time: it claims the single `plex_sync_run` row, heart-beats in it with its
progress at every batch, and leaves it `idle` or `failed` with a message an admin can act on. A
runner that died is taken over once its heartbeat is `STALE_AFTER` old.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, cast

import structlog
from sqlalchemy import CursorResult, false, or_, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.db import Database, utc_now
from medianest.core.errors import Conflict, MediaNestError
from medianest.core.schemas import ApiModel
from medianest.plex.models import SYNC_RUN_ID, PlexSyncRun

log = structlog.get_logger(__name__)

STALE_AFTER = timedelta(minutes=10)

SyncKind = Literal["full", "incremental"]
Progress = Callable[[int, int | None], Awaitable[None]]
"""Called after every batch with (items done, items expected when known)."""


class SyncAlreadyRunning(Conflict):
    message = "A library sync is already running; its progress is on the admin page."


class SyncResult(ApiModel):
    kind: SyncKind
    libraries: int
    items: int
    removed: int
    seconds: float
    changed: list[str] = []
    """The keys of the libraries whose titles this sync added, changed or removed."""


@dataclass
class SyncRun:
    kind: SyncKind
    id: uuid.UUID
    progress: Progress | None
    items_done: int = 0
    items_total: int | None = None
    removed: int = 0
    libraries: int = 0
    changed: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    def result(self) -> SyncResult:
        seconds = round(time.monotonic() - self.started, 3)
        counts = {"libraries": self.libraries, "items": self.items_done, "removed": self.removed}
        return SyncResult(kind=self.kind, seconds=seconds, changed=sorted(self.changed), **counts)


class SyncRuns:
    def __init__(self, db: Database, *, sole_runner: bool = False) -> None:
        """`sole_runner`: this process is the only one that runs sync jobs (the embedded queue),
        so a run recorded as `running` while none runs here was cut off by a stop."""
        self._db = db
        self._sole_runner = sole_runner
        self._active = 0

    async def record_failure(self, kind: SyncKind, message: str) -> None:
        """Show a sync that could not even start (Plex not connected) as failed, unless
        another sync is running."""
        self._active += 1
        try:
            run_id = await self._claim(kind)
        except SyncAlreadyRunning:
            return
        finally:
            self._active -= 1
        await self._fail(run_id, message)

    @asynccontextmanager
    async def running(self, kind: SyncKind, progress: Progress | None) -> AsyncIterator[SyncRun]:
        """Claim the run record for a sync, and leave it idle or failed when the sync ends.

        Raises `SyncAlreadyRunning`."""
        self._active += 1
        try:
            run = SyncRun(kind, await self._claim(kind), progress)
            log.info("plex.index_sync_started", kind=kind)
            try:
                yield run
            except BaseException as exc:
                message = _failure_message(exc)
                if isinstance(exc, asyncio.CancelledError):
                    # MediaNest is stopping, maybe in the middle of a write whose connection
                    # still holds SQLite's lock: writing the record now would wait out the busy
                    # timeout. The record stays `running`; the job is sent again on the next
                    # start and takes it over (see `_claim`).
                    log.info("plex.index_sync_interrupted", kind=kind, items=run.items_done)
                    raise
                if isinstance(exc, MediaNestError):
                    log.warning("plex.index_sync_failed", kind=kind, error=message)
                else:
                    log.error("plex.index_sync_failed", kind=kind, exc_info=exc)
                await self._fail(run.id, message)
                raise
            await self._succeed(run)
            log.info(
                "plex.index_sync_finished",
                kind=kind,
                libraries=run.libraries,
                items=run.items_done,
                removed=run.removed,
                seconds=run.result().seconds,
            )
        finally:
            self._active -= 1

    async def _claim(self, kind: SyncKind) -> uuid.UUID:
        """Take the run record for a new sync. Raises `SyncAlreadyRunning`."""
        run_id, now = uuid.uuid4(), utc_now()
        async with self._db.unit_of_work() as session:
            insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
            await session.execute(
                insert(PlexSyncRun)
                .values(id=SYNC_RUN_ID, kind=kind, state="idle", items_done=0)
                .on_conflict_do_nothing(index_elements=["id"])
            )
            claimed = await session.execute(
                update(PlexSyncRun)
                .where(
                    PlexSyncRun.id == SYNC_RUN_ID,
                    or_(
                        PlexSyncRun.state != "running",
                        PlexSyncRun.heartbeat_at.is_(None),
                        PlexSyncRun.heartbeat_at < now - STALE_AFTER,
                        # This claim is the only sync here, and none runs anywhere else: the
                        # recorded one was cut off by a stop.
                        true() if self._sole_runner and self._active == 1 else false(),
                    ),
                )
                .values(
                    run_id=run_id,
                    kind=kind,
                    state="running",
                    items_done=0,
                    items_total=None,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                    error=None,
                )
            )
            if cast(CursorResult[Any], claimed).rowcount != 1:
                raise SyncAlreadyRunning
        return run_id

    async def heartbeat(self, session: AsyncSession, run: SyncRun) -> None:
        """Record the run's progress, in the transaction that wrote its latest batch."""
        progress = {"items_done": run.items_done, "items_total": run.items_total}
        await _update_run(session, run.id, heartbeat_at=utc_now(), **progress)

    async def _succeed(self, run: SyncRun) -> None:
        now = utc_now()
        # What was expected was an estimate (Plex changes meanwhile); done, the bar is full.
        done = {"items_done": run.items_done, "items_total": run.items_done}
        times = {"heartbeat_at": now, "finished_at": now, "last_succeeded_at": now}
        async with self._db.unit_of_work() as session:
            await _update_run(session, run.id, state="idle", **done, **times)

    async def _fail(self, run_id: uuid.UUID, message: str) -> None:
        now = utc_now()
        failed = {"state": "failed", "error": message, "heartbeat_at": now, "finished_at": now}
        try:
            async with self._db.unit_of_work() as session:
                await _update_run(session, run_id, **failed)
        except Exception:
            # The database failing too: the run is taken over once its heartbeat is stale.
            log.exception("plex.index_sync_failure_not_recorded")


async def _update_run(session: AsyncSession, run_id: uuid.UUID, **values: Any) -> None:
    """Change the run record, as long as this run still holds it."""
    await session.execute(
        update(PlexSyncRun)
        .where(PlexSyncRun.id == SYNC_RUN_ID, PlexSyncRun.run_id == run_id)
        .values(**values)
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, MediaNestError):
        return exc.message
    if isinstance(exc, asyncio.CancelledError):
        return "The library sync was interrupted (MediaNest stopped); the next sync redoes it."
    return f"The library sync stopped on an unexpected error ({type(exc).__name__}); see the log."
