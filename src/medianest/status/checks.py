"""The pollers behind the status page: one per upstream (Plex, Overseerr, Uptime Kuma) and one
for MediaNest's own parts, each on `core.poller.Poller`, every
`MEDIANEST_STATUS_INTERVAL_SECONDS`, and only in the process that holds the `status-checks`
lease (`core.lease`): however many web processes and workers run, each upstream is checked once
an interval. Another process takes over within a few intervals of the holder stopping (at its
next attempt when it stopped cleanly).

Each poll is stored by the recorder; pages and the API read what is stored, never an upstream.
Each poller keeps its last poll as `snapshot` and logs once when it starts failing (the
database refused the poll, say) and once when it recovers; a service going down is not a poller
failing: it is a poll that found it down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from medianest.core.db import Database, utc_now
from medianest.core.lease import Lease, LeaseKeeper
from medianest.core.poller import Poller
from medianest.status.alerts import Change
from medianest.status.history import prune
from medianest.status.kuma import KumaReader
from medianest.status.own import OverseerrCheck, OwnCheck, PlexCheck, forget_old_pings
from medianest.status.readings import Poll
from medianest.status.recorder import Recorder

log = structlog.get_logger(__name__)

LEASE = "status-checks"
PRUNE_EVERY = timedelta(hours=1)
# Beyond this many intervals without a renewal, another process takes the checks over.
LEASE_INTERVALS = 3

PollerName = str
PLEX, OVERSEERR, KUMA, OWN = "plex", "overseerr", "kuma", "own"


class StatusChecks:
    def __init__(
        self,
        *,
        db: Database,
        recorder: Recorder,
        plex: PlexCheck,
        overseerr: OverseerrCheck,
        own: OwnCheck,
        kuma: KumaReader,
        interval_seconds: float,
        holder: str | None = None,
    ) -> None:
        """`interval_seconds` 0: the checks never run (`run_once` still does)."""
        self._db = db
        self._recorder = recorder
        self._kuma = kuma
        self._interval = interval_seconds
        self._last_prune: datetime | None = None
        sources: dict[PollerName, Callable[[], Awaitable[Poll]]] = {
            PLEX: plex.poll,
            OVERSEERR: overseerr.poll,
            KUMA: kuma.poll,
            OWN: own.poll,
        }
        self._sources = sources
        self.pollers: dict[PollerName, Poller[list[Change]]] = {
            name: Poller(
                f"status-{name}",
                self._refresh(name),
                interval=interval_seconds or 60.0,
                # Spread over the first second, so the first polls do not all start at once.
                first_delay=0.25 * index,
            )
            for index, name in enumerate(sources)
        }
        every = max(interval_seconds, 1.0)
        self.keeper = LeaseKeeper(
            Lease(db, LEASE, ttl=every * LEASE_INTERVALS, holder=holder),
            every=every,
            on_gained=self._gained,
            on_lost=self._lost,
        )

    @property
    def enabled(self) -> bool:
        return self._interval > 0

    @property
    def running(self) -> bool:
        """Whether this process is the one polling now."""
        return self.keeper.held

    async def start(self) -> None:
        if self.enabled:
            self.keeper.start()

    async def stop(self) -> None:
        await self.keeper.stop()
        await self._lost()

    def refresh(self, name: PollerName) -> None:
        """Poll `name` soon rather than at its next interval (its connection changed), when
        this process is the one polling; asks made before it runs make one poll."""
        poller = self.pollers.get(name)
        if poller is not None and poller.running:
            poller.request_refresh()

    async def run_once(self) -> list[Change]:
        """Every poll now, in this task, lease or not (for tests and benchmarks): the changes."""
        changes: list[Change] = []
        for poller in self.pollers.values():
            changes += await poller.refresh_now()
        return changes

    async def poll(self, name: PollerName) -> list[Change]:
        """One poll of `name` now, in this task; raises what storing it raises."""
        return await self.pollers[name].refresh_now()

    def _refresh(self, name: PollerName) -> Callable[[], Awaitable[list[Change]]]:
        source = self._sources[name]

        async def refresh() -> list[Change]:
            poll = await source()
            changes = await self._recorder.record(poll)
            if name == KUMA:
                self._kuma.recorded(poll)
            if name == OWN:
                await self._prune_when_due()
            return changes

        return refresh

    async def _prune_when_due(self) -> None:
        now = utc_now()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        async with self._db.unit_of_work() as session:
            beats, rollups = await prune(session, now)
            await forget_old_pings(session, now)
        if beats or rollups:
            log.info("status.pruned", heartbeats=beats, rollups=rollups)

    async def _gained(self) -> None:
        # Beats another process stored meanwhile are known to the database, not to this reader.
        self._kuma.forget()
        for poller in self.pollers.values():
            poller.start()

    async def _lost(self) -> None:
        await asyncio.gather(*(poller.stop() for poller in self.pollers.values()))
