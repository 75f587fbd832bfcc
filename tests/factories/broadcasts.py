"""Announcements written directly in the database, as MediaNest holds them once sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from medianest.broadcasts.models import Broadcast
from medianest.core.db import Database, utc_now


async def make_broadcast(
    database_url: str,
    *,
    title: str | None = None,
    message: str = "Plex restarts at 22:00 for an update.",
    severity: str = "info",
    created_by: uuid.UUID | None = None,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
    withdrawn_at: datetime | None = None,
) -> Broadcast:
    """Only the row: nobody's inbox holds it, and running apps read it at their next reload."""
    broadcast = Broadcast(
        title=title or f"Announcement {uuid.uuid4().hex[:6]}",
        message=message,
        severity=severity,
        created_by=created_by,
        created_at=created_at or utc_now(),
        expires_at=expires_at,
        withdrawn_at=withdrawn_at,
    )
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(broadcast)
    finally:
        await db.close()
    return broadcast
