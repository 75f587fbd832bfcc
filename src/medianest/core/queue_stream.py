"""The Redis stream broker, kept delivering across Redis restarts and outages.

taskiq's receiver calls `listen()` again at once whenever it fails, so a Redis that is down, or
one that came back empty (no stream, no consumer group: `NOGROUP` on every read), makes it spin
and log a traceback each time. Here `listen()` does not fail on a Redis error: it marks the queue
down (one log line, one counted outage), waits with bounded, jittered back-off until Redis
answers, creates the stream and its consumer group again when they are gone (`XGROUP CREATE ...
MKSTREAM`), marks the queue back (one line) and has the queue send again every job the database
holds as queued: their messages were lost with the stream, or never sent while Redis was away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage, AsyncBroker
from taskiq_redis import RedisStreamBroker
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from medianest.core.metrics import Metrics

log = structlog.get_logger(__name__)

QUEUE_ERRORS = (RedisError, OSError)
# The first retry comes quickly (a restarted Redis is usually back within a second); later ones
# spread out to at most half a minute, with jitter so many workers do not reconnect in step.
RECONNECT_INITIAL = 0.2
RECONNECT_MAX = 30.0
RECONNECT_JITTER = 0.5
# A read that fails again this soon after reconnecting waits before the next try, so a Redis
# that accepts the group but refuses reads still cannot make the loop spin.
SETTLE = 1.0
# Without a connect timeout, a Redis host that vanished from the network holds a reconnect
# attempt for as long as the kernel keeps trying.
CONNECT_TIMEOUT = 2.0
# A link that fails again this soon after coming back never really came back: the failure is
# the same outage going on (one logged and counted outage, one reconnect), not a new one. A
# Redis still settling after a restart, or a read that lost a race with it, looks like this.
RELAPSE_WINDOW = 5.0


class QueueUnavailable(Exception):
    """Jobs sent now would not be delivered: the queue is down, or Redis lost the job stream
    or its consumer group."""


class QueueLink:
    """Whether this process reaches the job stream, told once per change in the log and
    counted in the metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self.up: bool | None = None
        self._down_since = 0.0
        # When it last came back from an outage (not when it first came up).
        self._back_since = 0.0
        self._relapsed = False

    def mark_down(self, exc: BaseException) -> None:
        if self.up is False:
            return
        self.up = False
        self._metrics.queue_up.set(0)
        if self._back_since and time.monotonic() - self._back_since < RELAPSE_WINDOW:
            self._relapsed = True
            log.debug("queue.relapsed", error=_describe(exc))
            return
        self._down_since = time.monotonic()
        self._metrics.queue_outages.inc()
        log.warning("queue.down", error=_describe(exc))

    def mark_up(self) -> None:
        was_down = self.up is False
        self.up = True
        self._metrics.queue_up.set(1)
        if not was_down:
            return
        if self._relapsed:
            # Still the outage that ended at `_back_since`; a link that keeps relapsing is
            # told (and counted) again once the window has passed.
            self._relapsed = False
            return
        self._metrics.queue_reconnects.inc()
        self._back_since = time.monotonic()
        log.info("queue.back", down_for=round(self._back_since - self._down_since, 1))


def _describe(exc: BaseException) -> str:
    # The first words of a Redis error name it (NOGROUP, Connection refused) without the
    # traceback or any key material that follows.
    return f"{type(exc).__name__}: {str(exc)[:120]}" if str(exc) else type(exc).__name__


class ResilientStreamBroker(RedisStreamBroker):
    """A `RedisStreamBroker` whose `startup()` waits for Redis and whose `listen()` outlives
    Redis outages and restarts (see the module docstring)."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(socket_connect_timeout=CONNECT_TIMEOUT, **kwargs)
        self.link = QueueLink(metrics)
        # Set by a process that runs jobs: resends the jobs recorded as queued.
        self.on_reconnect: Callable[[], Awaitable[object]] | None = None

    async def startup(self) -> None:
        """Run taskiq's start-up, then wait (backing off) until the stream and group exist."""
        await AsyncBroker.startup(self)
        await self.connect()

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group where Redis lost them; raises a Redis
        error when Redis does not answer."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                # From the stream's start, not its end: a web process may have added jobs to a
                # stream that had no group yet (Redis came back empty before any worker did).
                await redis.xgroup_create(
                    self.queue_name, self.consumer_group_name, id="0", mkstream=True
                )
            except ResponseError as exc:
                if not str(exc).startswith("BUSYGROUP"):
                    raise

    async def check_group(self) -> None:
        """Raises `QueueUnavailable` (or a Redis error) unless jobs sent now would be delivered."""
        if self.link.up is False:
            raise QueueUnavailable("the queue is down")
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                groups = await redis.xinfo_groups(self.queue_name)
            except ResponseError as exc:
                raise QueueUnavailable("the job stream is gone") from exc
        names = {_text(group.get("name")) for group in groups}
        if self.consumer_group_name not in names:
            raise QueueUnavailable("the consumer group is gone")

    async def connect(self) -> None:
        """Wait until Redis answers and the group exists, marking the queue down on the first
        failure and back once it holds."""
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(
                multiplier=RECONNECT_INITIAL, max=RECONNECT_MAX, jitter=RECONNECT_JITTER
            ),
            retry=retry_if_exception_type(QUEUE_ERRORS),
            before_sleep=lambda state: self._attempt_failed(state.outcome),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self.ensure_group()
        self.link.mark_up()

    def _attempt_failed(self, outcome: Any) -> None:
        exc = outcome.exception() if outcome is not None else None
        if exc is not None:
            self.link.mark_down(exc)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            reached = time.monotonic()
            try:
                async for message in super().listen():
                    yield message
            except QUEUE_ERRORS as exc:
                self.link.mark_down(exc)
            if time.monotonic() - reached < SETTLE:
                await asyncio.sleep(SETTLE)
            await self.connect()
            if self.on_reconnect is not None:
                await self.on_reconnect()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
