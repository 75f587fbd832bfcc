"""`BroadcastService`: administrators send an announcement to everyone, list and withdraw them.

Sending writes the announcement and, in the same unit of work, one inbox notification for every
active account, named by the dedup key `broadcast:<id>`: delivering the same announcement again
(`deliver`, however often, from however many processes at once) reaches nobody twice, because
the notifications table refuses a second row with that key for a person. Suspended accounts get
nothing. Once committed, the banner is shown over every page (`BroadcastBoard.changed`);
withdrawing takes it down everywhere, and the inbox items stay: they are what people were told.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

import structlog
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import UserDirectory
from medianest.auth.sessions import Principal
from medianest.broadcasts.models import Broadcast, Severity
from medianest.broadcasts.schemas import BroadcastStatus
from medianest.core.audit import Actor, AuditService
from medianest.core.db import after_commit, utc_now
from medianest.core.errors import NotFound
from medianest.notifications.service import Notice, NotificationService

log = structlog.get_logger(__name__)

NOTIFICATION_TYPE: Final = "broadcast"
# An announcement's severity as the inbox tells it (the inbox has "success" besides, unused here).
NOTIFICATION_SEVERITY: Final[dict[str, str]] = {
    "info": "info",
    "warning": "warning",
    "critical": "critical",
}


class BroadcastNotFound(NotFound):
    message = "That announcement does not exist."


@dataclass(frozen=True, slots=True)
class BroadcastEntry:
    """An announcement as administrators list it."""

    broadcast: Broadcast
    status: BroadcastStatus
    sent_by: str | None
    """The sender's username; None once their account is deleted."""


def dedup_key(broadcast_id: uuid.UUID) -> str:
    return f"broadcast:{broadcast_id}"


def status_of(broadcast: Broadcast, now: datetime) -> BroadcastStatus:
    if broadcast.withdrawn_at is not None:
        return "withdrawn"
    if broadcast.expires_at is not None and broadcast.expires_at <= now:
        return "expired"
    return "active"


class BroadcastService:
    def __init__(
        self,
        *,
        notifications: NotificationService,
        users: UserDirectory,
        audit: AuditService,
        changed: Callable[[], Awaitable[None]],
    ) -> None:
        """`changed` runs once a send or a withdrawal is committed (the board reads again)."""
        self._notifications = notifications
        self._users = users
        self._audit = audit
        self._changed = changed

    async def send(
        self,
        session: AsyncSession,
        admin: Principal,
        *,
        title: str,
        message: str,
        severity: Severity,
        expires_at: datetime | None,
        actor: Actor,
    ) -> tuple[BroadcastEntry, int]:
        """The new announcement, and how many people it reached in their inbox."""
        broadcast = Broadcast(
            title=title,
            message=message,
            severity=severity,
            created_by=admin.id,
            created_at=utc_now(),
            expires_at=expires_at,
        )
        session.add(broadcast)
        await session.flush()
        recipients = await self._deliver(session, broadcast)
        await self._audit.record(
            session,
            "admin.broadcast_sent",
            actor=actor,
            target_type="broadcast",
            target_id=broadcast.id,
            severity=severity,
            recipients=recipients,
            expiresAt=expires_at.isoformat() if expires_at else None,
        )
        after_commit(session, self._changed)
        log.info(
            "broadcasts.sent",
            broadcast_id=str(broadcast.id),
            severity=severity,
            recipients=recipients,
        )
        return BroadcastEntry(broadcast, "active", admin.username), recipients

    async def deliver(self, session: AsyncSession, broadcast_id: uuid.UUID) -> int:
        """Put the announcement in the inbox of every active account that does not hold it yet
        (one that arrived or came back since, say); returns how many it reached now. Nothing
        for an announcement withdrawn or past its end. Raises BroadcastNotFound."""
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise BroadcastNotFound
        if status_of(broadcast, utc_now()) != "active":
            return 0
        return await self._deliver(session, broadcast)

    async def _deliver(self, session: AsyncSession, broadcast: Broadcast) -> int:
        everyone = await self._users.active_user_ids(session)
        notice = Notice(
            user_ids=everyone,
            type=NOTIFICATION_TYPE,
            title=broadcast.title,
            message=broadcast.message,
            severity=NOTIFICATION_SEVERITY[broadcast.severity],
            dedup_key=dedup_key(broadcast.id),
        )
        return await self._notifications.notify_many(session, [notice])

    async def list_broadcasts(
        self, session: AsyncSession, *, page: int, page_size: int
    ) -> tuple[list[BroadcastEntry], int]:
        """Newest first, each with whether it is up, past its end or withdrawn."""
        total = await session.scalar(select(func.count()).select_from(Broadcast)) or 0
        rows = list(
            await session.scalars(
                select(Broadcast)
                .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        )
        senders = await self._users.usernames(
            session, (row.created_by for row in rows if row.created_by is not None)
        )
        now = utc_now()
        entries = [
            BroadcastEntry(
                row,
                status_of(row, now),
                senders.get(row.created_by) if row.created_by is not None else None,
            )
            for row in rows
        ]
        return entries, total

    async def withdraw(
        self, session: AsyncSession, broadcast_id: uuid.UUID, *, actor: Actor
    ) -> None:
        """Take the banner down on every page; the inbox items stay. Withdrawing one already
        withdrawn changes nothing. Raises BroadcastNotFound."""
        result = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.withdrawn_at.is_(None))
            .values(withdrawn_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], result).rowcount:
            await self._audit.record(
                session,
                "admin.broadcast_withdrawn",
                actor=actor,
                target_type="broadcast",
                target_id=broadcast_id,
            )
            after_commit(session, self._changed)
            log.info("broadcasts.withdrawn", broadcast_id=str(broadcast_id))
            return
        exists = await session.scalar(select(Broadcast.id).where(Broadcast.id == broadcast_id))
        if exists is None:
            raise BroadcastNotFound
