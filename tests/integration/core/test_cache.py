"""The cache, on both backends: values, expiry, single-flight loads, invalidation, Redis outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter
from structlog.testing import capture_logs

from medianest.config import Settings
from medianest.core.cache import CacheService, create_cache
from medianest.core.metrics import Metrics
from tests.conftest import SettingsFactory
from tests.support.tcp_proxy import TcpProxy, tcp_proxy


@pytest.fixture(params=["memory", "redis"])
def cache_settings(
    request: pytest.FixtureRequest,
    make_settings: SettingsFactory,
    redis_url: str,
    redis_prefix: str,
) -> Settings:
    if request.param == "memory":
        return make_settings()
    return make_settings(redis_url=redis_url, redis_prefix=redis_prefix)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def cache(cache_settings: Settings, metrics: Metrics) -> AsyncIterator[CacheService]:
    service = create_cache(cache_settings, metrics)
    yield service
    await service.close()


class Fetcher:
    """An upstream call that counts its runs; with `gate` set it waits for the test to open it."""

    def __init__(self, result: Any = None, *, error: Exception | None = None) -> None:
        self.result = {"title": "Dune", "year": 2021} if result is None else result
        self.error = error
        self.calls = 0
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> Any:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.result


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


class TestGetSetDelete:
    async def test_a_stored_value_is_returned_until_deleted(self, cache: CacheService) -> None:
        await cache.set("user:1", {"name": "ada", "roles": ["admin"]})
        assert await cache.get("user:1") == {"name": "ada", "roles": ["admin"]}

        await cache.delete("user:1")

        assert await cache.get("user:1") is None

    async def test_json_values_come_back_equal(self, cache: CacheService) -> None:
        values: list[Any] = ["text", 42, 2.5, True, [1, "two", None], {"nested": {"a": [1, 2]}}]
        for index, value in enumerate(values):
            await cache.set(f"value:{index}", value)
        assert [await cache.get(f"value:{i}") for i in range(len(values))] == values

    async def test_setting_again_replaces_the_value(self, cache: CacheService) -> None:
        await cache.set("status", "up")
        await cache.set("status", "down")
        assert await cache.get("status") == "down"

    async def test_a_value_that_is_not_json_is_refused(self, cache: CacheService) -> None:
        class Movie(BaseModel):
            title: str

        with pytest.raises(TypeError):
            await cache.set("movie", Movie(title="Dune"))
        await cache.set("movie", Movie(title="Dune").model_dump(mode="json"))
        assert await cache.get("movie") == {"title": "Dune"}


class TestExpiry:
    async def test_a_value_is_gone_after_its_ttl(self, cache: CacheService) -> None:
        await cache.set("short", "lived", ttl=0.2)
        await cache.set("default", "lived")
        assert await cache.get("short") == "lived"

        await asyncio.sleep(0.3)

        assert await cache.get("short") is None
        assert await cache.get("default") == "lived"

    async def test_a_ttl_that_is_not_positive_is_refused(self, cache: CacheService) -> None:
        fetcher = Fetcher()
        with pytest.raises(ValueError, match="ttl"):
            await cache.set("key", 1, ttl=0)
        with pytest.raises(ValueError, match="ttl"):
            await cache.get_or_set("key", fetcher, ttl=-1)
        assert fetcher.calls == 0


class TestSizeBound:
    async def test_the_least_recently_used_key_is_evicted_past_the_bound(
        self, make_settings: SettingsFactory
    ) -> None:
        cache = create_cache(make_settings(cache_max_entries=10), Metrics())
        for index in range(10):
            await cache.set(f"key:{index}", index)
        assert await cache.get("key:0") == 0  # now the most recently used

        await cache.set("key:10", 10)

        assert await cache.get("key:1") is None
        assert await cache.get("key:0") == 0
        assert await cache.get("key:10") == 10
        assert (await cache.get_info()).keys == 10
        await cache.close()


class TestGetOrSet:
    async def test_a_miss_fetches_and_the_next_call_is_served_from_cache(
        self, cache: CacheService
    ) -> None:
        fetcher = Fetcher()
        assert await cache.get_or_set("movie:1", fetcher) == fetcher.result
        assert await cache.get_or_set("movie:1", fetcher) == fetcher.result
        assert fetcher.calls == 1
        assert await cache.get("movie:1") == fetcher.result

    async def test_a_cached_none_is_not_fetched_again(self, cache: CacheService) -> None:
        calls = 0

        async def nothing() -> dict[str, Any] | None:
            nonlocal calls
            calls += 1
            return None

        assert await cache.get_or_set("missing:1", nothing) is None
        assert await cache.get_or_set("missing:1", nothing) is None
        assert calls == 1

    async def test_concurrent_misses_run_the_fetcher_once(self, cache: CacheService) -> None:
        fetcher = Fetcher()
        fetcher.gate = asyncio.Event()
        calls = asyncio.gather(*(cache.get_or_set("popular", fetcher) for _ in range(20)))
        await fetcher.started.wait()
        fetcher.gate.set()

        results = await calls

        assert results == [fetcher.result] * 20
        assert fetcher.calls == 1
        info = await cache.get_info()
        assert (info.hits, info.misses) == (19, 1)

    async def test_a_failing_fetch_reaches_every_waiter_and_is_not_cached(
        self, cache: CacheService
    ) -> None:
        failure = RuntimeError("Plex is down")
        failing = Fetcher(error=failure)
        failing.gate = asyncio.Event()
        calls = asyncio.gather(
            *(cache.get_or_set("library", failing) for _ in range(20)), return_exceptions=True
        )
        await failing.started.wait()
        # Only once every caller waits on the one fetch (each counted, as a miss or a hit) does
        # it fail: on a loaded machine a caller's first lookup in Redis can take longer.
        async with asyncio.timeout(10):
            while (info := await cache.get_info()).hits + info.misses < 20:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        failing.gate.set()

        assert await calls == [failure] * 20
        assert failing.calls == 1
        assert await cache.get("library") is None
        working = Fetcher(["movie"])
        assert await cache.get_or_set("library", working) == ["movie"]
        assert working.calls == 1

    async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch(
        self, cache: CacheService
    ) -> None:
        fetcher = Fetcher()
        fetcher.gate = asyncio.Event()
        impatient = asyncio.create_task(cache.get_or_set("slow", fetcher))
        patient = asyncio.create_task(cache.get_or_set("slow", fetcher))
        await fetcher.started.wait()

        impatient.cancel()
        fetcher.gate.set()

        assert await patient == fetcher.result
        assert impatient.cancelled()
        assert await cache.get("slow") == fetcher.result
        assert fetcher.calls == 1


class TestGetOrSetTyped:
    class Poster(BaseModel):
        title: str
        year: int

    async def test_a_hit_with_unchanged_bytes_is_not_validated_again(
        self, cache: CacheService
    ) -> None:
        adapter = TypeAdapter(list[self.Poster])
        fetcher = Fetcher([{"title": "Alien", "year": 1979}])

        first = await cache.get_or_set_typed("posters", fetcher, adapter, ttl=60)
        second = await cache.get_or_set_typed("posters", fetcher, adapter, ttl=60)

        assert first == [self.Poster(title="Alien", year=1979)]
        assert second is first
        assert fetcher.calls == 1

    async def test_changed_bytes_are_read_again(self, cache: CacheService) -> None:
        adapter = TypeAdapter(list[self.Poster])
        fetcher = Fetcher([{"title": "Alien", "year": 1979}])
        await cache.get_or_set_typed("posters", fetcher, adapter, ttl=60)

        # Another process (or a refresh) replaces the value behind this one's back.
        await cache.set("posters", [{"title": "Aliens", "year": 1986}], ttl=60)
        again = await cache.get_or_set_typed("posters", fetcher, adapter, ttl=60)

        assert again == [self.Poster(title="Aliens", year=1986)]
        assert fetcher.calls == 1


class TestInvalidatePattern:
    async def test_only_matching_keys_are_removed(self, cache: CacheService) -> None:
        keys = ["plex:user:42:a", "plex:user:42:b", "plex:user:420:a", "plex:user:4:a", "other"]
        for key in keys:
            await cache.set(key, key)

        assert await cache.invalidate_pattern("plex:user:42:*") == 2

        assert [await cache.get(key) for key in keys] == [None, None, *keys[2:]]

    async def test_character_classes_match_as_in_redis(self, cache: CacheService) -> None:
        for key in ["status:a", "status:b", "status:c"]:
            await cache.set(key, 1)
        assert await cache.invalidate_pattern("status:[^a]") == 2
        assert await cache.get("status:a") == 1

    async def test_thousands_of_keys_are_removed(self, cache: CacheService) -> None:
        # One write at a time: fifty at once open fifty Redis connections, and on a loaded
        # machine one of them can take longer than the cache waits, which leaves keys unwritten.
        for i in range(2500):
            await cache.set(f"library:item:{i}", i)
        await cache.set("library-index", "kept")

        assert await cache.invalidate_pattern("library:item:*") == 2500

        assert await cache.get("library:item:1234") is None
        assert await cache.get("library-index") == "kept"
        assert (await cache.get_info()).keys == 1


class TestGetInfo:
    async def test_reports_hits_misses_keys_and_memory(
        self, cache: CacheService, cache_settings: Settings, metrics: Metrics
    ) -> None:
        empty = await cache.get_info()
        assert (empty.hits, empty.misses, empty.keys, empty.memory) == (0, 0, 0, 0)
        for key in ("a", "b", "c"):
            await cache.set(key, {"value": key})
        await cache.get("a")
        await cache.get("b")
        await cache.get("nope")
        small = await cache.get_info()
        await cache.set("big", "x" * 50_000)

        info = await cache.get_info()

        assert info.backend == ("redis" if cache_settings.redis_url else "memory")
        assert info.healthy
        assert (info.hits, info.misses, info.keys) == (2, 1, 4)
        assert small.memory > 0
        assert info.memory >= small.memory + 50_000
        ops = "medianest_cache_operations_total"
        assert sample(metrics, ops, result="hit") == 2
        assert sample(metrics, ops, result="miss") == 1


class TestIsolation:
    async def test_two_services_share_nothing(
        self, cache_settings: Settings, redis_prefix: str
    ) -> None:
        other_settings = cache_settings.model_copy(update={"redis_prefix": f"{redis_prefix}-b"})
        first = create_cache(cache_settings, Metrics())
        second = create_cache(other_settings, Metrics())
        await first.set("user:1", "first")
        first_fetch, second_fetch = Fetcher("first"), Fetcher("second")

        assert await second.get("user:1") is None
        assert await second.get_or_set("user:2", second_fetch) == "second"
        assert await first.get_or_set("user:2", first_fetch) == "first"
        assert await second.invalidate_pattern("*") == 1
        assert await first.get("user:1") == "first"
        assert (await first.get_info()).keys == 2
        assert (await second.get_info()).misses == 2
        assert (first_fetch.calls, second_fetch.calls) == (1, 1)
        await first.close()
        await second.close()

    async def test_redis_caches_with_one_prefix_share_values(
        self, make_settings: SettingsFactory, redis_url: str, redis_prefix: str
    ) -> None:
        settings = make_settings(redis_url=redis_url, redis_prefix=redis_prefix)
        web_1, web_2 = create_cache(settings, Metrics()), create_cache(settings, Metrics())
        fetcher = Fetcher()

        await web_1.get_or_set("movie:1", fetcher)
        assert await web_2.get_or_set("movie:1", fetcher) == fetcher.result
        assert fetcher.calls == 1
        await web_2.invalidate_pattern("movie:*")
        assert await web_1.get("movie:1") is None
        await web_1.close()
        await web_2.close()


Outage = Callable[[TcpProxy], Awaitable[None]]


async def _cut(proxy: TcpProxy) -> None:
    await proxy.cut()


async def _stall(proxy: TcpProxy) -> None:
    proxy.stall()


class TestRedisOutage:
    @pytest.mark.parametrize("outage", [_cut, _stall], ids=["refused", "unanswered"])
    async def test_calls_answer_uncached_during_an_outage_and_cache_again_after(
        self, outage: Outage, make_settings: SettingsFactory, redis_url: str, redis_prefix: str
    ) -> None:
        metrics = Metrics()
        fetcher = Fetcher()
        async with tcp_proxy(redis_url) as proxy:
            settings = make_settings(redis_url=proxy.url_for(redis_url), redis_prefix=redis_prefix)
            cache = create_cache(settings, metrics)
            with capture_logs() as logs:
                await cache.get_or_set("movie:1", fetcher)
                await cache.get_or_set("movie:1", fetcher)
                assert fetcher.calls == 1

                await outage(proxy)
                for _ in range(5):
                    started = time.monotonic()
                    assert await cache.get_or_set("movie:1", fetcher) == fetcher.result
                    # A sanity bound only: a dead Redis must not hold a request for long.
                    assert time.monotonic() - started < 1.0
                await cache.set("other", 1)
                await cache.delete("movie:1")
                assert await cache.invalidate_pattern("*") == 0
                down = await cache.get_info()

                assert fetcher.calls == 6
                assert not down.healthy
                assert sample(metrics, "medianest_cache_backend_errors_total") >= 10
                events = [e["event"] for e in logs]
                assert events.count("cache.backend_down") == 1
                assert "cache.backend_recovered" not in events

                await proxy.restore()
                await asyncio.wait_for(_cached_again(cache, fetcher), timeout=5)

                calls = fetcher.calls
                for _ in range(3):
                    assert await cache.get_or_set("movie:1", fetcher) == fetcher.result
                assert fetcher.calls == calls
                assert (await cache.get_info()).healthy
            events = [e["event"] for e in logs]
            assert events.count("cache.backend_down") == 1
            assert events.count("cache.backend_recovered") == 1
            await cache.close()


async def _cached_again(cache: CacheService, fetcher: Fetcher) -> None:
    """Return once a call is answered from Redis, polling through the cool-down after an outage."""
    while True:
        calls = fetcher.calls
        await cache.get_or_set("movie:1", fetcher)
        if fetcher.calls == calls:
            return
        await asyncio.sleep(0.1)
