"""The Redis job queue across Redis restarts and outages, as an operator runs MediaNest: the real
`medianest serve` and `medianest worker` processes, a Redis server of the test's own that keeps
nothing on disk, and the fake Plex server for the library sync an administrator starts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from medianest.core.db import Database
from medianest.core.jobs import Job, JobStatus
from tests.fakes.plex_server import FakePlexServer
from tests.integration.auth.conftest import csrf, finish_first_run
from tests.support import process
from tests.support.plex import serving
from tests.support.process import Served
from tests.support.redis_server import PrivateRedis, private_redis
from tests.support.server import free_port

pytestmark = pytest.mark.slow

# Long enough that a receiver retrying without pause would log thousands of lines.
OUTAGE_SECONDS = 3.0


@pytest.fixture(scope="module")
def plex() -> Iterator[FakePlexServer]:
    with serving(FakePlexServer()) as server:
        yield server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def env(
    tmp_path: Path, database_url: str, redis_server: PrivateRedis, plex: FakePlexServer
) -> dict[str, str]:
    """What every MediaNest process of the test shares: database, Redis, Plex, secrets."""
    plex.reset()
    return {
        **os.environ,
        "MEDIANEST_ENV": "development",
        "MEDIANEST_DATA_DIR": str(tmp_path / "data"),
        "MEDIANEST_DATABASE_URL": database_url,
        "MEDIANEST_REDIS_URL": redis_server.url,
        "MEDIANEST_SECRET_KEY": "s" * 40,
        "MEDIANEST_ENCRYPTION_KEY": "q" * 43 + "=",
        "MEDIANEST_PLEX_URL": plex.url,
        "MEDIANEST_PLEX_TOKEN": plex.owner_token,
        "MEDIANEST_PLEX_TV_URL": "http://127.0.0.1:9",
        "MEDIANEST_PLEX_SYNC_INTERVAL_MINUTES": "0",
        "MEDIANEST_LOG_FORMAT": "json",
        "MEDIANEST_LOG_LEVEL": "INFO",
    }


@contextmanager
def medianest_serve(env: dict[str, str], *, runs_jobs: bool) -> Iterator[Served]:
    port = free_port()
    command = [sys.executable, "-m", "medianest", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    environ = {**env, "MEDIANEST_WEB_RUNS_JOBS": "true" if runs_jobs else "false"}
    with process.serving(command, port=port, env=environ) as served:
        yield served


@dataclass
class Worker:
    pid: int
    output: list[str] = field(default_factory=list)


@contextmanager
def medianest_worker(env: dict[str, str]) -> Iterator[Worker]:
    """A `medianest worker` for the block; its console output is kept once it stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "medianest", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    worker = Worker(proc.pid)
    try:
        yield worker
    finally:
        proc.send_signal(signal.SIGTERM)
        worker.output.extend(proc.communicate(timeout=20)[0].decode().splitlines())


@asynccontextmanager
async def admin_of(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        await finish_first_run(http)
        yield http


async def sync_runs(admin: httpx.AsyncClient, database_url: str) -> Job:
    """Start a library sync as the administrator; the job once it finished."""
    started = await admin.post("/api/v1/admin/plex/sync", json={"full": True}, headers=csrf(admin))
    return await sync_runs_from(started, database_url)


async def sync_runs_from(started: httpx.Response, database_url: str) -> Job:
    """The job of an accepted sync request, once it finished."""
    assert started.status_code == 202, started.text
    job_id = uuid.UUID(started.json()["data"]["jobId"])
    db = Database(database_url)
    try:
        # A lost message would leave the job queued for minutes: far past this bound.
        async with asyncio.timeout(30):
            while True:
                async with db.sessionmaker() as session:
                    job = await session.get(Job, job_id)
                if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    return job
                await asyncio.sleep(0.1)
    finally:
        await db.close()


async def readiness(served: Served) -> tuple[int, dict[str, str]]:
    """The /health/ready status code and each check's status."""
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        answer = await http.get("/health/ready")
    checks = {check["name"]: check["status"] for check in answer.json()["checks"]}
    return answer.status_code, checks


async def ready_becomes(served: Served, wanted: int) -> dict[str, str]:
    async with asyncio.timeout(30):
        while True:
            status, checks = await readiness(served)
            if status == wanted:
                return checks
            await asyncio.sleep(0.2)


async def metric(served: Served, name: str) -> float:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    values = [line.split()[-1] for line in text.splitlines() if line.startswith(f"{name} ")]
    assert values, f"{name} is not in /metrics"
    return float(values[0])


def events(lines: list[str]) -> list[str]:
    """The event names of the JSON log lines in a process's output."""
    names = []
    for line in lines:
        try:
            names.append(str(json.loads(line).get("event")))
        except (ValueError, AttributeError):
            names.append(line)
    return names


class TestRedisRestartedEmpty:
    async def test_a_sync_started_after_the_restart_runs_in_serve(
        self, env: dict[str, str], database_url: str, redis_server: PrivateRedis
    ) -> None:
        with medianest_serve(env, runs_jobs=True) as served:
            async with admin_of(served) as admin:
                assert (await sync_runs(admin, database_url)).status == JobStatus.SUCCEEDED
                redis_server.restart()
                job = await sync_runs(admin, database_url)
                # The consumer group is back, so later jobs need no resend to be delivered.
                await ready_becomes(served, 200)
                again = await sync_runs(admin, database_url)
        assert (job.status, again.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED), job.error
        log = events(served.output.splitlines())
        assert not [line for line in log if "NOGROUP" in line]

    async def test_a_sync_started_after_the_restart_runs_in_a_worker(
        self, env: dict[str, str], database_url: str, redis_server: PrivateRedis
    ) -> None:
        with medianest_serve(env, runs_jobs=False) as served, medianest_worker(env) as worker:
            async with admin_of(served) as admin:
                assert (await sync_runs(admin, database_url)).status == JobStatus.SUCCEEDED
                redis_server.restart()
                job = await sync_runs(admin, database_url)
                await ready_becomes(served, 200)
                again = await sync_runs(admin, database_url)
        assert (job.status, again.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED), job.error
        assert job.worker is not None and job.worker.endswith(f":{worker.pid}")
        log = events(worker.output)
        assert (log.count("queue.down"), log.count("queue.back")) == (1, 1), worker.output
        assert not [line for line in log if "NOGROUP" in line]

    async def test_not_ready_until_a_worker_is_back_and_then_the_waiting_sync_runs(
        self, env: dict[str, str], database_url: str, redis_server: PrivateRedis
    ) -> None:
        with medianest_serve(env, runs_jobs=False) as served:
            async with admin_of(served) as admin:
                with medianest_worker(env):
                    assert (await sync_runs(admin, database_url)).status == JobStatus.SUCCEEDED
                redis_server.restart()
                # Redis answers, but no worker has made the consumer group again yet: a job
                # sent now would reach no one.
                checks = await ready_becomes(served, 503)
                started = await admin.post(
                    "/api/v1/admin/plex/sync", json={"full": True}, headers=csrf(admin)
                )
                with medianest_worker(env):
                    job = await sync_runs_from(started, database_url)
                    ready = await ready_becomes(served, 200)
        assert (checks["redis"], checks["queue"]) == ("up", "down")
        assert ready["queue"] == "up"
        assert job.status == JobStatus.SUCCEEDED, job.error


class TestRedisOutage:
    async def test_one_line_down_one_line_back_readiness_and_metrics_follow(
        self, env: dict[str, str], database_url: str, redis_server: PrivateRedis
    ) -> None:
        with medianest_serve(env, runs_jobs=True) as served:
            async with admin_of(served) as admin:
                await ready_becomes(served, 200)
                redis_server.kill()
                down = await ready_becomes(served, 503)
                # Recorded in the database while its message cannot be sent.
                started = await admin.post(
                    "/api/v1/admin/plex/sync", json={"full": True}, headers=csrf(admin)
                )
                assert started.status_code == 202, started.text
                # Kept down for a while: the receiver waits between tries instead of spinning.
                await asyncio.sleep(OUTAGE_SECONDS)
                outages_while_down = await metric(served, "medianest_queue_outages_total")
                up_while_down = await metric(served, "medianest_queue_up")
                redis_server.start()
                up = await ready_becomes(served, 200)
                # Sent again as soon as the queue is back, not minutes later.
                job = await sync_runs_from(started, database_url)
                reconnects = await metric(served, "medianest_queue_reconnects_total")
                outages = await metric(served, "medianest_queue_outages_total")
        assert (down["redis"], down["queue"], up["queue"]) == ("down", "down", "up")
        assert (outages_while_down, up_while_down) == (1, 0)
        assert (outages, reconnects) == (1, 1), served.output
        assert job.status == JobStatus.SUCCEEDED, job.error
        log = events(served.output.splitlines())
        assert (log.count("queue.down"), log.count("queue.back")) == (1, 1), served.output
        assert not [line for line in log if "Exception found while listening" in line]
        # One outage of a few seconds, not one line per failed read.
        assert len(log) < 200, f"{len(log)} log lines"
