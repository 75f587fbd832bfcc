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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import structlog
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from medianest.core.bus import Bus
from medianest.core.db import after_commit, utc_now
from medianest.notifications.realtime import REQUEST_UPDATED
from medianest.notifications.service import Notice
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

# After the title: each ends its own sentence, so "Enjoy!" gets no full stop after it.
_TOLD = {
    RequestStatus.PENDING: ("is waiting for approval.", "info"),
    RequestStatus.APPROVED: ("was approved.", "success"),
    RequestStatus.PROCESSING: ("was approved and is on its way.", "success"),
    RequestStatus.PARTIALLY_AVAILABLE: ("is partly available in Plex.", "success"),
    RequestStatus.AVAILABLE: ("is available in Plex. Enjoy!", "success"),
    RequestStatus.DECLINED: ("was declined.", "warning"),
    RequestStatus.FAILED: ("could not be downloaded.", "warning"),
}


class Notifier(Protocol):
    async def notify_many(self, session: AsyncSession, notices: Sequence[Notice]) -> int: ...


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


@dataclass(frozen=True, slots=True)
class Change:
    """News about one request: the status it is said to have reached."""

    request: MediaRequest
    status: RequestStatus
    source: EventSource
    reason: str | None = None
    upstream_updated_at: datetime | None = None


class StatusChanges:
    def __init__(self, notifier: Notifier | None, *, bus: Bus | None = None) -> None:
        """`bus` hears of every step once it is committed (`REQUEST_UPDATED`, to the requester
        and each follower), so their open My requests pages show it at once."""
        self._notifier = notifier
        self._bus = bus

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
        (moved,) = await self.apply_all(
            session, [Change(request, status, source, reason, upstream_updated_at)]
        )
        return moved

    async def apply_all(self, session: AsyncSession, changes: Sequence[Change]) -> list[bool]:
        """`apply` for many at once (a batch of webhooks, a page of the sync): which moved on.

        Set-based, so a burst costs a few statements rather than a few per request: the moves
        alike (same status from and to, same reason) are one conditional UPDATE that returns
        the requests it won, then one insert each for the history and the notifications. News
        of one request that arrives twice in a batch is taken in order, a round at a time."""
        moved = [False] * len(changes)
        pending = list(enumerate(changes))
        while pending:
            this_round: dict[uuid.UUID, tuple[int, Change]] = {}
            later: list[tuple[int, Change]] = []
            for index, change in pending:
                if change.request.id in this_round:
                    later.append((index, change))
                else:
                    this_round[change.request.id] = (index, change)
            for index in await self._move_all(session, list(this_round.values())):
                moved[index] = True
            pending = later
        won = [change for change, did in zip(changes, moved, strict=True) if did]
        if not won:
            await session.flush()
            return moved
        # On the table: plain rows, without the ORM's bulk-insert bookkeeping.
        await session.execute(
            insert(cast(Table, RequestEvent.__table__)),
            [{"request_id": c.request.id, "status": c.status, "source": c.source} for c in won],
        )
        ended = [c.request.id for c in won if not c.status.open]
        if ended:
            await session.execute(delete(RequestClaim).where(RequestClaim.request_id.in_(ended)))
        await session.flush()
        await self._tell(session, won)
        for change in won:
            log.info(
                "requests.status_changed",
                request_id=str(change.request.id),
                status=change.status,
                source=change.source,
            )
        return moved

    async def _move_all(
        self, session: AsyncSession, changes: list[tuple[int, Change]]
    ) -> list[int]:
        """One conditional UPDATE per kind of move (at most one change per request here); the
        indexes of the changes that moved their request on."""
        alike: dict[tuple[str, RequestStatus, str | None, bool], list[tuple[int, Change]]] = {}
        for index, change in changes:
            request, seen = change.request, change.upstream_updated_at
            if seen is not None and (
                request.upstream_updated_at is None or seen > request.upstream_updated_at
            ):
                request.upstream_updated_at = seen
            if _moves_on(request.status, change.status):
                sets_reason = change.reason is not None or change.status in _ENDED
                key = (request.status, change.status, change.reason, sets_reason)
                alike.setdefault(key, []).append((index, change))
        won: list[int] = []
        for (before, status, reason, sets_reason), group in alike.items():
            values: dict[str, Any] = {"status": status, "updated_at": utc_now()}
            if sets_reason:
                values["reason"] = reason
            by_id = {change.request.id: (index, change) for index, change in group}
            # Only one of two reporters of the same news wins a request: the other finds its
            # status already moved and updates nothing.
            moved_ids = await session.scalars(
                update(MediaRequest)
                .where(MediaRequest.id.in_(by_id), MediaRequest.status == before)
                .values(**values)
                .returning(MediaRequest.id)
                .execution_options(synchronize_session=False)
            )
            for request_id in moved_ids:
                index, change = by_id[request_id]
                # What the UPDATE wrote, as the loaded row's own (no second read).
                for name, value in values.items():
                    set_committed_value(change.request, name, value)
                won.append(index)
        return won

    async def _tell(self, session: AsyncSession, won: Sequence[Change]) -> None:
        if self._notifier is None and self._bus is None:
            return
        ids = [c.request.id for c in won]
        followers: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        rows = await session.execute(
            select(RequestFollower.request_id, RequestFollower.user_id).where(
                RequestFollower.request_id.in_(ids)
            )
        )
        for request_id, user_id in rows:
            followers[request_id].append(user_id)
        if self._notifier is not None:
            await self._notifier.notify_many(
                session, [_notice(change, followers[change.request.id]) for change in won]
            )
        if self._bus is not None:
            self._announce(session, self._bus, won, followers)

    @staticmethod
    def _announce(
        session: AsyncSession,
        bus: Bus,
        won: Sequence[Change],
        followers: dict[uuid.UUID, list[uuid.UUID]],
    ) -> None:
        # Read now: the rows may be expired or gone by the time the commit is through.
        updates = [
            {
                "userId": str(user_id),
                "requestId": str(change.request.id),
                "status": str(change.status),
                "title": change.request.title,
            }
            for change in won
            for user_id in dict.fromkeys([change.request.user_id, *followers[change.request.id]])
        ]

        async def announce() -> None:
            for update_ in updates:
                await bus.publish(REQUEST_UPDATED, update_)

        after_commit(session, announce)


def _notice(change: Change, followers: list[uuid.UUID]) -> Notice:
    """What the requester and the followers are told of one step."""
    request, status = change.request, change.status
    told, severity = _TOLD[status]
    available = status == RequestStatus.AVAILABLE
    year = f" ({request.year})" if request.year else ""
    why = f" Reason: {request.reason}" if request.reason and status in _ENDED else ""
    return Notice(
        user_ids=[request.user_id, *followers],
        type="request.available" if available else "request.status",
        title=f"{request.title} {'is in Plex' if available else 'request update'}",
        message=f"{request.title}{year} {told}{why}",
        link=f"/requests/mine#request-{request.id}",
        severity=severity,
        dedup_key=f"request:{request.id}:{status}",
    )
