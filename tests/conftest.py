"""Fixtures every test layer shares: settings in a temporary data dir, PostgreSQL, Redis.

PostgreSQL (127.0.0.1:5432, database `test`) and Redis (127.0.0.1:6379) are required: a test that
needs one fails when it is down, it never skips. `.ci/run` starts both before the suite.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
from pydantic import SecretStr

from medianest.config import Settings, load_settings

REDIS_URL = os.environ.get("MEDIANEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN_DSN = os.environ.get("MEDIANEST_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

# Keep the developer's own MEDIANEST_* environment and .env out of the tests.
for _name in [n for n in os.environ if n.startswith("MEDIANEST_") and "_TEST_" not in n]:
    del os.environ[_name]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} (start it as .ci/run does): {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are removed afterwards."""
    prefix = f"mntest-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> str:
    """Create an empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"medianest_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required at {PG_ADMIN_DSN} (start it as .ci/run does): {exc}")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """An empty PostgreSQL database of this test worker's own, dropped at the end of the run."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings in this test's own data dir, with fixed secrets; keyword overrides win."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "secret_key": SecretStr("test-secret-key-" + "x" * 32),
            "encryption_key": SecretStr("q" * 43 + "="),
            "log_format": "console",
            "env": "development",
            # No library sync behind a test's back; the tests of the schedule turn it on.
            "plex_sync_interval_minutes": 0,
            # Nor service checks calling the fakes: the status tests turn them on.
            "status_interval_seconds": 0,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; tests get copies of it."""
    from medianest.core import migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "medianest.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated_url(pg_database_url: str) -> str:
    from medianest.core import migrate

    migrate.upgrade(pg_database_url)
    return pg_database_url


async def _truncate_all(url: str) -> None:
    from medianest.core.db import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    if tables:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each engine in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "medianest.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    url: str = request.getfixturevalue("pg_migrated_url")
    yield url
    asyncio.run(_truncate_all(url))
