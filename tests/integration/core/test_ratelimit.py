from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from structlog.testing import capture_logs

from medianest.core.errors import RateLimited
from medianest.core.metrics import Metrics
from medianest.core.ratelimit import LimitState, RateLimiter
from tests.conftest import SettingsFactory
from tests.support.server import free_port

LimiterFactory = Callable[..., Awaitable[RateLimiter]]


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings that select the backend; the Redis variant gets a key prefix of this test's own."""
    if request.param == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
    }


@pytest.fixture
async def make_limiter(
    make_settings: SettingsFactory, backend: dict[str, object]
) -> AsyncIterator[LimiterFactory]:
    limiters: list[RateLimiter] = []

    async def make(metrics: Metrics | None = None, **overrides: object) -> RateLimiter:
        limiter = RateLimiter(make_settings(**{**backend, **overrides}), metrics or Metrics())
        await limiter.start()
        limiters.append(limiter)
        return limiter

    yield make
    for limiter in limiters:
        await limiter.close()


async def _hits(limiter: RateLimiter, count: int, key: str = "client") -> None:
    for _ in range(count):
        await limiter.hit("api", key)


class TestHit:
    async def test_allows_the_limit_then_refuses_with_retry_after(
        self, make_limiter: LimiterFactory
    ) -> None:
        limiter = await make_limiter(rate_limit_api="100/minute")
        await _hits(limiter, 100)

        with pytest.raises(RateLimited) as refused:
            await limiter.hit("api", "client")

        assert refused.value.status == 429
        assert refused.value.code == "RATE_LIMITED"
        assert refused.value.retry_after is not None
        assert 1 <= refused.value.retry_after <= 60
        assert refused.value.message == "Too many requests. Wait 1 minute and try again."

    async def test_keys_are_counted_separately(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_api="3/minute")
        await _hits(limiter, 3, key="alice")

        await _hits(limiter, 3, key="bob")
        with pytest.raises(RateLimited):
            await limiter.hit("api", "alice")

    async def test_limits_are_counted_separately(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_api="1/minute", rate_limit_login="1/minute")
        await limiter.hit("api", "same-key")

        await limiter.hit("login", "same-key")

    async def test_configured_limit_is_honoured(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_youtube="2/hour")
        await limiter.hit("youtube", "user-1")
        await limiter.hit("youtube", "user-1")

        with pytest.raises(RateLimited) as refused:
            await limiter.hit("youtube", "user-1")

        assert refused.value.retry_after is not None
        assert 3590 <= refused.value.retry_after <= 3600
        assert refused.value.message == (
            "You can start 2 downloads per hour. Try again in 60 minutes."
        )

    async def test_login_refusal_says_how_long_to_wait(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_login="2/15 minutes")
        await limiter.hit("login", "alice")
        await limiter.hit("login", "alice")

        with pytest.raises(RateLimited) as refused:
            await limiter.hit("login", "alice")

        assert refused.value.message == "Too many sign-in attempts. Wait 15 minutes and try again."

    @pytest.mark.parametrize(
        ("configured", "message"),
        [
            ("1/hour", "You can make 1 media request per hour. Try again in 60 minutes."),
            ("3/2 hours", "You can make 3 media requests per 2 hours. Try again in 2 hours."),
            (
                "1/30 seconds",
                "You can make 1 media request per 30 seconds. Try again in 30 seconds.",
            ),
        ],
    )
    async def test_message_states_the_allowance_and_the_wait(
        self, make_limiter: LimiterFactory, configured: str, message: str
    ) -> None:
        limiter = await make_limiter(rate_limit_media_requests=configured)
        amount = int(configured.split("/")[0])
        for _ in range(amount):
            await limiter.hit("media_requests", "user-1")

        with pytest.raises(RateLimited) as refused:
            await limiter.hit("media_requests", "user-1")

        assert refused.value.message == message

    async def test_cost_consumes_several_slots(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_media_requests="5/hour")
        await limiter.hit("media_requests", "user-1", cost=4)

        with pytest.raises(RateLimited) as refused:
            await limiter.hit("media_requests", "user-1", cost=2)

        assert refused.value.message.startswith("You can make 5 media requests per hour.")
        await limiter.hit("media_requests", "user-1")

    async def test_refusals_are_counted_in_metrics(self, make_limiter: LimiterFactory) -> None:
        metrics = Metrics()
        limiter = await make_limiter(metrics, rate_limit_youtube="1/hour")
        await limiter.hit("youtube", "user-1")

        for _ in range(3):
            with pytest.raises(RateLimited):
                await limiter.hit("youtube", "user-1")

        sample = metrics.registry.get_sample_value
        assert sample("medianest_rate_limited_total", {"limit": "youtube"}) == 3
        assert sample("medianest_rate_limited_total", {"limit": "api"}) is None

    async def test_concurrent_hits_never_exceed_the_limit(
        self, make_limiter: LimiterFactory
    ) -> None:
        limiter = await make_limiter(rate_limit_api="10/minute")

        results = await asyncio.gather(
            *(limiter.hit("api", "burst") for _ in range(30)), return_exceptions=True
        )

        assert sum(r is None for r in results) == 10
        assert sum(isinstance(r, RateLimited) for r in results) == 20


class TestCheckWithoutConsuming:
    async def test_check_and_test_consume_nothing(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_login="2/15 minutes")
        for _ in range(5):
            await limiter.check("login", "alice")
            assert await limiter.test("login", "alice")

        assert await limiter.remaining("login", "alice") == LimitState(2, 2, 0)

    async def test_check_refuses_once_failures_are_spent(
        self, make_limiter: LimiterFactory
    ) -> None:
        metrics = Metrics()
        limiter = await make_limiter(metrics, rate_limit_login="2/15 minutes")
        await limiter.hit("login", "alice")
        await limiter.hit("login", "alice")

        assert not await limiter.test("login", "alice")
        with pytest.raises(RateLimited) as refused:
            await limiter.check("login", "alice")

        assert refused.value.retry_after is not None
        assert 890 <= refused.value.retry_after <= 900
        assert (
            metrics.registry.get_sample_value("medianest_rate_limited_total", {"limit": "login"})
            == 1
        )

    async def test_remaining_counts_down(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_youtube="3/hour")
        await limiter.hit("youtube", "user-1")
        await limiter.hit("youtube", "user-1")

        assert await limiter.remaining("youtube", "user-1") == LimitState(3, 1, 0)
        await limiter.hit("youtube", "user-1")
        state = await limiter.remaining("youtube", "user-1")
        assert (state.limit, state.remaining) == (3, 0)
        assert 3590 <= state.retry_after <= 3600

    async def test_test_takes_the_cost_into_account(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_media_requests="3/hour")
        await limiter.hit("media_requests", "user-1", cost=2)

        assert await limiter.test("media_requests", "user-1")
        assert not await limiter.test("media_requests", "user-1", cost=2)


class TestClear:
    async def test_clear_gives_the_full_allowance_back(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_login="2/15 minutes")
        await limiter.hit("login", "alice")
        await limiter.hit("login", "alice")

        await limiter.clear("login", "alice")

        await limiter.hit("login", "alice")
        await limiter.hit("login", "alice")

    async def test_clear_touches_only_that_key(self, make_limiter: LimiterFactory) -> None:
        limiter = await make_limiter(rate_limit_login="1/15 minutes")
        await limiter.hit("login", "alice")
        await limiter.hit("login", "bob")

        await limiter.clear("login", "alice")

        await limiter.hit("login", "alice")
        with pytest.raises(RateLimited):
            await limiter.hit("login", "bob")


class TestSharing:
    async def test_instances_share_counters_only_through_redis(
        self, make_limiter: LimiterFactory, backend: dict[str, object]
    ) -> None:
        first = await make_limiter(rate_limit_api="1/minute")
        second = await make_limiter(rate_limit_api="1/minute")
        await first.hit("api", "client")

        if backend:
            with pytest.raises(RateLimited):
                await second.hit("api", "client")
        else:
            await second.hit("api", "client")

    async def test_installs_with_different_prefixes_do_not_share(
        self,
        make_settings: SettingsFactory,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        limiters = [
            RateLimiter(
                make_settings(
                    redis_url=redis_url, redis_prefix=f"{redis_prefix}-{n}", rate_limit_api="1/hour"
                ),
                Metrics(),
            )
            for n in range(2)
        ]
        try:
            for limiter in limiters:
                await limiter.hit("api", "client")
        finally:
            for limiter in limiters:
                await limiter.close()


class TcpProxy:
    """Forwards a local port to Redis; `stop()` drops every connection, as a dying Redis would."""

    def __init__(self, target_url: str) -> None:
        target = urllib.parse.urlsplit(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 6379)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}{target.path}"
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
            self._writers.add(upstream_writer)
            # Either side closing ends both pipes: each aborts the connection it writes to.
            await asyncio.gather(
                self._pipe(reader, upstream_writer),
                self._pipe(upstream_reader, writer),
                return_exceptions=True,
            )
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
            self._handlers.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(redis_url)
    await proxy.start()
    yield proxy
    await proxy.stop()


def _events(logs: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [entry for entry in logs if entry["event"] == name]


class TestRedisOutage:
    async def test_unreachable_redis_still_limits_in_process_and_warns_once(
        self, make_settings: SettingsFactory, redis_prefix: str
    ) -> None:
        settings = make_settings(
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            redis_prefix=redis_prefix,
            rate_limit_login="3/15 minutes",
        )
        limiter = RateLimiter(settings, Metrics(), backend_retry_interval=0)
        with capture_logs() as logs:
            await limiter.start()
            for _ in range(3):
                await limiter.hit("login", "account:target")
            with pytest.raises(RateLimited) as refused:
                await limiter.hit("login", "account:target")
            await limiter.hit("login", "account:someone-else")
            spent = await limiter.remaining("login", "account:target")
            await limiter.clear("login", "account:target")
            cleared = await limiter.remaining("login", "account:target")
        await limiter.close()

        assert refused.value.retry_after is not None and refused.value.retry_after > 60
        assert spent.remaining == 0
        assert cleared == LimitState(3, 3, 0)
        assert not limiter.backend_available
        down = _events(logs, "ratelimit.backend_down")
        assert len(down) == 1
        assert down[0]["log_level"] == "warning"
        assert _events(logs, "ratelimit.backend_recovered") == []

    async def test_limits_come_back_when_redis_does(
        self, make_settings: SettingsFactory, redis_prefix: str, proxy: TcpProxy
    ) -> None:
        settings = make_settings(
            redis_url=proxy.url, redis_prefix=redis_prefix, rate_limit_api="1/minute"
        )
        limiter = RateLimiter(settings, Metrics(), backend_retry_interval=0)
        try:
            with capture_logs() as logs:
                await limiter.start()
                await limiter.hit("api", "client")

                await proxy.stop()
                # Redis's counter is out of reach: this process counts from zero on its own.
                await limiter.hit("api", "client")
                with pytest.raises(RateLimited):
                    await limiter.hit("api", "client")
                assert not limiter.backend_available

                await proxy.start()
                with pytest.raises(RateLimited):
                    await limiter.hit("api", "client")
                await limiter.hit("api", "other-client")
        finally:
            await limiter.close()

        assert limiter.backend_available
        assert len(_events(logs, "ratelimit.backend_down")) == 1
        assert len(_events(logs, "ratelimit.backend_recovered")) == 1

    async def test_backend_is_not_asked_again_before_the_retry_interval(
        self, make_settings: SettingsFactory, redis_prefix: str, proxy: TcpProxy
    ) -> None:
        settings = make_settings(
            redis_url=proxy.url, redis_prefix=redis_prefix, rate_limit_api="1/minute"
        )
        limiter = RateLimiter(settings, Metrics(), backend_retry_interval=60)
        try:
            await proxy.stop()
            with capture_logs():
                await limiter.hit("api", "client")
            await proxy.start()

            # Redis is back (with no hit of this client's), but the limiter keeps counting in
            # process until the interval has passed.
            with pytest.raises(RateLimited):
                await limiter.hit("api", "client")
            assert not limiter.backend_available
        finally:
            await limiter.close()


@pytest.mark.parametrize("cost", [0, -1])
async def test_cost_below_one_is_a_programming_error(
    make_limiter: LimiterFactory, cost: int
) -> None:
    limiter = await make_limiter()
    with pytest.raises(ValueError, match="cost"):
        await limiter.hit("api", "client", cost=cost)


async def test_unknown_limit_name_is_a_programming_error(make_limiter: LimiterFactory) -> None:
    limiter = await make_limiter()
    with pytest.raises(KeyError):
        await limiter.hit("uploads", "client")  # type: ignore[arg-type]
