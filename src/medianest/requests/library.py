"""Requests that the Plex library sync found in Plex: available, without waiting for Overseerr.

Told by the plex domain after a sync changed titles. Only movies: a show in the index may still
lack the seasons that were asked for, which Overseerr's own scan tells season by season.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from medianest.core.db import Database
from medianest.requests.changes import StatusChanges
from medianest.requests.models import EventSource, MediaRequest, RequestStatus
from medianest.requests.schemas import MediaType
from medianest.requests.states import InPlex

log = structlog.get_logger(__name__)

_OPEN = [s.value for s in RequestStatus if s.open and s != RequestStatus.SUBMITTING]


class LibraryArrivals:
    def __init__(self, db: Database, in_plex: InPlex, changes: StatusChanges) -> None:
        self._db = db
        self._in_plex = in_plex
        self._changes = changes

    async def libraries_changed(self, _: list[str]) -> int:
        """Mark every open movie request now in the index available; how many moved on."""
        moved = 0
        async with self._db.unit_of_work() as session:
            rows = list(
                await session.scalars(
                    select(MediaRequest).where(
                        MediaRequest.media_type == "movie",
                        MediaRequest.is_4k.is_(False),
                        MediaRequest.status.in_(_OPEN),
                    )
                )
            )
            movie: MediaType = "movie"
            found = await self._in_plex(session, {(movie, r.tmdb_id) for r in rows})
            for row in rows:
                if (movie, row.tmdb_id) in found:
                    moved += await self._changes.apply(
                        session, row, RequestStatus.AVAILABLE, EventSource.LIBRARY
                    )
        if moved:
            log.info("requests.found_in_plex", moved=moved)
        return moved
