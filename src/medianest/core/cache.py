"""The cache: in-process by default, shared in Redis when Redis is configured.

Values are JSON data (dicts, lists, strings, numbers, booleans, None); dump pydantic models first
(`model.model_dump(mode="json")`). Anything else raises `TypeError` at `set`, on both backends.

The cache only ever makes things faster: when Redis is unreachable every call still answers, as
if the cache were empty, and the cache comes back by itself when Redis does.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import orjson
from pydantic import TypeAdapter

from medianest.config import Settings
from medianest.core.cache_backends import CacheBackend, MemoryBackend, RedisBackend
from medianest.core.metrics import Metrics

T = TypeVar("T")

# Validated values kept by `get_or_set_typed`, the least recently used dropped first.
TYPED_VALUES_KEPT = 512

DEFAULT_TTL = 3600.0
"""Seconds a value lives when `set` is given no ttl, on both backends."""


@dataclass(frozen=True, slots=True)
class CacheInfo:
    backend: Literal["memory", "redis"]
    healthy: bool
    hits: int
    misses: int
    keys: int
    memory: int
    """Approximate bytes used by the cached values (and their keys)."""


class CacheService:
    def __init__(self, backend: CacheBackend, metrics: Metrics) -> None:
        self._backend = backend
        # Label children looked up once: `labels()` costs more than the increment.
        self._counters = {r: metrics.cache_operations.labels(result=r) for r in ("hit", "miss")}
        self._hits = 0
        self._misses = 0
        self._loading: dict[str, asyncio.Task[Any]] = {}
        # get_typed(): per key, the bytes last read and the value validated from them.
        self._typed: OrderedDict[str, tuple[bytes, TypeAdapter[Any], Any]] = OrderedDict()

    async def get(self, key: str) -> Any | None:
        """The cached value, or None on a miss (use `get_or_set` to tell a cached None apart)."""
        _, value = await self._lookup(key)
        return value

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store `value` for `ttl` seconds (`DEFAULT_TTL` when None).

        Raises `TypeError` when `value` is not JSON data, `ValueError` when `ttl` is not positive.
        """
        data = _encode(value)
        await self._backend.set(key, data, _seconds(ttl))

    async def delete(self, key: str) -> None:
        await self._backend.delete(key)

    async def get_or_set(
        self, key: str, fetcher: Callable[[], Awaitable[T]], ttl: float | None = None
    ) -> T:
        """The cached value, or what `fetcher` returns, stored for next time.

        Concurrent calls for one key share a single lookup and a single `fetcher` run; a caller
        served that way counts as a hit. If `fetcher` raises, every waiting caller gets the
        exception and nothing is cached. Cancelling one caller does not cancel the shared fetch.
        """
        _seconds(ttl)  # a bad ttl is refused before the fetcher runs, not after
        # A hit is answered in place: a task per lookup would cost an event-loop turn on every
        # request that reads the session snapshot.
        data = await self._backend.get(key)
        if data is not None:
            self._count("hit")
            return cast(T, orjson.loads(data))
        task = self._loading.get(key)
        if task is None:
            self._count("miss")
            task = asyncio.create_task(self._load(key, fetcher, ttl))
            self._loading[key] = task
            task.add_done_callback(functools.partial(self._loaded, key))
        else:
            self._count("hit")
        return cast(T, await asyncio.shield(task))

    async def get_or_set_typed(
        self,
        key: str,
        fetcher: Callable[[], Awaitable[Any]],
        adapter: TypeAdapter[T],
        ttl: float | None = None,
    ) -> T:
        """`get_or_set`, the value read through `adapter` (`fetcher` returns JSON data).

        A page of fifty library items costs more to validate than everything else a cached
        request does, so the value validated from a key's bytes is kept in this process and
        handed out again while the backend returns those same bytes (also from Redis, where
        another process may have replaced them). Callers must treat the value as read-only.
        """
        data = await self._backend.get(key)
        if data is None:
            loaded = await self.get_or_set(key, fetcher, ttl)
            data = await self._backend.get(key)
            if data is None:  # gone already (the backend is down, or a very short ttl)
                return adapter.validate_python(loaded)
        else:
            self._count("hit")
        held = self._typed.get(key)
        if held is not None and held[1] is adapter and held[0] == data:
            self._typed.move_to_end(key)
            return cast(T, held[2])
        value = adapter.validate_json(data)
        self._typed[key] = (data, adapter, value)
        if len(self._typed) > TYPED_VALUES_KEPT:
            self._typed.popitem(last=False)
        return value

    async def invalidate_pattern(self, pattern: str) -> int:
        """Remove every key matching the glob `pattern` (`*`, `?`, `[abc]`, `[^abc]`).

        Returns how many keys were removed.
        """
        return await self._backend.delete_matching(pattern)

    async def get_info(self) -> CacheInfo:
        """Counts since this service started; keys and memory are read from the backend."""
        keys, memory = await self._backend.stats()
        return CacheInfo(
            backend=self._backend.name,
            healthy=self._backend.healthy,
            hits=self._hits,
            misses=self._misses,
            keys=keys,
            memory=memory,
        )

    async def close(self) -> None:
        for task in list(self._loading.values()):
            task.cancel()
        await asyncio.gather(*self._loading.values(), return_exceptions=True)
        await self._backend.close()

    async def _lookup(self, key: str) -> tuple[bool, Any]:
        data = await self._backend.get(key)
        if data is None:
            self._count("miss")
            return False, None
        self._count("hit")
        return True, orjson.loads(data)

    async def _load(self, key: str, fetcher: Callable[[], Awaitable[T]], ttl: float | None) -> T:
        # Looked up again: another process (or a load that just ended here) may have filled the
        # key since the caller's miss, and a shared backend is cheaper than the fetcher.
        data = await self._backend.get(key)
        if data is not None:
            return cast(T, orjson.loads(data))
        fetched = await fetcher()
        await self.set(key, fetched, ttl)
        return fetched

    def _loaded(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]

    def _count(self, result: Literal["hit", "miss"]) -> None:
        if result == "hit":
            self._hits += 1
        else:
            self._misses += 1
        self._counters[result].inc()


# orjson: the session snapshot is decoded on every request, several times faster than with `json`.
# Dates and dataclasses are refused (as `json` would) rather than read back as strings.
_ENCODE_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | (orjson.OPT_PASSTHROUGH_DATACLASS)
)


def _encode(value: Any) -> bytes:
    return orjson.dumps(value, option=_ENCODE_OPTIONS)


def _seconds(ttl: float | None) -> float:
    if ttl is None:
        return DEFAULT_TTL
    if ttl <= 0:
        raise ValueError("ttl must be a positive number of seconds")
    return ttl


def create_cache(settings: Settings, metrics: Metrics) -> CacheService:
    """An in-process cache, or a Redis one when `settings.redis_url` is set."""
    backend: CacheBackend
    if settings.redis_url is None:
        backend = MemoryBackend(settings.cache_max_entries)
    else:
        backend = RedisBackend(settings.redis_url, settings.redis_prefix, metrics)
    return CacheService(backend, metrics)
