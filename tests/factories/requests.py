"""Requests written directly in the database, as MediaNest holds them once Overseerr took them."""

from __future__ import annotations

import uuid

from medianest.core.db import Database
from medianest.requests.models import MediaRequest, RequestFollower, RequestStatus


async def make_request(
    database_url: str,
    user_id: uuid.UUID,
    *,
    status: RequestStatus = RequestStatus.PENDING,
    title: str | None = None,
    media_type: str = "movie",
    tmdb_id: int | None = None,
    followed_by: tuple[uuid.UUID, ...] = (),
) -> MediaRequest:
    """A request of `user_id`'s (`followed_by`: others told about it too)."""
    request = MediaRequest(
        user_id=user_id,
        media_type=media_type,
        tmdb_id=tmdb_id or uuid.uuid4().int % 1_000_000 + 1,
        title=title or f"Title {uuid.uuid4().hex[:6]}",
        seasons=[1] if media_type == "tv" else None,
        status=status,
        # Overseerr's id, once it has the request.
        overseerr_id=None if status == RequestStatus.SUBMITTING else uuid.uuid4().int % 2**31,
    )
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(request)
            await session.flush()
            session.add_all(
                RequestFollower(request_id=request.id, user_id=follower) for follower in followed_by
            )
    finally:
        await db.close()
    return request
