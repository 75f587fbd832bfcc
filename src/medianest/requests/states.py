"""What each title of a page means for the person looking at it: one state per poster.

In order: in Plex (MediaNest's library index says so; "Open" goes to its Plex page), then the
open requests MediaNest holds (the caller's own or followed ones carry their id; another user's
is only a state, "Requested"), then what Overseerr itself knows (a title requested there
directly, or available but not yet in the index). A page of titles costs two indexed queries,
whatever its length: one on the library index, one on the requests with the caller's follows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.integrations.overseerr.schemas import MediaStatus
from medianest.requests.models import MediaRequest, RequestFollower, RequestStatus
from medianest.requests.schemas import Availability, MediaType, PlexRef, Title, TitleRead

InPlex = Callable[
    [AsyncSession, AbstractSet[tuple[MediaType, int]]], Awaitable[dict[tuple[MediaType, int], str]]
]

_FROM_REQUEST: dict[str, Availability] = {
    RequestStatus.SUBMITTING: "requested",
    RequestStatus.PENDING: "requested",
    RequestStatus.APPROVED: "requested",
    RequestStatus.PROCESSING: "processing",
    RequestStatus.PARTIALLY_AVAILABLE: "partially_available",
}
_FROM_UPSTREAM: dict[int, Availability] = {
    MediaStatus.PENDING: "requested",
    MediaStatus.PROCESSING: "processing",
    MediaStatus.PARTIALLY_AVAILABLE: "partially_available",
    MediaStatus.AVAILABLE: "available",
}
_OPEN = [s.value for s in RequestStatus if s.open]


@dataclass(frozen=True, slots=True)
class _Asked:
    request_id: uuid.UUID
    status: str
    own: bool
    followed: bool

    @property
    def yours(self) -> bool:
        return self.own or self.followed


class TitleStates:
    def __init__(self, in_plex: InPlex) -> None:
        self._in_plex = in_plex

    async def read(
        self, session: AsyncSession, user_id: uuid.UUID, titles: Sequence[Title]
    ) -> list[TitleRead]:
        keys = {(t.media_type, t.tmdb_id) for t in titles}
        plex = await self._in_plex(session, keys)
        asked = await self._asked(session, user_id, keys)
        return [
            _read(t, plex.get((t.media_type, t.tmdb_id)), asked.get((t.media_type, t.tmdb_id)))
            for t in titles
        ]

    async def _asked(
        self, session: AsyncSession, user_id: uuid.UUID, keys: Collection[tuple[MediaType, int]]
    ) -> dict[tuple[MediaType, int], _Asked]:
        """The open request per title that matters most to the caller: their own or one they
        follow first, then anyone's."""
        if not keys:
            return {}
        follows = (
            select(RequestFollower.request_id)
            .where(RequestFollower.user_id == user_id)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(
                MediaRequest.id,
                MediaRequest.media_type,
                MediaRequest.tmdb_id,
                MediaRequest.status,
                (MediaRequest.user_id == user_id).label("own"),
                MediaRequest.id.in_(follows).label("followed"),
            ).where(
                MediaRequest.tmdb_id.in_({tmdb_id for _, tmdb_id in keys}),
                MediaRequest.status.in_(_OPEN),
                MediaRequest.is_4k.is_(False),
            )
        )
        found: dict[tuple[MediaType, int], _Asked] = {}
        for request_id, media_type, tmdb_id, status, own, followed in rows:
            key: tuple[MediaType, int] = ("movie" if media_type == "movie" else "tv", tmdb_id)
            if key not in keys:
                continue
            asked = _Asked(request_id, status, bool(own), bool(followed))
            held = found.get(key)
            if held is None or (asked.yours and not held.yours):
                found[key] = asked
        return found


def _read(title: Title, rating_key: str | None, asked: _Asked | None) -> TitleRead:
    availability: Availability = "none"
    if rating_key is not None:
        availability = "available"
    elif asked is not None:
        availability = _FROM_REQUEST.get(asked.status, "requested")
    elif title.upstream_status is not None:
        availability = _FROM_UPSTREAM.get(title.upstream_status, "none")
    yours = asked is not None and asked.yours
    return TitleRead(
        tmdb_id=title.tmdb_id,
        media_type=title.media_type,
        title=title.title,
        year=title.year,
        overview=title.overview,
        poster_path=title.poster_path,
        availability=availability,
        request_id=asked.request_id if yours and asked is not None else None,
        requested_by_you=asked is not None and asked.own,
        following=asked is not None and asked.followed and not asked.own,
        plex=PlexRef(rating_key=rating_key) if rating_key is not None else None,
    )
