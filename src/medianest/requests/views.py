"""Requests as the API shows them."""

from __future__ import annotations

from collections.abc import Sequence

from medianest.requests.mine import Listed
from medianest.requests.models import RequestEvent
from medianest.requests.schemas import HistoryEntry, RequestRead, UserRef


def request_read(listed: Listed, history: Sequence[RequestEvent] | None = None) -> RequestRead:
    request = listed.request
    return RequestRead(
        id=request.id,
        media_type="movie" if request.media_type == "movie" else "tv",
        tmdb_id=request.tmdb_id,
        title=request.title,
        year=request.year,
        poster_path=request.poster_path,
        status=request.status,
        seasons=request.seasons,
        is_4k=request.is_4k,
        requested_by=UserRef(id=request.user_id, username=listed.requested_by),
        created_at=request.created_at,
        updated_at=request.updated_at,
        following=listed.following,
        reason=request.reason,
        history=None
        if history is None
        else [HistoryEntry(status=e.status, at=e.at, source=e.source) for e in history],
    )
