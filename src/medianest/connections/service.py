"""The connections to upstream services, one stored row per service name, and the one way every
process hears that one changed: `connection.changed`.

The domain that saves a connection (Plex's connect, later Overseerr's and Uptime Kuma's) commits
it first, then calls `changed(name)`: this process's listeners run at once, in the order they
were added, and every other process hears it on the bus and runs its own. A listener is told
whether the change was made here, so work that must happen once (starting a sync of the new
server) is done by the process that saved it only.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from medianest.connections.store import ConnectionStore
from medianest.core.bus import Bus

log = structlog.get_logger(__name__)

CHANGED_CHANNEL = "connection.changed"


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    name: str
    """The service whose connection changed (`plex`, ...)."""
    here: bool
    """Saved by this process (False: heard from another one on the bus)."""


ChangeListener = Callable[[ConnectionChanged], Awaitable[None]]


class Connections:
    def __init__(self, store: ConnectionStore, bus: Bus) -> None:
        self.store = store
        self._bus = bus
        self._listeners: list[ChangeListener] = []
        # Names this process on the bus, so it skips what it already did itself.
        self._origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None

    def on_changed(self, listener: ChangeListener) -> None:
        """Run `listener` each time a connection changes, here or in another process. A failing
        listener is logged, not raised: the others still run."""
        self._listeners.append(listener)

    async def changed(self, name: str) -> None:
        """A connection was saved (and committed): tell this process, then every other one."""
        await self._tell(ConnectionChanged(name, here=True))
        await self._bus.publish(CHANGED_CHANNEL, {"name": name, "origin": self._origin})

    # Lifecycle

    async def start(self) -> None:
        """Store the settings' Plex connection if none is stored yet, and start hearing about
        connections saved by other processes (until `stop()`)."""
        try:
            await self.store.seed_from_settings()
        except Exception:
            log.exception("connections.seed_failed")
        if self._listener is None:
            ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(ready), name="connections-listener"
            )
            await ready.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _tell(self, event: ConnectionChanged) -> None:
        self.store.forget()
        for listener in list(self._listeners):
            try:
                await listener(event)
            except Exception:
                log.exception("connections.listener_failed", name=event.name)

    async def _listen(self, ready: asyncio.Event) -> None:
        try:
            async with self._bus.subscribe(CHANGED_CHANNEL) as inbox:
                ready.set()
                async for _, message in inbox:
                    name = message.get("name")
                    if message.get("origin") == self._origin or not isinstance(name, str):
                        continue
                    await self._tell(ConnectionChanged(name, here=False))
                    log.info("connections.changed_elsewhere", name=name)
        finally:
            ready.set()
