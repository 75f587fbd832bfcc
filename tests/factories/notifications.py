"""Notifications put in a person's inbox directly, the way another domain tells them."""

from __future__ import annotations

import uuid

from medianest.core.bus import MemoryBus
from medianest.core.db import Database
from medianest.notifications.models import Notification
from medianest.notifications.service import NotificationService


async def make_notification(
    database_url: str,
    user_id: uuid.UUID,
    *,
    type: str = "request.available",
    title: str | None = None,
    message: str = "It is in the Movies library now.",
    link: str | None = None,
    severity: str = "info",
    dedup_key: str | None = None,
    read: bool = False,
) -> Notification:
    service = NotificationService(bus=MemoryBus())
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            (row,) = await service.notify(
                session,
                [user_id],
                type=type,
                title=title or f"Notification {uuid.uuid4().hex[:6]}",
                message=message,
                link=link,
                severity=severity,
                dedup_key=dedup_key,
            )
            if read:
                await service.mark_read(session, user_id, row.id)
    finally:
        await db.close()
    return row
