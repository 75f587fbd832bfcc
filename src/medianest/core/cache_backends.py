"""Where `CacheService` keeps its bytes: a bounded in-process LRU, or Redis.

Backends store already-serialised values and never raise for an unreachable store: the Redis
backend answers as an empty cache while Redis is down (a miss, a no-op write) and tells the
operator once when that starts and once when it ends.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal, Protocol, TypeVar, cast

import structlog
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from medianest.core.metrics import Metrics

log = structlog.get_logger(__name__)

T = TypeVar("T")

# A request waits at most this long on a Redis that stopped answering, then goes on uncached.
REDIS_TIMEOUT = 0.5
# After a failure Redis is left alone this long (then one call probes it), so a dead Redis costs
# each request nothing rather than one timeout.
REDIS_COOL_DOWN = 1.5
_SCAN_COUNT = 500
_MAX_CONNECTIONS = 50
_CIRCUIT = "cache.redis"
# Everything Redis or the network can throw at us; anything else is a bug and propagates.
_BACKEND_FAILURES = (RedisError, OSError)


class CacheBackend(Protocol):
    name: Literal["memory", "redis"]

    @property
    def healthy(self) -> bool: ...

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, data: bytes, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_matching(self, pattern: str) -> int: ...

    async def stats(self) -> tuple[int, int]:
        """(live keys, approximate bytes used)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Entry:
    data: bytes
    expires_at: float


class MemoryBackend:
    """Per-key TTL and at most `max_entries` keys, evicting the least recently used.

    Memory is counted as the UTF-8 bytes of keys and serialised values, not Python's overhead.
    """

    name: Literal["memory", "redis"] = "memory"

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    @property
    def healthy(self) -> bool:
        return True

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.data

    async def set(self, key: str, data: bytes, ttl: float) -> None:
        self._drop(key)
        self._entries[key] = _Entry(data, time.monotonic() + ttl)
        self._bytes += len(key.encode()) + len(data)
        while len(self._entries) > self._max_entries:
            self._drop(next(iter(self._entries)))

    async def delete(self, key: str) -> None:
        self._drop(key)

    async def delete_matching(self, pattern: str) -> int:
        self._drop_expired()
        # Redis globs negate a class with [^...], fnmatch with [!...]; both backends must agree.
        glob = pattern.replace("[^", "[!")
        matching = [key for key in self._entries if fnmatchcase(key, glob)]
        for key in matching:
            self._drop(key)
        return len(matching)

    async def stats(self) -> tuple[int, int]:
        self._drop_expired()
        return len(self._entries), self._bytes

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(key.encode()) + len(entry.data)

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            self._drop(key)


def _not_a_backend_failure(exc: BaseException) -> bool:
    return not isinstance(exc, _BACKEND_FAILURES)


class RedisBackend:
    """Keys live under `<prefix>:cache:`, so several MediaNest processes share one cache.

    Size is bounded by Redis's own `maxmemory` policy, not `cache_max_entries`. Key counts come
    from SCAN and memory from the sum of `MEMORY USAGE` over those keys (pipelined per SCAN
    page), so `stats()` costs a walk of the cache's keys, never a blocking `KEYS`.
    """

    name: Literal["memory", "redis"] = "redis"

    def __init__(self, url: str, prefix: str, metrics: Metrics) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            # A burst of requests queues for a connection instead of failing at once; waiting
            # longer than a command may take means Redis is not keeping up.
            max_connections=_MAX_CONNECTIONS,
            timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            # redis-py retries ten times by default: that turns one outage into a long stall.
            retry=Retry(NoBackoff(), 0),
        )
        self._redis = Redis.from_pool(pool)
        self._prefix = f"{prefix}:cache:"
        self._metrics = metrics
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=1,
            default_ttl=REDIS_COOL_DOWN,
            # A cancelled request or a bug in our code says nothing about Redis's health.
            exclude=[(BaseException, _not_a_backend_failure)],
        )
        self._healthy = True

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def get(self, key: str) -> bytes | None:
        async def read() -> bytes | None:
            # Without decode_responses, redis-py hands back the stored bytes untouched.
            return cast("bytes | None", await self._redis.get(self._prefix + key))

        return await self._guard(read, None)

    async def set(self, key: str, data: bytes, ttl: float) -> None:
        async def write() -> None:
            await self._redis.set(self._prefix + key, data, px=max(1, round(ttl * 1000)))

        await self._guard(write, None)

    async def delete(self, key: str) -> None:
        async def remove() -> None:
            await self._redis.delete(self._prefix + key)

        await self._guard(remove, None)

    async def delete_matching(self, pattern: str) -> int:
        async def remove() -> int:
            removed = 0
            async for keys in self._scan(self._prefix + pattern):
                removed += int(await self._redis.unlink(*keys))
            return removed

        return await self._guard(remove, 0)

    async def stats(self) -> tuple[int, int]:
        async def measure() -> tuple[int, int]:
            count = size = 0
            async for keys in self._scan(self._prefix + "*"):
                pipe = self._redis.pipeline(transaction=False)
                for key in keys:
                    pipe.memory_usage(key)
                count += len(keys)
                size += sum(int(used or 0) for used in await pipe.execute())
            return count, size

        return await self._guard(measure, (0, 0))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _scan(self, match: str) -> AsyncIterator[list[bytes | str]]:
        """One list of keys per SCAN page."""
        cursor = 0
        while True:
            cursor, keys = await self._redis.scan(cursor, match=match, count=_SCAN_COUNT)
            if keys:
                yield keys
            if cursor == 0:
                return

    async def _guard(self, operation: Callable[[], Awaitable[T]], fallback: T) -> T:
        """Run `operation` on Redis, or answer `fallback` when Redis is failing or cooling down."""
        try:
            breaker = await self._breakers.get_breaker(_CIRCUIT)
            async with breaker:
                result = await operation()
        except OpenedState:
            self._degraded("circuit open")
            return fallback
        except _BACKEND_FAILURES as exc:
            self._degraded(f"{type(exc).__name__}: {exc}")
            return fallback
        if not self._healthy:
            self._healthy = True
            log.info("cache.backend_recovered", backend="redis")
        return result

    def _degraded(self, error: str) -> None:
        self._metrics.cache_backend_errors.inc()
        if self._healthy:
            self._healthy = False
            log.warning("cache.backend_down", backend="redis", error=error)
