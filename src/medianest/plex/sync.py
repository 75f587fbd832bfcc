"""When the library index is synced: on an administrator's word, on connecting Plex, on a schedule.

Syncs run as queue jobs (`plex.sync_full`, `plex.sync_incremental`, registered here for every
process that builds the services), so they run wherever jobs run and survive a restart.

The scheduler ticks once a minute in every web process and worker. A tick asks for a full sync
when the index was never synced (at start-up, then again every `FIRST_SYNC_RETRY` while it
fails), a full sync once a day, and an incremental one every `MEDIANEST_PLEX_SYNC_INTERVAL_MINUTES`
(0: no scheduled syncs). With several processes on one database, each tick would ask at the same
moment; the decision is therefore taken in the database, under a lock every process takes the same
way: the tick updates the single `plex_sync_run` row (a write that changes nothing, but holds the
row on PostgreSQL and the write lock on SQLite until it commits), then reads when a sync job was
last enqueued and enqueues in that same transaction. A second tick waits for the first to commit
and then sees its job, so one tick enqueues at most one sync and two processes never enqueue the
same one. An administrator starting a sync takes the same lock, so they cannot race a tick either.
The times come from the `jobs` table, not from this process's memory: a restart or a new process
changes nothing about when the next sync is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database, utc_now
from medianest.core.errors import MediaNestError
from medianest.core.job_queue import STALE_AFTER as JOB_STALE_AFTER
from medianest.core.job_queue import JobQueue
from medianest.core.jobs import Job, JobStatus
from medianest.core.poller import Poller
from medianest.plex.index_jobs import (
    SYNC_FULL,
    SYNC_INCREMENTAL,
    PlexConnection,
    register_index_jobs,
)
from medianest.plex.library_index import LibraryIndex, SyncStatus
from medianest.plex.models import SYNC_RUN_ID, PlexSyncRun
from medianest.plex.sync_runs import STALE_AFTER, SyncAlreadyRunning, SyncKind

log = structlog.get_logger(__name__)

TICK_SECONDS = 60.0
FULL_EVERY = timedelta(days=1)
FIRST_SYNC_RETRY = timedelta(minutes=15)
# A job queued longer than this without starting is taken as lost (no worker runs, or its
# message went astray and the queue's recovery will send it again): it no longer blocks a start.
QUEUED_FOR_AT_MOST = timedelta(hours=1)
_JOBS: dict[SyncKind, str] = {"full": SYNC_FULL, "incremental": SYNC_INCREMENTAL}


class SyncOverview(SyncStatus):
    """The sync status, with what an admin page shows beside it."""

    # A sync job is waiting for a runner (the state turns `running` once one starts it).
    queued: bool = False
    last_full_sync_at: datetime | None = None
    last_incremental_sync_at: datetime | None = None
    # Minutes between scheduled incremental syncs; None when scheduled syncs are off.
    interval_minutes: int | None = None


class SyncQueued(SyncAlreadyRunning):
    message = "A library sync is already waiting to start; its progress will be on the admin page."


@dataclass(frozen=True, slots=True)
class _Jobs:
    """What the `jobs` table says about syncs: one waiting or running, and when each kind was
    last enqueued."""

    pending: Literal["queued", "running"] | None
    last_any: datetime | None
    last_full: datetime | None


class LibrarySync:
    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        index: LibraryIndex,
        connect: PlexConnection,
        audit: AuditService,
        interval_minutes: int,
        tick_seconds: float = TICK_SECONDS,
        clock: Callable[[], datetime] = utc_now,
        on_changed: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        """`connect` gives the Plex client and the owner's token (raising `PlexNotConnected`
        while no server is connected); `clock` tells the scheduler the time; `on_changed` is
        told which libraries a finished sync changed."""
        self._db = db
        self._queue = queue
        self._index = index
        self._connect = connect
        self._audit = audit
        self._interval = timedelta(minutes=interval_minutes) if interval_minutes else None
        self._clock = clock
        self._scheduler = Poller("plex-index-scheduler", self.tick, interval=tick_seconds)
        self._waiting_for_plex = False
        register_index_jobs(queue, index, connect, on_changed=on_changed)

    # Started by hand

    async def start(
        self, session: AsyncSession, *, full: bool, actor: Actor | None = None
    ) -> uuid.UUID:
        """Enqueue a sync in the caller's transaction (it is sent once that commits); returns
        the job id. With `actor`, the audit log records who started it.

        Raises `SyncAlreadyRunning` (409) while a sync runs, `SyncQueued` while one waits.
        """
        kind: SyncKind = "full" if full else "incremental"
        await self._lock(session)
        if await self._running(session):
            raise SyncAlreadyRunning
        jobs = await self._jobs(session)
        if jobs.pending == "running":
            raise SyncAlreadyRunning
        if jobs.pending == "queued":
            raise SyncQueued
        job_id = await self._queue.enqueue(session, _JOBS[kind])
        if actor is not None:
            await self._audit.record(
                session,
                "plex.sync_started",
                actor=actor,
                target_type="job",
                target_id=job_id,
                kind=kind,
            )
        log.info("plex.index_sync_enqueued", kind=kind, reason="started", job_id=str(job_id))
        return job_id

    async def on_connected(self, session: AsyncSession | None = None) -> None:
        """A Plex server was connected (or changed): index it whole. Call it once the
        connection is committed, or pass the transaction that saves it (the sync is then sent
        when that commits), so the sync reads the new connection.

        A full sync already waiting to start is enough (it reads the connection when it runs).
        A sync of the old server still running makes the new one end at once; the next
        scheduled full sync then covers the new server.
        """
        if session is None:
            async with self._db.unit_of_work() as own:
                await self.on_connected(own)
            return
        await self._lock(session)
        jobs = await self._jobs(session, kind="full")
        if jobs.pending == "queued":
            return
        job_id = await self._queue.enqueue(session, SYNC_FULL)
        log.info("plex.index_sync_enqueued", kind="full", reason="connected", job_id=str(job_id))

    async def status(self, session: AsyncSession) -> SyncOverview:
        """The current or last sync, with each library's counts and sync times."""
        status = await self._index.sync_status(session)
        jobs = await self._jobs(session)
        fulls = [lib.last_full_sync_at for lib in status.libraries if lib.last_full_sync_at]
        incrementals = [
            lib.last_incremental_sync_at
            for lib in status.libraries
            if lib.last_incremental_sync_at is not None
        ]
        # The run record exists from the first start or tick on; until a sync began, no kind.
        kind = status.kind if status.started_at is not None else None
        return SyncOverview(
            **status.model_dump(exclude={"kind"}),
            kind=kind,
            queued=jobs.pending == "queued" and status.state != "running",
            last_full_sync_at=max(fulls, default=None),
            last_incremental_sync_at=max(incrementals, default=None),
            interval_minutes=int(self._interval.total_seconds() // 60) if self._interval else None,
        )

    # The schedule

    def start_scheduler(self) -> None:
        """Tick now and every `tick_seconds` until `stop()`; does nothing when scheduled syncs
        are off."""
        if self._interval is not None:
            self._scheduler.start()

    async def stop(self) -> None:
        await self._scheduler.stop()

    async def tick(self) -> SyncKind | None:
        """Enqueue the sync that is due, if any, and say which.

        Raises what the database raises; Plex not being connected is no error (None).
        """
        interval = self._interval
        if interval is None or not await self._plex_connected():
            return None
        now = self._clock()
        async with self._db.unit_of_work() as session:
            await self._lock(session)
            if await self._running(session):
                return None
            jobs = await self._jobs(session)
            if jobs.pending is not None:
                return None
            kind = self._due(
                now, jobs, never_synced=await self._never_synced(session), interval=interval
            )
            if kind is None:
                return None
            job_id = await self._queue.enqueue(session, _JOBS[kind])
        log.info("plex.index_sync_enqueued", kind=kind, reason="scheduled", job_id=str(job_id))
        return kind

    def _due(
        self, now: datetime, jobs: _Jobs, *, never_synced: bool, interval: timedelta
    ) -> SyncKind | None:
        def older(moment: datetime | None, than: timedelta) -> bool:
            return moment is None or now - moment >= than

        if never_synced:
            return "full" if older(jobs.last_full, FIRST_SYNC_RETRY) else None
        if older(jobs.last_full, FULL_EVERY):
            return "full"
        if older(jobs.last_any, interval):
            return "incremental"
        return None

    async def _plex_connected(self) -> bool:
        try:
            await self._connect()
        except MediaNestError as exc:
            if not self._waiting_for_plex:
                log.info("plex.index_scheduler_waiting", reason=exc.message)
                self._waiting_for_plex = True
            return False
        if self._waiting_for_plex:
            log.info("plex.index_scheduler_resumed")
            self._waiting_for_plex = False
        return True

    # What the database says

    async def _lock(self, session: AsyncSession) -> None:
        """Hold the run record until the transaction ends (see the module docstring)."""
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        await session.execute(
            insert(PlexSyncRun)
            .values(id=SYNC_RUN_ID, kind="full", state="idle", items_done=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        await session.execute(
            update(PlexSyncRun).where(PlexSyncRun.id == SYNC_RUN_ID).values(id=PlexSyncRun.id)
        )

    async def _running(self, session: AsyncSession) -> bool:
        run = await session.get(PlexSyncRun, SYNC_RUN_ID, populate_existing=True)
        return (
            run is not None
            and run.state == "running"
            and run.heartbeat_at is not None
            and run.heartbeat_at >= utc_now() - STALE_AFTER
        )

    async def _never_synced(self, session: AsyncSession) -> bool:
        return await self._index.indexed_at(session) is None

    async def _jobs(self, session: AsyncSession, *, kind: SyncKind | None = None) -> _Jobs:
        names = [_JOBS[kind]] if kind is not None else list(_JOBS.values())
        now = utc_now()
        alive = (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at >= now - JOB_STALE_AFTER)
        waiting = (Job.status == JobStatus.QUEUED) & (Job.created_at >= now - QUEUED_FOR_AT_MOST)
        statuses = set(
            await session.scalars(
                select(Job.status).where(Job.name.in_(names), alive | waiting).distinct()
            )
        )
        last = await session.execute(
            select(Job.name, func.max(Job.created_at))
            .where(Job.name.in_(list(_JOBS.values())))
            .group_by(Job.name)
        )
        times: dict[str, datetime] = {name: at for name, at in last.all() if at is not None}
        last_any = max(times.values(), default=None)
        state: Literal["queued", "running"] | None = None
        if JobStatus.RUNNING in statuses:
            state = "running"
        elif JobStatus.QUEUED in statuses:
            state = "queued"
        return _Jobs(state, last_any, times.get(SYNC_FULL))


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
