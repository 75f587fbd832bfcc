"""`Poller`: one background refresh, run every so often, in the coordinator shape.

Every part that refreshes something on a timer (the library sync's schedule, the eviction of
idle Plex tokens, the coming service checks) is one of these rather than a hand-rolled
`create_task` loop: it keeps the last good result and whether the last refresh worked, says once
when refreshing starts failing and once when it recovers (not once per failed tick), lets a
caller ask for a refresh sooner (several asks before it runs make one refresh) and stops cleanly.
Pages and the API read `snapshot`, never the upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Poller(Generic[T]):
    def __init__(
        self,
        name: str,
        refresh: Callable[[], Awaitable[T]],
        *,
        interval: float,
        first_delay: float = 0.0,
    ) -> None:
        """`refresh` runs `first_delay` seconds after `start()`, then `interval` seconds after
        each run ends. `name` labels its log lines and its task."""
        self.name = name
        self._refresh = refresh
        self._interval = interval
        self._first_delay = first_delay
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.snapshot: T | None = None
        """What the last refresh that worked gave; None before the first."""
        self.last_refresh_ok: bool | None = None
        """Whether the last refresh worked; None before the first."""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start refreshing in the background, until `stop()`; does nothing if running."""
        if not self.running:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def request_refresh(self) -> None:
        """Refresh now rather than at the next interval; asks made before it runs make one."""
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def refresh_now(self) -> T:
        """Refresh in the caller's task; what the refresh raises is raised (and remembered)."""
        try:
            result = await self._refresh()
        except Exception as exc:
            if self.last_refresh_ok is not False:
                log.warning("poller.failing", poller=self.name, error=type(exc).__name__)
            self.last_refresh_ok = False
            raise
        if self.last_refresh_ok is False:
            log.info("poller.recovered", poller=self.name)
        self.snapshot, self.last_refresh_ok = result, True
        return result

    async def _run(self) -> None:
        await self._sleep(self._first_delay)
        while True:
            with contextlib.suppress(Exception):
                # Said once by refresh_now; the next interval tries again.
                await self.refresh_now()
            await self._sleep(self._interval)

    async def _sleep(self, seconds: float) -> None:
        """Until `seconds` passed or a refresh was asked for."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
