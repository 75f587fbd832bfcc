"""`/api/v1/admin/broadcast` and `/api/v1/admin/broadcasts`: sending an announcement to everyone,
listing them and withdrawing one (administrators only)."""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from medianest.auth.deps import AdminUser, ClientDep
from medianest.broadcasts.deps import BroadcastServiceDep
from medianest.broadcasts.schemas import BroadcastCreate, BroadcastRead, BroadcastSent
from medianest.broadcasts.views import broadcast_read, broadcast_sent
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope, PageMeta

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

BroadcastId = Annotated[uuid.UUID, Path(alias="broadcastId")]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]


@router.post(
    "/broadcast", status_code=status.HTTP_201_CREATED, response_model=Envelope[BroadcastSent]
)
async def send_broadcast(
    body: BroadcastCreate,
    admin: AdminUser,
    session: DbSession,
    broadcasts: BroadcastServiceDep,
    client: ClientDep,
) -> Envelope[BroadcastSent]:
    """An inbox item for every active account, and a banner over every page until it ends or is
    withdrawn; `recipients` counts the inbox items."""
    entry, recipients = await broadcasts.send(
        session,
        admin,
        title=body.title,
        message=body.message,
        severity=body.severity,
        expires_at=body.expires_at,
        actor=client.actor(admin),
    )
    return Envelope(data=broadcast_sent(entry, recipients))


@router.get("/broadcasts", response_model=Envelope[list[BroadcastRead]])
async def list_broadcasts(
    _: AdminUser,
    session: DbSession,
    broadcasts: BroadcastServiceDep,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Envelope[list[BroadcastRead]]:
    """Newest first; `status` says whether each is up (`active`), past its end or withdrawn."""
    entries, total = await broadcasts.list_broadcasts(session, page=page, page_size=page_size)
    meta = PageMeta(
        page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size)
    )
    return Envelope(data=[broadcast_read(e) for e in entries], meta=meta)


@router.delete("/broadcasts/{broadcastId}", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw_broadcast(
    broadcast_id: BroadcastId,
    admin: AdminUser,
    session: DbSession,
    broadcasts: BroadcastServiceDep,
    client: ClientDep,
) -> None:
    """Takes its banner down on every page at once; what reached the inboxes stays there."""
    await broadcasts.withdraw(session, broadcast_id, actor=client.actor(admin))
