"""`/api/v1/notifications`: the signed-in person's own inbox. Anyone else's notification is
not found (404), whatever its id."""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from medianest.auth.deps import CurrentUser
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope
from medianest.notifications.deps import NotificationServiceDep
from medianest.notifications.schemas import (
    NotificationPage,
    NotificationPageMeta,
    NotificationRead,
    ReadAll,
    UnreadCount,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]
Unread = Annotated[bool | None, Query(description="true: only unread ones; false: only read ones")]


@router.get("", response_model=NotificationPage)
async def list_notifications(
    principal: CurrentUser,
    session: DbSession,
    notifications: NotificationServiceDep,
    unread: Unread = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> NotificationPage:
    """Newest first; `meta.unreadCount` counts all the person's unread ones, whatever the filter."""
    rows, total, unread_count = await notifications.list_notifications(
        session, principal.id, unread=unread, page=page, page_size=page_size
    )
    return NotificationPage(
        data=[NotificationRead.of(row) for row in rows],
        meta=NotificationPageMeta(
            page=page,
            page_size=page_size,
            total=total,
            total_pages=math.ceil(total / page_size),
            unread_count=unread_count,
        ),
    )


@router.get("/unread-count", response_model=Envelope[UnreadCount])
async def unread_count(
    principal: CurrentUser, session: DbSession, notifications: NotificationServiceDep
) -> Envelope[UnreadCount]:
    """What the bell in the header shows; every signed-in page asks it now and then."""
    count = await notifications.unread_count(session, principal.id)
    return Envelope(data=UnreadCount(unread_count=count))


@router.post("/read-all", response_model=Envelope[ReadAll])
async def mark_all_read(
    principal: CurrentUser, session: DbSession, notifications: NotificationServiceDep
) -> Envelope[ReadAll]:
    updated = await notifications.mark_all_read(session, principal.id)
    return Envelope(data=ReadAll(updated=updated))


@router.post("/{notification_id}/read", response_model=Envelope[NotificationRead])
async def mark_read(
    notification_id: uuid.UUID,
    principal: CurrentUser,
    session: DbSession,
    notifications: NotificationServiceDep,
) -> Envelope[NotificationRead]:
    row = await notifications.mark_read(session, principal.id, notification_id)
    return Envelope(data=NotificationRead.of(row))


@router.delete("/{notification_id}", status_code=204)
async def delete_notification(
    notification_id: uuid.UUID,
    principal: CurrentUser,
    session: DbSession,
    notifications: NotificationServiceDep,
) -> None:
    await notifications.delete(session, principal.id, notification_id)
