"""MediaNest's own checks: Plex and Overseerr answering at their connected addresses, and its own
parts (database, Redis when configured, the workers that run jobs).

Plex and Overseerr are asked what anyone may ask (Plex's `/identity`, Overseerr's `/status`),
once, through a probing client: past the breaker that guards people's requests and its
retries, so the check measures the service itself and a breaker opened by a burst of failed
pages does not hide that it came back. A service nobody connected is `unknown`, not down.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from redis.asyncio import Redis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.plex_access import ConnectionSource
from medianest.core.db import Database, utc_now
from medianest.core.errors import MediaNestError
from medianest.core.job_queue import JobInfo, JobQueue, worker_name
from medianest.core.jobs import Job, JobStatus
from medianest.integrations.overseerr.errors import OverseerrProbeFailed
from medianest.integrations.overseerr.upstream import OverseerrClients
from medianest.integrations.plex.errors import PlexProbeFailed
from medianest.integrations.plex.servers import PlexServers
from medianest.status.models import ServiceKind, Status
from medianest.status.readings import Poll, Reading

log = structlog.get_logger(__name__)

CHECK_TIMEOUT = 5.0
PING_JOB = "status.ping"
# A worker reads the queue every two seconds while it waits for jobs.
PING_WAIT = 5.0

PLEX, OVERSEERR = "plex", "overseerr"
DATABASE, REDIS, WORKERS = "database", "redis", "workers"


OverseerrSource = Callable[[], Awaitable[tuple[str, str] | None]]
"""Where the connected Overseerr is (address, API key), or None: the requests domain knows."""


def failure_message(name: str, failure: str, http_status: int | None, timeout: float) -> str:
    """What a probing client's failure means for the status page, said for everyone."""
    if failure == "timeout":
        return f"{name} did not answer within {timeout:g} seconds."
    if failure == "unreachable":
        return f"Nothing answers at {name}'s address: it is stopped, or its machine is off."
    if failure == "broken_off":
        return f"The connection to {name} broke off."
    if failure == "untrusted_certificate":
        return f"{name} answers, but with an HTTPS certificate MediaNest cannot trust."
    if failure == "server_error":
        shown = f" (HTTP {http_status})" if http_status else ""
        return f"{name} answers with an error{shown}."
    return f"Something answers at {name}'s address, but not as {name} does."


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class PlexCheck:
    def __init__(self, source: ConnectionSource, servers: PlexServers, timeout: float) -> None:
        self._source = source
        self._servers = servers
        self._timeout = timeout

    async def poll(self) -> Poll:
        now = utc_now()
        connection = await self._source()
        if connection is None:
            message = "Plex is not connected yet: an administrator connects it under Admin."
            return Poll((_reading(PLEX, "Plex", ServiceKind.PLEX, Status.UNKNOWN, now, message),))
        started = time.perf_counter()
        try:
            async with self._servers.probing(connection.url) as client:
                await client.identity()
        except PlexProbeFailed as exc:
            text = failure_message("Plex", exc.failure, exc.http_status, self._timeout)
            return Poll((_reading(PLEX, "Plex", ServiceKind.PLEX, Status.DOWN, now, text),))
        except MediaNestError:
            text = failure_message("Plex", "", None, self._timeout)
            return Poll((_reading(PLEX, "Plex", ServiceKind.PLEX, Status.DOWN, now, text),))
        reading = _reading(
            PLEX, "Plex", ServiceKind.PLEX, Status.UP, now, response_ms=_elapsed_ms(started)
        )
        return Poll((reading,))


class OverseerrCheck:
    def __init__(self, source: OverseerrSource, clients: OverseerrClients, timeout: float) -> None:
        self._source = source
        self._clients = clients
        self._timeout = timeout

    async def poll(self) -> Poll:
        now = utc_now()
        link = await self._source()
        name, kind = "Overseerr", ServiceKind.OVERSEERR
        if link is None:
            message = "Overseerr is not connected yet: an administrator connects it under Admin."
            return Poll((_reading(OVERSEERR, name, kind, Status.UNKNOWN, now, message),))
        url, api_key = link
        started = time.perf_counter()
        try:
            async with self._clients.probing(url, api_key) as client:
                await client.status()
        except OverseerrProbeFailed as exc:
            text = failure_message(name, exc.failure, exc.http_status, self._timeout)
            return Poll((_reading(OVERSEERR, name, kind, Status.DOWN, now, text),))
        except MediaNestError:
            text = failure_message(name, "", None, self._timeout)
            return Poll((_reading(OVERSEERR, name, kind, Status.DOWN, now, text),))
        reading = _reading(OVERSEERR, name, kind, Status.UP, now, response_ms=_elapsed_ms(started))
        return Poll((reading,))


class OwnCheck:
    """The database, Redis (when configured) and the workers, as one poll."""

    def __init__(self, db: Database, queue: JobQueue, redis_url: str | None) -> None:
        self._db = db
        self._queue = queue
        self._redis_url = redis_url
        self._pending: uuid.UUID | None = None

    async def poll(self) -> Poll:
        now = utc_now()
        readings = [await self._database(now)]
        if self._redis_url is not None:
            readings.append(await self._redis(self._redis_url, now))
        readings.append(await self._workers(now))
        # Redis left out when it is no longer configured; the workers with it.
        return Poll(tuple(readings), owns=(REDIS,))

    async def _database(self, now: datetime) -> Reading:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._db.ping(), CHECK_TIMEOUT)
        except Exception as exc:
            # Rarely seen: the poll is stored in that same database (each process's snapshot
            # says so when it cannot read it).
            log.warning("status.database_check_failed", error=type(exc).__name__)
            message = "MediaNest cannot reach its database."
            return _reading(DATABASE, "Database", ServiceKind.MEDIANEST, Status.DOWN, now, message)
        ms = _elapsed_ms(started)
        return _reading(
            DATABASE, "Database", ServiceKind.MEDIANEST, Status.UP, now, response_ms=ms, position=3
        )

    async def _redis(self, url: str, now: datetime) -> Reading:
        started = time.perf_counter()
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await asyncio.wait_for(client.ping(), CHECK_TIMEOUT)
        except Exception as exc:
            log.info("status.redis_check_failed", error=type(exc).__name__)
            message = "MediaNest cannot reach Redis: live updates between its processes and "
            message += "downloads wait until it is back."
            return _reading(REDIS, "Redis", ServiceKind.MEDIANEST, Status.DOWN, now, message, 4)
        finally:
            await client.aclose()
        ms = _elapsed_ms(started)
        return _reading(REDIS, "Redis", ServiceKind.MEDIANEST, Status.UP, now, None, 4, ms)

    async def _workers(self, now: datetime) -> Reading:
        """Whether a worker runs a job: a test job (`status.ping`) is sent each time, and
        waited for a few seconds; one still waiting at the next check finds nobody taking jobs.
        A job done is deleted, so the checks leave no rows behind."""
        name, kind = "Download workers", ServiceKind.WORKERS
        waited_before = self._pending is not None
        try:
            if self._pending is None:
                self._pending = await self._queue.enqueue_now(PING_JOB)
            job = await self._done(self._pending, PING_WAIT if not waited_before else 0.0)
        except Exception as exc:
            log.info("status.workers_check_failed", error=type(exc).__name__)
            text = "The job queue cannot be reached, so downloads wait until it is back."
            return _reading(WORKERS, name, kind, Status.DOWN, now, text)
        if job is None:
            if waited_before:
                text = "No worker is taking jobs: downloads wait until `medianest worker` runs."
                return _reading(WORKERS, name, kind, Status.DOWN, now, text)
            text = "Workers are slow to take jobs: they may all be busy."
            return _reading(WORKERS, name, kind, Status.DEGRADED, now, text)
        self._pending = None
        await self._forget(job.id)
        if job.status != JobStatus.SUCCEEDED or job.finished_at is None:
            text = "A worker could not run a test job: downloads may fail too."
            return _reading(WORKERS, name, kind, Status.DOWN, now, text)
        took = (job.finished_at - job.created_at).total_seconds() * 1000
        text = "Jobs run inside MediaNest itself." if self._queue.embedded else "Workers take jobs."
        return _reading(WORKERS, name, kind, Status.UP, now, text, response_ms=round(took, 1))

    async def _done(self, job_id: uuid.UUID, within: float) -> Job | None:
        """The job once it finished, waiting up to `within` seconds; None while it waits."""
        deadline = time.monotonic() + within
        while True:
            job = await self._queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.1)

    async def _forget(self, job_id: uuid.UUID) -> None:
        async with self._db.unit_of_work() as session:
            await session.execute(delete(Job).where(Job.id == job_id))


async def forget_old_pings(session: AsyncSession, now: datetime) -> int:
    """Delete test jobs a check sent and never came back for (its process stopped meanwhile)."""
    result = await session.execute(
        delete(Job)
        .where(Job.name == PING_JOB, Job.created_at < now - timedelta(hours=1))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def ping(job: JobInfo) -> dict[str, str]:
    """`status.ping`: proves a worker runs jobs."""
    return {"worker": worker_name()}


_POSITIONS = {PLEX: 0, OVERSEERR: 1, WORKERS: 2, DATABASE: 3, REDIS: 4}


def _reading(
    id: str,
    name: str,
    kind: ServiceKind,
    status: Status,
    at: datetime,
    message: str | None = None,
    position: int | None = None,
    response_ms: float | None = None,
) -> Reading:
    return Reading.checked(
        id,
        name,
        kind,
        status,
        at,
        response_ms=response_ms,
        message=message,
        position=_POSITIONS[id] if position is None else position,
    )
