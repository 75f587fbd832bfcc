"""Named rate limits (moving windows; a fixed one for the general API limit), in memory or Redis.

Limits protect the service and its accounts, so they never fail open: when Redis stops answering,
each process counts in memory of its own until Redis answers again, with one log line when that
starts and one when it ends. The in-process counters start empty, and each process keeps its own,
so during an outage an allowance holds per process rather than across them (docs/security.md).
While Redis is down it is asked again at most every `backend_retry_interval` seconds, so a Redis
that hangs costs one short socket timeout per interval instead of one per request.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeVar, get_args

import limits
import redis.asyncio
import structlog
from limits.aio import strategies
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from redis.exceptions import RedisError

from medianest.config import Settings
from medianest.core.errors import RateLimited
from medianest.core.metrics import Metrics

LimitName = Literal["api", "images", "login", "youtube", "media_requests"]

T = TypeVar("T")
Limiters = dict[str, strategies.RateLimiter]

# A rate limit check sits in front of every request: a Redis that does not answer within these
# bounds is treated as down rather than allowed to hold the request.
_SOCKET_TIMEOUT = 0.5
_BACKEND_ERRORS = (RedisError, OSError)

_MESSAGES: dict[str, str] = {
    "api": "Too many requests. Wait {wait} and try again.",
    "images": "Too many images at once. Wait {wait} and try again.",
    "login": "Too many sign-in attempts. Wait {wait} and try again.",
    "youtube": "You can start {allowance} per {period}. Try again in {wait}.",
    "media_requests": "You can make {allowance} per {period}. Try again in {wait}.",
}
# Limits in front of requests (guarding the service, not allowances anyone reads): fixed windows.
_GUARDS = frozenset({"api", "images"})
# What one hit counts, for the messages that state the allowance.
_UNITS = {"youtube": "download", "media_requests": "media request"}


@dataclass(frozen=True, slots=True)
class LimitState:
    """Where one key stands against one limit."""

    limit: int
    remaining: int
    retry_after: int
    """Whole seconds until one more hit is allowed; 0 when it is allowed now."""


class RateLimiter:
    def __init__(
        self, settings: Settings, metrics: Metrics, *, backend_retry_interval: float = 5.0
    ) -> None:
        self._metrics = metrics
        self._log = structlog.get_logger(__name__)
        self._retry_interval = backend_retry_interval
        self._items = {
            name: _parse(getattr(settings, f"rate_limit_{name}")) for name in get_args(LimitName)
        }
        self._pool: redis.asyncio.ConnectionPool | None = None
        # In memory, the guards count in `WindowCounters`, apart from the moving windows (sign-ins
        # of the last 15 minutes), which limits' memory storage sweeps after every hit.
        self._memories: list[MemoryStorage] = []
        self._fallback: Limiters | None = None
        if settings.redis_url is None:
            self._limiters = self._in_memory()
        else:
            # The pool is built by redis-py from the configured URL (so every URL form it accepts
            # works, credentials included) and owned here, because limits never closes its client.
            self._pool = redis.asyncio.ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=_SOCKET_TIMEOUT,
                socket_connect_timeout=_SOCKET_TIMEOUT,
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=f"{settings.redis_prefix}:rl",
                **options,
            )
            self._limiters = _limiters(storage, storage)
            self._fallback = self._in_memory()
        self._down = False
        self._next_attempt = 0.0

    def _in_memory(self) -> Limiters:
        moving = MemoryStorage()
        self._memories.append(moving)
        return _limiters(moving, WindowCounters())

    @property
    def backend_available(self) -> bool:
        """False while Redis is failing and each process counts on its own."""
        return not self._down

    async def start(self) -> None:
        """Check the backend once so an unreachable Redis is reported at start-up, not later."""
        if self._pool is not None:
            client = redis.asyncio.Redis(connection_pool=self._pool)
            try:
                await client.ping()
            except _BACKEND_ERRORS as exc:
                self._went_down(exc)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        for memory in self._memories:
            timer = memory.timer
            if timer is not None and not timer.done():
                timer.cancel()
                with suppress(asyncio.CancelledError):
                    await timer

    async def hit(self, limit: LimitName, key: str, *, cost: int = 1) -> None:
        """Consume `cost` from `key`'s allowance under `limit`.

        Raises `RateLimited` (nothing consumed) when the allowance is spent.
        """
        item = self._item(limit, cost)
        if self._fallback is None:  # in memory: nothing to fall back from (every request)
            allowed = await self._limiters[limit].hit(item, limit, key, cost=cost)
        else:
            allowed = await self._guard(lambda ls: ls[limit].hit(item, limit, key, cost=cost))
        if not allowed:
            await self._refuse(limit, key)

    async def check(self, limit: LimitName, key: str, *, cost: int = 1) -> None:
        """Raise `RateLimited` if `hit` would be refused now, without consuming anything."""
        if not await self.test(limit, key, cost=cost):
            await self._refuse(limit, key)

    async def test(self, limit: LimitName, key: str, *, cost: int = 1) -> bool:
        """Whether a hit of `cost` would be allowed now; consumes nothing."""
        item = self._item(limit, cost)
        return await self._guard(lambda limiters: limiters[limit].test(item, limit, key, cost=cost))

    async def remaining(self, limit: LimitName, key: str) -> LimitState:
        item = self._items[limit]
        stats = await self._guard(
            lambda limiters: limiters[limit].get_window_stats(item, limit, key)
        )
        remaining = max(0, stats.remaining)
        retry_after = 0 if remaining > 0 else max(1, math.ceil(stats.reset_time - time.time()))
        return LimitState(limit=item.amount, remaining=remaining, retry_after=retry_after)

    async def clear(self, limit: LimitName, key: str) -> None:
        """Forget every hit `key` made under `limit` (e.g. failed sign-ins after a success)."""
        item = self._items[limit]
        await self._guard(lambda limiters: limiters[limit].clear(item, limit, key))

    def _item(self, limit: LimitName, cost: int) -> limits.RateLimitItem:
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        return self._items[limit]

    async def _refuse(self, limit: LimitName, key: str) -> NoReturn:
        item = self._items[limit]
        state = await self.remaining(limit, key)
        # The window can free up between the refusal and this read, or Redis can fail in
        # between; a client is still never told to retry sooner than a second from now.
        retry_after = state.retry_after or 1
        self._metrics.rate_limited.labels(limit=limit).inc()
        message = _MESSAGES[limit].format(
            allowance=_count(item.amount, _UNITS.get(limit, "request")),
            period=_period(item),
            wait=_wait(retry_after),
        )
        raise RateLimited(message, retry_after=retry_after)

    async def _guard(self, operation: Callable[[Limiters], Awaitable[T]]) -> T:
        """Run `operation` on the configured backend, or in memory while Redis is down."""
        if self._fallback is None:
            return await operation(self._limiters)
        if self._down and time.monotonic() < self._next_attempt:
            return await operation(self._fallback)
        try:
            result = await operation(self._limiters)
        except _BACKEND_ERRORS as exc:
            self._went_down(exc)
            return await operation(self._fallback)
        if self._down:
            self._down = False
            self._log.info("ratelimit.backend_recovered")
        return result

    def _went_down(self, exc: BaseException) -> None:
        self._next_attempt = time.monotonic() + self._retry_interval
        if not self._down:
            self._down = True
            self._log.warning(
                "ratelimit.backend_down",
                error=str(exc) or type(exc).__name__,
                fallback="in-process limits",
            )


class WindowCounters(Storage):
    """Fixed-window counters in this process's memory, for the guards checked on every request.

    limits' own memory storage starts a task after every hit that walks every key it holds (each
    client of the last minute), so a request cost more the more people used the server; its
    synchronous twin starts a thread every 10 ms instead, which on a busy machine holds a request
    for milliseconds. The window logic stays limits' (`FixedWindowRateLimiter` drives this);
    only the store is ours: a dict read and written in place, expired keys dropped when met and
    swept at most every `SWEEP_EVERY` seconds, so memory stays bounded by the clients of one
    window.
    """

    STORAGE_SCHEME = ["medianest-counters"]
    SWEEP_EVERY = 30.0

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_sweep = time.time() + self.SWEEP_EVERY

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        if now >= self._next_sweep:
            self._sweep(now)
        count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + expiry
        count += amount
        self._counts[key] = (count, expires)
        return count

    async def get(self, key: str) -> int:
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        now = time.time()
        _, expires = self._counts.get(key, (0, now))
        return expires if expires > now else now

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self._counts)
        self._counts.clear()
        return count

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._next_sweep = now + self.SWEEP_EVERY


def _limiters(moving_storage: Storage, fixed_storage: Storage) -> Limiters:
    # The general API and image limits sit in front of requests and guard the service, not
    # allowances anyone reads: a fixed window (one counter per key) does. The others (sign-in
    # lockouts, downloads and requests per hour) are allowances people are told about, so
    # they keep the moving window's exact "wait until" (it keeps one entry per allowed hit).
    moving = strategies.MovingWindowRateLimiter(moving_storage)
    fixed = strategies.FixedWindowRateLimiter(fixed_storage)
    return {name: fixed if name in _GUARDS else moving for name in get_args(LimitName)}


def _parse(value: str) -> limits.RateLimitItem:
    parsed = limits.parse(value)
    # A namespace of our own keeps these keys apart from any other user of limits on the store.
    return type(parsed)(parsed.amount, parsed.multiples, namespace="medianest")


def _period(item: limits.RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else _count(item.multiples, unit)


def _count(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def _wait(seconds: int) -> str:
    if seconds < 60:
        return _count(seconds, "second")
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return _count(minutes, "minute")
    return _count(math.ceil(seconds / 3600), "hour")
