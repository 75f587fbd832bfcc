"""Library syncs as queue jobs: the admin API, the schedule and connecting Plex, on both databases,
against the fake Plex server over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from medianest.app import create_app
from medianest.config import Settings
from medianest.core.audit import AuditService
from medianest.core.db import Database, utc_now
from medianest.core.job_queue import JobQueue
from medianest.core.jobs import Job, JobStatus
from medianest.core.metrics import Metrics
from medianest.integrations.plex.server import PlexServerClient
from medianest.plex.callers import PlexNotConnected
from medianest.plex.index_jobs import SYNC_FULL, SYNC_INCREMENTAL
from medianest.plex.library_index import LibraryIndex
from medianest.plex.models import SYNC_RUN_ID, PlexItem, PlexSyncRun
from medianest.plex.sync import LibrarySync
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer
from tests.integration.auth.conftest import csrf
from tests.support.app import Started, ok_data, started
from tests.support.plex import local_account, server_client, settings_with_plex

SEEDED = {"1": 6, "2": 2, "3": 1}
NOWHERE = "http://127.0.0.1:9"


def app_settings(
    make_settings: SettingsFactory, database_url: str, fake: FakePlexServer, **overrides: Any
) -> Settings:
    return settings_with_plex(
        make_settings, database_url, NOWHERE, fake, http_read_timeout=5.0, **overrides
    )


@pytest.fixture
async def medianest(
    make_settings: SettingsFactory, database_url: str, fake: FakePlexServer
) -> AsyncIterator[Started]:
    async with started(create_app(app_settings(make_settings, database_url, fake))) as app:
        yield app


@pytest.fixture
async def user(medianest: Started, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with local_account(medianest, database_url, "viewer") as http:
        yield http


def queue_of(app: Started) -> JobQueue:
    queue: JobQueue = app.state["platform"].queue
    return queue


async def finished(queue: JobQueue, job_id: uuid.UUID) -> Job:
    async with asyncio.timeout(30):
        while True:
            job = await queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            await asyncio.sleep(0.05)


async def sync_jobs(db: Database) -> list[Job]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            sa.select(Job)
            .where(Job.name.in_([SYNC_FULL, SYNC_INCREMENTAL]))
            .order_by(Job.created_at)
        )
        return list(rows)


async def some_sync_jobs(db: Database) -> list[Job]:
    """The sync jobs, once there is one."""
    async with asyncio.timeout(30):
        while True:
            jobs = await sync_jobs(db)
            if jobs:
                return jobs
            await asyncio.sleep(0.02)


async def start_sync(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/api/v1/admin/plex/sync", json=body, headers=csrf(http))


class TestAccess:
    async def test_a_user_is_forbidden(self, user: httpx.AsyncClient) -> None:
        started_ = await start_sync(user, full=True)
        status = await user.get("/api/v1/admin/plex/sync")

        assert started_.status_code == status.status_code == 403
        assert started_.json()["error"]["code"] == "FORBIDDEN"

    async def test_signed_out_callers_are_unauthorized(self, medianest: Started) -> None:
        async with medianest.client() as http:
            started_ = await http.post("/api/v1/admin/plex/sync", json={})
            status = await http.get("/api/v1/admin/plex/sync")

        assert started_.status_code == status.status_code == 401


class TestStartSync:
    async def test_a_full_sync_indexes_the_library_and_the_status_says_so(
        self, admin: httpx.AsyncClient, medianest: Started
    ) -> None:
        before = ok_data(await admin.get("/api/v1/admin/plex/sync"))

        response = await start_sync(admin, full=True)

        assert response.status_code == 202, response.text
        job = await finished(queue_of(medianest), uuid.UUID(ok_data(response)["jobId"]))
        assert job.status == JobStatus.SUCCEEDED, job.error
        status = ok_data(await admin.get("/api/v1/admin/plex/sync"))
        assert (before["state"], before["kind"], before["itemsDone"]) == ("idle", None, 0)
        assert before["startedAt"] is before["lastSucceededAt"] is None
        assert (status["state"], status["kind"], status["error"]) == ("idle", "full", None)
        assert status["itemsDone"] == status["itemsTotal"] == sum(SEEDED.values())
        assert status["startedAt"] <= status["finishedAt"]
        assert status["lastFullSyncAt"] is not None and status["queued"] is False
        counts = {lib["libraryKey"]: lib["itemCount"] for lib in status["libraries"]}
        assert counts == SEEDED

    async def test_starting_a_sync_is_audited(
        self, admin: httpx.AsyncClient, medianest: Started
    ) -> None:
        response = await start_sync(admin)
        await finished(queue_of(medianest), uuid.UUID(ok_data(response)["jobId"]))

        log = await admin.get("/api/v1/admin/audit-log", params={"action": "plex.sync_started"})

        (entry,) = ok_data(log)
        assert entry["actorName"] == "admin"
        assert entry["targetId"] == ok_data(response)["jobId"]
        assert entry["details"] == {"kind": "incremental"}

    async def test_a_sync_plex_fails_shows_as_failed_naming_plex(
        self, admin: httpx.AsyncClient, medianest: Started, fake: FakePlexServer
    ) -> None:
        await asyncio.to_thread(fake.down)

        response = await start_sync(admin, full=True)
        await finished(queue_of(medianest), uuid.UUID(ok_data(response)["jobId"]))

        status = ok_data(await admin.get("/api/v1/admin/plex/sync"))
        assert status["state"] == "failed"
        assert "Plex" in status["error"]

    async def test_a_sync_without_a_plex_server_fails_in_one_plain_log_line(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        from tests.integration.auth.conftest import finish_first_run

        app = create_app(make_settings(database_url=database_url))
        async with started(app) as medianest, medianest.client() as admin:
            await finish_first_run(admin)
            with capture_logs() as logs:
                response = await start_sync(admin, full=True)
                job = await finished(queue_of(medianest), uuid.UUID(ok_data(response)["jobId"]))
            status = ok_data(await admin.get("/api/v1/admin/plex/sync"))

        assert job.status == JobStatus.FAILED
        failures = [line for line in logs if line["event"] == "job.failed"]
        assert len(failures) == 1
        assert "exc_info" not in failures[0]
        assert status["state"] == "failed"
        assert "Plex" in status["error"]

    async def test_only_one_of_several_concurrent_starts_wins(
        self, admin: httpx.AsyncClient, medianest: Started, fake: FakePlexServer
    ) -> None:
        fake.slow(0.2)

        responses = await asyncio.gather(*(start_sync(admin, full=True) for _ in range(3)))

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [202, 409, 409]
        refused = [r.json()["error"] for r in responses if r.status_code == 409]
        assert all(e["code"] == "CONFLICT" and "already" in e["message"] for e in refused)
        (accepted,) = [r for r in responses if r.status_code == 202]
        job = await finished(queue_of(medianest), uuid.UUID(ok_data(accepted)["jobId"]))
        assert job.status == JobStatus.SUCCEEDED, job.error

    async def test_a_start_while_a_sync_runs_is_a_409(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        db = Database(database_url)
        try:
            async with db.unit_of_work() as session:
                session.add(
                    PlexSyncRun(
                        id=SYNC_RUN_ID,
                        kind="full",
                        state="running",
                        items_done=10,
                        started_at=utc_now(),
                        heartbeat_at=utc_now(),
                    )
                )
        finally:
            await db.close()

        response = await start_sync(admin)

        assert response.status_code == 409
        assert response.json()["error"]["message"] == (
            "A library sync is already running; its progress is on the admin page."
        )
        status = ok_data(await admin.get("/api/v1/admin/plex/sync"))
        assert (status["state"], status["itemsDone"]) == ("running", 10)


class TestAnswersAfterASync:
    async def test_a_sync_that_found_new_titles_makes_the_cached_pages_fresh(
        self, admin: httpx.AsyncClient, medianest: Started, fake: FakePlexServer
    ) -> None:
        first = await start_sync(admin, full=True)
        await finished(queue_of(medianest), uuid.UUID(ok_data(first)["jobId"]))
        for path in ("/libraries", "/libraries/1/items", "/search?query=Newcomer"):
            await admin.get("/api/v1/plex" + path)  # cached from here on
        fake.library.add_items("1", 300)
        fake.library.add_movie("1", "The Newcomer", year=2026)

        again = await start_sync(admin, full=True)
        job = await finished(queue_of(medianest), uuid.UUID(ok_data(again)["jobId"]))

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None and job.result["changed"] == ["1"]
        libraries = ok_data(await admin.get("/api/v1/plex/libraries"))
        movies = next(lib for lib in libraries if lib["key"] == "1")
        items = await admin.get("/api/v1/plex/libraries/1/items")
        found = ok_data(await admin.get("/api/v1/plex/search?query=Newcomer"))
        assert movies["itemCount"] == SEEDED["1"] + 301
        assert items.json()["meta"]["total"] == SEEDED["1"] + 301
        assert [hit["title"] for hit in found] == ["The Newcomer"]

    async def test_a_sync_that_changed_nothing_keeps_the_cached_answers(
        self, admin: httpx.AsyncClient, medianest: Started
    ) -> None:
        first = await start_sync(admin, full=True)
        await finished(queue_of(medianest), uuid.UUID(ok_data(first)["jobId"]))
        await admin.get("/api/v1/plex/libraries/1/items")

        again = await start_sync(admin, full=True)
        job = await finished(queue_of(medianest), uuid.UUID(ok_data(again)["jobId"]))
        items = await admin.get("/api/v1/plex/libraries/1/items")

        assert job.result is not None and job.result["changed"] == []
        assert items.headers["x-cache"] == "HIT"


# The schedule, with a clock the test moves.


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def plex_client(
    make_settings: SettingsFactory, fake: FakePlexServer
) -> AsyncIterator[PlexServerClient]:
    settings = make_settings(http_connect_timeout=0.5, http_read_timeout=5.0)
    async with server_client(settings, fake.url) as client:
        yield client


Connect = Callable[[], Awaitable[tuple[PlexServerClient, str]]]


@pytest.fixture
def connect(plex_client: PlexServerClient) -> Connect:
    async def give() -> tuple[PlexServerClient, str]:
        return plex_client, OWNER_TOKEN

    return give


@asynccontextmanager
async def process(
    settings: Settings, database_url: str, connect: Connect, clock: Clock, **options: Any
) -> AsyncIterator[tuple[LibrarySync, JobQueue, Database]]:
    """What one MediaNest process holds for syncing: its own engine, queue and scheduler."""
    db = Database(database_url)
    queue = JobQueue(settings, db, Metrics())
    await queue.start(consume=settings.redis_url is None)
    sync = LibrarySync(
        db=db,
        queue=queue,
        index=LibraryIndex(db),
        connect=connect,
        audit=AuditService(),
        interval_minutes=options.pop("interval_minutes", 15),
        clock=clock,
        **options,
    )
    try:
        yield sync, queue, db
    finally:
        await sync.stop()
        await queue.stop()
        await db.close()


async def settle(queue: JobQueue, db: Database) -> None:
    """Wait for every sync job enqueued so far to end."""
    for job in await sync_jobs(db):
        await finished(queue, job.id)


class TestSchedule:
    async def test_an_app_starting_on_a_never_synced_index_syncs_it_whole(
        self, make_settings: SettingsFactory, database_url: str, fake: FakePlexServer
    ) -> None:
        settings = app_settings(make_settings, database_url, fake, plex_sync_interval_minutes=15)

        async with started(create_app(settings)) as app:
            db: Database = app.state["platform"].db
            jobs = await some_sync_jobs(db)
            job = await finished(queue_of(app), jobs[0].id)

        assert (job.name, job.status) == (SYNC_FULL, JobStatus.SUCCEEDED)
        assert len(jobs) == 1
        assert job.result is not None and job.result["items"] == sum(SEEDED.values())

    async def test_an_incremental_sync_comes_once_the_interval_has_passed(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        connect: Connect,
        fake: FakePlexServer,
    ) -> None:
        clock = Clock()
        async with process(make_settings(), database_url, connect, clock) as (sync, queue, db):
            first = await sync.tick()
            await settle(queue, db)
            fake.library.add_movie("1", "Dune", year=2021)
            clock.advance(minutes=14)
            early = await sync.tick()
            clock.advance(minutes=2)
            due = await sync.tick()
            await settle(queue, db)
            async with db.sessionmaker() as session:
                dune = await session.scalar(sa.select(PlexItem).where(PlexItem.title == "Dune"))

        assert (first, early, due) == ("full", None, "incremental")
        assert dune is not None

    async def test_a_full_sync_comes_once_a_day(
        self, make_settings: SettingsFactory, database_url: str, connect: Connect
    ) -> None:
        clock = Clock()
        async with process(make_settings(), database_url, connect, clock) as (sync, queue, db):
            kinds = [await sync.tick()]
            await settle(queue, db)
            for _ in range(4):
                clock.advance(hours=6, minutes=1)
                kinds.append(await sync.tick())
                await settle(queue, db)

        assert kinds == ["full", "incremental", "incremental", "incremental", "full"]

    async def test_nothing_is_scheduled_while_a_sync_waits_or_runs(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        connect: Connect,
        fake: FakePlexServer,
    ) -> None:
        clock = Clock()
        fake.slow(0.2)
        async with process(make_settings(), database_url, connect, clock) as (sync, queue, db):
            first = await sync.tick()
            clock.advance(hours=30)
            second = await sync.tick()
            await settle(queue, db)
            jobs = await sync_jobs(db)

        assert (first, second) == ("full", None)
        assert len(jobs) == 1

    @pytest.mark.parametrize("backend", ["memory", "redis"])
    async def test_two_processes_on_one_database_enqueue_one_sync_per_tick(
        self,
        backend: str,
        make_settings: SettingsFactory,
        database_url: str,
        connect: Connect,
        request: pytest.FixtureRequest,
    ) -> None:
        overrides: dict[str, Any] = {}
        if backend == "redis":
            overrides = {
                "redis_url": request.getfixturevalue("redis_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix"),
            }
        settings = make_settings(**overrides)
        clock = Clock()
        async with (
            process(settings, database_url, connect, clock) as (one, queue, db),
            process(settings, database_url, connect, clock) as (other, _, _),
        ):
            startup = await asyncio.gather(one.tick(), other.tick())
            if backend == "memory":
                await settle(queue, db)
            else:
                await _mark_done(db)
            # Twenty minutes pass for what is stored, not only for the schedulers' clock: a
            # job run during the next round is stamped with the real time, and would look 20
            # minutes old (so due again) to a clock moved on alone.
            await _age_jobs(db, minutes=20)
            later = await asyncio.gather(one.tick(), other.tick(), one.tick())
            jobs = await sync_jobs(db)

        assert sorted(startup, key=str) == [None, "full"]
        assert sorted(later, key=str) == [None, None, "incremental"]
        assert [job.name for job in jobs] == [SYNC_FULL, SYNC_INCREMENTAL]

    async def test_without_a_plex_connection_the_scheduler_waits_and_says_so_once(
        self, make_settings: SettingsFactory, database_url: str, connect: Connect
    ) -> None:
        connected = False

        async def maybe() -> tuple[PlexServerClient, str]:
            if not connected:
                raise PlexNotConnected
            return await connect()

        clock = Clock()
        with capture_logs() as logs:
            async with process(make_settings(), database_url, maybe, clock, tick_seconds=0.01) as (
                sync,
                queue,
                db,
            ):
                sync.start_scheduler()
                await asyncio.sleep(0.2)
                waiting = await sync_jobs(db)
                connected = True
                jobs = await some_sync_jobs(db)
                await settle(queue, db)

        assert waiting == []
        assert [job.name for job in jobs] == [SYNC_FULL]
        events = [entry["event"] for entry in logs]
        assert events.count("plex.index_scheduler_waiting") == 1
        assert "plex.index_scheduler_resumed" in events
        assert "plex.index_scheduler_tick_failed" not in events

    async def test_a_schedule_of_zero_minutes_runs_nothing(
        self, make_settings: SettingsFactory, database_url: str, connect: Connect
    ) -> None:
        clock = Clock()
        async with process(make_settings(), database_url, connect, clock, interval_minutes=0) as (
            sync,
            _,
            db,
        ):
            sync.start_scheduler()
            kind = await sync.tick()
            jobs = await sync_jobs(db)

        assert (kind, jobs) == (None, [])


class TestOnConnected:
    async def test_connecting_plex_syncs_it_whole_once(
        self, make_settings: SettingsFactory, database_url: str, connect: Connect
    ) -> None:
        clock = Clock()
        settings = make_settings(redis_url=None)
        async with process(settings, database_url, connect, clock, interval_minutes=0) as (
            sync,
            queue,
            db,
        ):
            await sync.on_connected()
            await settle(queue, db)
            jobs = await sync_jobs(db)
            async with db.sessionmaker() as session:
                status = await sync.status(session)

        assert [(job.name, job.status) for job in jobs] == [(SYNC_FULL, JobStatus.SUCCEEDED)]
        assert {lib.library_key: lib.item_count for lib in status.libraries} == SEEDED

    async def test_a_full_sync_already_waiting_is_not_doubled(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        connect: Connect,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        # No worker listens on this Redis queue: the first job stays waiting.
        settings = make_settings(redis_url=redis_url, redis_prefix=redis_prefix)
        async with process(settings, database_url, connect, Clock()) as (sync, _, db):
            await sync.on_connected()
            await sync.on_connected()
            jobs = await sync_jobs(db)

        assert [(job.name, job.status) for job in jobs] == [(SYNC_FULL, JobStatus.QUEUED)]


async def _age_jobs(db: Database, **delta: float) -> None:
    """Move every job's creation back by `delta`, as if it had been made that long ago."""
    async with db.unit_of_work() as session:
        for job_id, created_at in (await session.execute(sa.select(Job.id, Job.created_at))).all():
            await session.execute(
                sa.update(Job)
                .where(Job.id == job_id)
                .values(created_at=created_at - timedelta(**delta))
            )


async def _mark_done(db: Database) -> None:
    """Finish the sync jobs no worker ran, as a worker would have."""
    async with db.unit_of_work() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.SUCCEEDED, finished_at=utc_now())
        )
        await session.execute(
            sa.update(PlexSyncRun).values(state="idle", last_succeeded_at=utc_now())
        )


@pytest.mark.slow
class TestWorker:
    async def test_a_worker_syncs_on_schedule_and_stops_cleanly(
        self,
        database_url: str,
        fake: FakePlexServer,
        redis_url: str,
        redis_prefix: str,
        tmp_path: Path,
    ) -> None:
        env = {
            **os.environ,
            "MEDIANEST_DATA_DIR": str(tmp_path / "worker"),
            "MEDIANEST_DATABASE_URL": database_url,
            "MEDIANEST_REDIS_URL": redis_url,
            "MEDIANEST_REDIS_PREFIX": redis_prefix,
            "MEDIANEST_PLEX_TV_URL": NOWHERE,
            "MEDIANEST_PLEX_URL": fake.url,
            "MEDIANEST_PLEX_TOKEN": fake.owner_token,
            "MEDIANEST_PLEX_SYNC_INTERVAL_MINUTES": "15",
            "MEDIANEST_LOG_FORMAT": "json",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "medianest",
            "worker",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        db = Database(database_url)
        try:
            (job,) = await some_sync_jobs(db)
            async with asyncio.timeout(30):
                while (job := await _job(db, job.id)).status not in (
                    JobStatus.SUCCEEDED,
                    JobStatus.FAILED,
                ):
                    assert proc.returncode is None
                    await asyncio.sleep(0.1)
        finally:
            await db.close()
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                output = (await proc.communicate())[0].decode()

        assert (job.name, job.status) == (SYNC_FULL, JobStatus.SUCCEEDED), output
        assert proc.returncode == 0, output
        assert "worker.stopping" in output
        assert "Traceback" not in output


async def _job(db: Database, job_id: uuid.UUID) -> Job:
    async with db.sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job
