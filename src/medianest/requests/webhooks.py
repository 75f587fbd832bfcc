"""Overseerr's and Seerr's webhook, in their default JSON template, as request status changes.

Every value of the default template arrives as a string (`"request_id": "42"`, the media status
as its enum name, `"PARTIALLY_AVAILABLE"`), the `media` and `request` objects may be null, and
fields may be blank. A notification names the request by Overseerr's id; one for a title that
became available may name none of MediaNest's requests (it was asked for in Overseerr itself), and
then every open request for that title moves on. A delivery is answered as soon as it is applied:
it does no upstream call.
"""

from __future__ import annotations

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.errors import Unauthorized, ValidationFailed
from medianest.integrations.overseerr.schemas import MediaStatus
from medianest.integrations.overseerr.schemas import RequestStatus as Upstream
from medianest.requests.changes import StatusChanges
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
    def __init__(self, connection: OverseerrConnectionService, changes: StatusChanges) -> None:
        self._connection = connection
        self._changes = changes

    async def receive(self, session: AsyncSession, authorization: str | None, body: bytes) -> int:
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
        status = _REQUEST_STATUS.get(found.notification_type)
        if status is None:
            # The test notification, issues and comments: nothing to do with requests.
            log.info("requests.webhook_ignored", type=found.notification_type)
            return 0
        media = found.media
        media_status = _MEDIA_STATUS.get(media.status or "") if media is not None else None
        if found.notification_type == "MEDIA_AVAILABLE" and media_status not in (
            MediaStatus.PARTIALLY_AVAILABLE,
            MediaStatus.AVAILABLE,
        ):
            media_status = MediaStatus.AVAILABLE
        targets = await self._targets(session, found)
        moved = 0
        for request in targets:
            new = combined_status(status, media_status, before=RequestStatus(request.status))
            if await self._changes.apply(session, request, new, EventSource.WEBHOOK):
                moved += 1
        log.info(
            "requests.webhook_applied",
            type=found.notification_type,
            requests=len(targets),
            moved=moved,
        )
        return moved

    async def _targets(self, session: AsyncSession, found: Notification) -> list[MediaRequest]:
        overseerr_id = _int(found.request.request_id) if found.request is not None else None
        if overseerr_id is not None:
            request = await session.scalar(
                select(MediaRequest).where(MediaRequest.overseerr_id == overseerr_id)
            )
            if request is not None:
                return [request]
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
