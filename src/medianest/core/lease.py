"""A named lease in the database: which one of MediaNest's processes runs a piece of work that
must run once however many processes there are (the service checks: one poll of Plex a minute,
not one per web worker).

The `leases` table holds one row per name: who holds it and until when. Taking or renewing it is
one conditional statement, so two processes asking at the same moment cannot both win:

- `UPDATE leases SET holder = me, expires_at = now + ttl WHERE name = :name AND (holder = me OR
  expires_at <= now)` renews the lease when this process holds it, or takes it over once the
  holder stopped renewing (PostgreSQL re-reads a row another transaction changed before it
  updates it; SQLite runs one writer at a time);
- when no row matched, `INSERT ... ON CONFLICT DO NOTHING` takes a lease nobody ever held.

Expiry is measured on each process's own clock: the hosts of a scaled-out MediaNest keep their
clocks in step (NTP), and a lease lasts a few renewal periods, far more than any drift.
A clean stop deletes the row, so another process takes over at its next attempt rather than
after the expiry.

`LeaseKeeper` tries every `every` seconds and runs callbacks when this process gains or loses
the lease; `core` knows nothing of what they start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, String, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, Database, utc_now

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


class LeaseRow(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # `host:pid:<random>`: one per lease object, so two apps in one process are two holders.
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        ttl: float,
        holder: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`ttl`: seconds a taken or renewed lease lasts without another renewal."""
        self._db = db
        self.name = name
        self.holder = holder or new_holder()
        self._ttl = timedelta(seconds=ttl)
        self._clock = clock
        self.expires_at: datetime | None = None
        """Until when this holder has the lease, as of its last successful attempt."""

    async def acquire(self) -> bool:
        """Take the lease, or renew it when this holder has it; True when it is this holder's
        for `ttl` from now. Raises what the database raises."""
        now = self._clock()
        until = now + self._ttl
        async with self._db.unit_of_work() as session:
            renewed = await session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self.name,
                    or_(LeaseRow.holder == self.holder, LeaseRow.expires_at <= now),
                )
                .values(holder=self.holder, expires_at=until)
                .execution_options(synchronize_session=False)
            )
            held = _count(renewed) == 1
            if not held:
                taken = await session.execute(
                    _insert(session)
                    .values(name=self.name, holder=self.holder, expires_at=until)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                held = _count(taken) == 1
        self.expires_at = until if held else None
        return held

    async def release(self) -> None:
        """Give the lease up, when this holder has it; another process may take it at once."""
        self.expires_at = None
        async with self._db.unit_of_work() as session:
            await session.execute(
                delete(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .execution_options(synchronize_session=False)
            )

    def still_held(self) -> bool:
        """Whether the last successful attempt left the lease this holder's until now."""
        return self.expires_at is not None and self._clock() < self.expires_at


Callback = Callable[[], Awaitable[None]]


class LeaseKeeper:
    """Keeps trying for `lease` every `every` seconds (renewing it while held), and runs
    `on_gained` when this process becomes the holder and `on_lost` when it stops being one (the
    lease went to another process, or it could not be renewed before it expired, or `stop()`).

    A failed attempt (the database unreachable) keeps the lease as long as it was granted for:
    nobody else can take it before then either."""

    def __init__(
        self, lease: Lease, *, every: float, on_gained: Callback, on_lost: Callback
    ) -> None:
        self.lease = lease
        self._every = every
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.held = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"lease-{self.lease.name}"
            )

    async def stop(self) -> None:
        """Stop trying; when held, run `on_lost`, then release the lease."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.held:
            await self._lose()
            try:
                await self.lease.release()
            except Exception as exc:
                # It expires by itself; another process takes over then.
                log.warning("lease.release_failed", lease=self.lease.name, error=type(exc).__name__)

    async def attempt(self) -> bool:
        """One attempt now (what the loop does every `every` seconds); whether it is held."""
        try:
            held = await self.lease.acquire()
        except Exception as exc:
            if not self._failing:
                self._failing = True
                log.warning("lease.attempt_failed", lease=self.lease.name, error=type(exc).__name__)
            held = self.held and self.lease.still_held()
        else:
            self._failing = False
        if held and not self.held:
            log.info("lease.gained", lease=self.lease.name, holder=self.lease.holder)
            try:
                await self._on_gained()
            except Exception:
                # Holding the lease without doing the work would keep everyone from doing it.
                log.exception("lease.on_gained_failed", lease=self.lease.name)
                await self.lease.release()
                return False
            self.held = True
        elif not held and self.held:
            await self._lose()
        return held

    async def _lose(self) -> None:
        self.held = False
        log.info("lease.lost", lease=self.lease.name, holder=self.lease.holder)
        try:
            await self._on_lost()
        except Exception:
            log.exception("lease.on_lost_failed", lease=self.lease.name)

    async def _run(self) -> None:
        while True:
            try:
                await self.attempt()
            except Exception as exc:
                # Releasing after a failed `on_gained` failed too: tried again next time.
                log.warning("lease.attempt_failed", lease=self.lease.name, error=type(exc).__name__)
            await asyncio.sleep(self._every)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LeaseRow)


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
