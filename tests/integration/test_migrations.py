"""Migrations run from an empty database, all the way down and up again, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from medianest.core import migrate
from medianest.core.db import Base
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def _tables(url: str) -> set[str]:
    if url.startswith("postgresql"):

        async def read() -> set[str]:
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                rows = await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            finally:
                await conn.close()
            return {r["tablename"] for r in rows}

        return asyncio.run(read())
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


class TestMigrations:
    def test_upgrade_from_empty_creates_every_model_table(self, empty_database: str) -> None:
        migrate.upgrade(empty_database)
        current, head = migrate.current(empty_database)
        assert current == head
        assert {t.name for t in Base.metadata.sorted_tables} <= _tables(empty_database)

    def test_models_and_migrations_agree(self, empty_database: str) -> None:
        migrate.upgrade(empty_database)
        migrate.check(empty_database)  # raises when a model change has no migration

    def test_downgrade_to_base_and_upgrade_again(self, empty_database: str) -> None:
        migrate.upgrade(empty_database)
        migrate.downgrade(empty_database, "base")
        assert migrate.current(empty_database)[0] is None
        assert _tables(empty_database) <= {"alembic_version"}
        migrate.upgrade(empty_database)
        assert migrate.current(empty_database)[0] == migrate.current(empty_database)[1]
