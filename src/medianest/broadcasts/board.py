"""`BroadcastBoard`: the live announcements, held in memory by each process, shown as a banner
over every signed-in page.

Every page asks for its banners, so they are never read from the database per page. Each process
reads the live announcements (not withdrawn, not past their end) into memory:

- at start;
- at once after this process sent or withdrew one (`changed()`, once the change is committed),
  which also tells every other process on the bus (`broadcast.changed`), and they read again;
- every `reload_every` seconds whatever happens, for a message the bus lost (it is best
  effort: Redis away, a subscription reconnecting).

An announcement whose end passes between two reads disappears on time all the same: the copy
keeps each end, and `banners()` leaves out what ended by the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import or_, select

from medianest.auth.sessions import Principal
from medianest.broadcasts.models import SEVERITIES, Broadcast, Severity
from medianest.core.bus import Bus
from medianest.core.db import Database, utc_now
from medianest.web.extensions import Banner

log = structlog.get_logger(__name__)

CHANGED_CHANNEL = "broadcast.changed"
"""Bus channel: `{"origin": <the process that changed one>}`; hearers read the live ones again."""
RELOAD_SECONDS = 30.0
# Past this a banner shows the start of the message and leads to the inbox for the rest.
BANNER_MESSAGE = 200
INBOX = "/notifications"


@dataclass(frozen=True, slots=True)
class LiveBroadcast:
    id: uuid.UUID
    title: str
    message: str
    severity: Severity
    created_at: datetime
    expires_at: datetime | None

    def banner(self) -> Banner:
        # A title ending in its own punctuation ("Plex is back!") needs no colon after it.
        joint = " " if self.title[-1:] in ".!?:…" else ": "
        if len(self.message) <= BANNER_MESSAGE:
            return Banner(self.key, self.severity, f"{self.title}{joint}{self.message}")
        start = self.message[: BANNER_MESSAGE - 1].rstrip() + "…"
        return Banner(
            self.key, self.severity, f"{self.title}{joint}{start}", href=INBOX, link="Read it all"
        )

    @property
    def key(self) -> str:
        return f"broadcast:{self.id}"


class BroadcastBoard:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        reload_every: float = RELOAD_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._bus = bus
        self.reload_every = reload_every
        self._clock = clock
        self._live: tuple[LiveBroadcast, ...] = ()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._failing = False
        # Names this process on the bus, so it skips what it already read itself.
        self._origin = uuid.uuid4().hex
        self._tasks: list[asyncio.Task[None]] = []

    def live(self) -> list[LiveBroadcast]:
        """What is up now, newest first, from memory."""
        now = self._clock()
        return [b for b in self._live if b.expires_at is None or b.expires_at > now]

    def banners(self, user: Principal) -> list[Banner]:
        """Every signed-in person sees every live announcement (a `web.extensions.Banners`)."""
        return [broadcast.banner() for broadcast in self.live()]

    async def reload(self) -> None:
        """Read the live announcements again. When the database does not answer, the copy held
        stays as it was (logged once until a read works again)."""
        async with self._lock:
            try:
                async with self._db.unit_of_work() as session:
                    now = self._clock()
                    rows = await session.scalars(
                        select(Broadcast)
                        .where(
                            Broadcast.withdrawn_at.is_(None),
                            or_(Broadcast.expires_at.is_(None), Broadcast.expires_at > now),
                        )
                        .order_by(Broadcast.created_at.desc(), Broadcast.id)
                    )
                    live = tuple(_live(row) for row in rows)
            except Exception as exc:
                if not self._failing:
                    self._failing = True
                    log.warning("broadcasts.reload_failed", error=type(exc).__name__)
                return
            if self._failing:
                self._failing = False
                log.info("broadcasts.reload_recovered")
            self._live = live

    async def changed(self) -> None:
        """An announcement was sent or withdrawn, and committed: read again here, then tell
        every other process."""
        await self.reload()
        await self._bus.publish(CHANGED_CHANNEL, {"origin": self._origin})

    # Lifecycle

    async def start(self) -> None:
        """Read the live announcements, then keep them current until `stop()`."""
        await self.reload()
        if self._tasks:
            return
        heard = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(heard), name="broadcasts-listener"),
            loop.create_task(self._refresh(), name="broadcasts-refresh"),
        ]
        # Subscribed before start returns: a change made right after is heard.
        await heard.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _listen(self, heard: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(CHANGED_CHANNEL) as inbox:
                heard.set()
                async for _, message in inbox:
                    if message.get("origin") != self._origin:
                        self._wake.set()
        finally:
            heard.set()

    async def _refresh(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.reload_every)
            self._wake.clear()
            await self.reload()


_SEVERITY: dict[str, Severity] = {severity: severity for severity in SEVERITIES}


def _live(row: Broadcast) -> LiveBroadcast:
    return LiveBroadcast(
        id=row.id,
        title=row.title,
        message=row.message,
        severity=_SEVERITY.get(row.severity, "info"),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
