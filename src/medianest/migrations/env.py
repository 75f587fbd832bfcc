"""Alembic environment: the only module that imports every domain's models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from medianest.auth import models as auth_models  # noqa: F401  (registers the tables)
from medianest.broadcasts import models as broadcast_models  # noqa: F401
from medianest.connections import models as connection_models  # noqa: F401
from medianest.core import audit, jobs, lease  # noqa: F401
from medianest.core.db import Base, create_engine, is_sqlite
from medianest.notifications import models as notification_models  # noqa: F401
from medianest.plex import models as plex_models  # noqa: F401
from medianest.requests import models as request_models  # noqa: F401
from medianest.status import models as status_models  # noqa: F401

target_metadata = Base.metadata
# Objects migrations create by hand that no model describes (full-text tables, expression
# indexes): schema comparison neither drops them nor reports them.
_UNMODELLED: set[str] = target_metadata.info.get("unmodelled", set())


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return name not in _UNMODELLED


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    db_url = url or context.config.get_main_option("sqlalchemy.url") or ""
    context.configure(
        connection=connection,
        url=None if connection is not None else db_url,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=is_sqlite(db_url),
        compare_type=True,
        include_name=_include_name,
        literal_binds=connection is None,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection, context.config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    engine = create_engine(url, pool=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
