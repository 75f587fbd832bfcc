"""The pub/sub bus, on both backends: delivery, channels, slow subscribers, Redis outages."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs
from structlog.typing import EventDict

from medianest.config import Settings
from medianest.core.bus import Bus, RedisBus, create_bus
from tests.conftest import SettingsFactory
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

Delivery = tuple[str, dict[str, Any]]


@pytest.fixture(params=["memory", "redis"])
def bus_settings(
    request: pytest.FixtureRequest,
    make_settings: SettingsFactory,
    redis_url: str,
    redis_prefix: str,
) -> Settings:
    if request.param == "memory":
        return make_settings()
    return make_settings(redis_url=redis_url, redis_prefix=redis_prefix)


@pytest.fixture
async def bus(bus_settings: Settings) -> AsyncIterator[Bus]:
    b = create_bus(bus_settings)
    await b.start()
    yield b
    await b.close()


@pytest.fixture
async def direct_bus(
    make_settings: SettingsFactory, redis_url: str, redis_prefix: str
) -> AsyncIterator[Bus]:
    """A Redis bus that does not go through the test's proxy, as another process would."""
    b = create_bus(make_settings(redis_url=redis_url, redis_prefix=redis_prefix))
    await b.start()
    yield b
    await b.close()


async def receive(subscription: AsyncIterator[Delivery]) -> Delivery:
    async with asyncio.timeout(5):
        return await anext(subscription)


class LogWatch:
    """A log processor that lets a test await a log event rather than poll for it."""

    def __init__(self) -> None:
        self._seen: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def __call__(self, _: object, __: str, event: EventDict) -> EventDict:
        self._seen[event["event"]].set()
        return event

    async def wait_for(self, event: str) -> None:
        async with asyncio.timeout(5):
            await self._seen[event].wait()


def count(logs: list[EventDict], event: str) -> int:
    return sum(1 for entry in logs if entry["event"] == event)


class TestPublishSubscribe:
    async def test_a_subscriber_receives_what_is_published_on_its_channel(self, bus: Bus) -> None:
        async with bus.subscribe("requests") as inbox:
            await bus.publish("requests", {"id": "r1", "status": "available"})
            assert await receive(inbox) == ("requests", {"id": "r1", "status": "available"})

    async def test_messages_arrive_in_the_order_they_were_published(self, bus: Bus) -> None:
        async with bus.subscribe("downloads") as inbox:
            for n in range(20):
                await bus.publish("downloads", {"progress": n})
            assert [(await receive(inbox))[1]["progress"] for _ in range(20)] == list(range(20))

    async def test_a_subscriber_hears_only_its_own_channels(self, bus: Bus) -> None:
        async with bus.subscribe("user:1", "broadcast") as inbox:
            await bus.publish("user:2", {"for": "someone else"})
            await bus.publish("user:1", {"for": "me"})
            await bus.publish("broadcast", {"for": "everyone"})

            assert await receive(inbox) == ("user:1", {"for": "me"})
            assert await receive(inbox) == ("broadcast", {"for": "everyone"})

    async def test_every_subscriber_receives_each_message(self, bus: Bus) -> None:
        async with bus.subscribe("status") as first, bus.subscribe("status") as second:
            await bus.publish("status", {"plex": "down"})
            assert await receive(first) == ("status", {"plex": "down"})
            assert await receive(second) == ("status", {"plex": "down"})

    async def test_a_message_that_is_not_json_is_refused(self, bus: Bus) -> None:
        with pytest.raises(TypeError):
            await bus.publish("status", {"when": object()})

    async def test_closing_the_bus_ends_every_subscription(self, bus: Bus) -> None:
        received: list[Delivery] = []
        listening = asyncio.Event()

        async def listen() -> None:
            async with bus.subscribe("status") as inbox:
                await bus.publish("status", {"n": 1})
                async for delivery in inbox:
                    received.append(delivery)
                    listening.set()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(listening.wait(), timeout=5)
        await bus.close()

        await asyncio.wait_for(listener, timeout=5)
        assert received == [("status", {"n": 1})]


class TestSlowSubscriber:
    async def test_a_slow_subscriber_loses_its_oldest_messages_and_never_blocks(
        self, bus: Bus
    ) -> None:
        watch = LogWatch()
        with capture_logs(processors=[watch]) as logs:
            async with (
                bus.subscribe("progress", max_pending=10) as slow,
                bus.subscribe("progress") as fast,
            ):
                await asyncio.wait_for(_publish_range(bus, 50), timeout=5)
                assert [(await receive(fast))[1]["n"] for _ in range(50)] == list(range(50))
                await watch.wait_for("bus.subscriber_lagging")

                seen = [(await receive(slow))[1]["n"]]
                while seen[-1] != 49:
                    seen.append((await receive(slow))[1]["n"])

        assert seen == sorted(seen)
        assert seen[0] > 0
        assert len(seen) < 50
        assert count(logs, "bus.subscriber_lagging") == 1


async def _publish_range(bus: Bus, total: int) -> None:
    for n in range(total):
        await bus.publish("progress", {"n": n})


class TestRedisBus:
    async def test_installations_with_other_prefixes_are_not_heard(
        self, make_settings: SettingsFactory, redis_url: str, redis_prefix: str, direct_bus: Bus
    ) -> None:
        other = create_bus(make_settings(redis_url=redis_url, redis_prefix=f"{redis_prefix}-b"))
        async with direct_bus.subscribe("status") as inbox:
            await other.publish("status", {"from": "other"})
            await direct_bus.publish("status", {"from": "ours"})
            assert await receive(inbox) == ("status", {"from": "ours"})
        await other.close()

    async def test_publishing_while_redis_is_down_drops_the_message_quietly(
        self, redis_url: str, redis_prefix: str, direct_bus: Bus
    ) -> None:
        async with tcp_proxy(redis_url) as proxy, direct_bus.subscribe("status") as inbox:
            publisher = RedisBus(proxy.url_for(redis_url), redis_prefix)
            with capture_logs() as logs:
                await proxy.cut()
                for n in range(3):
                    await publisher.publish("status", {"n": n})
                await proxy.restore()
                await publisher.publish("status", {"n": 3})

                assert await receive(inbox) == ("status", {"n": 3})
            assert count(logs, "bus.publish_failed") == 1
            assert count(logs, "bus.publish_recovered") == 1
            await publisher.close()

    @pytest.mark.parametrize("outage", ["refused", "unanswered"])
    async def test_a_subscription_comes_back_by_itself_after_an_outage(
        self, outage: str, redis_url: str, redis_prefix: str, direct_bus: Bus
    ) -> None:
        async with tcp_proxy(redis_url) as proxy:
            listener = RedisBus(
                proxy.url_for(redis_url), redis_prefix, ping_every=0.3, retry_every=0.1
            )
            watch = LogWatch()
            with capture_logs(processors=[watch]) as logs:
                async with listener.subscribe("status") as inbox:
                    await direct_bus.publish("status", {"n": 1})
                    assert await receive(inbox) == ("status", {"n": 1})

                    await _OUTAGES[outage](proxy)
                    await watch.wait_for("bus.subscription_lost")
                    await direct_bus.publish("status", {"n": 2})  # lost: documented
                    await proxy.restore()
                    await watch.wait_for("bus.resubscribed")
                    await direct_bus.publish("status", {"n": 3})

                    assert await receive(inbox) == ("status", {"n": 3})
            assert count(logs, "bus.subscription_lost") == 1
            assert count(logs, "bus.resubscribed") == 1
            await listener.close()

    async def test_subscribing_while_redis_is_down_delivers_once_it_is_back(
        self, redis_url: str, redis_prefix: str, direct_bus: Bus
    ) -> None:
        async with tcp_proxy(redis_url) as proxy:
            listener = RedisBus(proxy.url_for(redis_url), redis_prefix, retry_every=0.1)
            await proxy.cut()
            watch = LogWatch()
            with capture_logs(processors=[watch]):
                async with listener.subscribe("status") as inbox:
                    await proxy.restore()
                    await watch.wait_for("bus.resubscribed")
                    await direct_bus.publish("status", {"n": 1})
                    assert await receive(inbox) == ("status", {"n": 1})
            await listener.close()


async def _stall(proxy: TcpProxy) -> None:
    proxy.stall()


_OUTAGES: dict[str, Callable[[TcpProxy], Awaitable[None]]] = {
    "refused": TcpProxy.cut,
    "unanswered": _stall,
}
