"""The job queue: taskiq in-process by default, a Redis stream when Redis is configured.

Domains register async handlers by name (`queue.register("plex.sync", service.sync)`) and enqueue
by name. Messages carry only the job id; the `jobs` table (core/jobs.py) holds arguments, state and
results, so nothing is lost when Redis or a process goes away: `recover()` sends again every job
that was queued but never started, or whose runner stopped heart-beating.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, InMemoryBroker

from medianest.config import Settings
from medianest.core.db import Database, after_commit, utc_now
from medianest.core.errors import MediaNestError
from medianest.core.jobs import Job, JobStatus
from medianest.core.metrics import Metrics
from medianest.core.resilience import upstream_deadline

if TYPE_CHECKING:
    from medianest.core.queue_stream import ResilientStreamBroker

log = structlog.get_logger(__name__)

RUN_JOB_TASK = "medianest.run_job"
HEARTBEAT_EVERY = timedelta(seconds=15)
# A running job whose heartbeat is older than this lost its runner (crash, kill -9, power cut).
STALE_AFTER = timedelta(minutes=2)
# A queued job older than this had its message lost (on start in embedded mode: every queued job).
LOST_AFTER = timedelta(minutes=5)
RECOVER_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: uuid.UUID
    name: str
    attempt: int


JobHandler = Callable[..., Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class _Registration:
    handler: JobHandler
    max_attempts: int


class UnknownJob(Exception):
    pass


def _broker(settings: Settings, metrics: Metrics) -> AsyncBroker:
    if settings.redis_url is None:
        return InMemoryBroker(max_async_tasks=8)
    # Imported here so the embedded mode never needs the Redis packages at import time.
    from medianest.core.queue_stream import ResilientStreamBroker

    return ResilientStreamBroker(
        metrics=metrics,
        url=settings.redis_url,
        queue_name=f"{settings.redis_prefix}:jobs",
        consumer_group_name=f"{settings.redis_prefix}:workers",
        # A worker that died mid-job leaves its message unacknowledged; another claims it.
        unacknowledged_lock_timeout=int(STALE_AFTER.total_seconds()),
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _ping(job: JobInfo) -> dict[str, Any]:
    """Answers `medianest queue ping`: proves a worker is alive and says which one it is."""
    return {"worker": worker_name()}


class JobQueue:
    def __init__(self, settings: Settings, db: Database, metrics: Metrics) -> None:
        self._db = db
        self._metrics = metrics
        self._handlers: dict[str, _Registration] = {}
        self.embedded = settings.redis_url is None
        self.broker = _broker(settings, metrics)

        async def run_job(job_id: str) -> None:
            try:
                await self._run(job_id)
            except asyncio.CancelledError:
                # Only `stop()` cancels a job: it stays `running` in the table and is sent again
                # on the next start. Ending quietly keeps taskiq from logging it as an error.
                log.info("job.interrupted", job_id=job_id)

        self._task = self.broker.register_task(run_job, task_name=RUN_JOB_TASK)
        self._receiver: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[None] | None = None
        self.register("system.ping", _ping)

    def register(self, name: str, handler: JobHandler, *, max_attempts: int = 1) -> None:
        """`handler(job: JobInfo, **args)` runs in a worker; its return value is the result."""
        self._handlers[name] = _Registration(handler, max_attempts)

    async def enqueue(self, session: AsyncSession, name: str, /, **args: Any) -> uuid.UUID:
        """Record a job in the caller's transaction; its message is sent once that commits."""
        registration = self._registration(name)
        job = Job(name=name, args=args, max_attempts=registration.max_attempts)
        session.add(job)
        await session.flush()
        job_id = job.id
        after_commit(session, lambda: self._send_recorded(job_id))
        return job_id

    async def enqueue_now(self, name: str, /, **args: Any) -> uuid.UUID:
        """Record and send a job in a transaction of its own."""
        async with self._db.unit_of_work() as session:
            return await self.enqueue(session, name, **args)

    async def get(self, job_id: uuid.UUID) -> Job | None:
        async with self._db.sessionmaker() as session:
            return await session.get(Job, job_id)

    async def depth(self) -> int:
        async with self._db.sessionmaker() as session:
            unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
            count = await session.scalar(
                select(func.count()).select_from(Job).where(Job.status.in_(unfinished))
            )
        self._metrics.queue_depth.set(count or 0)
        return count or 0

    async def start(self, *, consume: bool) -> None:
        """Connect the broker; with `consume`, also run jobs in this process."""
        if self.embedded:
            await self.broker.startup()
        else:
            self.broker.is_worker_process = consume
            if consume:
                # Jobs whose messages died with Redis's stream, or were never sent while it was
                # away, are sent as soon as it is back rather than after LOST_AFTER.
                self._stream().on_reconnect = self._recover_after_outage
            # Redis may be down right now; the web keeps answering and recording jobs meanwhile.
            self._receiver = asyncio.create_task(self._connect_and_listen(consume))
        if consume:
            self._recovery = asyncio.create_task(self._recover_periodically())

    async def _connect_and_listen(self, consume: bool) -> None:
        from taskiq.api import run_receiver_task

        # Waits, backing off, until Redis answers; the stream broker's `listen()` then rides
        # out later outages and restarts itself.
        await self.broker.startup()
        if consume:
            log.info("queue.listening")
            await run_receiver_task(self.broker, max_async_tasks=8, run_startup=False)

    async def _recover_after_outage(self) -> None:
        try:
            await self.recover(all_queued=True)
        except Exception as exc:
            log.warning("queue.recover_failed", error=type(exc).__name__)

    def _stream(self) -> ResilientStreamBroker:
        from medianest.core.queue_stream import ResilientStreamBroker

        assert isinstance(self.broker, ResilientStreamBroker)
        return self.broker

    async def stop(self) -> None:
        for task in (self._recovery, self._receiver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if isinstance(self.broker, InMemoryBroker):
            # Unfinished in-process jobs stay `running` in the table and are resent on next start.
            for task in list(self.broker._running_tasks):
                task.cancel()
            await asyncio.gather(*self.broker._running_tasks, return_exceptions=True)
        await self.broker.shutdown()

    async def ping(self) -> None:
        """Raises unless jobs sent now would be delivered: Redis answers and the consumer
        group exists (a Redis restarted without its data has neither stream nor group)."""
        if not self.embedded:
            await self._stream().check_group()

    async def _recover_periodically(self) -> None:
        """Recover on start, then every minute; a database that is down is retried next round."""
        startup = True
        while True:
            try:
                await self.recover(startup=startup)
                startup = False
            except Exception as exc:
                log.warning("queue.recover_failed", error=type(exc).__name__)
            await asyncio.sleep(RECOVER_EVERY)

    async def recover(self, *, startup: bool = False, all_queued: bool = False) -> int:
        """Send again every job whose message was lost or whose runner died; returns how many.

        With `all_queued`, every job not yet started is sent, however recent: the queue was
        down, so its message may never have reached Redis. A duplicate is harmless (`_claim`).
        """
        now = utc_now()
        async with self._db.unit_of_work() as session:
            stale = (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < now - STALE_AFTER)
            if self.embedded:
                # One process runs every job, so one claimed by another pid lost its runner.
                stale = (Job.status == JobStatus.RUNNING) & (
                    (Job.heartbeat_at < now - STALE_AFTER) | (Job.worker != worker_name())
                )
            rows = await session.scalars(
                update(Job)
                .where(stale)
                .values(status=JobStatus.QUEUED, worker=None)
                .returning(Job.id)
            )
            ids = list(rows)
            lost = Job.status == JobStatus.QUEUED
            if not (all_queued or (self.embedded and startup)):
                lost &= Job.created_at < now - LOST_AFTER
            ids += [i for i in await session.scalars(select(Job.id).where(lost)) if i not in ids]
        for job_id in ids:
            await self._send(job_id)
        if ids:
            log.info("queue.recovered", jobs=len(ids))
        return len(ids)

    def _registration(self, name: str) -> _Registration:
        try:
            return self._handlers[name]
        except KeyError:
            raise UnknownJob(name) from None

    async def _send(self, job_id: uuid.UUID) -> None:
        await self._task.kiq(str(job_id))

    async def _send_recorded(self, job_id: uuid.UUID) -> None:
        """Send a job just recorded; while Redis is away it waits in the table, and a runner
        sends it once the queue is back."""
        try:
            await self._send(job_id)
        except (RedisError, OSError) as exc:
            log.warning("queue.send_deferred", job_id=str(job_id), error=type(exc).__name__)

    async def _claim(self, job_id: uuid.UUID) -> Job | None:
        """Mark the job running for this process; None when another runner has it already."""
        now = utc_now()
        async with self._db.unit_of_work() as session:
            claimed = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING,
                    attempts=Job.attempts + 1,
                    worker=worker_name(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return await session.get(Job, job_id)

    async def _finish(self, job_id: uuid.UUID, **values: Any) -> None:
        async with self._db.unit_of_work() as session:
            await session.execute(
                update(Job).where(Job.id == job_id).values({"finished_at": utc_now(), **values})
            )

    async def _heartbeat(self, job_id: uuid.UUID) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
            async with self._db.unit_of_work() as session:
                await session.execute(
                    update(Job).where(Job.id == job_id).values(heartbeat_at=utc_now())
                )

    async def _run(self, job_id: str) -> None:
        job = await self._claim(uuid.UUID(job_id))
        if job is None:
            return
        info = JobInfo(job.id, job.name, job.attempts)
        bound = structlog.contextvars.bound_contextvars(job_id=job_id, job=job.name)
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        # A job queued by a web request is not bound by that request's upstream deadline.
        with bound, upstream_deadline(None):
            try:
                registration = self._registration(job.name)
                result = await registration.handler(info, **job.args)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._failed(job, exc)
            else:
                await self._finish(job.id, status=JobStatus.SUCCEEDED, result=result, error=None)
                self._metrics.jobs.labels(job=job.name, outcome="succeeded").inc()
                log.info("job.succeeded", attempt=info.attempt)
            finally:
                heartbeat.cancel()

    async def _failed(self, job: Job, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if job.attempts < job.max_attempts:
            log.warning("job.retrying", attempt=job.attempts, error=message)
            await self._finish(job.id, status=JobStatus.QUEUED, error=message, finished_at=None)
            await self._send(job.id)
            return
        # A known situation (Plex not connected, an upstream down) is one line; a bug keeps
        # its traceback.
        if isinstance(exc, MediaNestError):
            log.error("job.failed", attempt=job.attempts, error=message)
        else:
            log.error("job.failed", attempt=job.attempts, error=message, exc_info=exc)
        await self._finish(job.id, status=JobStatus.FAILED, error=message)
        self._metrics.jobs.labels(job=job.name, outcome="failed").inc()
