"""The request sync: what a lost webhook missed, repaired every few minutes.

Each run pages Overseerr's requests, most recently changed first, and stops at the first one
older than what MediaNest last saw change (its newest `upstream_updated_at`, less a margin for
clocks and for changes made while the last run paged), so a quiet Overseerr costs one call.
Every request it holds a row for moves on as the webhook would have moved it; applying a change
twice is harmless (`changes.py`), so a sync racing a webhook, or two processes syncing at once,
tell each person once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select

from medianest.core.db import Database
from medianest.core.poller import Poller
from medianest.requests.changes import Change, StatusChanges
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.models import EventSource, MediaRequest, RequestStatus
from medianest.requests.status import upstream_status

log = structlog.get_logger(__name__)

PAGE = 50
# Past this, a first sync (or one after a long outage) stops: older requests changed long ago.
MAX_PAGES = 40
MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SyncResult:
    seen: int
    moved: int


class RequestSync:
    def __init__(
        self,
        *,
        db: Database,
        connection: OverseerrConnectionService,
        changes: StatusChanges,
        interval_seconds: int,
    ) -> None:
        self._db = db
        self._connection = connection
        self._changes = changes
        self._poller: Poller[SyncResult] | None = (
            Poller("requests-sync", self.run, interval=interval_seconds, first_delay=30.0)
            if interval_seconds > 0
            else None
        )

    def start(self) -> None:
        if self._poller is not None:
            self._poller.start()

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.stop()

    async def run(self) -> SyncResult:
        """One sync now. Does nothing while Overseerr is not connected; raises what Overseerr's
        failures raise (the poller says so once and tries again next time)."""
        if await self._connection.link() is None:
            return SyncResult(0, 0)
        client = await self._connection.client()
        since = await self._since()
        seen = moved = 0
        for page in range(MAX_PAGES):
            found = await client.requests(take=PAGE, skip=page * PAGE, sort="modified")
            ours = {r.id: r for r in found.results}
            async with self._db.unit_of_work() as session:
                rows = await session.scalars(
                    select(MediaRequest).where(MediaRequest.overseerr_id.in_(ours))
                )
                changes = [
                    Change(
                        row,
                        upstream_status(ours[row.overseerr_id], before=RequestStatus(row.status)),
                        EventSource.SYNC,
                        upstream_updated_at=ours[row.overseerr_id].updated_at,
                    )
                    for row in rows
                    if row.overseerr_id is not None
                ]
                moved += sum(await self._changes.apply_all(session, changes))
            seen += len(found.results)
            oldest = min((r.updated_at for r in found.results if r.updated_at), default=None)
            last_page = page + 1 >= found.page_info.pages or not found.results
            if last_page or (since is not None and oldest is not None and oldest < since):
                break
        if moved:
            log.info("requests.sync_repaired", seen=seen, moved=moved)
        return SyncResult(seen, moved)

    async def _since(self) -> datetime | None:
        async with self._db.unit_of_work() as session:
            newest = await session.scalar(select(func.max(MediaRequest.upstream_updated_at)))
        return newest - MARGIN if newest is not None else None
