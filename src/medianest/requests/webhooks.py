"""Overseerr's and Seerr's webhook, in their default JSON template, as request status changes.

Every value of the default template arrives as a string (`"request_id": "42"`, the media status
as its enum name, `"PARTIALLY_AVAILABLE"`), the `media` and `request` objects may be null, and
fields may be blank. A notification names the request by Overseerr's id; one for a title that
became available may name none of MediaNest's requests (it was asked for in Overseerr itself), and
then every open request for that title moves on. A delivery is answered as soon as it is applied:
it does no upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.db import Database
from medianest.core.errors import Unauthorized, UpstreamUnavailable, ValidationFailed
from medianest.integrations.overseerr.schemas import MediaStatus
from medianest.integrations.overseerr.schemas import RequestStatus as Upstream
from medianest.requests.changes import Change, StatusChanges
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.models import EventSource, MediaRequest, RequestStatus
from medianest.requests.status import combined_status

log = structlog.get_logger(__name__)

# The notification types that say something about a request, and the request status they mean.
_REQUEST_STATUS = {
    "MEDIA_PENDING": Upstream.PENDING,
    "MEDIA_APPROVED": Upstream.APPROVED,
    "MEDIA_AUTO_APPROVED": Upstream.APPROVED,
    "MEDIA_AVAILABLE": Upstream.APPROVED,
    "MEDIA_DECLINED": Upstream.DECLINED,
    "MEDIA_FAILED": Upstream.FAILED,
}
_MEDIA_STATUS = {
    "UNKNOWN": MediaStatus.UNKNOWN,
    "PENDING": MediaStatus.PENDING,
    "PROCESSING": MediaStatus.PROCESSING,
    "PARTIALLY_AVAILABLE": MediaStatus.PARTIALLY_AVAILABLE,
    "AVAILABLE": MediaStatus.AVAILABLE,
}
_OPEN = [s.value for s in RequestStatus if s.open and s != RequestStatus.SUBMITTING]
# Deliveries written in one transaction at most.
BATCH = 200


class WebhookRefused(Unauthorized):
    message = "This webhook's Authorization header is not the one MediaNest gave."


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Media(_Loose):
    media_type: str | None = None
    tmdbId: str | None = None  # the template's own name
    status: str | None = None


class _Request(_Loose):
    request_id: str | None = None


class Notification(_Loose):
    notification_type: str
    subject: str | None = None
    message: str | None = None
    media: _Media | None = None
    request: _Request | None = None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class OverseerrWebhooks:
    """Takes deliveries in, applies them in batches.

    Overseerr posts a burst of deliveries when many requests move at once (a library scan found
    a season's worth). Each delivery waits for its batch's one transaction to commit, then is
    answered: what arrives while a batch is being written goes in the next one, so a burst costs
    a few commits rather than one per delivery, and nothing is answered before it is durable.
    """

    def __init__(
        self, db: Database, connection: OverseerrConnectionService, changes: StatusChanges
    ) -> None:
        self._db = db
        self._connection = connection
        self._changes = changes
        self._waiting: list[tuple[Notification, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def receive(self, authorization: str | None, body: bytes) -> int:
        """Apply one delivery; how many requests it moved on. Raises `WebhookRefused` (nothing
        read) and `ValidationFailed` for a body that is not Overseerr's notification."""
        if not await self._connection.webhook_authorized(authorization):
            log.warning("requests.webhook_refused")
            raise WebhookRefused()
        try:
            found = Notification.model_validate_json(body)
        except ValidationError:
            raise ValidationFailed(
                "This is not an Overseerr notification (its default JSON payload)."
            ) from None
        if found.notification_type not in _REQUEST_STATUS:
            # The test notification, issues and comments: nothing to do with requests.
            log.info("requests.webhook_ignored", type=found.notification_type)
            return 0
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((found, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="requests-webhooks")
        # Shielded: Overseerr hanging up does not take the others' batch with it.
        return await asyncio.shield(done)

    async def aclose(self) -> None:
        """Finish the batch being written; deliveries not yet in one are refused (Overseerr's
        next change, or the sync, brings their news again)."""
        waiting, self._waiting = self._waiting, []
        for _, done in waiting:
            if not done.done():
                done.set_exception(UpstreamUnavailable("MediaNest", "MediaNest is stopping."))
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                moved = await self._apply([found for found, _ in batch])
            except Exception as exc:
                log.exception("requests.webhook_batch_failed", deliveries=len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), count in zip(batch, moved, strict=True):
                if not done.done():
                    done.set_result(count)

    async def _apply(self, batch: list[Notification]) -> list[int]:
        async with self._db.unit_of_work() as session:
            targets = await self._targets(session, batch)
            changes: list[Change] = []
            owners: list[int] = []
            for index, (found, requests) in enumerate(zip(batch, targets, strict=True)):
                for request in requests:
                    changes.append(Change(request, _status_of(found, request), EventSource.WEBHOOK))
                    owners.append(index)
            moved = await self._changes.apply_all(session, changes)
        counts = [0] * len(batch)
        for index, did in zip(owners, moved, strict=True):
            counts[index] += did
        log.info("requests.webhooks_applied", deliveries=len(batch), moved=sum(counts))
        return counts

    async def _targets(
        self, session: AsyncSession, batch: list[Notification]
    ) -> list[list[MediaRequest]]:
        """Each delivery's requests: the one it names by Overseerr id (one query for the
        batch), else, for a title that became available, every open request for it."""
        ids = {i for found in batch if (i := _request_id(found)) is not None}
        by_id = (
            {
                r.overseerr_id: r
                for r in await session.scalars(
                    select(MediaRequest).where(MediaRequest.overseerr_id.in_(ids))
                )
            }
            if ids
            else {}
        )
        targets: list[list[MediaRequest]] = []
        for found in batch:
            named = by_id.get(_request_id(found))
            targets.append([named] if named is not None else await self._by_title(session, found))
        return targets

    async def _by_title(self, session: AsyncSession, found: Notification) -> list[MediaRequest]:
        media = found.media
        tmdb_id = _int(media.tmdbId) if media is not None else None
        if found.notification_type != "MEDIA_AVAILABLE" or media is None or tmdb_id is None:
            return []
        media_type = "movie" if media.media_type == "movie" else "tv"
        rows = await session.scalars(
            select(MediaRequest).where(
                MediaRequest.media_type == media_type,
                MediaRequest.tmdb_id == tmdb_id,
                MediaRequest.status.in_(_OPEN),
            )
        )
        return list(rows)


def _request_id(found: Notification) -> int | None:
    return _int(found.request.request_id) if found.request is not None else None


def _status_of(found: Notification, request: MediaRequest) -> RequestStatus:
    media = found.media
    media_status = _MEDIA_STATUS.get(media.status or "") if media is not None else None
    if found.notification_type == "MEDIA_AVAILABLE" and media_status not in (
        MediaStatus.PARTIALLY_AVAILABLE,
        MediaStatus.AVAILABLE,
    ):
        media_status = MediaStatus.AVAILABLE
    return combined_status(
        _REQUEST_STATUS[found.notification_type],
        media_status,
        before=RequestStatus(request.status),
    )
