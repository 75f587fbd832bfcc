"""The dialect's own INSERT, for `ON CONFLICT` clauses, which SQLAlchemy's generic one lacks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, model: Any) -> Any:
    """`INSERT INTO model` as the session's database writes it (PostgreSQL or SQLite), whose
    `on_conflict_do_nothing` and `on_conflict_do_update` both engines understand alike."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
