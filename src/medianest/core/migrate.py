"""Alembic driven from code, so `medianest db ...` needs no alembic.ini next to it.

Alembic's env runs its own event loop, so these functions are synchronous: call them before the
server's loop starts, or through `asyncio.to_thread` from inside one.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from medianest.core.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    hooks = "post_write_hooks"
    config.set_section_option(hooks, "hooks", "ruff_format")
    config.set_section_option(hooks, "ruff_format.type", "exec")
    # The ruff installed next to this Python, so it works from a virtualenv not on PATH.
    config.set_section_option(
        hooks, "ruff_format.executable", str(Path(sys.executable).with_name("ruff"))
    )
    config.set_section_option(hooks, "ruff_format.options", "format REVISION_SCRIPT_FILENAME")
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic's `check`)."""
    command.check(alembic_config(database_url))


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def current(database_url: str) -> tuple[str | None, str | None]:
    """(the database's revision, the newest revision shipped), read without running env.py."""
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    return _current_revision(database_url), head


def _current_revision(database_url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(database_url, pool=False)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())
