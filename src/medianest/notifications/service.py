"""`NotificationService`: telling people what happened, and their inbox of what they were told.

Other domains call `notify` inside their own unit of work, so a notification commits with the
change it tells about, or not at all. A `dedup_key` names the event ("request:<id>:available"):
a person who already holds a notification with that key gets nothing new, however many
processes tell the same event at once, because the database refuses the second row
(`INSERT ... ON CONFLICT DO NOTHING` on the `(dedup_key, user_id)` constraint) rather than the
code looking first.

Each row created is announced as `notification.created` on the platform bus once the caller's
transaction has committed (`core.db.after_commit`), so nobody is pushed a notification that
was rolled back. That needs the caller's session to come from `Database.unit_of_work`, as every
request's and job's does; a message lost on the bus loses nothing, the inbox is the database.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from sqlalchemy import ColumnElement, CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.bus import Bus
from medianest.core.db import after_commit, time_ordered_id, utc_now
from medianest.core.errors import NotFound
from medianest.notifications.channels import Alert, AlertChannels
from medianest.notifications.models import (
    DEDUP_KEY_LENGTH,
    LINK_LENGTH,
    SEVERITIES,
    TITLE_LENGTH,
    TYPES,
    Notification,
)
from medianest.notifications.preferences import Audience, audience
from medianest.notifications.push import PushMessage, PushService
from medianest.notifications.schemas import NotificationRead
from medianest.notifications.statements import insert_for

log = structlog.get_logger(__name__)

INBOX_PATH = "/notifications"
CREATED_CHANNEL = "notification.created"
"""Bus channel: `{"userId": ..., "notification": <as GET /notifications lists it>}`."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One event to tell `user_ids` about (see `NotificationService.notify`)."""

    user_ids: Sequence[uuid.UUID]
    type: str
    title: str
    message: str
    link: str | None = None
    severity: str = "info"
    dedup_key: str | None = None


class NotificationNotFound(NotFound):
    message = "That notification does not exist. It may have been deleted."


class NotificationService:
    def __init__(
        self,
        *,
        bus: Bus,
        push: PushService | None = None,
        channels: AlertChannels | None = None,
    ) -> None:
        """Without `push` nothing is pushed to browsers; without `channels` no alert leaves
        MediaNest. Each person's choices (`preferences`) are honoured either way."""
        self._bus = bus
        self._push = push
        self._channels = channels

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
    ) -> list[Notification]:
        """One notification for each of `user_ids`, except those who already have one with
        `dedup_key` and those who turned this type off in their inbox; returns the rows
        created. A title too long for the inbox is shortened. Pushes go to the browsers of
        whoever has push on for the type; an alert type goes to the alert channels once.

        Raises ValueError for an unknown type or severity, a link that is not a path on this
        site, or a dedup key longer than 200 characters: those are mistakes in the caller.
        """
        notice = Notice(
            user_ids=tuple(user_ids),
            type=type,
            title=title,
            message=message,
            link=link,
            severity=severity,
            dedup_key=dedup_key,
        )
        plan = await self._plan(session, [notice])
        created: list[Notification] = []
        if plan.inbox:
            statement = _insert(session, Notification).returning(Notification)
            created = list(await session.scalars(statement, plan.inbox))
        await self._deliver(session, plan, {row.id for row in created})
        return created

    async def notify_many(self, session: AsyncSession, notices: Sequence[Notice]) -> int:
        """`notify` for many events at once (a batch of request changes): the recipients'
        choices are read in one query and the rows written in one statement; returns how many
        notifications were created. Raises ValueError as `notify` does."""
        plan = await self._plan(session, notices)
        created: set[Any] = set()
        if plan.inbox:
            # On the table, not the mapped class: the rows are plain values, and the ORM's
            # bulk insert would spend more time on them than the database does.
            table = Notification.__table__
            statement = _insert(session, table).returning(table.c.id)
            created = set(await session.scalars(statement, plan.inbox))
        await self._deliver(session, plan, created)
        return len(created)

    async def _plan(self, session: AsyncSession, notices: Sequence[Notice]) -> _Plan:
        """Who is told what, and how: every recipient's row, the ones for the inbox."""
        rows = _rows(notices)
        if self._channels is not None:
            await self._channels.alert(session, [_alert(notice) for notice in notices])
        if not rows:
            return _Plan()
        told = await audience(
            session,
            {row["user_id"] for row in rows},
            {row["type"] for row in rows},
            with_subscriptions=self._push is not None,
        )
        inbox = [row for row in rows if told.choice(row["user_id"], row["type"]).in_app]
        return _Plan(rows, inbox, told)

    async def _deliver(self, session: AsyncSession, plan: _Plan, created: set[Any]) -> None:
        """Announce the rows created; push to whoever has push on, unless their inbox already
        held the event (then they were told before)."""
        self._told(session, plan.inbox, created)
        if self._push is None:
            return
        for_inbox = {row["id"] for row in plan.inbox}
        messages = [
            _push_message(row)
            for row in plan.rows
            if plan.audience.pushed(row["user_id"], row["type"])
            and (row["id"] in created or row["id"] not in for_inbox)
        ]
        if messages:
            await self._push.enqueue(session, messages)

    def _told(self, session: AsyncSession, rows: list[dict[str, Any]], created: set[Any]) -> None:
        """Log who already had each event; announce the created ones once committed."""
        if len(created) < len(rows):
            skipped = Counter(row["dedup_key"] for row in rows if row["id"] not in created)
            for dedup_key, count in skipped.items():
                log.info("notifications.already_told", dedup_key=dedup_key, skipped=count)
        if not created:
            return
        announcements = [_announcement(row) for row in rows if row["id"] in created]

        async def announce() -> None:
            for announcement in announcements:
                await self._bus.publish(CREATED_CHANNEL, announcement)

        after_commit(session, announce)

    async def list_notifications(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        *,
        unread: bool | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[Notification], int, int]:
        """(a page of the person's notifications, newest first; how many match; how many of
        all theirs are unread). `unread`: True for unread only, False for read only."""
        conditions = [Notification.user_id == user_id]
        if unread is True:
            conditions.append(Notification.read_at.is_(None))
        elif unread is False:
            conditions.append(Notification.read_at.is_not(None))
        total = await self._count(session, conditions)
        unread_count = total if unread else await self.unread_count(session, user_id)
        rows = await session.scalars(
            select(Notification)
            .where(*conditions)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return list(rows), total, unread_count

    async def unread_count(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        return await self._count(
            session, [Notification.user_id == user_id, Notification.read_at.is_(None)]
        )

    async def mark_read(
        self, session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
    ) -> Notification:
        """Marks the person's notification read (once: the first time stays the time it was
        read). Raises NotificationNotFound for a missing one or anyone else's."""
        notification = await session.scalar(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )
        if notification is None:
            raise NotificationNotFound
        if notification.read_at is None:
            notification.read_at = utc_now()
            await session.flush()
        return notification

    async def mark_all_read(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        """Marks every unread notification of the person read; returns how many."""
        result = await session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        return int(cast(CursorResult[Any], result).rowcount or 0)

    async def delete(
        self, session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
    ) -> None:
        """Raises NotificationNotFound for a missing notification or anyone else's."""
        result = await session.execute(
            delete(Notification)
            .where(Notification.id == notification_id, Notification.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        if not cast(CursorResult[Any], result).rowcount:
            raise NotificationNotFound

    async def _count(self, session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
        found = await session.scalar(
            select(func.count()).select_from(Notification).where(*conditions)
        )
        return found or 0


def _check(*, type: str, severity: str, link: str | None, dedup_key: str | None) -> None:
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    if link is not None and not is_site_path(link):
        raise ValueError("a notification links to a path on this site, such as /requests")
    if dedup_key is not None and not 0 < len(dedup_key) <= DEDUP_KEY_LENGTH:
        raise ValueError(f"a dedup key is 1 to {DEDUP_KEY_LENGTH} characters")


def is_site_path(link: str) -> bool:
    """Whether `link` is a path on this site: a browser following it never leaves MediaNest
    (`//host` and `/\\host` are other sites to a browser; a control character is never
    part of a path we make)."""
    return (
        link.startswith("/")
        and not link.startswith(("//", "/\\"))
        and len(link) <= LINK_LENGTH
        and not any(ord(c) < 32 or ord(c) == 127 for c in link)
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _rows(notices: Sequence[Notice]) -> list[dict[str, Any]]:
    """The rows to insert: one per distinct recipient of each notice, ids made here (so the
    ones the database kept are known from what it returns)."""
    now = utc_now()
    rows: list[dict[str, Any]] = []
    for notice in notices:
        _check(
            type=notice.type, severity=notice.severity, link=notice.link, dedup_key=notice.dedup_key
        )
        common = {
            "type": notice.type,
            "title": _shorten(notice.title, TITLE_LENGTH),
            "message": notice.message,
            "link": notice.link,
            "severity": notice.severity,
            "read_at": None,
            "created_at": now,
            "dedup_key": notice.dedup_key,
        }
        rows += [
            {"id": time_ordered_id(), "user_id": user_id, **common}
            for user_id in dict.fromkeys(notice.user_ids)
        ]
    return rows


def _insert(session: AsyncSession, into: Any) -> Any:
    return insert_for(session, into).on_conflict_do_nothing(index_elements=["dedup_key", "user_id"])


@dataclass(frozen=True, slots=True)
class _Plan:
    rows: list[dict[str, Any]] = field(default_factory=list)
    """One per recipient of each notice."""
    inbox: list[dict[str, Any]] = field(default_factory=list)
    """Those whose recipient keeps this type in their inbox."""
    audience: Audience = field(default_factory=Audience)


def _push_message(row: dict[str, Any]) -> PushMessage:
    return PushMessage(
        user_id=row["user_id"],
        tag=str(row["id"]),
        type=row["type"],
        title=row["title"],
        body=row["message"],
        url=row["link"] or INBOX_PATH,
        severity=row["severity"],
    )


def _alert(notice: Notice) -> Alert:
    return Alert(
        type=notice.type,
        title=_shorten(notice.title, TITLE_LENGTH),
        message=notice.message,
        link=notice.link,
        severity=notice.severity,
        dedup_key=notice.dedup_key,
    )


def _announcement(row: dict[str, Any]) -> dict[str, Any]:
    shown = NotificationRead(read=row["read_at"] is not None, **row)
    return {
        "userId": str(row["user_id"]),
        "notification": shown.model_dump(mode="json", by_alias=True),
    }
