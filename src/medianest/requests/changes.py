"""A request's status moving on, from wherever the news came (Overseerr's webhook, the sync, the
Plex library, an administrator), applied once and told once.

News comes twice (a webhook and the sync report the same approval; Overseerr delivers a webhook
again) and sometimes out of order (an approval arriving after the title became available). So a
change is applied only when it moves the request on (`_moves_on`), by one conditional UPDATE
that only one of two concurrent reporters can win; the winner records the step in the history
and notifies the requester and every follower, each notification with a key that makes a second
one for the same step impossible (`NotificationService`'s `dedup_key`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.db import utc_now
from medianest.requests.models import (
    EventSource,
    MediaRequest,
    RequestClaim,
    RequestEvent,
    RequestFollower,
    RequestStatus,
)

log = structlog.get_logger(__name__)

_PROGRESS = [
    RequestStatus.PENDING,
    RequestStatus.APPROVED,
    RequestStatus.PROCESSING,
    RequestStatus.PARTIALLY_AVAILABLE,
    RequestStatus.AVAILABLE,
]
_ENDED = frozenset({RequestStatus.DECLINED, RequestStatus.FAILED})

_TOLD = {
    RequestStatus.PENDING: ("is waiting for approval", "info"),
    RequestStatus.APPROVED: ("was approved", "success"),
    RequestStatus.PROCESSING: ("was approved and is on its way", "success"),
    RequestStatus.PARTIALLY_AVAILABLE: ("is partly available in Plex", "success"),
    RequestStatus.AVAILABLE: ("is available in Plex. Enjoy!", "success"),
    RequestStatus.DECLINED: ("was declined", "warning"),
    RequestStatus.FAILED: ("could not be downloaded", "warning"),
}


class Notifier(Protocol):
    async def notify(
        self,
        session: AsyncSession,
        user_ids: Iterable[uuid.UUID],
        *,
        type: str,
        title: str,
        message: str,
        link: str | None = None,
        severity: str = "info",
        dedup_key: str | None = None,
    ) -> Sequence[Any]: ...


def _moves_on(current: str, new: RequestStatus) -> bool:
    if current == RequestStatus.SUBMITTING or current == new:
        return False
    if current == RequestStatus.AVAILABLE:
        return False  # in Plex: nothing later says otherwise
    if new in _ENDED:
        return True
    if current in _ENDED:
        return True  # retried, or approved after all
    return _PROGRESS.index(new) > _PROGRESS.index(RequestStatus(current))


class StatusChanges:
    def __init__(self, notifier: Notifier | None) -> None:
        self._notifier = notifier

    async def apply(
        self,
        session: AsyncSession,
        request: MediaRequest,
        status: RequestStatus,
        source: EventSource,
        *,
        reason: str | None = None,
        upstream_updated_at: datetime | None = None,
    ) -> bool:
        """Move `request` to `status` if that moves it on; True when this call did it (and
        told everyone). Flushes, does not commit."""
        if upstream_updated_at is not None and (
            request.upstream_updated_at is None or upstream_updated_at > request.upstream_updated_at
        ):
            request.upstream_updated_at = upstream_updated_at
        if not _moves_on(request.status, status):
            await session.flush()
            return False
        values: dict[str, Any] = {"status": status, "updated_at": utc_now()}
        if reason is not None or status in _ENDED:
            values["reason"] = reason
        won = await session.execute(
            update(MediaRequest)
            .where(MediaRequest.id == request.id, MediaRequest.status == request.status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return False  # someone else moved it at the same moment
        await session.refresh(request)
        session.add(RequestEvent(request_id=request.id, status=status, source=source))
        if not status.open:
            await session.execute(delete(RequestClaim).where(RequestClaim.request_id == request.id))
        await session.flush()
        await self._tell(session, request, status)
        log.info(
            "requests.status_changed",
            request_id=str(request.id),
            status=status,
            source=source,
        )
        return True

    async def _tell(
        self, session: AsyncSession, request: MediaRequest, status: RequestStatus
    ) -> None:
        if self._notifier is None:
            return
        followers = await session.scalars(
            select(RequestFollower.user_id).where(RequestFollower.request_id == request.id)
        )
        told, severity = _TOLD[status]
        available = status == RequestStatus.AVAILABLE
        await self._notifier.notify(
            session,
            [request.user_id, *followers],
            type="request.available" if available else "request.status",
            title=f"{request.title} {'is in Plex' if available else 'request update'}",
            message=f"{request.title}{f' ({request.year})' if request.year else ''} {told}."
            + (f" Reason: {request.reason}" if request.reason and status in _ENDED else ""),
            link=f"/requests/mine#request-{request.id}",
            severity=severity,
            dedup_key=f"request:{request.id}:{status}",
        )
