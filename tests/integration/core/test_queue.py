"""The job queue: jobs run, failures are recorded, nothing is lost across crashes and restarts."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio
from sqlalchemy import func, select
from structlog.testing import capture_logs

from medianest.core.db import Database, utc_now
from medianest.core.job_queue import JobInfo, JobQueue, worker_name
from medianest.core.jobs import Job, JobStatus
from medianest.core.metrics import Metrics
from tests.conftest import SettingsFactory


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
async def queue(make_settings: SettingsFactory, db: Database) -> AsyncIterator[JobQueue]:
    q = JobQueue(make_settings(), db, Metrics())
    await q.start(consume=True)
    yield q
    await q.stop()


async def _settle(queue: JobQueue) -> None:
    """Wait until every job the in-process broker started (and any it re-sent) has finished."""
    for _ in range(20):
        await queue.broker.wait_all()  # type: ignore[attr-defined]
        if not queue.broker._running_tasks:  # type: ignore[attr-defined]
            return


async def _wait_for(queue: JobQueue, job_id: uuid.UUID, within: float = 30) -> Job:
    async with asyncio.timeout(within):
        while True:
            job = await queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            await asyncio.sleep(0.1)


class TestEmbeddedQueue:
    async def test_an_enqueued_job_runs_and_its_result_is_kept(self, queue: JobQueue) -> None:
        seen: list[dict[str, Any]] = []

        async def greet(job: JobInfo, name: str) -> dict[str, Any]:
            seen.append({"name": name, "attempt": job.attempt})
            return {"greeting": f"hello {name}"}

        queue.register("test.greet", greet)
        job_id = await queue.enqueue_now("test.greet", name="ada")
        await _settle(queue)
        job = await queue.get(job_id)
        assert job is not None
        assert job.status == JobStatus.SUCCEEDED
        assert job.result == {"greeting": "hello ada"}
        assert job.worker == worker_name()
        assert seen == [{"name": "ada", "attempt": 1}]

    async def test_a_failing_job_is_retried_then_recorded_as_failed(self, queue: JobQueue) -> None:
        calls = 0

        async def flaky(job: JobInfo) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError(f"disk full on attempt {job.attempt}")

        queue.register("test.flaky", flaky, max_attempts=3)
        job_id = await queue.enqueue_now("test.flaky")
        await _settle(queue)
        job = await queue.get(job_id)
        assert job is not None
        assert (job.status, job.attempts, calls) == (JobStatus.FAILED, 3, 3)
        assert job.error == "disk full on attempt 3"

    async def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(
        self, queue: JobQueue, db: Database
    ) -> None:
        ran = asyncio.Event()

        async def never(job: JobInfo) -> None:
            ran.set()

        queue.register("test.never", never)

        async def failing_request() -> None:
            async with db.unit_of_work() as session:
                await queue.enqueue(session, "test.never")
                raise RuntimeError("the request failed after enqueueing")

        with pytest.raises(RuntimeError):
            await failing_request()
        await _settle(queue)
        assert not ran.is_set()
        async with db.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Job)) == 0

    async def test_a_job_delivered_twice_runs_once(self, queue: JobQueue) -> None:
        runs = 0

        async def count(job: JobInfo) -> None:
            nonlocal runs
            runs += 1

        queue.register("test.count", count)
        job_id = await queue.enqueue_now("test.count")
        await asyncio.gather(*(queue._send(job_id) for _ in range(3)))
        await _settle(queue)
        assert runs == 1

    async def test_jobs_interrupted_by_a_crash_run_again_on_start(
        self, make_settings: SettingsFactory, db: Database
    ) -> None:
        done: list[str] = []

        async def finish(job: JobInfo, label: str) -> None:
            done.append(label)

        async with db.unit_of_work() as session:
            session.add(
                Job(
                    name="test.finish",
                    args={"label": "was running"},
                    status=JobStatus.RUNNING,
                    attempts=1,
                    worker="gone:1",
                    started_at=utc_now() - timedelta(hours=1),
                    heartbeat_at=utc_now() - timedelta(hours=1),
                )
            )
            session.add(Job(name="test.finish", args={"label": "never sent"}))
        restarted = JobQueue(make_settings(), db, Metrics())
        restarted.register("test.finish", finish)
        await restarted.start(consume=True)  # recovers in the background, at once
        try:
            async with db.sessionmaker() as session:
                ids = list(await session.scalars(select(Job.id)))
            for job_id in ids:
                await _wait_for(restarted, job_id)
        finally:
            await restarted.stop()
        assert sorted(done) == ["never sent", "was running"]
        async with db.sessionmaker() as session:
            statuses = list(await session.scalars(select(Job.status)))
        assert statuses == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]


@pytest.mark.slow
class TestRedisWorker:
    async def test_a_job_enqueued_by_the_web_process_runs_in_a_worker_process(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
        tmp_path: Any,
    ) -> None:
        settings = make_settings(
            database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix
        )
        database = Database(database_url)
        web = JobQueue(settings, database, Metrics())
        await web.start(consume=False)
        # Sent before any worker exists: the stream keeps it until one joins.
        job_id = await web.enqueue_now("system.ping")
        env = {
            **os.environ,
            "MEDIANEST_DATA_DIR": str(settings.data_dir),
            "MEDIANEST_DATABASE_URL": database_url,
            "MEDIANEST_REDIS_URL": redis_url,
            "MEDIANEST_REDIS_PREFIX": redis_prefix,
            "MEDIANEST_SECRET_KEY": "s" * 40,
            "MEDIANEST_ENCRYPTION_KEY": "q" * 43 + "=",
            "MEDIANEST_LOG_LEVEL": "WARNING",
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "medianest",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            job = await _wait_for(web, job_id)
        finally:
            worker.terminate()
            try:
                # A loaded machine (CI's two workers and their browsers) can take a while to
                # let the worker finish its job and close its connections.
                _, stderr = await asyncio.wait_for(worker.communicate(), timeout=60)
            except TimeoutError:
                worker.kill()
                await worker.wait()
                raise AssertionError("the worker did not stop within 60 s of SIGTERM") from None
            finally:
                await web.stop()
                await database.close()
        assert job.status == JobStatus.SUCCEEDED, stderr.decode()
        ran_on = job.result["worker"] if job.result else None
        assert ran_on is not None and ran_on.endswith(f":{worker.pid}")
        assert ran_on != worker_name()
        assert worker.returncode == 0, stderr.decode()


class TestRedisStreamLost:
    async def test_a_job_sent_after_the_stream_vanished_runs_and_the_loss_is_told_once(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        settings = make_settings(
            database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix
        )
        database = Database(database_url)
        metrics = Metrics()
        queue = JobQueue(settings, database, metrics)
        await queue.start(consume=True)
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            await _wait_for(queue, await queue.enqueue_now("system.ping"))
            with capture_logs() as logs:
                # What a Redis restarted without its data looks like to a running process.
                await client.delete(f"{redis_prefix}:jobs")
                job = await _wait_for(queue, await queue.enqueue_now("system.ping"))
            await queue.ping()
        finally:
            await client.aclose()
            await queue.stop()
            await database.close()
        assert job.status == JobStatus.SUCCEEDED
        events = [entry["event"] for entry in logs]
        assert (events.count("queue.down"), events.count("queue.back")) == (1, 1), events
        rendered = metrics.render().decode()
        assert "medianest_queue_outages_total 1.0" in rendered
        assert "medianest_queue_reconnects_total 1.0" in rendered
