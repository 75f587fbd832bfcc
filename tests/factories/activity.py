"""Traces of people using MediaNest, written directly in the database: device sessions as
signing in leaves them, and the audit log's sign-ins."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from medianest.auth.models import DeviceSession
from medianest.core.audit import AuditEntry
from medianest.core.db import Database, utc_now


async def make_session(
    database_url: str,
    user_id: uuid.UUID,
    *,
    device: str = "Firefox on Ubuntu",
    last_seen_at: datetime | None = None,
    revoked: bool = False,
) -> DeviceSession:
    """A session of `user_id`'s, last used at `last_seen_at` (now by default)."""
    seen = last_seen_at or utc_now()
    session_row = DeviceSession(
        user_id=user_id,
        device=device,
        ip="203.0.113.7",
        created_at=seen,
        last_seen_at=seen,
        expires_at=seen + timedelta(days=30),
        revoked_at=seen if revoked else None,
        revoked_reason="logout" if revoked else None,
    )
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(session_row)
    finally:
        await db.close()
    return session_row


async def make_sign_in(
    database_url: str,
    user_id: uuid.UUID,
    *,
    username: str = "someone",
    method: str | None = "password",
    at: datetime | None = None,
) -> AuditEntry:
    """The audit log's record of a sign-in (`method` None: one recorded before methods were)."""
    entry = AuditEntry(
        created_at=at or utc_now(),
        actor_id=user_id,
        actor_name=username,
        action="auth.login",
        target_type="session",
        target_id=str(uuid.uuid4()),
        ip="203.0.113.7",
        details={"method": method} if method is not None else {},
    )
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(entry)
    finally:
        await db.close()
    return entry
