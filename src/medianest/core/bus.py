"""Publish/subscribe between the parts of MediaNest, feeding live pushes to browsers.

In-process by default; Redis pub/sub when Redis is configured, so a message published by any
process reaches subscribers in every process. Delivery is best effort, by design:

- a subscriber that falls behind loses its oldest messages; publishers never wait for it;
- messages published while Redis is unreachable are lost, and so are those published while a
  subscription is reconnecting. Subscriptions reconnect by themselves once Redis is back.

The database is the source of truth: a message tells a subscriber to look again, nothing more.
Messages are JSON objects, on both backends.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from medianest.config import Settings

log = structlog.get_logger(__name__)

Delivery = tuple[str, dict[str, Any]]

DEFAULT_MAX_PENDING = 1000
_REDIS_TIMEOUT = 0.5
_SUBSCRIBE_TIMEOUT = 2.0
# OSError covers refused and reset connections and the TimeoutError of asyncio.timeout.
_FAILURES = (RedisError, OSError)


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None:
        """Stop every subscription: their iterations end."""
        ...

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send `message` to the channel's current subscribers.

        Never raises for an unreachable Redis (the message is dropped and logged); raises
        `TypeError` when `message` is not JSON data.
        """
        ...

    def subscribe(
        self, *channels: str, max_pending: int = DEFAULT_MAX_PENDING
    ) -> AbstractAsyncContextManager[AsyncIterator[Delivery]]:
        """Receive `(channel, message)` from `channels` while the context is open.

        Messages published after entering are delivered (unless Redis is down at that moment).
        At most `max_pending` unread messages are kept; older ones are dropped.
        """
        ...


class Subscription:
    """One subscriber's inbox: bounded, dropping its oldest message when full."""

    def __init__(self, channels: Iterable[str], max_pending: int) -> None:
        self.channels = frozenset(channels)
        if not self.channels:
            raise ValueError("subscribe to at least one channel")
        self._inbox: deque[Delivery] = deque(maxlen=max_pending)
        self._changed = asyncio.Event()
        self._closed = False
        self._lagging = False

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        if len(self._inbox) == self._inbox.maxlen and not self._lagging:
            self._lagging = True
            log.warning(
                "bus.subscriber_lagging",
                channels=sorted(self.channels),
                max_pending=self._inbox.maxlen,
            )
        self._inbox.append((channel, message))
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Delivery:
        while not self._inbox:
            if self._closed:
                raise StopAsyncIteration
            self._changed.clear()
            await self._changed.wait()
        return self._inbox.popleft()


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        # A round trip through JSON gives each subscriber its own copy, and makes a message that
        # Redis could not carry fail here too.
        data = _encode(message)
        for subscription in list(self._subscriptions):
            if channel in subscription.channels:
                subscription.deliver(channel, json.loads(data))

    @asynccontextmanager
    async def subscribe(
        self, *channels: str, max_pending: int = DEFAULT_MAX_PENDING
    ) -> AsyncIterator[Subscription]:
        subscription = Subscription(channels, max_pending)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            subscription.close()


class RedisBus:
    """Channels are `<prefix>:bus:<channel>` in Redis; subscribers see `<channel>`.

    Each subscription has its own connection, read by a background task that subscribes again
    after any failure, every `retry_every` seconds. A connection quiet for `ping_every` seconds
    is pinged and dropped if the answer does not come within as long again, so a Redis that
    vanished without closing its connections is noticed too.

    A publish waits at most half a second on a Redis that stopped answering, then gives up.
    A process may hold about a hundred connections (redis-py's pool), so subscribe once per
    process and fan out locally, not once per browser.
    """

    def __init__(
        self, url: str, prefix: str, *, ping_every: float = 5.0, retry_every: float = 1.0
    ) -> None:
        self._redis = Redis.from_url(
            url,
            socket_connect_timeout=_REDIS_TIMEOUT,
            socket_timeout=_REDIS_TIMEOUT,
            # redis-py retries ten times by default: a request publishing would stall that long.
            retry=Retry(NoBackoff(), 0),
        )
        self._prefix = f"{prefix}:bus:"
        self._ping_every = ping_every
        self._retry_every = retry_every
        self._readers: set[asyncio.Task[None]] = set()
        self._publishing = True

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        await self._redis.aclose()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        data = _encode(message)
        try:
            await self._redis.publish(self._prefix + channel, data)
        except _FAILURES as exc:
            if self._publishing:
                self._publishing = False
                log.warning("bus.publish_failed", channel=channel, error=_describe(exc))
            return
        if not self._publishing:
            self._publishing = True
            log.info("bus.publish_recovered")

    @asynccontextmanager
    async def subscribe(
        self, *channels: str, max_pending: int = DEFAULT_MAX_PENDING
    ) -> AsyncIterator[Subscription]:
        subscription = Subscription(channels, max_pending)
        first_attempt = asyncio.Event()
        reader = asyncio.create_task(self._read(subscription, first_attempt))
        self._readers.add(reader)
        reader.add_done_callback(self._readers.discard)
        try:
            await first_attempt.wait()
            yield subscription
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read(self, subscription: Subscription, first_attempt: asyncio.Event) -> None:
        names = {self._prefix + channel for channel in subscription.channels}
        channels = sorted(subscription.channels)
        lost = False
        try:
            while True:
                pubsub = self._redis.pubsub()
                try:
                    await self._subscribe(pubsub, names)
                    if lost:
                        lost = False
                        log.info("bus.resubscribed", channels=channels)
                    first_attempt.set()
                    await self._pump(pubsub, subscription)
                except _FAILURES as exc:
                    if not lost:
                        lost = True
                        error = _describe(exc)
                        log.warning("bus.subscription_lost", channels=channels, error=error)
                    first_attempt.set()
                finally:
                    with suppress(*_FAILURES):
                        await _closer(pubsub)()
                await asyncio.sleep(self._retry_every)
        except Exception:
            log.exception("bus.reader_crashed", channels=channels)
        finally:
            # Whatever stops the reader also ends the subscriber's iteration: never a silent hang.
            first_attempt.set()
            subscription.close()

    async def _subscribe(self, pubsub: PubSub, names: set[str]) -> None:
        """Return once Redis confirmed every channel, so nothing published after is missed."""
        async with asyncio.timeout(_SUBSCRIBE_TIMEOUT):
            await pubsub.subscribe(*names)
            pending = set(names)
            while pending:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message["type"] == "subscribe":
                    pending.discard(_text(message["channel"]))

    async def _pump(self, pubsub: PubSub, subscription: Subscription) -> None:
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self._ping_every)
            if message is None:
                if awaiting_pong:
                    raise RedisConnectionError("Redis did not answer a PING")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                self._deliver(subscription, message)

    def _deliver(self, subscription: Subscription, raw: dict[str, Any]) -> None:
        channel = _text(raw["channel"]).removeprefix(self._prefix)
        try:
            message = json.loads(raw["data"])
        except ValueError:
            message = None
        if not isinstance(message, dict):
            # Someone else wrote to our channel; skipping keeps the subscription alive.
            log.warning("bus.message_unreadable", channel=channel)
            return
        subscription.deliver(channel, message)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def create_bus(settings: Settings) -> Bus:
    """An in-process bus, or a Redis one when `settings.redis_url` is set."""
    if settings.redis_url is None:
        return MemoryBus()
    return RedisBus(settings.redis_url, settings.redis_prefix)


def _closer(pubsub: PubSub) -> Callable[[], Awaitable[None]]:
    """`pubsub.aclose`, typed: redis-py annotates it only from 8.x on, so a direct call needs an
    ignore on older releases that newer ones report as unused."""
    close: Callable[[], Awaitable[None]] = pubsub.aclose
    return close
