"""The administrator's alert channels: where a service going down or coming back, and every
announcement, is also sent (Discord, ntfy, any JSON webhook: whatever Apprise speaks).

An alert goes to the channels once per event, not once per administrator: `alert` records the
event under its `dedup_key` (the table refuses a second one, however many processes tell it),
then queues one job per channel that wants its type, so a channel that fails is retried alone.
Sending runs Apprise in a thread with a timeout. A channel's URL holds the service's token: it
is sealed at rest and only ever shown masked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database, utc_now
from medianest.core.errors import MediaNestError, NotFound, ValidationFailed
from medianest.core.job_queue import JobInfo, JobQueue
from medianest.core.security import EncryptionService
from medianest.notifications.apprise_urls import ChannelUrl, Delivery, read_url, send
from medianest.notifications.models import ALERT_TYPES, AlertChannel, AlertEvent
from medianest.notifications.statements import insert_for

log = structlog.get_logger(__name__)

ALERT_JOB = "notifications.alert"
MAX_CHANNELS = 10
SEND_TIMEOUT = 10.0
TEST_TITLE = "MediaNest test alert"
TEST_MESSAGE = "If you can read this, MediaNest's alerts reach this channel."


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    """A channel as the administrator saves it: `id` keeps a saved one (and its URL, unless a
    new `url` is given); without an `id`, `url` makes a new one."""

    name: str
    types: Sequence[str]
    id: uuid.UUID | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One event for the channels (what `NotificationService.notify` was told)."""

    type: str
    title: str
    message: str
    link: str | None
    severity: str
    dedup_key: str | None


class ChannelNotFound(NotFound):
    message = "That alert channel does not exist any more. Reload the page."


class ChannelFailed(MediaNestError):
    message = "An alert channel did not take the alert; it will be tried again."


class AlertChannels:
    def __init__(
        self,
        *,
        db: Database,
        queue: JobQueue,
        encryption: EncryptionService,
        audit: AuditService,
        public_url: str | None,
        timeout: float = SEND_TIMEOUT,
    ) -> None:
        self._db = db
        self._queue = queue
        self._encryption = encryption
        self._audit = audit
        self._public_url = public_url
        self._timeout = timeout
        queue.register(ALERT_JOB, self._send_job, max_attempts=3)

    async def list_channels(self, session: AsyncSession) -> list[AlertChannel]:
        rows = await session.scalars(
            select(AlertChannel).order_by(AlertChannel.position, AlertChannel.created_at)
        )
        return list(rows)

    async def replace(
        self, session: AsyncSession, entries: Sequence[ChannelEntry], *, actor: Actor
    ) -> list[AlertChannel]:
        """Make the saved channels `entries`, in that order; channels left out are removed.
        Raises ValidationFailed for a URL Apprise cannot send to (or a missing one),
        ChannelNotFound for an `id` that is not saved."""
        if len(entries) > MAX_CHANNELS:
            raise ValidationFailed.on("channels", f"Keep at most {MAX_CHANNELS} alert channels.")
        saved = {row.id: row for row in await self.list_channels(session)}
        if any(entry.id is not None and entry.id not in saved for entry in entries):
            raise ChannelNotFound
        read = await self._read_urls(entries)
        kept: list[AlertChannel] = []
        for position, entry in enumerate(entries):
            row = saved.get(entry.id) if entry.id else None
            if row is None:
                row = AlertChannel()
                session.add(row)
            found = read.get(position)
            if found is not None:
                assert entry.url is not None
                row.url_encrypted = self._encryption.encrypt(entry.url.strip())
                row.url_shown, row.service = found.shown, found.service
            row.name = entry.name.strip() or row.service
            row.types = [t for t in ALERT_TYPES if t in entry.types]
            row.position = position
            row.updated_at = utc_now()
            kept.append(row)
        removed = [i for i in saved if i not in {row.id for row in kept}]
        if removed:
            await session.execute(delete(AlertChannel).where(AlertChannel.id.in_(removed)))
        await session.flush()
        await self._audit.record(
            session, "notifications.channels_updated", actor=actor, channels=len(kept)
        )
        return kept

    async def _read_urls(self, entries: Sequence[ChannelEntry]) -> dict[int, ChannelUrl]:
        """Each new URL read by Apprise, by the entry's position; raises ValidationFailed with
        one detail per bad one (or missing one: a new channel needs its URL)."""
        read: dict[int, ChannelUrl] = {}
        problems = []
        for position, entry in enumerate(entries):
            if entry.url is None or not entry.url.strip():
                if entry.id is None:
                    problems.append(
                        {"field": f"channels.{position}.url", "message": "Enter the address."}
                    )
                continue
            found = await asyncio.to_thread(read_url, entry.url.strip())
            if found is None:
                problems.append(
                    {
                        "field": f"channels.{position}.url",
                        "message": "This is not an address Apprise can send to, such as "
                        "discord://…, ntfy://… or json://….",
                    }
                )
            else:
                read[position] = found
        if problems:
            raise ValidationFailed("Check the channels' addresses.", details=problems)
        return read

    async def test(
        self, session: AsyncSession, *, channel_id: uuid.UUID | None, url: str | None
    ) -> Delivery:
        """Send a test message to a saved channel, or to a URL not saved yet, and say how it
        went (the caller waits: at most the timeout). Raises ChannelNotFound, ValidationFailed."""
        if url is not None and url.strip():
            target = url.strip()
            if await asyncio.to_thread(read_url, target) is None:
                raise ValidationFailed.on(
                    "url", "This is not an address Apprise can send to, such as discord://…."
                )
        else:
            row = await session.get(AlertChannel, channel_id) if channel_id else None
            if row is None:
                raise ChannelNotFound
            target = self._encryption.decrypt(row.url_encrypted)
        delivery = await self._send(target, title=TEST_TITLE, body=TEST_MESSAGE, severity="info")
        log.info("notifications.channel_tested", ok=delivery.ok)
        return delivery

    async def alert(self, session: AsyncSession, alerts: Sequence[Alert]) -> None:
        """Queue each alert for the channels that want its type, unless its event was already
        sent (same dedup key); the jobs are sent once the caller commits."""
        wanted = [a for a in alerts if a.type in ALERT_TYPES]
        if not wanted:
            return
        channels = (await session.execute(select(AlertChannel.id, AlertChannel.types))).all()
        for alert in wanted:
            targets = [channel_id for channel_id, types in channels if alert.type in types]
            if not targets:
                continue
            event_id = await session.scalar(
                insert_for(session, AlertEvent)
                .values(id=uuid.uuid4(), created_at=utc_now(), **asdict(alert))
                .on_conflict_do_nothing(index_elements=["dedup_key"])
                .returning(AlertEvent.id)
            )
            if event_id is None:
                log.info("notifications.alert_already_sent", dedup_key=alert.dedup_key)
                continue
            for channel_id in targets:
                await self._queue.enqueue(
                    session, ALERT_JOB, event_id=str(event_id), channel_id=str(channel_id)
                )

    async def _send_job(self, job: JobInfo, *, event_id: str, channel_id: str) -> dict[str, Any]:
        async with self._db.unit_of_work() as session:
            event = await session.get(AlertEvent, uuid.UUID(event_id))
            channel = await session.get(AlertChannel, uuid.UUID(channel_id))
            if event is None or channel is None:
                # The channel was removed since (or the event with its account): nothing to do.
                log.info("notifications.alert_dropped", channel_id=channel_id)
                return {"sent": False}
            url = self._encryption.decrypt(channel.url_encrypted)
            title, body, severity = event.title, event.message, event.severity
            if event.link and self._public_url:
                body += f"\n\n{self._public_url}{event.link}"
        delivery = await self._send(url, title=title, body=body, severity=severity)
        if not delivery.ok:
            log.warning(
                "notifications.alert_failed",
                channel_id=channel_id,
                attempt=job.attempt,
                reason=delivery.reason,
            )
            raise ChannelFailed
        return {"sent": True}

    async def _send(self, url: str, *, title: str, body: str, severity: str) -> Delivery:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(
                    send, url, title=title, body=body, severity=severity, timeout=self._timeout
                ),
                self._timeout + 5,
            )
        except TimeoutError:
            return Delivery(False, "The service did not answer in time.")
