"""Overseerr's request and media statuses, as one MediaNest request status.

A request is declined or failed by its own status; otherwise the title's media status says how
far it got (processing once sent to Radarr/Sonarr, then partly or wholly available), and before
that the request's own (pending, approved). Seerr's COMPLETED counts as available. Unknown
numbers (a later Seerr) leave the request where it was.
"""

from __future__ import annotations

from medianest.integrations.overseerr.schemas import MediaRequest as UpstreamRequest
from medianest.integrations.overseerr.schemas import MediaStatus
from medianest.integrations.overseerr.schemas import RequestStatus as Upstream
from medianest.requests.models import RequestStatus

_BY_MEDIA = {
    MediaStatus.PROCESSING: RequestStatus.PROCESSING,
    MediaStatus.PARTIALLY_AVAILABLE: RequestStatus.PARTIALLY_AVAILABLE,
    MediaStatus.AVAILABLE: RequestStatus.AVAILABLE,
}


def combined_status(
    request_status: int, media_status: int | None, *, before: RequestStatus | None = None
) -> RequestStatus:
    """The MediaNest status of a request Overseerr reports like this; `before` is kept for
    values MediaNest does not know."""
    if request_status == Upstream.DECLINED:
        return RequestStatus.DECLINED
    if request_status == Upstream.FAILED:
        return RequestStatus.FAILED
    if request_status == Upstream.COMPLETED:
        return RequestStatus.AVAILABLE
    if request_status == Upstream.APPROVED:
        found = _BY_MEDIA.get(media_status) if media_status is not None else None
        return found or RequestStatus.APPROVED
    if request_status == Upstream.PENDING:
        return RequestStatus.PENDING
    return before or RequestStatus.PENDING


def upstream_status(
    found: UpstreamRequest, *, before: RequestStatus | None = None
) -> RequestStatus:
    media = found.media.status if found.media is not None else None
    return combined_status(found.status, media, before=before)
